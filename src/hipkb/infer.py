"""Run a case through the engine and build the result.

experta finds every justification the KB's rules allow (forward chaining to
a fixpoint). This module then keeps a well-founded, acyclic support for each
fact, gives each conclusion its status, resolves opposite states (the
stronger status stays, the other goes to ``disagreements`` together with
everything that rested on it), and orders everything deterministically.

>>> from hipkb.kb import load_kb
>>> result = load_kb().assess({"findings": {"supine_hip_ir": {"left": 12}, "pelvis_turned_away": "left"}})
>>> [c.id for c in result.conclusions if c.side == "left"]
['ir_limited', 'ir_test_confounded_by_pelvis']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .case import Case, Key, key_str, load_case, parse_case
from .compile import Firing, compile_kb
from .errors import InputError
from .kb import KnowledgeBase
from .model import EVIDENCE_LEVELS, RECOMMENDATION_KINDS, SIDES

if TYPE_CHECKING:
    import networkx

    from .explain import Explanation

__all__ = [
    "STATUS_STRENGTH",
    "Justification",
    "Conclusion",
    "RecommendationResult",
    "Disagreement",
    "Result",
    "assess",
    "resolve_case",
]

#: Stronger statuses win when opposite states meet.
STATUS_STRENGTH: dict[str, int] = {"measured": 4, "given": 3, "inferred": 2, "predicted": 1}
_SIDE_ORDER = {side: i for i, side in enumerate(SIDES)}


@dataclass(frozen=True)
class Justification:
    """One way a conclusion or recommendation was reached."""

    rule: str | None  # None for a state given in the case
    because: tuple[Key, ...]
    status: str
    evidence: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": self.status,
            "evidence": self.evidence,
            "because": [key_str(k) for k in self.because],
        }


@dataclass(frozen=True)
class Conclusion:
    """A state that holds in the case, on a side (or on none)."""

    id: str
    side: str | None
    label: str
    status: str
    evidence: str | None
    justifications: tuple[Justification, ...]

    @property
    def key(self) -> Key:
        return (self.id, self.side)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "side": self.side,
            "label": self.label,
            "status": self.status,
            "evidence": self.evidence,
            "justifications": [j.to_dict() for j in self.justifications],
        }


@dataclass(frozen=True)
class RecommendationResult:
    """A recommendation called for by the case's conclusions."""

    id: str
    side: str | None
    kind: str
    order: int | None
    label: str
    summary: str
    evidence: str
    justifications: tuple[Justification, ...]

    @property
    def key(self) -> Key:
        return (self.id, self.side)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "side": self.side,
            "kind": self.kind,
            "order": self.order,
            "label": self.label,
            "summary": self.summary,
            "evidence": self.evidence,
            "justifications": [j.to_dict() for j in self.justifications],
        }


