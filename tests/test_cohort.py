"""A cohort on Dask (hipkb.cohort and examples/dask_cohort.py): the same results as assess_many.

Skipped where Dask is not installed (it is in the test extra).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

import hipkb
from hipkb.batch import read_table, sample_cases
from hipkb.cohort import assess_partition, side_rows

dask = pytest.importorskip("dask")
db = pytest.importorskip("dask.bag")

REPO = Path(__file__).resolve().parents[1]


def _example():
    spec = importlib.util.spec_from_file_location("dask_cohort", REPO / "examples" / "dask_cohort.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cases(kb):
    return sample_cases(kb, 60, seed=4)


@pytest.fixture()
def case_dir(tmp_path, cases):
    for i, case in enumerate(cases):
        (tmp_path / f"case-{i:03d}.json").write_text(json.dumps(case), encoding="utf-8")
    (tmp_path / "case-999.json").write_text('{"findings": {"supine_hip_ir": 12}}', encoding="utf-8")
    return tmp_path


def test_a_bag_of_records_on_the_synchronous_scheduler(kb, cases):
    bag = db.from_sequence(cases, npartitions=5).map_partitions(assess_partition)
    with dask.config.set(scheduler="synchronous"):
        items = bag.compute()
    assert [item["result"] for item in items] == [kb.assess(case).to_dict() for case in cases]


def test_case_files_on_a_local_cluster(kb, case_dir):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        items, rows = _example().run(case_dir, client=client)
    files = sorted(case_dir.glob("*.json"))
    assert [item["source"] for item in items] == [str(f) for f in files]
    assert [item["ok"] for item in items] == [True] * 60 + [False]
    assert items[-1]["error"]["type"] == "CaseError" and "sided" in items[-1]["error"]["message"]
    assert [item.get("result") for item in items[:60]] == [json.loads(i.json) for i in hipkb.assess_many(files[:60], kb=kb)]
    # one row per person and side (and one with no side where something holds with none); one for the failed case
    unsided = sum(any(e["side"] is None for e in (*i["result"]["conclusions"], *i["result"]["recommendations"])) for i in items[:60])
    assert len(rows) == 60 * 2 + unsided + 1
    assert [(r["subject"], r["side"]) for r in rows[:2]] == [(items[0]["result"]["subject"], "left"), (items[0]["result"]["subject"], "right")]


def test_side_rows_have_the_same_columns_for_everyone(kb):
    items = assess_partition([{"subject": "ann", "findings": {"supine_hip_ir": {"left": 12, "right": 40}}},
                              {"subject": "bob", "findings": {}}, {"findings": []}])
    rows = [row for item in items for row in side_rows(item)]
    assert {tuple(row) for row in rows} == {tuple(rows[0])}
    assert list(rows[0])[:5] == ["source", "subject", "side", "ok", "error"]
    ann_left, ann_right = rows[0], rows[1]
    assert (ann_left["side"], ann_left["ir_limited"], ann_left["arm_bar"]) == ("left", "measured", "measured")
    assert (ann_right["ir_within_range"], ann_right["ir_limited"]) == ("measured", "")
    assert rows[-1]["ok"] is False and "findings" in rows[-1]["error"]


def test_a_cohort_csv_through_the_example(tmp_path, kb):
    table = tmp_path / "cohort.csv"
    table.write_text("subject,supine_hip_ir.left,supine_hip_ir.right\nann,12,40\nbob,,\ncid,x,\n", encoding="utf-8")
    out = tmp_path / "table.csv"
    with dask.config.set(scheduler="synchronous"):
        code = _example().main([str(table), "-o", str(out)])
    assert code == 2
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 2 + 2 + 1
    assert lines[1].startswith(f"{table}:2,ann,left,True,,measured,")
    assert len(list(read_table(table, kb=kb))) == 3
