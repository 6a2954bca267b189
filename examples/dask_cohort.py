#!/usr/bin/env python3
"""Assess a cohort on Dask: a bag of case files (or CSV rows) in, a table out.

    pip install "dask[distributed]" pandas
    python examples/dask_cohort.py CASES_DIR_OR_COHORT.csv [-o table.csv] [--workers 4]

Each Dask partition is assessed in one worker by hipkb.cohort.assess_partition
(the KB loads once per worker process, from the user cache), which returns
plain dicts; side_rows turns each into one row per person and side. Without
pandas the rows are written with the csv module.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path


def cohort_inputs(source: Path) -> list:
    """Case files in a directory, or the rows of a cohort CSV file."""
    if source.is_dir():
        return sorted(p for p in source.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
    from hipkb.batch import read_table

    return list(read_table(source))


def run(source: Path, *, workers: int = 2, partitions: int = 8, client=None) -> tuple[list[dict], list[dict]]:
    """(every item dict, every side row), computed on Dask; ``client``: an existing distributed Client."""
    import dask
    import dask.bag as db

    from hipkb.cohort import assess_partition, side_rows

    inputs = cohort_inputs(source)
    items = db.from_sequence(inputs, npartitions=max(1, min(partitions, len(inputs)))).map_partitions(assess_partition)
    rows = items.map(side_rows).flatten()
    if client is None:
        with dask.config.set(scheduler="processes", num_workers=workers):
            return list(dask.compute(items, rows))  # type: ignore[return-value]
    return list(client.compute([items, rows], sync=True))  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("-o", "--output", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    items, rows = run(args.source, workers=args.workers)
    out = args.output.open("w", newline="", encoding="utf-8") if args.output else sys.stdout
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["source"])
    writer.writeheader()
    writer.writerows(rows)
    failed = [item for item in items if not item["ok"]]
    for item in failed:
        print(f"error: {item['error']['text']}", file=sys.stderr)
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
