"""``hipkb assess``: run one case and print the student report (or the result's JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from ..sanitize import json_text

from .common import case_argument, case_options, cli, format_option, load_result


@cli.command()
@case_argument
@format_option()
@click.option(
    "--detail", type=click.Choice(["brief", "full"]), default="brief", show_default=True,
    help="full: every conclusion on its own, with ids, rule ids and the article's quotes.",
)
@case_options
def assess(case: Path, fmt: str, detail: Literal["brief", "full"], kb_dir: Path | None, thresholds: tuple[str, ...],
           mdcs: tuple[str, ...], engine: str) -> int:
    """Assess CASE (a YAML or JSON file of findings): the bottom line first, then the reasons.

    --format json prints the whole result (schema_version 2), the same as
    Result.to_dict() in Python.
    """
    result = load_result(case, kb_dir, thresholds, mdcs, engine)
    if fmt == "json":
        click.echo(json_text(result.to_dict()))
    else:
        from ..answers.report import text_report

        click.echo(text_report(result, detail=detail), nl=False)
    return 0
