"""``hipkb how|why|why-not ID CASE`` and ``hipkb what-if CASE --set ID.SIDE=V``.

Thin: parse the options, call :mod:`hipkb.answers`, print, return an exit
code (errors are raised as :class:`~hipkb.errors.HipkbError` and turned
into one line and exit 2 by ``hipkb.cli.main``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from ..sanitize import json_text

from ..model import SIDES, Side
from .common import case_argument, case_options, cli, load_result

if TYPE_CHECKING:
    from ..result import Question


def _side_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--side", type=click.Choice(SIDES), default=None,
        help="left or right (default: every side where it holds; why-not: both sides).",
    )(func)


def _format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)(func)


def _detail_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--detail", type=click.Choice(["brief", "full"]), default="brief", show_default=True,
        help="full adds rule ids and the article's quotes.",
    )(func)


def _echo(payload: Any, fmt: str, detail: str) -> None:
    if fmt == "json":
        click.echo(json_text(payload.to_dict()))
    else:
        click.echo(payload.text(detail=detail), nl=False)


def _question(name: Question, summary: str) -> None:
    @cli.command(name, help=summary)
    @click.argument("item", metavar="ID")
    @case_argument
    @_side_option
    @_format_option
    @_detail_option
    @case_options
    def command(item: str, case: Path, side: Side, fmt: str, detail: str, kb_dir: Path | None,
                thresholds: tuple[str, ...], mdcs: tuple[str, ...], engine: str) -> int:
        result = load_result(case, kb_dir, thresholds, mdcs, engine)
        _echo(result.explain(item, side=side, question=name), fmt, detail)
        return 0


_question("how", "How was ID concluded in CASE? Its derivation down to the entered findings.")
_question("why", "Why does ID hold in CASE? For ir_limited the contributors the article names; "
                 "for a state its causes; for a recommendation what called for it and what it addresses.")
_question("why-not", "Why does ID not hold in CASE? What stands in each rule's way, and the findings that would make it hold.")


@cli.command("what-if")
@case_argument
@click.option(
    "--set", "changes", multiple=True, required=True, metavar="ID.SIDE=VALUE",
    help="Change a finding: degrees, true, false or none (remove); ID=VALUE for what has no side (repeatable).",
)
@_format_option
@_detail_option
@case_options
def what_if_command(case: Path, changes: tuple[str, ...], fmt: str, detail: str, kb_dir: Path | None,
                    thresholds: tuple[str, ...], mdcs: tuple[str, ...], engine: str) -> int:
    """What appears, goes and changes in CASE when some findings change (several --set at once)."""
    from ..answers.whatif import parse_change

    result = load_result(case, kb_dir, thresholds, mdcs, engine)
    parsed: dict[Any, Any] = {}
    for text in changes:
        parsed.update(parse_change(result.kb, text))
    _echo(result.what_if(parsed), fmt, detail)
    return 0
