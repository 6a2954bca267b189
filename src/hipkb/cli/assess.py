"""``hipkb assess``: run one case and report conclusions and recommendations."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import cli, kb_option, load, parse_thresholds, threshold_option


@cli.command()
@click.argument("case", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@kb_option
@threshold_option
def assess(case: Path, fmt: str, kb_dir: Path | None, thresholds: tuple[str, ...]) -> int:
    """Assess CASE (a YAML or JSON file of findings)."""
    kb = load(kb_dir)
    result = kb.assess(case, thresholds=parse_thresholds(thresholds))
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        from ..answers.report import text_report

        click.echo(text_report(result), nl=False)
    return 0
