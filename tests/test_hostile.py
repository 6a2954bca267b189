"""Hostile input: every bad file, KB or option gives exit 2 and one clear line.

Each row of the tables is run through ``hipkb assess`` (in-process for speed;
a few also as a real subprocess). Each asserts: exit code 2, the exact
one-line message with file:line:column where there is a file, no traceback,
nothing on stdout, no code executed (payloads try to create a marker file),
and every input file byte-identical afterwards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import hipkb
from hipkb.cli import main
from hipkb.errors import CaseError, InputError, KBError
from hipkb.kb import bundled_kb_path
from hipkb.source import MAX_BYTES, MAX_DEPTH

from conftest import REPO

MARKER = "PWNED"  # payloads try to create this file next to the case


@dataclass(frozen=True)
class Hostile:
    id: str
    name: str  # file name (its suffix picks YAML or JSON)
    content: bytes | str
    expected: str | re.Pattern[str]  # the message after "hipkb: error: "; {p} is the file's path
    args: tuple[str, ...] = ()

    def data(self, folder: Path) -> bytes:
        text = self.content.replace("{marker}", str(folder / MARKER)) if isinstance(self.content, str) else self.content
        return text.encode("utf-8") if isinstance(text, str) else text


LOL = "\n".join(
    [f'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    + ["findings: {}", ""]
)
SIDED = "'hip_hike' is sided: give true, false, a side, a list of sides or {left: …, right: …}"

CASES = [
    # ---- not YAML / JSON at all
    Hostile("malformed-yaml", "c.yaml", "findings: {supine_hip_ir: {left: 12}\n", re.compile(r"\{p\}:\d+:\d+: invalid YAML: .+")),
    Hostile("malformed-json", "c.json", '{"findings": {"supine_hip_ir": {"left": 12}}', "{p}:1:45: invalid JSON: Expecting ',' delimiter"),
    Hostile("json-trailing-comma", "c.json", '{"findings": {"hip_hike": true,}}', "{p}:1:32: invalid JSON: Expecting property name enclosed in double quotes"),
    Hostile("json-single-quotes", "c.json", "{'findings': {}}", "{p}:1:2: invalid JSON: Expecting property name enclosed in double quotes"),
    Hostile("json-extra-data", "c.json", '{"findings": {}} {}', "{p}:1:18: invalid JSON: Extra data"),
    Hostile("empty-file", "c.yaml", "", "{p}: file is empty"),
    Hostile("empty-json", "c.json", "", "{p}: file is empty"),
    Hostile("whitespace-only", "c.yaml", "  \n\n\t \n", "{p}: file is empty"),
    Hostile("comments-only", "c.yaml", "# nothing here\n", "{p}: file is empty (it holds only comments)"),
    Hostile("binary", "c.yaml", b"\x00\x01\x02\xff\xfe binary", "{p}: binary file, not YAML or JSON text (if it is text, save it as UTF-8)"),
    Hostile("utf16", "c.yaml", "findings: {}\n".encode("utf-16"), "{p}: file is UTF-16 text (save it as UTF-8)"),
    Hostile("latin1", "c.yaml", "subject: Jos\xe9\nfindings: {}\n".encode("latin-1"), "{p}:1:13: not UTF-8 text (byte 0xe9) (save it as UTF-8)"),
    Hostile("control-character", "c.yaml", "subject: a\x07b\nfindings: {}\n", "{p}:1:11: invalid YAML: character #x0007 is not allowed (remove control characters)"),
    Hostile("two-documents", "c.yaml", "findings: {}\n---\nfindings: {}\n", "{p}:2:1: only one YAML document per file"),
    # ---- wrong shape
    Hostile("top-level-list", "c.yaml", "- supine_hip_ir\n", "{p}:1:1: a case must be a mapping with 'findings', not a list"),
    Hostile("top-level-scalar", "c.yaml", "42\n", "{p}:1:1: a case must be a mapping with 'findings', not the number 42"),
    Hostile("top-level-json-list", "c.json", "[1, 2]", "{p}:1:1: a case must be a mapping with 'findings', not a list"),
    Hostile("no-findings", "c.yaml", "subject: x\n", "{p}:1:1: a case needs 'findings'"),
    Hostile("findings-a-list", "c.yaml", "findings: [a]\n", "{p}:1:11: 'findings' must be a mapping of finding id to value, not a list"),
    Hostile("unknown-top-key", "c.yaml", "findings: {}\nsubjekt: demo\n", "{p}:2:1: unknown key 'subjekt' (did you mean 'subject'?)"),
    Hostile("subject-bool", "c.yaml", "subject: true\nfindings: {}\n", "{p}:1:10: 'subject' must be text, not true"),
    Hostile("subject-terminal-escape", "c.yaml", 'subject: "\\e[2J\\e]0;owned\\a"\nfindings: {}\n', "{p}:1:10: 'subject' must be one line of printable text, not contain '\\x1b'"),
    Hostile("subject-bidi-override", "c.yaml", 'subject: "abc\\u202edcb"\nfindings: {}\n', "{p}:1:10: 'subject' must be one line of printable text, not contain '\\u202e'"),
    # ---- unknown ids and sides
    Hostile("unknown-finding", "c.yaml", "findings:\n  supine_hip_ri: {left: 12}\n", "{p}:2:3: unknown finding 'supine_hip_ri' (did you mean 'supine_hip_ir'?)"),
    Hostile("unknown-finding-json", "c.json", '{"findings": {"hip_hkie": true}}', "{p}:1:15: unknown finding 'hip_hkie' (did you mean 'hip_hike'?)"),
    Hostile("unicode-emoji-id", "c.yaml", "findings:\n  hüft_😀: true\n", "{p}:2:3: unknown finding 'hüft_😀'"),
    Hostile("very-long-id", "c.yaml", "findings:\n  " + "q" * 1000 + ": true\n", "{p}:2:3: unknown finding '" + "q" * 59 + "…'"),
    Hostile("unknown-side-mapping", "c.yaml", "findings:\n  supine_hip_ir: {lfet: 12}\n", "{p}:2:19: unknown side 'lfet' for 'supine_hip_ir' (did you mean 'left'?)"),
    Hostile("unknown-side-name", "c.yaml", "findings:\n  hip_hike: rigth\n", "{p}:2:13: unknown side 'rigth' for 'hip_hike' (did you mean 'right'?)"),
    Hostile("side-for-unsided", "c.yaml", "findings:\n  rib_cage_side_bend: left\n", "{p}:2:23: 'rib_cage_side_bend' belongs to no side: give true or false, not the text 'left'"),
    Hostile("empty-side-list-for-degrees", "c.yaml", "findings:\n  supine_hip_ir: []\n",
            "{p}:2:18: 'supine_hip_ir' is sided: give degrees per side as {left: …, right: …}, not an empty list"),
    # ---- wrong types and values
    Hostile("bare-number-for-sided", "c.yaml", "findings:\n  supine_hip_ir: 12\n",
            "{p}:2:18: 'supine_hip_ir' is sided: give degrees per side as {left: …, right: …}, not the number 12 (e.g. supine_hip_ir: {left: 12})"),
    Hostile("text-for-degrees", "c.yaml", "findings:\n  supine_hip_ir: {left: twelve}\n", "{p}:2:25: 'supine_hip_ir' needs a number of degrees, not the text 'twelve'"),
    Hostile("quoted-number", "c.yaml", 'findings:\n  supine_hip_ir: {left: "12"}\n', "{p}:2:25: 'supine_hip_ir' needs a number of degrees, not the text '12' (write 12 without quotes)"),
    Hostile("bool-for-degrees", "c.yaml", "findings:\n  supine_hip_ir: {left: true}\n", "{p}:2:25: 'supine_hip_ir' needs a number of degrees, not true"),
    Hostile("number-for-bool", "c.yaml", "findings:\n  rib_cage_side_bend: 1\n", "{p}:2:23: 'rib_cage_side_bend' needs true or false, not the number 1"),
    Hostile("number-for-sided-bool", "c.yaml", "findings:\n  hip_hike: 1\n", f"{{p}}:2:13: {SIDED}, not the number 1"),
    Hostile("yaml-nan", "c.yaml", "findings:\n  supine_hip_ir: {left: .nan}\n", "{p}:2:25: 'supine_hip_ir' needs a finite number of degrees, not nan"),
    Hostile("yaml-inf", "c.yaml", "findings:\n  straight_leg_raise: {right: -.inf}\n", "{p}:2:31: 'straight_leg_raise' needs a finite number of degrees, not -inf"),
    Hostile("json-nan", "c.json", '{"findings": {"supine_hip_ir": {"left": NaN}}}', "{p}:1:41: 'supine_hip_ir' needs a finite number of degrees, not nan"),
    Hostile("json-overflow-inf", "c.json", '{"findings": {"supine_hip_ir": {"left": 1e999}}}', "{p}:1:41: 'supine_hip_ir' needs a finite number of degrees, not inf"),
    Hostile("negative-degrees", "c.yaml", "findings:\n  supine_hip_ir: {left: -5}\n", "{p}:2:25: 'supine_hip_ir' = -5° is outside its valid range [0, 90]"),
    Hostile("impossible-degrees", "c.yaml", "findings:\n  supine_hip_ir: {right: 400}\n", "{p}:2:26: 'supine_hip_ir' = 400° is outside its valid range [0, 90]"),
    Hostile("octal-looking", "c.yaml", "findings:\n  supine_hip_ir: {left: 012}\n",
            "{p}:2:25: 'supine_hip_ir' needs a number of degrees, not the text '012' (write it without the leading zero: 12)"),
    Hostile("sexagesimal", "c.yaml", "findings:\n  supine_hip_ir: {left: 1:30}\n", "{p}:2:25: 'supine_hip_ir' needs a number of degrees, not the text '1:30'"),
    Hostile("explicit-int-tag", "c.yaml", "findings:\n  supine_hip_ir: {left: !!int twelve}\n", "{p}:2:25: cannot read 'twelve' as a number (write numbers like 12 or 12.5)"),
    Hostile("explicit-bool-tag", "c.yaml", "findings:\n  hip_hike: !!bool maybe\n", "{p}:2:13: cannot read 'maybe' as true or false"),
    Hostile("huge-number", "c.yaml", "findings:\n  supine_hip_ir: {left: " + "9" * 5000 + "}\n", "{p}:2:25: number has too many digits (5000 characters)"),
    Hostile("huge-number-json", "c.json", '{"findings": {"supine_hip_ir": {"left": ' + "9" * 5000 + "}}}", "{p}:1:41: number has too many digits (5000 characters)"),
    # ---- duplicates
    Hostile("duplicate-key", "c.yaml", "findings:\n  supine_hip_ir: {left: 12}\n  supine_hip_ir: {left: 40}\n", "{p}:3:3: duplicate key 'supine_hip_ir'"),
    Hostile("duplicate-side", "c.yaml", "findings:\n  supine_hip_ir: {left: 12, left: 13}\n", "{p}:2:29: duplicate key 'left'"),
    Hostile("duplicate-key-json", "c.json", '{"findings": {"hip_hike": "left", "hip_hike": "right"}}', "{p}:1:35: duplicate key 'hip_hike'"),
    # ---- code execution and resource exhaustion
    Hostile("python-apply-os-system", "c.yaml", 'findings: !!python/object/apply:os.system ["touch {marker}"]\n',
            "{p}:1:11: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' (only plain data is allowed)"),
    Hostile("python-apply-popen", "c.yaml", "findings:\n  hip_hike: !!python/object/apply:subprocess.Popen [[touch, {marker}]]\n",
            "{p}:2:13: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:subprocess.Popen' (only plain data is allowed)"),
    Hostile("python-name", "c.yaml", "findings: !!python/name:os.system\n",
            "{p}:1:11: unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system' (only plain data is allowed)"),
    Hostile("tag-directive-smuggling", "c.yaml", '%TAG !! tag:yaml.org,2002:python/\n---\nfindings: !!object/apply:os.system ["touch {marker}"]\n',
            "{p}:3:11: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' (only plain data is allowed)"),
    Hostile("yaml-set", "c.yaml", "findings: !!set {hip_hike}\n", "{p}:1:11: unsupported YAML tag 'tag:yaml.org,2002:set' (only plain data is allowed)"),
    Hostile("merge-key", "c.yaml", "findings:\n  <<: {hip_hike: true}\n", "{p}:2:3: YAML merge keys ('<<') are not supported"),
    Hostile("billion-laughs", "c.yaml", LOL, "{p}:1:5: YAML anchors and aliases are not allowed"),
    Hostile("self-referencing-alias", "c.yaml", "findings: &a {x: *a}\n", "{p}:1:11: YAML anchors and aliases are not allowed"),
    Hostile("oversized", "c.yaml", "findings: {}\n" + "#" * MAX_BYTES + "\n", f"{{p}}: file is larger than {MAX_BYTES // 1024} KiB"),
    Hostile("deeply-nested-yaml", "c.yaml", "findings:\n" + "".join("  " * (i + 1) + "a:\n" for i in range(MAX_DEPTH + 5)),
            f"{{p}}:{MAX_DEPTH + 1}:{2 * MAX_DEPTH + 1}: document is nested more than {MAX_DEPTH} levels deep"),
    Hostile("deeply-nested-flow", "c.yaml", "findings: " + "[" * 100_000 + "]" * 100_000 + "\n", re.compile(r"\{p\}:1:\d+: (invalid YAML: .*nesting depth|document is nested more than \d+ levels deep)")),
    Hostile("deeply-nested-json", "c.json", '{"findings": ' + "[" * 100_000 + "]" * 100_000 + "}", f"{{p}}:1:{MAX_DEPTH + 13}: document is nested more than {MAX_DEPTH} levels deep"),
    # ---- thresholds in the case file
    Hostile("threshold-unknown-id", "c.yaml", "findings: {}\nthresholds: {supine_hip_rr: 20}\n", "{p}:2:14: unknown threshold 'supine_hip_rr' (did you mean 'supine_hip_ir'?)"),
    Hostile("threshold-out-of-range", "c.yaml", "findings: {}\nthresholds: {supine_hip_ir: 500}\n", "{p}:2:29: threshold 'supine_hip_ir' = 500 is outside [0, 90]"),
    Hostile("threshold-text", "c.yaml", "findings: {}\nthresholds: {supine_hip_ir: low}\n", "{p}:2:29: threshold 'supine_hip_ir' needs a finite number of degrees, not the text 'low'"),
    Hostile("thresholds-a-list", "c.yaml", "findings: {}\nthresholds: [1]\n", "{p}:2:13: 'thresholds' must be a mapping of id to degrees, not a list"),
]

GOOD_CASE = "findings:\n  supine_hip_ir: {left: 12, right: 40}\n"
THRESHOLD_OPTIONS = [
    ("no-equals", "supine_hip_ir", "--threshold expects ID=DEGREES, not 'supine_hip_ir'"),
    ("no-id", "=20", "--threshold expects ID=DEGREES, not '=20'"),
    ("not-a-number", "supine_hip_ir=abc", "--threshold supine_hip_ir: 'abc' is not a number"),
    ("empty-value", "supine_hip_ir=", "--threshold supine_hip_ir: '' is not a number"),
    ("unknown-id", "supine_hip_rr=20", "--threshold supine_hip_rr: unknown threshold 'supine_hip_rr' (did you mean 'supine_hip_ir'?)"),
    ("nan", "supine_hip_ir=nan", "--threshold supine_hip_ir: needs a finite number, not 'nan'"),
    ("inf", "straight_leg_raise=1e999", "--threshold straight_leg_raise: needs a finite number, not '1e999'"),
    ("out-of-range", "supine_hip_ir=500", "--threshold supine_hip_ir: threshold 'supine_hip_ir' = 500 is outside [0, 90]"),
    ("negative", "supine_hip_ir=-1", "--threshold supine_hip_ir: threshold 'supine_hip_ir' = -1 is outside [0, 90]"),
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def check_error(code: int, out: str, err: str, expected: str | re.Pattern[str], path: str) -> None:
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    line = err[:-1]
    assert line.startswith("hipkb: error: ")
    message = line[len("hipkb: error: "):]
    if isinstance(expected, str):
        assert message == expected.replace("{p}", path)
    else:
        pattern = re.escape(path).join(expected.pattern.split(r"\{p\}"))
        assert re.fullmatch(pattern, message), message


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case_file(case: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / case.name
    file.write_bytes(case.data(tmp_path))
    before = snapshot(tmp_path)
    started = time.monotonic()
    code, out, err = run(capsys, "assess", str(file), *case.args)
    assert time.monotonic() - started < 10, "hostile input must be refused quickly"
    check_error(code, out, err, case.expected, str(file))
    assert not (tmp_path / MARKER).exists(), "the file executed code"
    assert snapshot(tmp_path) == before, "the input was changed or another file was written"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case_through_the_api(case: Hostile, tmp_path: Path, kb: hipkb.KnowledgeBase) -> None:
    """The library raises a CaseError (an InputError) carrying the same message."""
    file = tmp_path / case.name
    file.write_bytes(case.data(tmp_path))
    with pytest.raises(CaseError) as caught:
        kb.assess(file)
    expected = case.expected
    if isinstance(expected, str):
        assert str(caught.value) == expected.replace("{p}", str(file))
    assert not (tmp_path / MARKER).exists()


def test_the_code_execution_payloads_are_live(tmp_path: Path) -> None:
    """Loading the payloads with an unsafe YAML loader does run them: the tests above can fail."""
    payloads = [c for c in CASES if c.id in ("python-apply-os-system", "python-apply-popen")]
    for case in payloads:
        (tmp_path / MARKER).unlink(missing_ok=True)
        script = "import sys, yaml; yaml.unsafe_load(open(sys.argv[1], encoding='utf-8'))"
        file = tmp_path / case.name
        file.write_bytes(case.data(tmp_path))
        subprocess.run([sys.executable, "-c", script, str(file)], check=False, capture_output=True, timeout=60)
        deadline = time.monotonic() + 10  # Popen does not wait for its child
        while not (tmp_path / MARKER).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / MARKER).exists(), case.id


def test_billion_laughs_expands_with_aliases_allowed() -> None:
    """The payload is a real bomb: each level multiplies by nine (here stopped at 9**4)."""
    small = "\n".join(LOL.splitlines()[:5])
    data = yaml.safe_load(small)
    assert len(str(data["l4"])) > 9**4


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nowhere.yaml"
    check_error(*run(capsys, "assess", str(path)), "{p}: no such file", str(path))
    assert list(tmp_path.iterdir()) == []


def test_directory_instead_of_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_error(*run(capsys, "assess", str(tmp_path)), "{p}: is a directory, not a file", str(tmp_path))


def test_dangling_symlink(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "case.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    check_error(*run(capsys, "assess", str(link)), "{p}: no such file", str(link))


def test_symlink_loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "case.yaml"
    link.symlink_to(link)
    check_error(*run(capsys, "assess", str(link)), "{p}: cannot read: Too many levels of symbolic links", str(link))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "case.yaml"
    file.write_text(GOOD_CASE)
    file.chmod(0)
    try:
        check_error(*run(capsys, "assess", str(file)), "{p}: permission denied", str(file))
    finally:
        file.chmod(0o600)
    assert file.read_text() == GOOD_CASE


def test_unreadable_file_mapped_to_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs as root too: the open() that the OS would refuse is made to fail."""
    file = tmp_path / "case.yaml"
    file.write_text(GOOD_CASE)

    real_open = os.open

    def refuse(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if Path(str(path)) == file:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hipkb.source.os, "open", refuse)
    check_error(*run(capsys, "assess", str(file)), "{p}: permission denied", str(file))


