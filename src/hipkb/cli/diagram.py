"""``hipkb diagram`` and ``hipkb kb diagram``: draw reasoning to a file or stdout.

Thin: parse the options, call :func:`hipkb.render.render`, print or write
atomically (never over an input), return an exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from ..errors import InputError
from ..model import SIDES
from .common import cli, kb_option, load, parse_thresholds, threshold_option
from .kbtools import kb_group

_DIAGRAM_FORMATS = ("svg", "png", "pdf", "dot", "mermaid", "json")


def _side_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--side", type=click.Choice(SIDES), default=None, help="left or right (with --focus).")(func)


def _diagram_format(output: Path | None, fmt: str | None) -> str:
    """--format, else the -o suffix, else DOT; binary formats need a file."""
    from ..render.legacy_render import SUFFIXES, format_for_path

    implied = format_for_path(output) if output is not None else None
    if fmt is None:
        if output is not None and implied is None:
            raise InputError(
                f"cannot tell the format from the file name {output.name!r}",
                hint=f"give --format, or a suffix: {', '.join(sorted(SUFFIXES))}",
            )
        fmt = implied or "dot"
    elif implied is not None and implied != fmt:
        raise InputError(f"--format {fmt} does not match the file suffix {output.suffix!r}")  # type: ignore[union-attr]
    if output is None and fmt in ("png", "pdf"):
        raise InputError(f"{fmt} is binary: write it to a file with -o FILE.{fmt}")
    return fmt


def _emit(data: str | bytes, output: Path | None, *, inputs: tuple[Path, ...] = ()) -> None:
    """Print, or write ``output`` atomically; never over one of the command's ``inputs``."""
    if output is None:
        click.echo(data if isinstance(data, str) else data.decode("utf-8"), nl=False)
        return
    from ..output import write_atomic

    write_atomic(output, data.encode("utf-8") if isinstance(data, str) else data, keep=inputs)


def _kb_files(kb_dir: Path | None) -> tuple[Path, ...]:
    return tuple(sorted(kb_dir.glob("*.y*ml"))) if kb_dir is not None and kb_dir.is_dir() else ()


@cli.command("diagram")
@click.argument("case", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Write to FILE (format from its suffix).")
@click.option("--format", "fmt", type=click.Choice(_DIAGRAM_FORMATS), default=None, help="Default: from -o's suffix, else dot.")
@click.option("--focus", metavar="ID", default=None, help="Draw only ID and the path that led to it.")
@_side_option
@click.option("--legend/--no-legend", default=None, help="Default: a legend, except with --focus.")
@kb_option
@threshold_option
def diagram(
    case: Path, output: Path | None, fmt: str | None, focus: str | None, side: str | None, legend: bool | None,
    kb_dir: Path | None, thresholds: tuple[str, ...],
) -> int:
    """Draw CASE's reasoning: findings → states → recommendations (or one item's path)."""
    from ..render import render

    fmt = _diagram_format(output, fmt)
    if side is not None and focus is None:
        raise InputError("--side needs --focus ID")
    kb = load(kb_dir)
    result = kb.assess(case, thresholds=parse_thresholds(thresholds))
    _emit(render(result, format=fmt, focus=focus, side=side, legend=legend), output, inputs=(case, *_kb_files(kb_dir)))
    return 0


@kb_group.command("diagram")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Write to FILE (format from its suffix).")
@click.option("--format", "fmt", type=click.Choice(_DIAGRAM_FORMATS), default=None, help="Default: from -o's suffix, else dot.")
@click.option("--focus", metavar="ID", default=None, help="Draw only ID and what leads to it in the model.")
@click.option("--legend/--no-legend", default=None, help="Default: a legend, except with --focus.")
@kb_option
def kb_diagram(output: Path | None, fmt: str | None, focus: str | None, legend: bool | None, kb_dir: Path | None) -> int:
    """Draw the KB's causal model, rules and the recommendations they call for."""
    from ..render import render

    fmt = _diagram_format(output, fmt)
    _emit(render(load(kb_dir), format=fmt, focus=focus, legend=legend), output, inputs=_kb_files(kb_dir))
    return 0
