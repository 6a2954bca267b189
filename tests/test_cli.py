"""The command line: assess, new-case, kb list, versions, and how every failure is reported.

In-process through click's CliRunner isolation (``main`` is what the console
script runs, so exit codes and error lines are the real ones); a few
end-to-end subprocess tests for what only a real process shows (a full
disk, a closed stdout, a closed pipe, permissions).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import click
import pytest
import yaml
from click.testing import CliRunner

import hipkb
from hipkb.answers.report import text_report
from hipkb.cli import main
from hipkb.cli.common import cli

from conftest import REPO

DEMO = str(REPO / "examples" / "demo-01.yaml")
SRC = REPO / "src"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def run(*args: str) -> tuple[int, str, str]:
    """``hipkb ARGS`` in-process: (exit code, stdout, stderr)."""
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        code = main(list(args))
    return code, out.getvalue().decode(), err.getvalue().decode()


def error_lines(err: str) -> list[str]:
    assert err.endswith("\n"), err
    return err[:-1].split("\n")


# --------------------------------------------------------------------------
# assess


def test_assess_prints_the_report_and_exits_0() -> None:
    code, out, err = run("assess", DEMO)
    assert (code, err) == (0, "")
    assert out == text_report(hipkb.assess(DEMO))
    assert out.startswith("Bottom line\n")


def test_assess_json_is_the_results_to_dict() -> None:
    code, out, _ = run("assess", DEMO, "--format", "json")
    assert code == 0
    assert json.loads(out) == json.loads(json.dumps(hipkb.assess(DEMO).to_dict()))
    assert json.loads(out)["schema_version"] == 2


def test_assess_detail_full_adds_rule_ids_and_quotes() -> None:
    _, brief, _ = run("assess", DEMO)
    _, full, _ = run("assess", DEMO, "--detail", "full")
    assert "ir_measured_limited" not in brief and "ir_measured_limited" in full
    # the article's sentence about the arm bar, word for word
    quote = ("By rolling over the pelvis, we get the help of the ground and body weight to laterally compress "
             "the pelvis creating the shape of the pelvis we're looking for.")
    assert quote not in brief and f"\u201c{quote}\u201d" in full


@pytest.mark.parametrize("engine", ["compiled", "experta"])
def test_assess_takes_every_case_option(engine: str, tmp_path: Path) -> None:
    kb_copy = tmp_path / "kb"
    shutil.copytree(REPO / "kb", kb_copy)
    code, out, err = run(
        "assess", DEMO, "--format", "json", "--kb", str(kb_copy), "--engine", engine,
        "--threshold", "supine_hip_ir=45", "--mdc", "supine_hip_ir=8",
    )
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["thresholds"]["supine_hip_ir"] == 45 and data["mdc"]["supine_hip_ir"] == 8
    # 40° on the right is now below 45°: limited
    assert {"id": "ir_limited", "side": "right"} in [{"id": c["id"], "side": c["side"]} for c in data["conclusions"]]


def _case_commands() -> Iterator[tuple[str, click.Command]]:
    """Every command that takes a CASE, as ``hipkb --help`` lists them (each command module loaded:
    commands register themselves lazily, so ``group.commands`` alone depends on what ran before)."""
    def walk(group: click.Group, prefix: str) -> Iterator[tuple[str, click.Command]]:
        ctx = click.Context(group)
        for name in sorted(group.list_commands(ctx)):
            command = group.get_command(ctx, name)
            if command is None:
                continue
            if isinstance(command, click.Group):
                yield from walk(command, f"{prefix}{name} ")
            elif any(p.name in ("case", "cases") for p in command.params if isinstance(p, click.Argument)):
                yield f"{prefix}{name}", command
    return walk(cli, "")


def test_assess_has_the_options_every_case_command_takes() -> None:
    # DESIGN, Interfaces: "Every command that takes a CASE also takes --kb DIR, --threshold ID=V,
    # --mdc ID=V, --engine compiled|experta and --format text|json".
    options = {o for p in cli.commands["assess"].params for o in p.opts}
    assert {"--kb", "--threshold", "--mdc", "--engine", "--format", "--detail"} <= options


#: Commands of other modules still missing options when this was written (for the lead; strict:
#: remove a name once its command has them).
_PENDING_OPTIONS: set[str] = set()
#: ``hipkb report CASE -o FILE.html`` writes HTML: it has no text or JSON to offer (DESIGN, Diagrams
#: and the HTML report); every other option applies to it.
_NO_TEXT_OR_JSON = {"report"}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=f"hipkb {name}: options not yet added by its module's owner"))
    if name in _PENDING_OPTIONS else name
    for name, _ in _case_commands()
])
def test_every_case_command_has_the_case_options(name: str) -> None:
    command = dict(_case_commands())[name]
    options = {o for p in command.params for o in p.opts}
    wanted = {"--kb", "--threshold", "--mdc", "--engine"} | (set() if name in _NO_TEXT_OR_JSON else {"--format"})
    missing = wanted - options
    assert not missing, f"hipkb {name} lacks {sorted(missing)}"


# --------------------------------------------------------------------------
# --threshold and --mdc: checked where parsed, named by their flag


@pytest.mark.parametrize(("args", "message"), [
    (("--threshold", "supine_hip_rr=20"), "--threshold supine_hip_rr: unknown threshold 'supine_hip_rr' (did you mean 'supine_hip_ir'?)"),
    (("--threshold", "slr=50"), "--threshold slr: unknown threshold 'slr' (did you mean 'straight_leg_raise'?)"),
    (("--threshold", "supine_hip_ir=500"), "--threshold supine_hip_ir: threshold 'supine_hip_ir' = 500 is outside [0, 90]"),
    (("--threshold", "supine_hip_ir"), "--threshold expects ID=DEGREES, not 'supine_hip_ir'"),
    (("--mdc", "supine_hip_ir=-1"), "--mdc supine_hip_ir: mdc 'supine_hip_ir' = -1 is outside [0, 90]"),
    (("--mdc", "hip_ir=5"), "--mdc hip_ir: unknown mdc 'hip_ir' (did you mean 'supine_hip_ir'?)"),
    (("--mdc", "supine_hip_ir=abc"), "--mdc supine_hip_ir: 'abc' is not a number"),
])
def test_override_errors_name_their_flag(args: tuple[str, ...], message: str) -> None:
    code, out, err = run("assess", DEMO, *args)
    assert (code, out) == (2, "")
    assert error_lines(err) == [f"hipkb: error: {message}"]


def test_the_library_never_names_a_flag() -> None:
    with pytest.raises(hipkb.CaseError) as caught:
        hipkb.assess(DEMO, thresholds={"supine_hip_rr": 20})
    assert "--" not in str(caught.value)
    assert str(caught.value) == "unknown threshold 'supine_hip_rr' (did you mean 'supine_hip_ir'?)"


# --------------------------------------------------------------------------
# Case files: every error, one located line each; did-you-mean from aliases


def test_every_error_of_a_case_file_on_its_own_line(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(
        "subjekt: demo\n"
        "findings:\n"
        "  slr: {left: 40}\n"
        "  hip_ir: {left: 12}\n"
        "  supine_hip_internal_rotation: {right: 30}\n"
        "  hip_hike: rigth\n"
        "  straight_leg_raise: {left: 400}\n"
    )
    code, out, err = run("assess", str(case))
    assert (code, out) == (2, "")
    assert error_lines(err) == [
        f"hipkb: error: {case}:1:1: unknown key 'subjekt' (did you mean 'subject'?)",
        f"hipkb: error: {case}:3:3: unknown finding 'slr' (did you mean 'straight_leg_raise'?)",
        f"hipkb: error: {case}:4:3: unknown finding 'hip_ir' (did you mean 'supine_hip_ir'?)",
        f"hipkb: error: {case}:5:3: unknown finding 'supine_hip_internal_rotation' (did you mean 'supine_hip_ir'?)",
        f"hipkb: error: {case}:6:13: unknown side 'rigth' for 'hip_hike' (did you mean 'right'?)",
        f"hipkb: error: {case}:7:30: 'straight_leg_raise' = 400° is outside its valid range [0, 150]",
    ]


def test_at_most_twenty_errors_are_listed(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text("findings:\n" + "".join(f"  unknown_{i}: true\n" for i in range(30)))
    code, _, err = run("assess", str(case))
    lines = error_lines(err)
    assert code == 2 and len(lines) == 20
    assert lines[0] == f"hipkb: error: {case}:2:3: unknown finding 'unknown_0'"
    assert all(line.startswith(f"hipkb: error: {case}:") for line in lines)


def test_a_single_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text("findings:\n  supine_hip_ir: 12\n")
    code, out, err = run("assess", str(case))
    assert (code, out) == (2, "")
    assert error_lines(err) == [
        f"hipkb: error: {case}:2:18: 'supine_hip_ir' is sided: give degrees per side as {{left: …, right: …}}, "
        "not the number 12 (e.g. supine_hip_ir: {left: 12})"
    ]


def test_missing_case_file_is_hipkbs_one_line_not_clicks_usage(tmp_path: Path) -> None:
    case = tmp_path / "nowhere.yaml"
    code, out, err = run("assess", str(case))
    assert (code, out) == (2, "")
    assert error_lines(err) == [f"hipkb: error: {case}: no such file"]


def test_permission_denied_case_file_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs as root too: the read the OS would refuse is made to fail where hipkb opens the file."""
    import hipkb.source

    case = tmp_path / "case.yaml"
    case.write_text("findings: {}\n")

    def refuse(*_: object, **__: object) -> bytes:
        raise PermissionError(13, "Permission denied", str(case))

    monkeypatch.setattr(hipkb.source, "_read_regular", refuse)
    code, out, err = run("assess", str(case))
    assert (code, out) == (2, "")
    assert error_lines(err) == [f"hipkb: error: {case}: permission denied"]


