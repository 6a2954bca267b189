"""``hipkb diagram``, ``hipkb kb diagram`` and ``hipkb report``: draw reasoning, write the HTML report.

Thin: parse the options, call :func:`hipkb.render.render`, print or write
atomically (never over an input), return an exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from ..errors import InputError
from ..model import SIDES
from .common import case_argument, case_options, cli, kb_option, load, load_result
from .kbtools import kb_group

_DIAGRAM_FORMATS = ("svg", "png", "pdf", "dot", "mermaid", "json")


def _view_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--detail, --rule-ids, --legend/--no-legend and --dpi: every drawing has them."""
    for option in (
        click.option("--dpi", type=click.IntRange(10, 1200), default=None, metavar="N",
                     help="PNG resolution in dots per inch (default 96)."),
        click.option("--legend/--no-legend", default=True, show_default=True, help="Draw a legend."),
        click.option("--rule-ids", is_flag=True, help="Put the rule ids on the arrows."),
        click.option("--detail", type=click.Choice(["brief", "full"]), default="brief", show_default=True,
                     help="brief: for slides (lists in boxes, direct steps); full: every item and step, with ids."),
        click.option("--format", "fmt", type=click.Choice(_DIAGRAM_FORMATS), default=None,
                     help="Default: from -o's suffix, else dot."),
        click.option("-o", "--output", type=click.Path(path_type=Path), default=None, metavar="FILE",
                     help="Write to FILE (format from its suffix)."),
    ):
        func = option(func)
    return func


def _diagram_format(output: Path | None, fmt: str | None, dpi: int | None) -> str:
    """--format, else the -o suffix, else DOT; binary formats need a file."""
    from ..render import SUFFIXES, format_for_path

    implied = format_for_path(output) if output is not None else None
    if implied == "html":
        raise InputError("a diagram is not HTML: write the HTML report with hipkb report CASE -o FILE.html")
    if fmt is None:
        if output is not None and implied is None:
            suffixes = ", ".join(sorted(s for s, f in SUFFIXES.items() if f in _DIAGRAM_FORMATS))
            raise InputError(
                f"cannot tell the format from the file name {output.name!r}",
                hint=f"give --format, or a suffix: {suffixes}",
            )
        fmt = implied or "dot"
    elif implied is not None and implied != fmt:
        raise InputError(f"--format {fmt} does not match the file suffix {output.suffix!r}")  # type: ignore[union-attr]
    if output is None and fmt in ("png", "pdf"):
        raise InputError(f"{fmt} is binary: write it to a file with -o FILE.{fmt}")
    if dpi is not None and fmt != "png":
        raise InputError(f"--dpi applies to png only, not {fmt}")
    return fmt


def _emit(data: str | bytes, output: Path | None, *, inputs: tuple[Path, ...] = ()) -> None:
    """Print, or write ``output`` atomically; never over one of the command's ``inputs``."""
    if output is None:
        click.echo(data if isinstance(data, str) else data.decode("utf-8"), nl=False)
        return
    from ..output import write_atomic

    write_atomic(output, data.encode("utf-8") if isinstance(data, str) else data, keep=inputs)


def _kb_files(kb_dir: Path | None) -> tuple[Path, ...]:
    try:
        return tuple(sorted(kb_dir.glob("*.y*ml"))) if kb_dir is not None and kb_dir.is_dir() else ()
    except OSError:
        return ()


@cli.command("diagram")
@case_argument
@_view_options
@click.option("--focus", metavar="ID", default=None, help="Draw only ID and the path that led to it.")
@click.option("--side", type=click.Choice(SIDES), default=None, help="left or right (with --focus).")
@click.option("--chain", is_flag=True, help="Draw the pelvic chain alone, each side's steps highlighted.")
@case_options
def diagram(
    case: Path, output: Path | None, fmt: str | None, detail: str, rule_ids: bool, legend: bool, dpi: int | None,
    focus: str | None, side: str | None, chain: bool, kb_dir: Path | None, thresholds: tuple[str, ...],
    mdcs: tuple[str, ...], engine: str,
) -> int:
    """Draw CASE's reasoning for a slide: findings → states → recommendations, left hip then right.

    --focus ID [--side S] draws one item's path; --chain the pelvic chain
    alone (pelvis → inlet → outlet → socket → femur glide → IR).
    """
    from ..render import render

    fmt = _diagram_format(output, fmt, dpi)
    if side is not None and focus is None:
        raise InputError("--side needs --focus ID")
    if chain and focus is not None:
        raise InputError("--chain draws the whole chain: leave out --focus")
    result = load_result(case, kb_dir, thresholds, mdcs, engine)
    data = render(
        result, format=fmt, focus=focus, side=side, chain=chain, detail=detail,  # type: ignore[call-overload]
        rule_ids=rule_ids, legend=legend, dpi=dpi,
    )
    _emit(data, output, inputs=(case, *_kb_files(kb_dir)))
    return 0


@kb_group.command("diagram")
@_view_options
@click.option("--focus", metavar="ID", default=None, help="Draw only ID, what leads to it and what it leads to next.")
@kb_option
def kb_diagram(
    output: Path | None, fmt: str | None, detail: str, rule_ids: bool, legend: bool, dpi: int | None,
    focus: str | None, kb_dir: Path | None,
) -> int:
    """Draw the KB in layers: findings → states → recommendations."""
    from ..render import render

    fmt = _diagram_format(output, fmt, dpi)
    data = render(
        load(kb_dir), format=fmt, focus=focus, detail=detail, rule_ids=rule_ids, legend=legend, dpi=dpi,  # type: ignore[call-overload]
    )
    _emit(data, output, inputs=_kb_files(kb_dir))
    return 0


@cli.command("report")
@case_argument
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, metavar="FILE.html",
              help="Write the report to FILE.html (default: print it).")
@click.option("--detail", type=click.Choice(["brief", "full"]), default="brief", show_default=True,
              help="full: ids and rule ids beside the words.")
@case_options
def report(
    case: Path, output: Path | None, detail: str, kb_dir: Path | None, thresholds: tuple[str, ...],
    mdcs: tuple[str, ...], engine: str,
) -> int:
    """Write CASE's report as one self-contained HTML file, to read offline, print or hand in.

    The bottom line, the differential, every conclusion and recommendation
    with its justification, assumptions, disagreements, borderline readings
    and the case diagram, with nothing fetched from the network.
    """
    from ..render import format_for_path, render

    if output is not None and format_for_path(output) != "html":
        raise InputError(f"the report is HTML: name a .html file, not {output.name!r}")
    result = load_result(case, kb_dir, thresholds, mdcs, engine)
    page = render(result, format="html", detail=detail)  # type: ignore[call-overload]
    _emit(page, output, inputs=(case, *_kb_files(kb_dir)))
    return 0