def test_nul_byte_in_a_path_through_the_api(kb: hipkb.KnowledgeBase) -> None:
    with pytest.raises(InputError, match=r"not a usable file name"):
        kb.assess("case\x00.yaml")


@pytest.mark.parametrize("option", THRESHOLD_OPTIONS, ids=[o[0] for o in THRESHOLD_OPTIONS])
def test_hostile_threshold_option(option: tuple[str, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, value, expected = option
    file = tmp_path / "case.yaml"
    file.write_text(GOOD_CASE)
    before = snapshot(tmp_path)
    check_error(*run(capsys, "assess", str(file), "--threshold", value), expected, str(file))
    assert snapshot(tmp_path) == before


def test_valid_threshold_option_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The control for the table above: a good override runs and changes the outcome."""
    file = tmp_path / "case.yaml"
    file.write_text(GOOD_CASE)
    code, out, _ = run(capsys, "assess", str(file), "--format", "json", "--threshold", "supine_hip_ir=45")
    assert code == 0
    conclusions = {(c["id"], c["side"]) for c in json.loads(out)["conclusions"]}
    assert ("ir_limited", "right") in conclusions


# --------------------------------------------------------------------------
# Broken knowledge bases (copies made here; the bundled KB is never touched)


def locate(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of ``needle``."""
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def break_unknown_effect(kb: Path) -> str:
    file = kb / "causal.yaml"
    text = file.read_text(encoding="utf-8")
    match = re.search(r"effect: (\w+)", text)
    assert match
    typo = match.group(1) + "x"
    file.write_text(text[: match.start(1)] + typo + text[match.end(1):], encoding="utf-8")
    line, column = locate(file.read_text(encoding="utf-8"), typo)
    return f"{file}:{line}:{column}: unknown state or finding {typo!r} (did you mean {match.group(1)!r}?)"


def break_python_tag(kb: Path) -> str:
    file = kb / "states.yaml"
    file.write_text(f'states: !!python/object/apply:os.system ["touch {kb.parent / MARKER}"]\n', encoding="utf-8")
    return f"{file}:1:9: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' (only plain data is allowed)"


def break_duplicate_key(kb: Path) -> str:
    file = kb / "findings.yaml"
    text = file.read_text(encoding="utf-8")
    match = re.search(r"\n( +)label: [^\n]*\n", text)
    assert match
    insert = f"{match.group(1)}label: again\n"
    broken = text[: match.end()] + insert + text[match.end():]
    file.write_text(broken, encoding="utf-8")
    line = broken.count("\n", 0, match.end()) + 1
    return f"{file}:{line}:{len(match.group(1)) + 1}: duplicate key 'label'"


def break_alias(kb: Path) -> str:
    file = kb / "thresholds.yaml"
    text = file.read_text(encoding="utf-8")
    match = re.search(r"\n  - id: (\w+)\n", text)
    assert match
    broken = text[: match.start()] + f"\n  - id: &same {match.group(1)}\n" + text[match.end():]
    file.write_text(broken, encoding="utf-8")
    line, column = locate(broken, "&same")
    return f"{file}:{line}:{column}: YAML anchors and aliases are not allowed"


def break_empty(kb: Path) -> str:
    (kb / "sources.yaml").write_bytes(b"")
    return f"{kb / 'sources.yaml'}: file is empty"


def break_binary(kb: Path) -> str:
    (kb / "rules.yaml").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00")
    return f"{kb / 'rules.yaml'}: binary file, not YAML or JSON text (if it is text, save it as UTF-8)"


def break_malformed(kb: Path) -> str:
    file = kb / "recommendations.yaml"
    file.write_text(file.read_text(encoding="utf-8") + "\n  - {id: [unclosed\n", encoding="utf-8")
    return re.compile(re.escape(str(file)) + r":\d+:\d+: invalid YAML: .+")  # type: ignore[return-value]


KB_BREAKERS = [break_unknown_effect, break_python_tag, break_duplicate_key, break_alias, break_empty, break_binary, break_malformed]


@pytest.mark.parametrize("breaker", KB_BREAKERS, ids=[b.__name__[len("break_"):] for b in KB_BREAKERS])
def test_broken_kb_copy(breaker, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    expected = breaker(kb)
    case = tmp_path / "case.yaml"
    case.write_text(GOOD_CASE)
    before = snapshot(tmp_path)
    code, out, err = run(capsys, "assess", str(case), "--kb", str(kb))
    if isinstance(expected, str):
        check_error(code, out, err, expected, "")
    else:
        check_error(code, out, err, expected, "")
    assert not (tmp_path / MARKER).exists()
    assert snapshot(tmp_path) == before
    with pytest.raises(KBError):
        hipkb.load_kb(kb)


def test_kb_option_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(GOOD_CASE)
    missing = tmp_path / "no-kb"
    check_error(*run(capsys, "assess", str(case), "--kb", str(missing)), "{p}: not a knowledge base directory", str(missing))


def test_kb_option_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(GOOD_CASE)
    check_error(*run(capsys, "assess", str(case), "--kb", str(case)), "{p}: not a knowledge base directory", str(case))
    assert case.read_text() == GOOD_CASE


def test_kb_option_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    (kb / "rules.yaml").unlink()
    case = tmp_path / "case.yaml"
    case.write_text(GOOD_CASE)
    code, out, err = run(capsys, "assess", str(case), "--kb", str(kb))
    check_error(code, out, err, re.compile(re.escape(str(kb / "rules.yaml")) + r": missing KB file.*"), "")


# --------------------------------------------------------------------------
# The real console entry point, as a separate process


SUBPROCESS_CASES = [c for c in CASES if c.id in (
    "malformed-json", "binary", "unknown-finding", "python-apply-os-system", "billion-laughs", "bare-number-for-sided", "oversized",
)]


def hipkb_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run(
        [sys.executable, "-m", "hipkb", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False,
    )


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=[c.id for c in SUBPROCESS_CASES])
def test_hostile_case_in_a_real_process(case: Hostile, tmp_path: Path) -> None:
    file = tmp_path / case.name
    file.write_bytes(case.data(tmp_path))
    before = snapshot(tmp_path)
    proc = hipkb_process("assess", case.name, cwd=tmp_path)
    check_error(proc.returncode, proc.stdout, proc.stderr, case.expected, case.name)
    assert not (tmp_path / MARKER).exists()
    assert snapshot(tmp_path) == before


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("findings:\n  supine_hip_ri: {left: 12}\n")
    proc = hipkb_process("--debug", "assess", "c.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "CaseError" in proc.stderr
    assert proc.stderr.rstrip("\n").splitlines()[-1] == "hipkb: error: c.yaml:2:3: unknown finding 'supine_hip_ri' (did you mean 'supine_hip_ir'?)"


def test_example_case_runs_in_a_real_process() -> None:
    """The control for the table: a good file gives exit 0 and output."""
    proc = hipkb_process("assess", str(REPO / "examples" / "demo-01.yaml"), "--format", "json", cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert '"conclusions"' in proc.stdout


@pytest.mark.parametrize("name", ["evil\nname.yaml", "evil\x1b[2Jname.yaml", "evil\u202ename.yaml", "evil\rname.json"])
def test_control_characters_in_a_file_name_stay_on_one_line(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / name
    file.write_text('{"findings": {"hip_hkie": true}}')
    code, out, err = run(capsys, "assess", str(file))
    shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(file))
    check_error(code, out, err, "{p}:1:15: unknown finding 'hip_hkie' (did you mean 'hip_hike'?)", shown)
    missing = tmp_path / ("gone" + name)
    code, out, err = run(capsys, "assess", str(missing))
    check_error(code, out, err, "{p}: no such file", "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(missing)))
