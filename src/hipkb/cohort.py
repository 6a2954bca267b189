"""Assess a research cohort on a distributed engine you already run (Dask, Spark, Ray...).

Such an engine hands your function a *partition*: some of the records, in
a worker process of its own. :func:`assess_partition` assesses them with a
KB it loads once per process (from the user cache: milliseconds) and
returns plain dicts, the lines of ``hipkb assess-many --format jsonl``, so
the engine moves strings and numbers, never hipkb objects. :func:`side_rows`
turns one of those dicts into table rows, one per person and side, for a
dataframe or a spreadsheet. hipkb itself does not import any engine.

With Dask (``pip install "dask[distributed]"``; ``examples/dask_cohort.py``
runs this end to end)::

    import dask.bag as db
    from hipkb.cohort import assess_partition, side_rows

    items = db.from_sequence(case_files, npartitions=16).map_partitions(assess_partition)
    rows = items.map(side_rows).flatten()          # one row per person and side
    frame = rows.to_dataframe()                      # with pandas installed
    failed = items.filter(lambda item: not item["ok"]).compute()

Records are anything :func:`hipkb.assess_many` takes: case mappings, paths
to case files, rows of a CSV file (:func:`hipkb.batch.read_table`). Within
a partition items keep their order; ``index`` counts within the partition,
so identify people by ``subject`` or ``source``.

>>> items = assess_partition([{"subject": "ann", "findings": {"supine_hip_ir": {"left": 12, "right": 40}}}])
>>> items[0]["ok"], items[0]["result"]["subject"]
(True, 'ann')
>>> [(row["side"], row["ir_limited"]) for row in side_rows(items[0])]
[('left', 'measured'), ('right', '')]
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .batch import assess_many

if TYPE_CHECKING:
    from .engines import EngineName

__all__ = ["assess_partition", "side_rows"]


@functools.lru_cache(maxsize=8)
def _kb(directory: str | None) -> Any:
    # One loaded KB per directory and process: an immutable value, cached.
    from .infer import load_kb

    return load_kb(directory)


def assess_partition(
    records: Iterable[Any],
    *,
    kb_dir: str | Path | None = None,
    thresholds: Mapping[str, float] | None = None,
    mdc: Mapping[str, float] | None = None,
    engine: EngineName = "compiled",
) -> list[dict[str, Any]]:
    """Assess every record of one partition, here; one JSON-ready dict per record, in order.

    Each dict is ``{"index", "source", "ok", "result" | "error"}`` as in
    ``hipkb assess-many --format jsonl``. A bad record fails its own dict
    only (``ok`` false, ``error`` says why and where).
    """
    kb = _kb(None if kb_dir is None else str(kb_dir))
    items = assess_many(records, kb=kb, jobs=1, thresholds=thresholds, mdc=mdc, engine=engine)
    return [json.loads(item.to_json()) for item in items]


def side_rows(item: Mapping[str, Any], *, kb_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """One row per side for one dict of :func:`assess_partition`: who, which side, and each item's status.

    Keys, the same for every row (a dataframe's columns): ``source``,
    ``subject``, ``side``, ``ok``, ``error``, then every state and
    recommendation id of the KB (``kb_dir``, default the bundled one) with
    its status on that side, ``""`` where it does not hold. A row with no
    side appears only when something holds with no side. A failed case
    gives one row with ``ok`` false and the error.
    """
    kb = _kb(None if kb_dir is None else str(kb_dir))
    columns = [*kb.states, *kb.recommendations]
    ok = bool(item.get("ok"))
    result = item.get("result") or {}
    base = {"source": item.get("source"), "subject": result.get("subject"), "side": None, "ok": ok,
            "error": None if ok else (item.get("error") or {}).get("text")}
    if not ok:
        return [{**base, **dict.fromkeys(columns, "")}]
    sides: dict[Any, dict[str, Any]] = {side: {**base, "side": side, **dict.fromkeys(columns, "")} for side in ("left", "right")}
    for entry in (*result["conclusions"], *result["recommendations"]):
        row = sides.setdefault(entry["side"], {**base, "side": entry["side"], **dict.fromkeys(columns, "")})
        row[entry["id"]] = entry["status"]
    return list(sides.values())
