"""Rule coverage: which inference rules, and which ``any`` options, scenarios fire.

Coverage is read from what the engine actually recorded: the rule ids of
the justifications in each run's result (conclusions, recommendations, and
the justifications withdrawn in a disagreement, whose rules did fire). An
``any`` option counts as fired when a justification of its rule used the
option's finding or state (as a premise, a fact recorded false, a record
found missing, or an assumption).

>>> from hipkb.infer import load_kb
>>> from hipkb.scenario import parse_scenario, run_scenario
>>> kb = load_kb()
>>> scenario = parse_scenario({"title": "t", "case": {"findings": {"supine_hip_ir": {"left": 12}}}, "expect": {}}, kb)
>>> cov = measure(kb, run_scenario(scenario, kb))
>>> "ir_measured_limited" in [r.rule.id for r in cov.rules if r.runs]
True
>>> cov.rule_percent < 100
True
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from .case import Key
from .record import record
from .result import Conclusion, RecommendationResult
from .model import KBModel as KnowledgeBase
from .model import SIDES, Condition, Rule, Side
from .scenario import ScenarioRun

__all__ = ["RuleCoverage", "BranchCoverage", "Coverage", "measure", "fired", "text_report"]


@record
class RuleCoverage:
    """One inference rule and the scenario runs that fired it, on which sides."""

    rule: Rule
    runs: tuple[str, ...]
    sides: tuple[Side, ...]

    @property
    def covered(self) -> bool:
        return bool(self.runs)


@record
class BranchCoverage:
    """One option of an ``any`` condition (``condition`` indexes the rule's ``when``)."""

    rule: Rule
    condition: int
    option: int
    runs: tuple[str, ...]

    @property
    def covered(self) -> bool:
        return bool(self.runs)

    @property
    def describe(self) -> str:
        return self.rule.when[self.condition].options[self.option].describe()


@record
class Coverage:
    """Coverage of a KB's inference rules by a set of scenario runs."""

    rules: tuple[RuleCoverage, ...]
    branches: tuple[BranchCoverage, ...]
    runs: tuple[ScenarioRun, ...]

    @property
    def rule_percent(self) -> float:
        return _percent(sum(r.covered for r in self.rules), len(self.rules))

    @property
    def branch_percent(self) -> float:
        return _percent(sum(b.covered for b in self.branches), len(self.branches))

    @property
    def failed_runs(self) -> tuple[ScenarioRun, ...]:
        """Runs whose expectations failed, not counting those marked ``xfail``."""
        return tuple(r for r in self.runs if r.failures and not r.scenario.xfail)

    @property
    def unexpected_passes(self) -> tuple[ScenarioRun, ...]:
        """Runs marked ``xfail`` whose expectations all hold (remove the mark)."""
        return tuple(r for r in self.runs if r.scenario.xfail and not r.failures)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``hipkb kb coverage --format json``."""
        return {
            "scenarios": len(self.runs),
            "failed": [{"scenario": r.name, "failures": list(r.failures)} for r in self.failed_runs],
            "unexpected_passes": [r.name for r in self.unexpected_passes],
            "rules": {
                "covered": sum(r.covered for r in self.rules), "total": len(self.rules),
                "percent": round(self.rule_percent, 2),
                "items": [
                    {"id": r.rule.id, "origin": r.rule.origin, "location": str(r.rule.location),
                     "runs": list(r.runs), "sides": list(r.sides)}
                    for r in self.rules
                ],
            },
            "branches": {
                "covered": sum(b.covered for b in self.branches), "total": len(self.branches),
                "percent": round(self.branch_percent, 2),
                "items": [
                    {"rule": b.rule.id, "condition": b.condition, "option": b.option, "describe": b.describe,
                     "location": str(b.rule.when[b.condition].options[b.option].location), "runs": list(b.runs)}
                    for b in self.branches
                ],
            },
        }


def _percent(part: int, whole: int) -> float:
    return 100.0 if whole == 0 else 100.0 * part / whole


def fired(run: ScenarioRun) -> Iterator[tuple[str, Side, tuple[Key, ...]]]:
    """(rule id, side, every fact it used) of each justification in a run's result."""
    result = run.result
    items: list[Conclusion | RecommendationResult] = [*result.conclusions, *result.recommendations]
    for item in items:
        for j in item.justifications:
            if j.rule is not None:
                yield j.rule, item.side, (*j.because, *j.recorded_false, *j.not_recorded, *j.assumptions)
    for (_, side), justs in sorted(result.withdrawn.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        for j in justs:
            if j.rule is not None:
                yield j.rule, side, (*j.because, *j.recorded_false, *j.not_recorded, *j.assumptions)


def _options_fired(cond: Condition, facts: tuple[Key, ...]) -> list[int]:
    """The options of an ``any`` whose item a justification used (premise, fact or assumption)."""
    refs = {item for item, _ in facts}
    return [i for i, o in enumerate(cond.options) if o.ref in refs]


def measure(kb: KnowledgeBase, runs: Iterable[ScenarioRun]) -> Coverage:
    """Coverage of ``kb.inference_rules`` by ``runs`` (from :func:`hipkb.scenario.run_scenario`)."""
    runs = tuple(runs)
    rule_runs: dict[str, dict[str, None]] = {r.id: {} for r in kb.inference_rules}
    rule_sides: dict[str, set[Side]] = {r.id: set() for r in kb.inference_rules}
    branch_runs: dict[tuple[str, int, int], dict[str, None]] = {}
    for rule in kb.inference_rules:
        for ci, cond in enumerate(rule.when):
            if cond.kind == "any":
                for oi in range(len(cond.options)):
                    branch_runs[(rule.id, ci, oi)] = {}
    for run in runs:
        for rule_id, side, because in fired(run):
            if rule_id not in rule_runs:
                continue  # a result from another KB
            rule_runs[rule_id][run.name] = None
            rule_sides[rule_id].add(side)
            for ci, cond in enumerate(kb.rule(rule_id).when):
                if cond.kind == "any":
                    for oi in _options_fired(cond, because):
                        branch_runs[(rule_id, ci, oi)][run.name] = None
    side_rank = {s: i for i, s in enumerate((*SIDES, None))}
    rules = tuple(
        RuleCoverage(r, tuple(rule_runs[r.id]), tuple(sorted(rule_sides[r.id], key=side_rank.__getitem__)))
        for r in kb.inference_rules
    )
    index = {r.id: r for r in kb.inference_rules}
    branches = tuple(BranchCoverage(index[rid], ci, oi, tuple(names)) for (rid, ci, oi), names in branch_runs.items())
    return Coverage(rules, branches, runs)


def text_report(cov: Coverage, *, verbose: bool = False) -> str:
    """Failed scenarios, then what no scenario fires (``FILE:LINE:COL: ...``), then totals."""
    lines = []
    for run in cov.failed_runs:
        lines.append(f"scenario {run.name} failed:")
        lines += [f"  {f}" for f in run.failures]
    for run in cov.unexpected_passes:
        lines.append(f"{run.scenario.path}: scenario {run.name} is marked xfail but passes (remove 'xfail')")
    for r in cov.rules:
        if verbose:
            sides = ", ".join(s or "no side" for s in r.sides)
            lines.append(f"{r.rule.id}: {len(r.runs)} run(s)" + (f" ({sides})" if sides else ""))
        if not r.covered:
            lines.append(f"{r.rule.location}: {r.rule.origin} {r.rule.id!r} is fired by no scenario")
    for b in cov.branches:
        if not b.covered:
            loc = b.rule.when[b.condition].options[b.option].location
            lines.append(f"{loc}: option '{b.describe}' of {b.rule.id!r} is fired by no scenario")
    covered_rules = sum(r.covered for r in cov.rules)
    covered_branches = sum(b.covered for b in cov.branches)
    lines.append(
        f"{len(cov.runs)} scenario runs, {len(cov.failed_runs)} failed; "
        f"rules {covered_rules}/{len(cov.rules)} ({cov.rule_percent:.1f}%), "
        f"any-options {covered_branches}/{len(cov.branches)} ({cov.branch_percent:.1f}%)"
    )
    return "\n".join(lines) + "\n"
