"""``hipkb assess-many``: assess many case files, in order, optionally in parallel.

Output goes to stdout as each case finishes (``jsonl``: one JSON object per
line; ``json``: one array; ``text``: the report of each case under its
file name). Failed cases are reported in the output and on stderr, and the
others still run; the exit code is 2 if any case failed, else 0. A progress
bar is drawn on stderr only when stderr is a terminal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator, Sequence

import click

from ..errors import InputError
from .common import cli, kb_option, load, parse_thresholds, threshold_option

CASE_SUFFIXES = (".yaml", ".yml", ".json")


def case_files(paths: Sequence[Path]) -> list[Path]:
    """The case files named: files as given, directories as their case files (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in CASE_SUFFIXES and p.is_file())
            if not found:
                raise InputError("no case files (*.yaml, *.yml, *.json) in this directory", path=str(path))
            files.extend(found)
        else:
            files.append(path)  # a missing file is that case's error, not the batch's
    return files


@cli.command("assess-many")
@click.argument("cases", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="CASES... | DIR")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=1, show_default=True,
              help="Worker processes (0: one per CPU).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "json", "text"]), default="jsonl", show_default=True)
@kb_option
@threshold_option
def assess_many_command(cases: tuple[Path, ...], jobs: int, fmt: str, kb_dir: Path | None, thresholds: tuple[str, ...]) -> int:
    """Assess every case file (or every case file in DIR), in order."""
    from ..batch import assess_many

    files = case_files(cases)
    kb = load(kb_dir)
    items = assess_many(files, kb=kb, jobs=jobs, thresholds=parse_thresholds(thresholds))
    failed = 0
    with _progress(len(files)) as bar:
        for piece in _render(_watch(items, bar), fmt):
            click.echo(piece, nl=False)
        failed = bar.failed
    if failed:
        click.echo(f"hipkb: {failed} of {len(files)} cases failed", err=True)
        return 2
    return 0


class _Progress:
    """Counts failures, reports each on stderr, and draws a bar on a terminal."""

    def __init__(self, total: int) -> None:
        self.failed = 0
        self.bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm  # only when there is a terminal to draw on

            class Bar(tqdm):  # type: ignore[type-arg]
                monitor_interval = 0  # no monitor thread: worker processes may be forked after it

            self.bar = Bar(total=total, unit="case", file=sys.stderr, dynamic_ncols=True, leave=False)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.close()

    def done(self, item: Any) -> None:
        if not item.ok:
            self.failed += 1
            line = f"hipkb: error: {item.error}"
            if self.bar is not None:
                self.bar.write(line, file=sys.stderr)
            else:
                click.echo(line, err=True)
        if self.bar is not None:
            self.bar.update(1)


def _progress(total: int) -> _Progress:
    return _Progress(total)


def _watch(items: Iterator[Any], progress: _Progress) -> Iterator[Any]:
    for item in items:
        progress.done(item)
        yield item


def _render(items: Iterator[Any], fmt: str) -> Iterator[str]:
    if fmt == "jsonl":
        for item in items:
            yield json.dumps(item.to_dict(), ensure_ascii=False) + "\n"
    elif fmt == "json":
        yield "["
        for n, item in enumerate(items):
            body = json.dumps(item.to_dict(), indent=2, ensure_ascii=False).replace("\n", "\n  ")
            yield ("," if n else "") + "\n  " + body
        yield "\n]\n"
    else:
        from ..answers.report import text_report

        for n, item in enumerate(items):
            head = ("\n" if n else "") + f"=== {item.source} ===\n"
            yield head + (text_report(item.result) if item.ok else f"error: {item.error}\n")
