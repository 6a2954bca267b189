"""``hipkb kb ...``: commands about the knowledge base itself."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import InputError
from .common import cli, kb_option, load

_FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)


@cli.group("kb")
def kb_group() -> None:
    """Check, cover and draw the knowledge base."""


@kb_group.command("check")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option(
    "--source", "article", type=click.Path(path_type=Path), default=None, metavar="ARTICLE.txt",
    help="The article's text: check that every quote is in it.",
)
@_FORMAT
def check(directory: Path | None, strict: bool, article: Path | None, fmt: str) -> int:
    """Check the KB in DIRECTORY (default: the bundled KB).

    Errors exit 1; warnings (ids nothing uses) exit 1 only with --strict; a
    KB that cannot be read exits 2.
    """
    from ..check import check_kb, text_report

    report = check_kb(directory, article=article)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(text_report(report), nl=False)
    return report.exit_code(strict=strict)


@kb_group.command("coverage")
@click.option(
    "--cases", type=click.Path(path_type=Path), default=Path("tests/cases"), show_default=True,
    help="Directory of scenario files.",
)
@kb_option
@click.option("--strict", is_flag=True, help="Fail unless every rule and every any-option fires (--fail-under 100).")
@click.option(
    "--fail-under", type=click.FloatRange(0, 100), default=None, metavar="PERCENT",
    help="Fail when rule or any-option coverage is below PERCENT.",
)
@click.option("-v", "--verbose", is_flag=True, help="List every rule with its runs and sides.")
@_FORMAT
def coverage(cases: Path, kb_dir: Path | None, strict: bool, fail_under: float | None, verbose: bool, fmt: str) -> int:
    """Run the scenarios in --cases and report which rules none of them fires.

    Exits 1 when a scenario fails its expectations, when one marked xfail
    passes, or when coverage is below --fail-under (100 with --strict).
    """
    from ..coverage import measure, text_report
    from ..scenario import load_scenarios, run_scenario

    kb = load(kb_dir)
    runs = [run for scenario in load_scenarios(cases, kb) for run in run_scenario(scenario, kb)]
    cov = measure(kb, runs)
    if fmt == "json":
        click.echo(json.dumps(cov.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(text_report(cov, verbose=verbose), nl=False)
    floor = 100.0 if strict else fail_under
    low = floor is not None and min(cov.rule_percent, cov.branch_percent) < floor
    return 1 if cov.failed_runs or cov.unexpected_passes or low else 0


@kb_group.command("schema")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), default=None, metavar="DIR",
    help="Write one *.schema.json file per schema into DIR (default: print them all as one JSON object).",
)
@click.option("--check", "check_only", is_flag=True, help="With -o: write nothing, exit 1 when DIR's schemas are stale.")
@kb_option
def schema(output: Path | None, check_only: bool, kb_dir: Path | None) -> int:
    """JSON Schemas for KB files, case files and scenario files, generated from the model."""
    from ..schema import dumps, generate, stale_schemas, write_schemas

    kb = load(kb_dir)
    if output is None:
        if check_only:
            raise InputError("--check needs -o DIR, the directory of schemas to compare")
        click.echo(dumps(generate(kb)), nl=False)
        return 0
    if check_only:
        stale = stale_schemas(output, kb)
        for name in stale:
            click.echo(f"{output / name}: stale or missing (regenerate with 'hipkb kb schema -o {output}')")
        return 1 if stale else 0
    if output.exists() and not output.is_dir():
        raise InputError("is not a directory", path=str(output))
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the directory: {exc.strerror or exc}", path=str(output)) from None
    written = write_schemas(output, kb)
    click.echo(f"wrote {len(written)} schemas to {output}")
    return 0
