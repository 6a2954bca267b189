"""``hipkb kb ...``: commands about the knowledge base itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import InputError
from ..model import KBModel, Side, key_str
from ..record import record
from ..sanitize import clean, json_text
from .common import cli, kb_option, load

_FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)

#: Generated cases ``kb check --verify-engines`` runs by default, and their seed.
VERIFY_CASES = 200
VERIFY_SEED = 0
#: Where ``kb check --verify-engines`` looks for scenario files (from the working directory).
SCENARIOS = Path("tests") / "cases"
_ENGINES = ("compiled", "experta")


@cli.group("kb")
def kb_group() -> None:
    """Check, cover and draw the knowledge base."""


@kb_group.command("check")
@click.argument("directory", required=False, type=click.Path(path_type=Path, readable=False))
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option(
    "--source", "article", type=click.Path(path_type=Path, readable=False), default=None, metavar="ARTICLE.txt",
    help="The article's text: check that every quote is in it.",
)
@click.option(
    "--verify-engines", is_flag=True,
    help="Also run both engines (compiled, experta) on the scenarios in tests/cases (when present) "
         "and on generated cases; exit 1 if they differ anywhere.",
)
@click.option(
    "--cases", "case_count", type=click.IntRange(min=0), default=None, metavar="N",
    help=f"With --verify-engines: how many generated cases (default {VERIFY_CASES}; seeded, the same every run).",
)
@_FORMAT
def check(directory: Path | None, strict: bool, article: Path | None, verify_engines: bool, case_count: int | None,
          fmt: str) -> int:
    """Check the KB in DIRECTORY (default: the bundled KB).

    Errors exit 1; warnings (ids nothing uses) exit 1 only with --strict; a
    KB that cannot be read exits 2. With --verify-engines, a case on which
    the two engines give different results exits 1 too.
    """
    from ..check import check_kb, text_report

    if case_count is not None and not verify_engines:
        raise InputError("--cases is the number of generated cases for --verify-engines: give both")
    report = check_kb(directory, article=article)
    code = report.exit_code(strict=strict)
    comparison = None
    if verify_engines and not report.errors:  # a KB with errors does not load
        comparison = compare_engines(load(directory), VERIFY_CASES if case_count is None else case_count)
        code = max(code, 1 if comparison.mismatches else 0)
    if fmt == "json":
        payload = report.to_dict()
        if verify_engines:
            payload["engines"] = None if comparison is None else comparison.to_dict()
        click.echo(json_text(payload))
    else:
        click.echo(text_report(report), nl=False)
        if verify_engines:
            click.echo(comparison.text() if comparison is not None
                       else "engines not compared: the knowledge base has errors\n", nl=False)
    return code


@record
class CaseMismatch:
    """A case on which the engines differ: each conclusion or recommendation (id, side) that differs, and how."""

    case: str
    #: (id, side, what differs), in the result's order: conclusions, then recommendations
    items: tuple[tuple[str, Side, str], ...]
    #: where the two results' JSON first differ (hipkb.batch.verify_engines)
    difference: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "items": [{"id": i, "side": side, "difference": what} for i, side, what in self.items],
            "difference": self.difference,
        }

    def __str__(self) -> str:
        if not self.items:  # the items agree; something else differs (an error, the disagreements)
            return f"{self.case}: the engines differ at {self.difference}"
        shown = "; ".join(f"{key_str((i, side))}: {what}" for i, side, what in self.items[:_ITEMS_SHOWN])
        more = len(self.items) - _ITEMS_SHOWN
        return f"{self.case}: the engines differ on {shown}" + (f"; and {more} more" if more > 0 else "")


@record
class EngineComparison:
    """Both engines run on the scenario cases and on generated ones; every case they differ on."""

    scenario_cases: int
    generated: int
    seed: int
    #: (file, error) of each scenario file that does not load with this KB (written for another one)
    unfit: tuple[tuple[str, str], ...]
    mismatches: tuple[CaseMismatch, ...]

    @property
    def total(self) -> int:
        return self.scenario_cases + self.generated

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.total, "scenario_cases": self.scenario_cases, "generated": self.generated,
            "seed": self.seed, "scenarios_not_used": [{"file": f, "error": e} for f, e in self.unfit],
            "agree": not self.mismatches,
            "mismatches": [m.to_dict() for m in self.mismatches],
        }

    def text(self) -> str:
        lines = [clean(str(m)) for m in self.mismatches[:_CASES_SHOWN]]
        if len(self.mismatches) > _CASES_SHOWN:
            lines.append(f"… and {len(self.mismatches) - _CASES_SHOWN} more cases (all of them with --format json)")
        lines += [clean(f"scenario not used (it does not load with this knowledge base): {error}") for _, error in self.unfit]
        made = f"{self.scenario_cases} from the scenarios in {SCENARIOS}, " if self.scenario_cases else ""
        made += f"{self.generated} generated with seed {self.seed}"
        if self.mismatches:
            lines.append(f"the engines differ on {len(self.mismatches)} of {self.total} cases ({made})")
        else:
            lines.append(f"both engines agree on {self.total} cases ({made})")
        return "\n".join(lines) + "\n"


_ITEMS_SHOWN = 3
_CASES_SHOWN = 20


def compare_engines(kb: Any, count: int, *, seed: int = VERIFY_SEED, scenarios: Path = SCENARIOS) -> EngineComparison:
    """Run both engines on the scenario cases in ``scenarios`` (when it is a directory) and on ``count`` generated cases.

    :func:`hipkb.batch.verify_engines` finds the cases they differ on;
    each of those is run again to name the items (id, side) that differ.
    """
    from ..batch import sample_cases, verify_engines

    named, unfit = _scenario_cases(kb, scenarios)
    from_scenarios = len(named)
    named += [(f"generated case {i + 1} (seed {seed})", case) for i, case in enumerate(sample_cases(kb, count, seed=seed))]
    found = verify_engines(kb, [case for _, case in named])
    mismatches = tuple(
        CaseMismatch(named[m.index][0], _item_differences(kb, named[m.index][1]), m.difference) for m in found
    )
    return EngineComparison(from_scenarios, count, seed, unfit, mismatches)


def _scenario_cases(kb: Any, folder: Path) -> tuple[list[tuple[str, Any]], tuple[tuple[str, str], ...]]:
    """(name, case) of every scenario (and its mirror image) in ``folder``; the files that do not load with this KB."""
    from ..errors import HipkbError
    from ..scenario import SCENARIO_SUFFIXES, load_scenario

    if not folder.is_dir():
        return [], ()
    named: list[tuple[str, Any]] = []
    unfit: list[tuple[str, str]] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix in SCENARIO_SUFFIXES and p.is_file()):
        try:
            scenario = load_scenario(path, kb)
        except HipkbError as err:
            unfit.append((str(path), str(err).splitlines()[0]))
            continue
        named.append((str(path), scenario.case))
        if scenario.mirror:
            named.append((f"{path} [mirrored]", scenario.mirrored().case))
    return named, tuple(unfit)


def _item_differences(kb: Any, case: Any) -> tuple[tuple[str, Side, str], ...]:
    """(id, side, what differs) of each conclusion or recommendation on which the engines differ for ``case``."""
    from ..errors import HipkbError

    answers: list[dict[str, Any]] = []
    for engine in _ENGINES:
        try:
            answers.append(kb.assess(case, engine=engine).to_dict())
        except HipkbError as err:
            answers.append({"error": str(err)})
    out = []
    for table, verb in (("conclusions", "concludes"), ("recommendations", "recommends")):
        by_key = [{(i["id"], i["side"]): i for i in answer.get(table, ())} for answer in answers]
        for key in dict.fromkeys([*by_key[0], *by_key[1]]):
            first, second = by_key[0].get(key), by_key[1].get(key)
            if second is None:
                out.append((*key, f"only the {_ENGINES[0]} engine {verb} it"))
            elif first is None:
                out.append((*key, f"only the {_ENGINES[1]} engine {verb} it"))
            elif first != second:
                out.append((*key, _field_difference(first, second)))
    return tuple(out)


def _field_difference(first: dict[str, Any], second: dict[str, Any]) -> str:
    """The first field of an item that the engines give differently: with both values when they are plain."""
    name = next(k for k in dict.fromkeys([*first, *second]) if first.get(k) != second.get(k))
    a, b = first.get(name), second.get(name)
    if all(v is None or isinstance(v, (str, int, float)) for v in (a, b)):
        return f"{name} {a} ({_ENGINES[0]}) vs {b} ({_ENGINES[1]})"
    return f"different {name}"


@kb_group.command("coverage")
@click.option(
    "--cases", type=click.Path(path_type=Path, readable=False), default=Path("tests/cases"), show_default=True,
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
        click.echo(json_text(cov.to_dict()))
    else:
        click.echo(text_report(cov, verbose=verbose), nl=False)
    floor = 100.0 if strict else fail_under
    low = floor is not None and min(cov.rule_percent, cov.branch_percent) < floor
    return 1 if cov.failed_runs or cov.unexpected_passes or low else 0


@kb_group.command("schema")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, readable=False), default=None, metavar="DIR",
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


_TABLES = ("findings", "states", "recommendations", "thresholds")
_KIND_ORDER = {"strategy": 0, "principle": 1, "exercise": 2, "caution": 3, "assessment": 4}


@kb_group.command("list")
@click.argument("table", type=click.Choice(_TABLES))
@kb_option
@_FORMAT
def list_command(table: str, kb_dir: Path | None, fmt: str) -> int:
    """List the KB's findings, states, recommendations or thresholds.

    findings and states: label, kind, unit and range, sides, aliases;
    recommendations: in progression order, with the article's quotes;
    thresholds: value, measurement error (mdc) and what the number is.
    """
    kb = load(kb_dir)
    rows = kb_rows(kb, table)
    if fmt == "json":
        payload = {"kb": {"name": kb.name, "version": kb.version}, table: rows}
        click.echo(json_text(payload))
    else:
        click.echo(kb_text(kb, table, rows), nl=False)
    return 0


def _num(value: float | None) -> int | float | None:
    """25.0 → 25 in JSON; other values as they are."""
    return int(value) if value is not None and float(value).is_integer() else value


def _citation(citation: Any) -> dict[str, Any] | None:
    return None if citation is None else citation.to_dict()


def kb_rows(kb: KBModel, table: str) -> list[dict[str, Any]]:
    """The rows of ``hipkb kb list TABLE --format json``: plain data, in the KB's (or progression) order."""
    if table == "findings":
        return [
            {
                "id": f.id, "label": f.label, "kind": f.type, "group": f.group,
                "unit": f.unit or ("degrees" if f.type == "degrees" else None),
                "range": [_num(v) for v in f.range] if f.range is not None else None,
                "sided": f.sided, "aliases": list(f.aliases), "assessment": f.assessment,
                "threshold": _num(kb.thresholds[f.id].value) if f.id in kb.thresholds else None,
            }
            for f in kb.findings.values()
        ]
    if table == "states":
        return [
            {
                "id": s.id, "label": s.label, "kind": "state", "unit": None, "range": None,
                "sided": s.sided, "aliases": [], "tested_by": s.tested_by,
                "indicated_by": list(s.indicated_by), "opposite": s.opposite,
            }
            for s in kb.states.values()
        ]
    if table == "recommendations":
        position = kb.position("recommendations")
        ordered = sorted(kb.recommendations.values(),
                         key=lambda r: (_KIND_ORDER.get(r.kind, 9), r.order or 0, position[r.id]))
        return [
            {
                "id": r.id, "label": r.label, "kind": r.kind, "order": r.order, "summary": r.summary,
                "evidence": r.evidence, "source": _citation(r.source),
                "rationale": [c.to_dict() for c in r.rationale],
                "order_source": _citation(r.order_source),
            }
            for r in ordered
        ]
    return [
        {
            "id": t.id, "label": t.label, "value": _num(t.value), "unit": "degrees", "mdc": _num(t.mdc),
            "evidence": t.evidence, "source": _citation(t.source),
            "mdc_source": _citation(t.mdc_source),
            "rationale": [c.to_dict() for c in t.rationale],
        }
        for t in kb.thresholds.values()
    ]


