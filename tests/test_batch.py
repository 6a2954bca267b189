"""hipkb.assess_many and ``hipkb assess-many``: order, isolation, jobs, streaming, CSV, stopping.

What the issue ("Performance round 2", item 4-5) asks, written as tests:
results identical whatever the job count and in input order; a bad case
(or an object that cannot be sent to a worker) fails that item only; input
read lazily (a generator, bounded memory); workers stop with their parent,
also on SIGTERM; a cohort CSV in (blank = not assessed, errors as FILE:LINE
and column) and a CSV out, one row per person and side, with each
conclusion's and recommendation's status.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import hipkb
from hipkb.batch import BatchItem, Mismatch, assess_many, TableRow, read_table, sample_cases, table_header, verify_engines
from hipkb.cli import main
from hipkb.errors import CaseError, HipkbError, InputError

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo-01.yaml"


@pytest.fixture(scope="module")
def generated(kb):
    return sample_cases(kb, 400, seed=20240611)


def _lines(items):
    return [item.to_json() for item in items]


def run(*args: str) -> tuple[int, str, str]:
    """``hipkb ARGS`` in-process: (exit code, stdout, stderr)."""
    with CliRunner().isolation() as (out, err, _):
        code = main(list(args))
    return code, out.getvalue().decode(), err.getvalue().decode()


# -- the same results, in order, whatever the job count


def test_parallel_gives_the_same_results_as_serial(kb, generated):
    serial = list(hipkb.assess_many(generated, kb=kb, jobs=1))
    parallel = list(hipkb.assess_many(generated, kb=kb, jobs=2))
    assert [i.index for i in parallel] == list(range(len(generated)))
    assert all(item.ok for item in serial), [str(i.error) for i in serial if not i.ok][:3]
    assert _lines(parallel) == _lines(serial)
    for i in (0, 1, 199, 399):  # and each equals one plain assessment
        assert json.loads(parallel[i].json) == kb.assess(generated[i]).to_dict()


def test_workers_send_json_not_objects_and_the_result_is_rebuilt_on_demand(kb, generated):
    items = list(hipkb.assess_many(generated[:40], kb=kb, jobs=2))
    assert all(type(item.json) is str and item._result is None for item in items)
    result = items[7].result
    assert result.kb is kb  # the caller's KB
    assert result.to_dict() == kb.assess(generated[7]).to_dict()
    assert result.case.subject == generated[7]["subject"]


def test_an_item_line_is_its_dict_as_json(kb):
    items = list(hipkb.assess_many([DEMO, {"findings": {"supine_hip_ir": 12}}], kb=kb))
    for item in items:
        assert item.to_json() == json.dumps(item.to_dict(), ensure_ascii=False)
    assert items[0].to_dict()["result"] == kb.assess(DEMO).to_dict()
    assert items[1].json is None and items[1].result is None
    assert items[1].to_dict()["error"]["type"] == "CaseError"


def test_order_is_kept_for_a_generator(kb, generated):
    subjects = [case["subject"] for case in generated[:300]]
    items = list(hipkb.assess_many((case for case in generated[:300]), kb=kb, jobs=2))
    assert [item.index for item in items] == list(range(300))
    assert [json.loads(item.json)["subject"] for item in items] == subjects


def test_the_input_is_read_lazily_with_bounded_look_ahead(kb, generated):
    consumed = itertools.count()

    def endless():
        for case in itertools.cycle(generated):
            next(consumed)
            yield case

    items = hipkb.assess_many(endless(), kb=kb, jobs=2)
    taken = list(itertools.islice(items, 100))
    items.close()
    assert [i.index for i in taken] == list(range(100))
    # at most the chunks in flight beyond what was yielded (2 workers × 3 chunks × 32 cases, and one more chunk)
    assert next(consumed) <= 100 + 2 * 3 * 32 + 32


def test_thresholds_and_mdc_apply_to_every_case_in_workers(kb, generated):
    kwargs = {"thresholds": {"supine_hip_ir": 30.0}, "mdc": {"supine_hip_ir": 8.0}}
    serial = list(hipkb.assess_many(generated[:100], kb=kb, **kwargs))
    parallel = list(hipkb.assess_many(generated[:100], kb=kb, jobs=2, **kwargs))
    assert _lines(parallel) == _lines(serial)
    data = [json.loads(item.json) for item in parallel]
    assert all(d["thresholds"]["supine_hip_ir"] == 30 and d["mdc"]["supine_hip_ir"] == 8 for d in data)


def test_the_experta_engine_in_workers(kb, generated):
    compiled = list(hipkb.assess_many(generated[:30], kb=kb, jobs=2))
    experta = list(hipkb.assess_many(generated[:30], kb=kb, jobs=2, engine="experta"))
    assert _lines(experta) == _lines(compiled)


# -- one bad input fails its own item only


class NotPicklable(dict):
    def __reduce__(self):
        raise TypeError("this case refuses to be pickled")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_bad_case_in_the_middle_does_not_stop_the_others(kb, tmp_path, jobs):
    good = {"subject": "good", "findings": {"supine_hip_ir": {"left": 12}}}
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text("findings:\n  supine_hip_ir: 12\n  hip_hike: sometimes\n", encoding="utf-8")
    cases = [good, str(DEMO), {"findings": {"no_such_finding": True}}, bad_file, tmp_path / "missing.yaml", 42, good]
    items = list(hipkb.assess_many(cases, kb=kb, jobs=jobs))
    assert [item.ok for item in items] == [True, True, False, False, False, False, True]
    assert [item.index for item in items] == list(range(7))
    assert all(isinstance(item.error, CaseError) for item in items[2:5])
    assert isinstance(items[5].error, InputError)
    assert items[3].error.location.line == 2  # still located in its file
    assert len(items[3].error.problems) == 2  # every error of the file, across the process boundary
    assert items[3].source == str(bad_file) and items[2].source == "<case 2>"
    assert items[0].json == items[6].json
    assert json.loads(items[1].json) == kb.assess(DEMO).to_dict()


def test_unpicklable_cases_fail_or_pass_exactly_as_with_one_job(kb):
    from hipkb.case import parse_case

    cases = [
        {"findings": {"supine_hip_ir": {"left": 12}}},
        {"findings": {"supine_hip_ir": {"left": lambda: 12}}},  # a function: cannot be pickled, and not a number
        NotPicklable(findings={"supine_hip_ir": {"left": 40}}),  # cannot be pickled, but a fine case
        parse_case({"findings": {"hip_hike": "left"}}, kb),  # a Case: read-only mappings inside
        threading.Lock(),  # not a case at all
    ]
    one = list(hipkb.assess_many(cases, kb=kb, jobs=1))
    two = list(hipkb.assess_many(cases, kb=kb, jobs=2))
    assert [i.ok for i in two] == [True, False, True, True, False]
    assert [str(i.error) for i in two] == [str(i.error) for i in one]
    assert _lines(two) == _lines(one)
    assert "needs a number of degrees" in str(two[1].error)


def die_on_subject(result):
    """A render function that kills the worker process on one case (module level: it travels to workers)."""
    if result.case.subject == "die":
        os._exit(3)
    return result.case.subject or ""


def test_a_worker_that_dies_fails_its_chunk_and_the_rest_still_run(kb):
    cases = [{"subject": f"s{i}", "findings": {}} for i in range(200)]
    cases[150] = {"subject": "die", "findings": {}}
    items = list(assess_many(cases, kb=kb, jobs=2, render=die_on_subject))
    assert [i.index for i in items] == list(range(200))
    failed = [i.index for i in items if not i.ok]
    assert 150 in failed and len(failed) < 100
    assert all("worker process" in str(items[i].error) for i in failed)
    assert [i.text for i in items[:100]] == [f"s{i}" for i in range(100)]
    assert multiprocessing.active_children() == []


def test_render_runs_where_the_case_was_assessed(kb, generated):
    from hipkb.answers.report import text_report

    serial = list(assess_many(generated[:20], kb=kb, render=text_report))
    parallel = list(assess_many(generated[:20], kb=kb, jobs=2, render=text_report))
    assert [i.text for i in parallel] == [i.text for i in serial] == [text_report(kb.assess(c)) for c in generated[:20]]


def test_bad_arguments_fail_at_once(kb):
    for jobs in (-1, True, 1.5):
        with pytest.raises(InputError, match="jobs"):
            hipkb.assess_many([], kb=kb, jobs=jobs)
    with pytest.raises(InputError, match="supine_hip_ir"):
        hipkb.assess_many([{"findings": {}}], kb=kb, thresholds={"supine_hip_ir": 500})
    with pytest.raises(InputError, match="unknown threshold"):
        hipkb.assess_many([{"findings": {}}], kb=kb, thresholds={"nope": 3})
    with pytest.raises(InputError, match="unknown mdc"):
        hipkb.assess_many([{"findings": {}}], kb=kb, mdc={"nope": 3})
    with pytest.raises(InputError, match="did you mean 'experta'"):
        hipkb.assess_many([{"findings": {}}], kb=kb, engine="experts")


def test_stopping_early_stops_the_workers(kb, generated):
    items = hipkb.assess_many(generated, kb=kb, jobs=2)
    first = next(items)
    assert isinstance(first, BatchItem) and first.index == 0
    assert len(multiprocessing.active_children()) == 2
    items.close()
    assert multiprocessing.active_children() == []
    with pytest.raises(StopIteration):
        next(items)


def test_empty_input(kb):
    assert list(hipkb.assess_many([], kb=kb, jobs=2)) == []
    assert list(hipkb.assess_many(iter(()), kb=kb)) == []


# -- the engines compared, and the generated cases


def test_verify_engines_agree_on_generated_cases(kb):
    assert verify_engines(kb, count=60, seed=3) == []


def test_verify_engines_reports_where_they_differ(kb, monkeypatch):
    experta = kb.engine("experta")
    real = experta.run
    monkeypatch.setattr(experta, "run", lambda f, g, t: [x for x in real(f, g, t) if kb.branches[x[0]].rule.id != "ir_measured_limited"])
    found = verify_engines(kb, [{"findings": {"supine_hip_ir": {"left": 12}}}, {"findings": {}}])
    assert [m.index for m in found] == [0]
    assert isinstance(found[0], Mismatch) and str(found[0]).startswith("case 0: the engines disagree at conclusions")


def test_sample_cases_are_valid_and_reproducible(kb):
    first = sample_cases(kb, 50, seed=9)
    assert first == sample_cases(kb, 50, seed=9) != sample_cases(kb, 50, seed=10)
    assert all(item.ok for item in hipkb.assess_many(first, kb=kb))


# -- cohorts as CSV


COHORT = (
    "subject,supine_hip_ir.left,supine_hip_ir.right,straight_leg_raise.left,hip_hike.left,hip_hike.right,rib_cage_side_bend\n"
    "ann,12,40,45,true,false,true\n"
    "bob,30,31,,,,\n"
    "\n"
    "cid,abc,40,,maybe,,\n"
    "dan,400,,,,,\n"
)


@pytest.fixture()
def cohort(tmp_path):
    path = tmp_path / "cohort.csv"
    path.write_text(COHORT, encoding="utf-8")
    return path


def test_a_csv_row_is_a_case_and_a_blank_cell_is_not_assessed(kb, cohort):
    rows = list(read_table(cohort, kb=kb))
    assert [r.line for r in rows] == [2, 3, 5, 6]  # the blank line 4 is no row
    ann = rows[0].to_case(kb)
    assert ann.subject == "ann"
    assert ann.findings[("supine_hip_ir", "left")] == 12 and ann.findings[("hip_hike", "right")] is False
    assert ann.findings[("rib_cage_side_bend", None)] is True
    bob = rows[1].to_case(kb)
    assert ("straight_leg_raise", "left") not in bob.findings and ("hip_hike", "left") not in bob.findings
    items = list(hipkb.assess_many(rows, kb=kb))
    assert items[0].result.holds("ir_limited", "left") and items[0].result.holds("ir_within_range", "right")
    assert items[0].source == f"{cohort}:2"


def test_csv_cell_errors_name_file_line_and_column(kb, cohort):
    items = list(hipkb.assess_many(read_table(cohort, kb=kb), kb=kb, jobs=2))
    assert [i.ok for i in items] == [True, True, False, False]
    cid = [str(p) for p in items[2].error.problems]
    assert cid == [f"{cohort}:5: column 'supine_hip_ir.left': expected a number, true, false or a blank cell, not 'abc'",
                   f"{cohort}:5: column 'hip_hike.left': expected a number, true, false or a blank cell, not 'maybe'"]
    [dan] = items[3].error.problems
    assert str(dan).startswith(f"{cohort}:6: column 'supine_hip_ir.left': ") and "outside its valid range" in str(dan)


@pytest.mark.parametrize("header, message", [
    ("subject,supine_hip_ri.left\n", "unknown column 'supine_hip_ri.left': not a finding or state (did you mean 'supine_hip_ir'?)"),
    ("subject,supine_hip_ir\n", "column 'supine_hip_ir': 'supine_hip_ir' has sides (use supine_hip_ir.left and supine_hip_ir.right)"),
    ("rib_cage_side_bend.left\n", "column 'rib_cage_side_bend.left': 'rib_cage_side_bend' belongs to no side (use rib_cage_side_bend)"),
    ("hip_hike.lft\n", "column 'hip_hike.lft': unknown side 'lft' (did you mean 'left'?)"),
    ("subject,subject\n", "column 'subject' appears twice"),
])
def test_a_bad_header_is_an_error_at_line_1(kb, tmp_path, header, message):
    path = tmp_path / "c.csv"
    path.write_text(header + "x\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        list(read_table(path, kb=kb))
    assert str(err.value) == f"{path}:1: {message}"


def test_a_row_with_too_many_fields_fails_alone(kb, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("subject,hip_hike.left\na,true\nb,true,extra\n", encoding="utf-8")
    items = list(hipkb.assess_many(read_table(path, kb=kb), kb=kb))
    assert items[0].ok and str(items[1].error) == f"{path}:3: expected 2 fields as in the header, found 3"


def test_table_rows_travel_to_workers(kb, cohort):
    row = next(read_table(cohort, kb=kb))
    assert isinstance(row, TableRow)
    serial = list(hipkb.assess_many(read_table(cohort, kb=kb), kb=kb))
    assert _lines(list(hipkb.assess_many(read_table(cohort, kb=kb), kb=kb, jobs=2))) == _lines(serial)


def test_cli_csv_in_csv_out(kb, cohort, tmp_path):
    out = tmp_path / "out.csv"
    code, stdout, stderr = run("assess-many", str(cohort), "--format", "csv", "-o", str(out), "--jobs", "2")
    assert code == 2 and stdout == ""
    assert f"{cohort}:5: column 'supine_hip_ir.left'" in stderr and "2 of 4 cases failed" in stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == table_header(kb)
    assert [(r["subject"], r["side"], r["ok"]) for r in rows] == [
        ("ann", "left", "true"), ("ann", "right", "true"), ("bob", "left", "true"), ("bob", "right", "true"), ("", "", "false"), ("", "", "false")]
    ann_left, ann_right, bob_left = rows[0], rows[1], rows[2]
    assert ann_left["ir_limited"] == "measured" and ann_left["ir_within_range"] == ""
    assert ann_right["ir_within_range"] == "measured" and ann_right["ir_limited"] == ""
    assert ann_left["arm_bar"] == "measured"  # the programme, called by the measured limitation
    assert bob_left["ir_within_range"] == "measured" and bob_left["arm_bar"] == ""
    assert rows[4]["index"] == "2" and rows[4]["error"].startswith(f"{cohort}:5: column 'supine_hip_ir.left'")


def test_cli_refuses_to_overwrite_an_input(cohort):
    code, _, stderr = run("assess-many", str(cohort), "--format", "csv", "-o", str(cohort))
    assert code == 2 and "refusing to overwrite an input file" in stderr
    assert cohort.read_text(encoding="utf-8") == COHORT


# -- CLI over case files


@pytest.fixture()
def case_dir(tmp_path, generated):
    folder = tmp_path / "cases"
    folder.mkdir()
    for i, case in enumerate(generated[:30]):
        (folder / f"case-{i:03d}.json").write_text(json.dumps(case), encoding="utf-8")
    (folder / "notes.txt").write_text("not a case", encoding="utf-8")
    return folder


def test_cli_jsonl_one_line_per_case_in_order(case_dir, kb):
    code, out, err = run("assess-many", str(case_dir), "--jobs", "2")
    assert (code, err) == (0, "")
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["index"] for r in records] == list(range(30))
    assert [Path(r["source"]).name for r in records] == [f"case-{i:03d}.json" for i in range(30)]
    assert records[0]["result"] == kb.assess(case_dir / "case-000.json").to_dict()


def test_cli_reports_every_failure_and_exits_2(case_dir):
    (case_dir / "case-010.json").write_text('{"findings": [1, 2]}', encoding="utf-8")
    code, out, err = run("assess-many", str(case_dir), "--format", "jsonl")
    assert code == 2
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 30 and [r["ok"] for r in records].count(False) == 1 and records[10]["ok"] is False
    assert "case-010.json" in err and "1 of 30 cases failed" in err


def test_cli_json_and_text_formats(case_dir, kb):
    files = [str(p) for p in sorted(case_dir.glob("*.json"))[:3]]
    code, out, _ = run("assess-many", *files, "--format", "json", "--threshold", "supine_hip_ir=30", "--jobs", "2")
    data = json.loads(out)
    assert code == 0 and [d["index"] for d in data] == [0, 1, 2]
    assert all(d["result"]["thresholds"]["supine_hip_ir"] == 30 for d in data)
    code, out, _ = run("assess-many", *files, "--format", "text")
    assert code == 0 and all(f"=== {f} ===" in out for f in files)
    from hipkb.answers.report import text_report

    assert text_report(kb.assess(files[1])) in out


def test_cli_empty_directory_is_bad_input(tmp_path):
    code, _, err = run("assess-many", str(tmp_path))
    assert code == 2 and "no case files" in err


# -- workers die with their parent (end to end)


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_no_worker_outlives_assess_many(tmp_path, how):
    cohort = tmp_path / "big.csv"
    with cohort.open("w", encoding="utf-8") as f:
        f.write("subject,supine_hip_ir.left,supine_hip_ir.right,hip_hike.left\n")
        for i in range(200_000):
            f.write(f"p{i},{10 + i % 30},{20 + i % 25},{'true' if i % 3 else ''}\n")
    proc = subprocess.Popen([sys.executable, "-m", "hipkb", "assess-many", str(cohort), "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, HIPKB_CACHE_DIR=""))
    try:
        assert proc.stdout.readline().startswith(b'{"index": 0')  # running, workers up
        deadline = time.monotonic() + 20
        while len(workers := _children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(workers) >= 2
        proc.send_signal(how)
        proc.stdout.close()
        proc.wait(timeout=20)
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers), "a worker outlived its parent"
        if how == signal.SIGTERM:
            assert proc.returncode == 130 and b"interrupted" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
