"""hipkb.assess_many and ``hipkb assess-many``: order, isolation of bad cases, parallel = serial."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hipkb
from hipkb.batch import BatchItem
from hipkb.cli import main
from hipkb.errors import CaseError, InputError

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo-01.yaml"


@pytest.fixture(scope="module")
def generated(kb, reference):
    return reference.generate_cases(kb, 1000, seed=20240611)


def _json(items):
    return [json.dumps(item.to_dict(), sort_keys=True) for item in items]


def test_parallel_gives_the_same_results_as_serial(kb, generated):
    serial = list(hipkb.assess_many(generated, kb=kb, jobs=1))
    parallel = list(hipkb.assess_many(generated, kb=kb, jobs=2))
    assert len(parallel) == len(generated)
    assert all(item.ok for item in serial), [str(i.error) for i in serial if not i.ok][:3]
    assert _json(parallel) == _json(serial)
    # and each equals a plain single assessment
    for i in (0, 1, 499, 999):
        assert parallel[i].result.to_dict() == kb.assess(generated[i]).to_dict()


def test_parallel_results_carry_the_callers_kb(kb, generated):
    items = list(hipkb.assess_many(generated[:20], kb=kb, jobs=2))
    assert all(item.result.kb is kb for item in items)


def test_order_is_preserved_for_an_unsized_input(kb, generated):
    subjects = [case["subject"] for case in generated[:300]]
    stream = (case for case in generated[:300])  # no len(): chunked lazily
    items = list(hipkb.assess_many(stream, kb=kb, jobs=2))
    assert [item.index for item in items] == list(range(300))
    assert [item.result.case.subject for item in items] == subjects


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_bad_case_in_the_middle_does_not_stop_the_others(kb, tmp_path, jobs):
    good = {"subject": "good", "findings": {"supine_hip_ir": {"left": 12}}}
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text("findings:\n  supine_hip_ir: 12\n", encoding="utf-8")
    cases = [good, str(DEMO), {"findings": {"no_such_finding": True}}, bad_file, tmp_path / "missing.yaml", good]
    items = list(hipkb.assess_many(cases, kb=kb, jobs=jobs))
    assert [item.ok for item in items] == [True, True, False, False, False, True]
    assert [item.index for item in items] == list(range(6))
    assert all(isinstance(item.error, CaseError) for item in items[2:5])
    assert items[3].error.location.line == 2  # the error still points into its file
    assert items[3].source == str(bad_file)
    assert items[2].source == "<case 2>"
    assert items[0].result.to_dict() == items[5].result.to_dict() == kb.assess(good).to_dict()
    assert items[1].result.to_dict() == kb.assess(DEMO).to_dict()
    line = items[3].to_dict()
    assert line["ok"] is False and line["error"]["type"] == "CaseError" and "result" not in line


def test_thresholds_apply_to_every_case_in_workers(kb, generated):
    thresholds = {"supine_hip_ir": 30.0}
    serial = list(hipkb.assess_many(generated[:200], kb=kb, thresholds=thresholds))
    parallel = list(hipkb.assess_many(generated[:200], kb=kb, thresholds=thresholds, jobs=2))
    assert _json(parallel) == _json(serial)
    assert all(item.result.thresholds["supine_hip_ir"] == 30.0 for item in parallel)


def test_bad_arguments_fail_at_once(kb):
    with pytest.raises(InputError, match="jobs"):
        hipkb.assess_many([], kb=kb, jobs=-1)
    with pytest.raises(InputError, match="supine_hip_ir"):
        hipkb.assess_many([{"findings": {}}], kb=kb, thresholds={"supine_hip_ir": 500})
    with pytest.raises(InputError, match="unknown threshold"):
        hipkb.assess_many([{"findings": {}}], kb=kb, thresholds={"nope": 3})


def test_stopping_early_shuts_the_workers_down(kb, generated):
    items = hipkb.assess_many(generated, kb=kb, jobs=2)
    first = next(items)
    assert isinstance(first, BatchItem) and first.index == 0
    items.close()  # must not hang or leak processes
    with pytest.raises(StopIteration):
        next(items)


def test_empty_input(kb):
    assert list(hipkb.assess_many([], kb=kb, jobs=2)) == []
    assert list(hipkb.assess_many([], kb=kb)) == []


# -- CLI


@pytest.fixture()
def case_dir(tmp_path, generated):
    import yaml

    folder = tmp_path / "cases"
    folder.mkdir()
    for i, case in enumerate(generated[:30]):
        (folder / f"case-{i:03d}.yaml").write_text(yaml.safe_dump(case), encoding="utf-8")
    (folder / "notes.txt").write_text("not a case", encoding="utf-8")
    return folder


def test_cli_jsonl_one_line_per_case_in_order(case_dir, capsys, kb):
    assert main(["assess-many", str(case_dir), "--jobs", "2"]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert len(lines) == 30
    records = [json.loads(line) for line in lines]
    assert [r["index"] for r in records] == list(range(30))
    assert [Path(r["source"]).name for r in records] == [f"case-{i:03d}.yaml" for i in range(30)]
    assert all(r["ok"] for r in records)
    first = sorted(case_dir.glob("*.yaml"))[0]
    assert records[0]["result"] == kb.assess(first).to_dict()
    assert out.err == ""  # no progress bar when stderr is not a terminal


def test_cli_reports_every_failure_and_exits_2(case_dir, capsys):
    (case_dir / "case-010.yaml").write_text("findings: [1, 2]\n", encoding="utf-8")
    code = main(["assess-many", str(case_dir), "--format", "jsonl"])
    out = capsys.readouterr()
    assert code == 2
    records = [json.loads(line) for line in out.out.splitlines()]
    assert len(records) == 30  # the others still ran
    assert [r["ok"] for r in records].count(False) == 1 and records[10]["ok"] is False
    assert "case-010.yaml" in out.err and "1 of 30 cases failed" in out.err


def test_cli_json_and_text_formats(case_dir, capsys):
    files = [str(p) for p in sorted(case_dir.glob("*.yaml"))[:3]]
    assert main(["assess-many", *files, "--format", "json", "--threshold", "supine_hip_ir=30"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["index"] for d in data] == [0, 1, 2]
    assert all(d["result"]["thresholds"]["supine_hip_ir"] == 30.0 for d in data)
    assert main(["assess-many", *files, "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert all(f"=== {f} ===" in text for f in files)


def test_cli_empty_directory_is_bad_input(tmp_path, capsys):
    assert main(["assess-many", str(tmp_path)]) == 2
    assert "no case files" in capsys.readouterr().err