def _say_source(kb: KBModel, citation: dict[str, Any] | None, indent: str) -> list[str]:
    if not citation:
        return []
    lines = []
    ref = citation.get("ref")
    outside = kb.sources.get(ref) if isinstance(ref, str) else None
    where = "the article" if ref == "article" else clean(outside.citation) if outside is not None else clean(ref or "")
    if citation.get("quote"):
        lines.append(f"{indent}\u201c{clean(citation['quote'])}\u201d ({where})")
    elif ref:
        lines.append(f"{indent}{where}")
    if citation.get("note"):
        lines.append(f"{indent}note: {clean(citation['note'])}")
    if citation.get("interpretation"):
        lines.append(f"{indent}interpretation: {clean(citation['interpretation'])}")
    return lines


def kb_text(kb: KBModel, table: str, rows: list[dict[str, Any]]) -> str:
    """The text of ``hipkb kb list TABLE``: one block per row, ids first (they are what a case file uses)."""
    head = f"{table.capitalize()} of the knowledge base {clean(kb.name)} {clean(kb.version)} ({len(rows)})"
    lines = [head]
    for row in rows:
        label = clean(row["label"])
        if table in ("findings", "states"):
            sides = "per side" if row["sided"] else "no side"
            if table == "findings":
                what = row["kind"]
                if row["range"] is not None:
                    what = f"{clean(row['unit'] or 'degrees')} {row['range'][0]:g}–{row['range'][1]:g}"
                extra = f"; threshold {row['threshold']:g}°" if row["threshold"] is not None else ""
                info = f"{what}, {sides}; {clean(row['group'])}{extra}"
            else:
                tests = []
                if row["tested_by"]:
                    tests.append(f"tested by {row['tested_by']}")
                if row["indicated_by"]:
                    tests.append("indicated by " + ", ".join(row["indicated_by"]))
                if row["opposite"]:
                    tests.append(f"opposite of {row['opposite']}")
                info = "; ".join([f"state, {sides}", *tests])
            lines.append(f"  {row['id']}: {label}")
            lines.append(f"      {info}" + (f"; aliases: {', '.join(row['aliases'])}" if row["aliases"] else ""))
        elif table == "recommendations":
            order = f" {row['order']}" if row["order"] is not None else ""
            lines.append(f"  {row['id']} ({row['kind']}{order}): {label}")
            lines += _say_source(kb, row["source"], "      ")
            for extra in row["rationale"]:
                lines += _say_source(kb, extra, "      ")
        else:
            mdc = f", measurement error (mdc) {row['mdc']:g}°" if row["mdc"] is not None else ""
            lines.append(f"  {row['id']} = {row['value']:g}°{mdc}: {label}")
            lines.append(f"      evidence: {row['evidence']}")
            lines += _say_source(kb, row["source"], "      ")
            if row["mdc_source"]:
                lines += [f"      mdc: {line.strip()}" for line in _say_source(kb, row["mdc_source"], "")]
    return "\n".join(lines) + "\n"
