"""``hipkb how|why|why-not|what-if``.

Thin: parse the options, call :mod:`hipkb.answers`, print, return an exit
code (errors are raised as
:class:`~hipkb.errors.HipkbError` and turned into one line and exit 2 by
``hipkb.cli.main``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import click

from ..errors import InputError
from ..model import SIDES
from .common import cli, kb_option, load, parse_thresholds, threshold_option

def _side_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--side", type=click.Choice(SIDES), default=None,
        help="left or right (default: every side where it holds; why-not: both sides).",
    )(func)


def _ask(question: str, item: str, case: Path, side: str | None, fmt: str, kb_dir: Path | None, thresholds: tuple[str, ...]) -> int:
    kb = load(kb_dir)
    result = kb.assess(case, thresholds=parse_thresholds(thresholds))
    explanation = result.explain(item, side=side, question=question)
    if fmt == "json":
        click.echo(json.dumps(explanation.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(explanation.text(), nl=False)
    return 0


def _question(name: str, question: str, summary: str) -> None:
    @cli.command(name, help=summary)
    @click.argument("item", metavar="ID")
    @click.argument("case", type=click.Path(path_type=Path))
    @_side_option
    @click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
    @kb_option
    @threshold_option
    def command(item: str, case: Path, side: str | None, fmt: str, kb_dir: Path | None, thresholds: tuple[str, ...]) -> int:
        return _ask(question, item, case, side, fmt, kb_dir, thresholds)


_question("how", "how", "How was ID concluded in CASE? Its derivation down to the entered findings.")
_question("why", "why", "Why does ID hold in CASE? Its causes in the KB's model, confounders, disagreements.")
_question("why-not", "why-not", "Why does ID not hold in CASE? Each rule that could give it and its first failed condition.")


@cli.command("what-if")
@click.argument("case", type=click.Path(path_type=Path))
@click.option(
    "--set", "changes", multiple=True, required=True, metavar="ID.SIDE=VALUE",
    help="Change a finding: a number, true, false or none (remove); ID=VALUE for what has no side (repeatable).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@kb_option
@threshold_option
def what_if_command(case: Path, changes: tuple[str, ...], fmt: str, kb_dir: Path | None, thresholds: tuple[str, ...]) -> int:
    """What appears and what goes in CASE when some findings change."""
    from ..answers.explanation import parse_change, what_if

    kb = load(kb_dir)
    parsed: dict[Any, Any] = {}
    for text in changes:
        parsed.update(parse_change(kb, text))
    diff = what_if(kb, case, parsed, thresholds=parse_thresholds(thresholds))
    if fmt == "json":
        click.echo(json.dumps(diff.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(diff.text(), nl=False)
    return 0