@dataclass(frozen=True)
class Disagreement:
    """Opposite states that both followed; the stronger status was kept."""

    side: str | None
    kept: Conclusion | None
    dropped: tuple[Conclusion, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "kept": None if self.kept is None else self.kept.to_dict(),
            "dropped": [c.to_dict() for c in self.dropped],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Result:
    """Everything the engine concluded for one case. Immutable."""

    kb: KnowledgeBase = field(repr=False)
    case: Case = field(repr=False)
    thresholds: Mapping[str, float]
    conclusions: tuple[Conclusion, ...]
    recommendations: tuple[RecommendationResult, ...]
    disagreements: tuple[Disagreement, ...]
    #: Justifications that were dropped with a disagreement (for why-not).
    withdrawn: Mapping[Key, tuple[Justification, ...]] = field(default_factory=dict, repr=False)

    def conclusion(self, item_id: str, side: str | None = None) -> Conclusion | None:
        return next((c for c in self.conclusions if c.id == item_id and c.side == side), None)

    def recommendation(self, item_id: str, side: str | None = None) -> RecommendationResult | None:
        return next((r for r in self.recommendations if r.id == item_id and r.side == side), None)

    def holds(self, item_id: str, side: str | None = None) -> bool:
        """True when the state or recommendation is in the result on that side."""
        return self.conclusion(item_id, side) is not None or self.recommendation(item_id, side) is not None

    def item(self, key: Key) -> Conclusion | RecommendationResult | None:
        return self.conclusion(*key) or self.recommendation(*key)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``hipkb assess --format json``."""
        out: dict[str, Any] = {"kb": {"name": self.kb.name, "version": self.kb.version}}
        if self.case.subject is not None:
            out["subject"] = self.case.subject
        out["thresholds"] = dict(sorted(self.thresholds.items()))
        out["conclusions"] = [c.to_dict() for c in self.conclusions]
        out["recommendations"] = [r.to_dict() for r in self.recommendations]
        out["disagreements"] = [d.to_dict() for d in self.disagreements]
        return out

    def graph(self) -> networkx.DiGraph:
        """The derivation graph: findings → states → recommendations (networkx)."""
        from .derivation import derivation_graph

        return derivation_graph(self)

    def explain(self, item_id: str, *, side: str | None = None, question: str = "how") -> Explanation:
        """Answer how / why / why-not about one item on one side."""
        from .explain import explain

        return explain(self, item_id, side=side, question=question)

    def _repr_markdown_(self) -> str:
        from .report import markdown_report

        return markdown_report(self)

    def _repr_svg_(self) -> str | None:
        from .errors import RenderError
        from .render import render

        try:
            return render(self, format="svg").decode("utf-8")
        except RenderError:
            return None


# --------------------------------------------------------------------------
# Support, statuses and disagreements


class _Resolver:
    def __init__(self, kb: KnowledgeBase, case: Case, firings: list[Firing]) -> None:
        self.kb = kb
        self.case = case
        rule_index = kb.position("rules")
        unique = {(rule, concl, because) for rule, concl, because in firings}
        self.candidates = sorted(unique, key=lambda f: (rule_index[f[0]], _order(f[1]), [_order(k) for k in f[2]]))
        self.base: set[Key] = {k for k, v in case.findings.items() if v is not False}
        self.given: set[Key] = set(case.given)

    def status_of(self, rule_id: str | None, conclusion: Key) -> str:
        if rule_id is None:
            return "given"
        state = self.kb.states.get(conclusion[0])
        if state is None or state.tested_by is None:
            return "inferred"
        rule = self.kb.rule(rule_id)
        reads_test = any(
            c.ref == state.tested_by and (c.kind == "lower_side" or (c.kind == "finding" and c.compare))
            for c in _flat(rule.when)
        )
        return "measured" if reads_test else "predicted"

    def support(self, excluded: set[Key]) -> dict[Key, list[tuple[str | None, tuple[Key, ...]]]]:
        """Keep each candidate whose premises are established and that closes no cycle.

        Candidates are taken in rounds (a premise must be established in an
        earlier round) and in KB order within a round, so the result does not
        depend on the order in which the engine fired.
        """
        kept: dict[Key, list[tuple[str | None, tuple[Key, ...]]]] = {
            k: [(None, ())] for k in sorted(self.given - excluded, key=_order)
        }
        established = set(self.base) | set(kept)
        pending = [c for c in self.candidates if c[1] not in excluded]
        while True:
            ready: list[Firing] = []
            waiting: list[Firing] = []
            for c in pending:  # one pass (was quadratic: `c not in ready` over a list)
                (ready if all(p in established for p in c[2]) else waiting).append(c)
            if not ready:
                break
            pending = waiting
            for rule, conclusion, because in ready:
                if self._reaches(kept, because, conclusion):
                    continue  # would justify a fact by something derived from it
                kept.setdefault(conclusion, []).append((rule, because))
            established |= set(kept)
        return kept

    @staticmethod
    def _reaches(kept: Mapping[Key, list[tuple[str | None, tuple[Key, ...]]]], start: Iterable[Key], target: Key) -> bool:
        seen: set[Key] = set()
        stack = list(start)
        while stack:
            node = stack.pop()
            if node == target:
                return True
            if node in seen:
                continue
            seen.add(node)
            for _, because in kept.get(node, ()):
                stack.extend(because)
        return False

    def justifications(self, key: Key, entries: list[tuple[str | None, tuple[Key, ...]]]) -> tuple[Justification, ...]:
        out = []
        for rule_id, because in entries:
            evidence = None if rule_id is None else self.kb.rule(rule_id).evidence
            out.append(Justification(rule_id, because, self.status_of(rule_id, key), evidence))
        return tuple(out)

    def conclusion(self, key: Key, justs: tuple[Justification, ...]) -> Conclusion:
        best = max(justs, key=lambda j: (STATUS_STRENGTH[j.status], _evidence_rank(j.evidence)))
        return Conclusion(key[0], key[1], self.kb.states[key[0]].label, best.status, best.evidence, justs)

    def resolve(self) -> tuple[dict[Key, tuple[Justification, ...]], list[Disagreement], dict[Key, tuple[Justification, ...]]]:
        excluded: set[Key] = set()
        disagreements: list[Disagreement] = []
        withdrawn: dict[Key, tuple[Justification, ...]] = {}
        while True:
            kept = self.support(excluded)
            justs = {k: self.justifications(k, v) for k, v in kept.items()}
            found = False
            for key in sorted(justs, key=_order):
                state = self.kb.states.get(key[0])
                if state is None or not state.opposite or state.opposite < state.id:
                    continue
                other = (state.opposite, key[1])
                if other not in justs:
                    continue
                found = True
                a, b = self.conclusion(key, justs[key]), self.conclusion(other, justs[other])
                sa, sb = STATUS_STRENGTH[a.status], STATUS_STRENGTH[b.status]
                if sa == sb:
                    kept_c, dropped = None, (a, b)
                    reason = f"both are {a.status}: neither can be preferred, so both are left out"
                else:
                    kept_c, loser = (a, b) if sa > sb else (b, a)
                    dropped = (loser,)
                    reason = f"{kept_c.status} outweighs {loser.status}"
                for d in dropped:
                    excluded.add(d.key)
                    withdrawn[d.key] = d.justifications
                disagreements.append(Disagreement(key[1], kept_c, dropped, reason))
            if not found:
                return justs, disagreements, withdrawn


def _flat(conditions: Iterable[Any]) -> Iterable[Any]:
    for c in conditions:
        yield from (c.options if c.kind == "any" else (c,))


def _order(key: Key) -> tuple[str, int]:
    return (key[0], _SIDE_ORDER.get(key[1], len(SIDES)))  # type: ignore[arg-type]


def _evidence_rank(evidence: str | None) -> int:
    return len(EVIDENCE_LEVELS) - EVIDENCE_LEVELS.index(evidence) if evidence in EVIDENCE_LEVELS else 0


def _fold_unsided(justs: dict[Key, tuple[Justification, ...]], kb: KnowledgeBase) -> dict[Key, tuple[Justification, ...]]:
    """A recommendation is side-less only when every call for it was side-less."""
    out = dict(justs)
    for (item, side), entries in justs.items():
        if side is None and item in kb.recommendations:
            sided = [k for k in justs if k[0] == item and k[1] is not None]
            if sided:
                del out[(item, None)]
                for k in sided:
                    out[k] = out[k] + entries
    return out


def build_result(kb: KnowledgeBase, case: Case, thresholds: Mapping[str, float], firings: list[Firing]) -> Result:
    """Turn raw engine firings into a :class:`Result`."""
    resolver = _Resolver(kb, case, firings)
    justs, disagreements, withdrawn = resolver.resolve()
    justs = _fold_unsided(justs, kb)
    state_index = kb.position("states")
    rec_index = kb.position("recommendations")
    rule_index = kb.position("rules")

    def just_order(j: Justification) -> tuple[int, list[tuple[str, int]]]:
        return (-1 if j.rule is None else rule_index[j.rule], [_order(k) for k in j.because])

    conclusions = [
        resolver.conclusion(key, tuple(sorted(v, key=just_order)))
        for key, v in justs.items() if key[0] in kb.states
    ]
    conclusions.sort(key=lambda c: (state_index[c.id], _SIDE_ORDER.get(c.side, 2)))  # type: ignore[arg-type]
    recommendations = []
    for (rid, side), v in justs.items():
        if rid not in kb.recommendations:
            continue
        rec = kb.recommendations[rid]
        recommendations.append(RecommendationResult(
            rid, side, rec.kind, rec.order, rec.label, rec.summary, rec.evidence, tuple(sorted(v, key=just_order)),
        ))
    kind_rank = {k: i for i, k in enumerate(RECOMMENDATION_KINDS)}
    recommendations.sort(key=lambda r: (
        kind_rank[r.kind], r.order or 0, rec_index[r.id], _SIDE_ORDER.get(r.side, 2),  # type: ignore[arg-type]
    ))
    disagreements.sort(key=lambda d: (_SIDE_ORDER.get(d.side, 2), [c.id for c in d.dropped]))  # type: ignore[arg-type]
    return Result(kb, case, dict(thresholds), tuple(conclusions), tuple(recommendations), tuple(disagreements), withdrawn)


def resolve_case(
    kb: KnowledgeBase,
    case: Mapping[str, Any] | str | Path | Case,
    thresholds: Mapping[str, float] | None = None,
) -> tuple[Case, dict[str, float]]:
    """Validate a case and merge thresholds: KB defaults < case file < call."""
    from .case import check_threshold

    if isinstance(case, Case):
        parsed = case
    elif isinstance(case, (str, Path)):
        parsed = load_case(case, kb)
    elif isinstance(case, Mapping):
        parsed = parse_case(dict(case), kb)
    else:
        raise InputError(f"a case must be a mapping or a path to a YAML/JSON file, not {type(case).__name__}")
    merged = kb.default_thresholds()
    merged.update(parsed.thresholds)
    for name, value in (thresholds or {}).items():
        merged[name] = check_threshold(kb, name, value, lambda m, h=None, n=name: InputError(f"--threshold {n}: {m}", hint=h))
    return parsed, merged


def assess(
    kb: KnowledgeBase,
    case: Mapping[str, Any] | str | Path | Case,
    *,
    thresholds: Mapping[str, float] | None = None,
) -> Result:
    """Run ``kb`` over one case. See :meth:`KnowledgeBase.assess`."""
    parsed, merged = resolve_case(kb, case, thresholds)
    firings = compile_kb(kb).run(parsed.findings, parsed.given, merged)
    return build_result(kb, parsed, merged, firings)
