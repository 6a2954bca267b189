"""``hipkb assess-many``: assess a cohort — case files, a directory of them, or a CSV file — in order.

Output goes to stdout as each case finishes, or to ``-o FILE`` (written
atomically at the end): ``jsonl`` (one JSON object per case and line),
``json`` (an array of those objects, one per line), ``text`` (the report
of each case under its name) or ``csv`` (one row per person and side, for
spreadsheets). Failed cases are reported in the output and on stderr, and
the others still run; the exit code is 2 if any case failed, else 0. With
``--jobs N`` worker processes do the work; they stop with the command,
whatever stops it (Ctrl-C, SIGTERM). A progress bar is drawn on stderr only
when stderr is a terminal.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import click

from ..errors import InputError
from .common import CASE_PATH, case_options, check_overrides, cli, load, parse_overrides

if TYPE_CHECKING:
    from ..engines import EngineName

CASE_SUFFIXES = (".yaml", ".yml", ".json")
TABLE_SUFFIXES = (".csv",)
FORMATS = ("jsonl", "json", "text", "csv")


def case_files(paths: Sequence[Path]) -> list[Path]:
    """The inputs named: files as given, directories as their case and CSV files (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in CASE_SUFFIXES + TABLE_SUFFIXES and p.is_file())
            if not found:
                raise InputError("no case files (*.yaml, *.yml, *.json, *.csv) in this directory", path=str(path))
            files.extend(found)
        else:
            files.append(path)  # a missing file is that case's error, not the batch's
    return files


def _inputs(files: Sequence[Path], kb: Any) -> Iterator[Any]:
    """Every case, lazily: a CSV file gives one case per row."""
    from ..batch import read_table

    for file in files:
        if file.suffix.lower() in TABLE_SUFFIXES:
            yield from read_table(file, kb=kb)
        else:
            yield file


@cli.command("assess-many")
@click.argument("cases", nargs=-1, required=True, type=CASE_PATH, metavar="CASES... | DIR | COHORT.csv")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=1, show_default=True,
              help="Worker processes (0: one per CPU).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="jsonl", show_default=True,
              help="jsonl/json: one JSON object per case; text: each report; csv: one row per person and side.")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="Write to FILE instead of stdout.")
@case_options
def assess_many_command(cases: tuple[Path, ...], jobs: int, fmt: str, output: Path | None, kb_dir: Path | None,
                        thresholds: tuple[str, ...], mdcs: tuple[str, ...], engine: EngineName) -> int:
    """Assess every case file, every case file in DIR, or every row of a CSV file, in order.

    A CSV file has a header row: subject, then one column per finding,
    ID.left / ID.right for what has sides (supine_hip_ir.left), ID for
    what has none (rib_cage_side_bend); a blank cell is not assessed.
    """
    from ..batch import assess_many, table_header, table_item, table_lines

    files = case_files(cases)
    kb = load(kb_dir)
    checked, checked_mdc = check_overrides(kb, parse_overrides(thresholds, "--threshold"), parse_overrides(mdcs, "--mdc"))
    render = {"text": _text_report, "csv": table_lines}.get(fmt)
    items = assess_many(_inputs(files, kb), kb=kb, jobs=jobs, thresholds=checked,
                        mdc=checked_mdc, engine=engine, render=render)
    header = table_header(kb)
    sink = _Sink(output)
    with _terminate_on_sigterm(), _Progress(None if any(f.suffix.lower() in TABLE_SUFFIXES for f in files) else len(files)) as bar:
        try:
            for piece in _render(_watch(items, bar), fmt, header, table_item):
                sink.write(piece)
        finally:
            items.close()  # stops the workers
        failed, total = bar.failed, bar.count
    if output is not None:
        from ..output import write_atomic

        write_atomic(output, sink.data(), keep=files)
    if failed:
        click.echo(f"hipkb: {failed} of {total} cases failed", err=True)
        return 2
    return 0


def _text_report(result: Any) -> str:
    from ..answers.report import text_report

    return text_report(result)


class _Sink:
    """stdout as it comes, or a buffer for -o."""

    def __init__(self, output: Path | None) -> None:
        self.parts: list[str] | None = [] if output is not None else None

    def write(self, piece: str) -> None:
        if self.parts is None:
            click.echo(piece, nl=False)
        else:
            self.parts.append(piece)

    def data(self) -> bytes:
        return "".join(self.parts or ()).encode("utf-8")


@contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into an interrupt while the batch runs, so its workers are stopped before we exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Progress:
    """Counts cases and failures, reports each failure on stderr, and draws a bar on a terminal."""

    def __init__(self, total: int | None) -> None:
        self.failed = 0
        self.count = 0
        self.bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type hints; imported only when there is a terminal to draw on

            class Bar(tqdm):  # type: ignore[misc]  # tqdm ships no type hints: its class is Any to mypy
                monitor_interval = 0  # no monitor thread: worker processes may be forked after it

            self.bar = Bar(total=total, unit="case", file=sys.stderr, dynamic_ncols=True, leave=False)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.close()

    def done(self, item: Any) -> None:
        self.count += 1
        if not item.ok:
            self.failed += 1
            for problem in getattr(item.error, "problems", ()) or (item.error,):
                line = f"hipkb: error: {problem}"
                if self.bar is not None:
                    self.bar.write(line, file=sys.stderr)
                else:
                    click.echo(line, err=True)
        if self.bar is not None:
            self.bar.update(1)


def _watch(items: Iterable[Any], progress: _Progress) -> Iterator[Any]:
    for item in items:
        progress.done(item)
        yield item


def _render(items: Iterable[Any], fmt: str, header: list[str], table_item: Any) -> Iterator[str]:
    from ..sanitize import clean

    if fmt == "jsonl":
        for item in items:
            yield item.to_json() + "\n"
    elif fmt == "json":
        yield "["
        for n, item in enumerate(items):
            yield ("," if n else "") + "\n" + item.to_json()
        yield "\n]\n"
    elif fmt == "csv":
        from ..batch import _csv

        yield _csv([header])
        for item in items:
            yield table_item(item, len(header))
    else:
        for n, item in enumerate(items):
            head = ("\n" if n else "") + f"=== {clean(item.source)} ===\n"
            yield head + (item.text if item.ok else f"error: {item.error}\n")