@pytest.mark.skipif(not IS_ROOT or not shutil.which("setpriv"), reason="needs root and setpriv to run as an unprivileged user")
def test_permission_denied_case_file_as_nobody() -> None:
    folder = Path(tempfile.mkdtemp(prefix="hipkb-cli-"))
    try:
        folder.chmod(0o755)
        case = folder / "case.yaml"
        case.write_text("findings: {}\n")
        case.chmod(0o600)  # root's, unreadable for nobody
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONPATH"] = str(SRC)
        proc = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
             "import sys; from hipkb.cli import main; sys.exit(main(sys.argv[1:]))", "assess", str(case)],
            capture_output=True, text=True, timeout=120, check=False, env=env, cwd=folder,
        )
        assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"hipkb: error: {case}: permission denied\n")
    finally:
        shutil.rmtree(folder)


def test_debug_shows_a_traceback_and_still_ends_with_the_line(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text("findings:\n  slr: {left: 40}\n")
    code, _, err = run("--debug", "assess", str(case))
    assert code == 2
    assert "Traceback" in err
    assert err.splitlines()[-1] == f"hipkb: error: {case}:2:3: unknown finding 'slr' (did you mean 'straight_leg_raise'?)"


def test_keyboard_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    import hipkb.cli.assess

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(hipkb.cli.assess, "load_result", interrupted)
    code, out, err = run("assess", DEMO)
    assert (code, out, err) == (130, "", "hipkb: interrupted\n")


def test_usage_errors_exit_2() -> None:
    code, out, err = run("assess")
    assert code == 2 and out == ""
    assert "Missing argument 'CASE'" in err


# --------------------------------------------------------------------------
# --version


def test_version_names_the_package_and_the_knowledge_base() -> None:
    code, out, err = run("--version")
    assert (code, out, err) == (0, "hipkb 0.2.0 (package), knowledge base hipkb 2.0.0\n", "")


# --------------------------------------------------------------------------
# new-case


def test_new_case_template_is_accepted_by_assess_as_it_is(tmp_path: Path) -> None:
    code, template, err = run("new-case")
    assert (code, err) == (0, "")
    case = tmp_path / "me.yaml"
    case.write_text(template)
    code, out, err = run("assess", str(case))
    assert (code, err) == (0, "")
    assert out.startswith("Bottom line\n")
    assert "Supine IR not measured." in out


def test_new_case_lists_every_finding_blank(kb: hipkb.KnowledgeBase) -> None:
    _, template, _ = run("new-case")
    data = yaml.safe_load(template)
    assert data["subject"] is None
    assert list(data["findings"]) == list(kb.findings)
    assert all(value is None for value in data["findings"].values())


def test_new_case_comments_say_what_each_finding_is() -> None:
    _, template, _ = run("new-case")
    lines = template.splitlines()
    def comment_before(finding: str) -> str:
        return lines[lines.index(f"  {finding}:") - 1]
    # DESIGN's stable vocabulary: degrees per side; booleans per side or with no side
    assert comment_before("supine_hip_ir") == (
        "  # Supine hip internal rotation at 90° hip flexion: degrees 0–90, per side; threshold 25°")
    assert comment_before("straight_leg_raise").startswith("  # Straight leg raise angle: degrees 0–150, per side")
    assert comment_before("hip_hike") == "  # Hip hike: yes/no, per side"
    assert comment_before("rib_cage_side_bend") == "  # Rib cage side-bend: yes/no, no side"
    assert "blank means not assessed" in template.lower() or "Blank: not assessed" in template


def test_new_case_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "new.yaml"
    code, out, _ = run("new-case", "-o", str(target))
    assert (code, out) == (0, f"wrote {target}\n")
    assert run("new-case")[1] == target.read_text()


# --------------------------------------------------------------------------
# kb list


def test_kb_list_findings_text(kb: hipkb.KnowledgeBase) -> None:
    code, out, _ = run("kb", "list", "findings")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Findings of the knowledge base hipkb 2.0.0 (15)"
    assert "  straight_leg_raise: Straight leg raise angle" in lines
    row = lines[lines.index("  straight_leg_raise: Straight leg raise angle") + 1]
    assert row.startswith("      degrees 0–150, per side; measurement; threshold 50°; aliases: slr,")
    assert "  rib_cage_side_bend: Rib cage side-bend" in lines


def test_kb_list_findings_json() -> None:
    code, out, _ = run("kb", "list", "findings", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["kb"] == {"name": "hipkb", "version": "2.0.0"}
    rows = {row["id"]: row for row in data["findings"]}
    assert rows["supine_hip_ir"]["kind"] == "degrees" and rows["supine_hip_ir"]["range"] == [0, 90]
    assert rows["supine_hip_ir"]["sided"] is True and "hip_ir" in rows["supine_hip_ir"]["aliases"]
    assert rows["straight_leg_raise"]["aliases"][0] == "slr"
    assert rows["lumbar_arch"]["sided"] is False and rows["lumbar_arch"]["kind"] == "boolean"
    assert set(rows["hip_hike"]) >= {"id", "label", "kind", "unit", "range", "sided", "aliases"}


def test_kb_list_states_json() -> None:
    data = json.loads(run("kb", "list", "states", "--format", "json")[1])
    rows = {row["id"]: row for row in data["states"]}
    assert rows["ir_limited"]["opposite"] == "ir_within_range" and rows["ir_limited"]["tested_by"] == "supine_hip_ir"
    assert all(set(row) >= {"id", "label", "kind", "sided", "aliases"} for row in data["states"])


def test_kb_list_recommendations_in_progression_order_with_quotes() -> None:
    data = json.loads(run("kb", "list", "recommendations", "--format", "json")[1])
    ids = [row["id"] for row in data["recommendations"]]
    # DESIGN: exercises in the article's progression, ground → split stance → loaded
    assert ids.index("arm_bar") < ids.index("front_foot_elevated_split_squat") < ids.index("cable_crossover_step_up")
    orders = [row["order"] for row in data["recommendations"] if row["kind"] == "exercise"]
    assert orders == [1, 2, 3]
    strategy = next(row for row in data["recommendations"] if row["id"] == "influence_pelvic_position")
    assert strategy["source"]["quote"] == "Influencing Pelvic Position/Shape"
    _, text, _ = run("kb", "list", "recommendations")
    assert "  arm_bar (exercise 1): Arm bar" in text.splitlines()
    assert "      \u201cInfluencing Pelvic Position/Shape\u201d (the article)" in text.splitlines()


def test_kb_list_thresholds_say_what_the_number_is() -> None:
    data = json.loads(run("kb", "list", "thresholds", "--format", "json")[1])
    rows = {row["id"]: row for row in data["thresholds"]}
    # DESIGN's windows, and Gradoz et al. 2018's 6.1° MDC for supine IR
    assert 20 <= rows["supine_hip_ir"]["value"] <= 35 and rows["supine_hip_ir"]["mdc"] == 6.1
    assert 46 <= rows["straight_leg_raise"]["value"] <= 54
    assert "Sutlive" in rows["supine_hip_ir"]["source"]["note"] and "not a norm" in rows["supine_hip_ir"]["source"]["note"]
    assert "Gradoz" in rows["supine_hip_ir"]["mdc_source"]["note"]
    _, text, _ = run("kb", "list", "thresholds")
    assert "  supine_hip_ir = 25°, measurement error (mdc) 6.1°: " in text


def test_kb_list_unknown_table_is_a_usage_error() -> None:
    code, out, err = run("kb", "list", "rules")
    assert code == 2 and out == "" and "'rules' is not one of" in err


# --------------------------------------------------------------------------
# Output failures, in a real process


def hipkb_process(*args: str, stdout: Any = subprocess.PIPE, close_stdout: bool = False) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(SRC)
    return subprocess.run(
        [sys.executable, "-m", "hipkb", *args], stdout=stdout, stderr=subprocess.PIPE, env=env, timeout=120,
        check=False, cwd=REPO, preexec_fn=(lambda: os.close(1)) if close_stdout else None,
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_one_line_and_exit_2() -> None:
    with open("/dev/full", "wb") as full:
        proc = hipkb_process("assess", DEMO, stdout=full)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "hipkb: error: standard output: cannot write: No space left on device\n"


@pytest.mark.skipif(os.name != "posix", reason="closes file descriptor 1")
def test_a_closed_stdout_is_one_line_and_exit_2() -> None:
    proc = hipkb_process("assess", DEMO, stdout=None, close_stdout=True)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "hipkb: error: standard output: cannot write: it is not open for writing\n"


@pytest.mark.skipif(os.name != "posix", reason="needs a pipe with its reader gone")
def test_a_closed_pipe_ends_quietly() -> None:
    read, write = os.pipe()
    os.close(read)  # like `| head -c 100` that has already exited: every write is EPIPE
    try:
        proc = hipkb_process("assess", DEMO, "--format", "json", stdout=write)
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (0, b"")


@pytest.mark.parametrize("name", [name for name, _ in _case_commands()])
def test_case_files_are_read_by_hipkb_not_prechecked_by_click(name: str) -> None:
    # the issue: "A permission-denied case file must give `FILE: permission denied` (one line) rather
    # than click's usage block: do not use click.Path(exists=True) checks; let hipkb's reader report."
    command = dict(_case_commands())[name]
    (argument,) = [p for p in command.params if isinstance(p, click.Argument) and p.name in ("case", "cases")]
    kind = argument.type
    assert not isinstance(kind, click.Path) or not (kind.exists or kind.readable), f"hipkb {name} pre-checks its CASE"


@pytest.mark.parametrize("args", [
    ("how", "ir_limited"), ("why", "ir_limited"), ("why-not", "ir_limited"),
    ("what-if", "--set", "supine_hip_ir.left=30"),
])
def test_an_unreadable_case_is_one_line_for_the_questions_too(args: tuple[str, ...], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import hipkb.source

    missing = tmp_path / "nowhere.yaml"
    code, out, err = run(*args, str(missing))
    assert (code, out) == (2, "")
    assert error_lines(err) == [f"hipkb: error: {missing}: no such file"]
    case = tmp_path / "case.yaml"
    case.write_text("findings: {}\n")

    def refuse(*_: object, **__: object) -> bytes:
        raise PermissionError(13, "Permission denied", str(case))

    monkeypatch.setattr(hipkb.source, "_read_regular", refuse)
    code, out, err = run(*args, str(case))
    assert (code, out) == (2, "")
    assert error_lines(err) == [f"hipkb: error: {case}: permission denied"]


def test_assess_many_reports_an_unreadable_case_as_that_cases_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    code, out, err = run("assess-many", str(missing), DEMO)
    assert code == 2
    first, second = [json.loads(line) for line in out.splitlines()]
    assert (first["ok"], first["error"]["text"], second["ok"]) == (False, f"{missing}: no such file", True)
    assert error_lines(err) == [f"hipkb: error: {missing}: no such file", "hipkb: 1 of 2 cases failed"]


@pytest.mark.parametrize(("args", "message"), [
    (("--threshold", "supine_hip_rr=3"), "--threshold supine_hip_rr: unknown threshold 'supine_hip_rr' (did you mean 'supine_hip_ir'?)"),
    (("--mdc", "supine_hip_ir=-1"), "--mdc supine_hip_ir: mdc 'supine_hip_ir' = -1 is outside [0, 90]"),
])
def test_assess_many_override_errors_name_their_flag(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    # checked once, before any case is read: the case need not even exist
    code, out, err = run("assess-many", str(tmp_path / "X"), *args)
    assert (code, out) == (2, "")
    assert error_lines(err) == [f"hipkb: error: {message}"]
