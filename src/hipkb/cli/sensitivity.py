"""``hipkb sensitivity CASE``: the readings at which a conclusion or recommendation would appear or go.

Thin: parse the options, call :func:`hipkb.answers.sensitivity.sensitivity`,
print, return 0 (errors become one line and exit 2 in ``hipkb.cli.main``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from ..sanitize import json_text

from .common import case_argument, case_options, cli, load_result


@cli.command("sensitivity")
@case_argument
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--detail", type=click.Choice(["brief", "full"]), default="brief", show_default=True,
    help="full: list every conclusion and recommendation that appears or goes, with its id.",
)
@case_options
def sensitivity_command(case: Path, fmt: str, detail: Literal["brief", "full"], kb_dir: Path | None, thresholds: tuple[str, ...],
                        mdcs: tuple[str, ...], engine: str) -> int:
    """Tipping points of CASE: per side, each measured reading's tipping values and their distance.

    A tipping value is a reading at which some conclusion or recommendation
    would appear or go; it is flagged when it lies within the reading's
    measurement error (MDC). "at 25°": a reading of 25° already changes it;
    "below 25°": only a reading under 25° does.
    """
    from ..answers.sensitivity import sensitivity

    result = load_result(case, kb_dir, thresholds, mdcs, engine)
    answer = sensitivity(result)
    if fmt == "json":
        click.echo(json_text(answer.to_dict()))
    else:
        click.echo(answer.text(detail=detail), nl=False)
    return 0
