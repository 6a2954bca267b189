"""Assess a case: run an engine, then resolve its firings into a :class:`Result`.

The engines say which rule branches fired in which context; this module
decides what that means (``docs/reasoning.md``): which justifications are
well-founded (stages and strongly connected components, so a fact never
rests on itself), each item's status, evidence, assumptions and borderline
readings along its strongest justification, and how opposite states are
settled (the stronger stays; what rested only on the other goes with it).
Every step is linear in the number of firings; opposites add one pass per
disagreement.

>>> kb = load_kb()
>>> result = kb.assess({"findings": {"supine_hip_ir": {"left": 12}, "pelvis_turned_away": "left"}})
>>> [c.id for c in result.conclusions if c.side == "left"]
['ir_limited', 'ir_test_confounded_by_pelvis']
"""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .case import Case, check_mdc, check_threshold, load_case, parse_case
from .engines import ENGINES, EngineName, Firing
from .engines.compiled import CompiledEvaluator
from .errors import CaseError, InferenceError, InputError, suggest
from .graphs import components
from .kb import load_model
from .model import (
    EVIDENCE_RANK,
    RECOMMENDATION_KINDS,
    Branch,
    Facts,
    KBModel,
    Key,
    Match,
    Side,
    key_str,
    status_rank,
    weaker_evidence,
)
from .record import field, fields, record
from .result import Conclusion, Disagreement, Justification, Measurement, RecommendationResult, Result, side_rank

__all__ = ["KnowledgeBase", "load_kb", "assess", "resolve", "CaseInput"]

CaseInput = Mapping[str, Any] | str | Path | Case


@record
class KnowledgeBase(KBModel):
    """A loaded knowledge base that can assess cases. Immutable and thread-safe.

    Its engines are built once: the compiled evaluator when the KB loads,
    the experta engine class on first use (one engine instance per thread).

    >>> kb = load_kb()
    >>> kb.assess({"findings": {"supine_hip_ir": {"left": 30}}}).holds("ir_within_range", "left")
    True
    """

    _evaluator: CompiledEvaluator | None = field(default=None, init=False, compare=False, repr=False)
    _experta: Any = field(default=None, init=False, compare=False, repr=False)
    _lock: Any = field(default_factory=threading.Lock, init=False, compare=False, repr=False)

    @classmethod
    def from_model(cls, model: KBModel, evaluator: CompiledEvaluator | None = None) -> KnowledgeBase:
        """The KB of ``model``, with ``evaluator`` (one already made for it) or a newly compiled one."""
        kb = cls(**{f.name: getattr(model, f.name) for f in fields(KBModel)})
        object.__setattr__(kb, "_evaluator", evaluator if evaluator is not None else CompiledEvaluator(model))
        return kb

    def engine(self, name: EngineName = "compiled") -> Any:
        """The engine object for ``name`` (built once per KB)."""
        if name == "compiled":
            return self._evaluator
        if name != "experta":
            raise InputError(f"unknown engine {name!r}", hint=suggest(str(name), ENGINES) or "engines: " + ", ".join(ENGINES))
        with self._lock:
            if self._experta is None:
                from .engines.experta import ExpertaEngine

                object.__setattr__(self, "_experta", ExpertaEngine(self))
        return self._experta

    def assess(
        self,
        case: CaseInput,
        *,
        thresholds: Mapping[str, float] | None = None,
        mdc: Mapping[str, float] | None = None,
        engine: EngineName = "compiled",
    ) -> Result:
        """Run the KB over one case: a mapping, a path to YAML/JSON, or a :class:`~hipkb.case.Case`.

        ``thresholds`` and ``mdc`` override the KB's defaults and the case
        file's own (call > case file > KB).

        >>> r = load_kb().assess({"findings": {"supine_hip_ir": {"left": 23}}}, thresholds={"supine_hip_ir": 25})
        >>> r.conclusion("ir_limited", "left").measurement.borderline
        True
        """
        return assess(self, case, thresholds=thresholds, mdc=mdc, engine=engine)


def load_kb(path: str | Path | None = None) -> KnowledgeBase:
    """Load and validate a KB directory (default: the one shipped with hipkb).

    Raises :class:`~hipkb.errors.KBError` for the first problem, located as FILE:LINE:COL.
    A KB whose files have not changed since an earlier load comes from the
    user cache (parsed data and compiled evaluator; :mod:`hipkb.kbcache`).
    """
    from .kbcache import load as load_cached

    model, evaluator = load_cached(path)
    return KnowledgeBase.from_model(model, evaluator)


# --------------------------------------------------------------------------
# Cases and overrides


def prepare(
    kb: KBModel,
    case: CaseInput,
    thresholds: Mapping[str, float] | None = None,
    mdc: Mapping[str, float] | None = None,
) -> tuple[Case, dict[str, float], dict[str, float]]:
    """Validate a case and merge thresholds and mdc: KB defaults < case file < call."""
    if isinstance(case, Case):
        parsed = case
    elif isinstance(case, (str, Path)):
        parsed = load_case(case, kb)
    elif isinstance(case, Mapping):
        parsed = parse_case(case, kb)
    else:
        raise InputError(f"a case must be a mapping or a path to a YAML/JSON file, not {type(case).__name__}")
    merged_t = kb.default_thresholds()
    merged_t.update(parsed.thresholds)
    merged_m = kb.default_mdc()
    merged_m.update(parsed.mdc)
    errors = []
    for name, value in (thresholds or {}).items():
        try:
            merged_t[name] = check_threshold(kb, name, value)
        except CaseError as err:
            errors.append(err)
    for name, value in (mdc or {}).items():
        try:
            merged_m[name] = check_mdc(kb, name, value)
        except CaseError as err:
            errors.append(err)
    if errors:
        raise CaseError.collect(errors)
    return parsed, merged_t, merged_m


def assess(
    kb: KnowledgeBase,
    case: CaseInput,
    *,
    thresholds: Mapping[str, float] | None = None,
    mdc: Mapping[str, float] | None = None,
    engine: EngineName = "compiled",
) -> Result:
    """Run ``kb`` over one case. See :meth:`KnowledgeBase.assess`."""
    runner = kb.engine(engine)
    parsed, merged_t, merged_m = prepare(kb, case, thresholds, mdc)
    firings = runner.run(parsed.findings, parsed.given, merged_t)
    return resolve(kb, parsed, merged_t, merged_m, firings)


# --------------------------------------------------------------------------
# The resolver


@record(frozen=False)
class _Candidate:
    """One justification the engine found: a branch in a context concluding ``key``."""

    key: Key
    branch: Branch | None  # None: given in the case
    context: Side
    match: Match
    states: tuple[Key, ...]  # the state premises (findings are always established)


@record(frozen=False)
class _Info:
    """What an item gets from its strongest justification."""

    status: str
    evidence: str
    assumptions: frozenset[Key]
    borderline: frozenset[Key]
    depth: int
    best: _Candidate
    kept: list[_Candidate]


class _Resolver:
    def __init__(self, kb: KBModel, case: Case, thresholds: Mapping[str, float], mdc: Mapping[str, float],
                 firings: Iterable[Firing]) -> None:
        self.kb = kb
        self.case = case
        self.thresholds = thresholds
        self.mdc = mdc
        self.rule_position = kb.position("rules")
        #: cause → its explain links to findings (shows_as looks each state up once: linear, not states × links)
        self.explains: dict[str, list[Any]] = defaultdict(list)
        for link in kb.links.values():
            if link.use == "explain" and link.effect in kb.findings:
                self.explains[link.cause].append(link)
        unique = sorted(set(firings), key=lambda f: (f[0], side_rank(f[1])))
        concluded: set[Key] = set(case.given)
        for index, context in unique:
            concluded.update(self.conclusion_keys(kb.branches[index], context))
        facts = Facts(case.findings, frozenset(concluded), thresholds)
        self.candidates: list[_Candidate] = [
            _Candidate(key, None, key[1], Match(), ()) for key in sorted(set(case.given), key=_order)
        ]
        for index, context in unique:
            branch = kb.branches[index]
            match = branch.evaluate(facts, context)
            if match is None:
                raise InferenceError(f"rule {branch.rule.id!r} was reported to fire {_where(context)} but does not hold there")
            states = tuple(k for k in match.premises if k[0] in kb.states)
            for key in self.conclusion_keys(branch, context):
                self.candidates.append(_Candidate(key, branch, context, match, states))

    def conclusion_keys(self, branch: Branch, context: Side) -> list[Key]:
        out = []
        for target in branch.rule.then:
            state = self.kb.states.get(target)
            out.append((target, context if state is None or state.sided else None))
        return out

    # -- support

    def support(self, excluded: set[Key]) -> tuple[dict[Key, _Info], dict[Key, int]]:
        """Every established item with its kept justifications and the info of the strongest."""
        stage: dict[Key, int] = {}
        waiting: dict[Key, list[int]] = defaultdict(list)
        missing: list[int] = []
        by_stage: dict[int, list[int]] = defaultdict(list)
        for i, cand in enumerate(self.candidates):
            if cand.key in excluded or any(p in excluded for p in cand.states):
                missing.append(-1)
                continue
            missing.append(len(set(cand.states)))
            if cand.branch is None:
                by_stage[0].append(i)
            elif not cand.states:
                by_stage[1].append(i)
            for premise in set(cand.states):
                waiting[premise].append(i)
        level = 0
        while level <= max(by_stage, default=-1):
            fresh = []
            for i in by_stage.pop(level, ()):
                key = self.candidates[i].key
                if key not in stage:
                    stage[key] = level
                    fresh.append(key)
            for key in fresh:
                for i in waiting.get(key, ()):
                    missing[i] -= 1
                    if missing[i] == 0:
                        by_stage[level + 1].append(i)
            level += 1
        established = [i for i, m in enumerate(missing) if m == 0 and self.candidates[i].key in stage]
        # Strongly connected components of the fired rules among established facts.
        successors: dict[Key, list[Key]] = defaultdict(list)
        for i in established:
            cand = self.candidates[i]
            for premise in cand.states:
                successors[premise].append(cand.key)
        keys = sorted(stage, key=lambda k: (stage[k], _order(k)))
        comps = list(reversed(components(keys, successors.get)))
        comp_of = {key: n for n, comp in enumerate(comps) for key in comp}
        inside: dict[int, list[_Candidate]] = defaultdict(list)
        for i in established:
            cand = self.candidates[i]
            inside[comp_of[cand.key]].append(cand)
        without: dict[Key, set[Key]] = {}
        kept: dict[Key, list[_Candidate]] = defaultdict(list)
        for i in established:
            cand = self.candidates[i]
            k = cand.key
            # a premise established at an earlier stage than k never rests on k
            own = [p for p in cand.states if comp_of[p] == comp_of[k] and stage[p] >= stage[k]]
            if own:
                if k not in without:
                    without[k] = _derivable_without(k, inside[comp_of[k]], comp_of)
                if not all(p in without[k] for p in own):
                    continue  # it would rest on its own conclusion
            kept[k].append(cand)
        info: dict[Key, _Info] = {}
        for key in sorted(stage, key=lambda k: (comp_of[k], stage[k], _order(k))):
            ready = [c for c in kept[key] if all(p in info for p in c.states)]
            info[key] = self.strongest(key, ready, kept[key], info)
        return info, stage

    def strongest(self, key: Key, ready: list[_Candidate], kept: list[_Candidate], info: Mapping[Key, _Info]) -> _Info:
        """The info of ``key``'s strongest justification among those whose premises are settled.

        Inside a cycle, justifications are compared once their premises have
        been settled (in stage order); every kept one is still listed.
        """
        best: tuple[Any, ...] | None = None
        chosen: _Info | None = None
        for cand in ready:
            status = self.status(cand, info)
            evidence = self.evidence(cand, info)
            assumptions = frozenset(cand.match.assumptions).union(*(info[p].assumptions for p in cand.states))
            borderline = frozenset(
                (r.finding, r.side) for r in cand.match.readings if self.is_borderline(r.finding, r.margin)
            ).union(*(info[p].borderline for p in cand.states))
            depth = 0 if cand.branch is None else 1 + max((info[p].depth for p in cand.states), default=0)
            position = -1 if cand.branch is None else self.rule_position[cand.branch.rule.id]
            rank = (status_rank(status), EVIDENCE_RANK[evidence], -len(assumptions), -position)
            if best is None or rank > best:
                best = rank
                chosen = _Info(status, evidence, assumptions, borderline, depth, cand, kept)
        assert chosen is not None, f"{key_str(key)} is established without a justification"
        return chosen

    def status(self, cand: _Candidate, info: Mapping[Key, _Info]) -> str:
        if cand.branch is None:
            return "given"
        if cand.key[0] in self.kb.states:
            return self.kb.branch_status[(cand.branch.index, cand.key[0])]
        if cand.states:
            return min((info[p].status for p in cand.states), key=status_rank)
        return "measured" if cand.match.readings else "given"

    def evidence(self, cand: _Candidate, info: Mapping[Key, _Info]) -> str:
        if cand.branch is None:
            return "assessor"
        evidence = cand.branch.rule.evidence
        for premise in cand.states:
            evidence = weaker_evidence(evidence, info[premise].evidence)
        return evidence

    def is_borderline(self, finding: str, margin: float) -> bool:
        return _borderline(margin, self.mdc.get(finding))

    # -- opposites

    def resolve(self) -> tuple[dict[Key, _Info], list[tuple[Side, Key | None, list[Key], str]], set[Key]]:
        """Settle opposite states, the most upstream conflict first, then look again.

        Conflicts that rest on none of each other's states cannot change each
        other's outcome, so they are settled together in one pass (what one
        at a time would give, with one support computation instead of many).
        """
        excluded: set[Key] = set()
        settled: list[tuple[Side, Key | None, list[Key], str]] = []
        while True:
            info, stage = self.support(excluded)
            conflicts = self.conflicts(info, stage)
            if not conflicts:
                return info, settled, excluded
            for a, b in self.independent(conflicts, info):
                kept, dropped, reason = self.settle(info[a], a, info[b], b)
                excluded.update(dropped)
                settled.append((a[1], kept, dropped, reason))

    @staticmethod
    def independent(conflicts: list[tuple[Key, Key]], info: Mapping[Key, _Info]) -> list[tuple[Key, Key]]:
        """The first conflict, and every other that rests on no state of another conflict nor they on it."""
        def ancestors(keys: Iterable[Key]) -> set[Key]:
            seen: set[Key] = set()
            todo = list(keys)
            while todo:
                for cand in info[todo.pop()].kept:
                    for premise in cand.states:
                        if premise not in seen:
                            seen.add(premise)
                            todo.append(premise)
            return seen

        states = [set(pair) for pair in conflicts]
        above = [ancestors(pair) for pair in conflicts]
        chosen = [conflicts[0]]
        for i in range(1, len(conflicts)):
            others = set().union(*(s for j, s in enumerate(states) if j != i))
            if not (above[i] & others) and not any(states[i] & above[j] for j in range(len(conflicts)) if j != i):
                chosen.append(conflicts[i])
        return chosen

    def conflicts(self, info: Mapping[Key, _Info], stage: Mapping[Key, int]) -> list[tuple[Key, Key]]:
        """Every pair of opposite states that both stand, the most upstream first."""
        found = []
        for key in info:
            state = self.kb.states.get(key[0])
            if state is None or not state.opposite or state.opposite < state.id:
                continue
            other = (state.opposite, key[1])
            if other in info:
                # the most upstream conflict first: the one whose later state was established earliest
                found.append((max(stage[key], stage[other]), min(stage[key], stage[other]),
                              self.kb.position("states")[key[0]], side_rank(key[1]), key, other))
        return [(a, b) for *_, a, b in sorted(found)]

    def settle(self, ia: _Info, a: Key, ib: _Info, b: Key) -> tuple[Key | None, list[Key], str]:
        ra, rb = status_rank(ia.status), status_rank(ib.status)
        if ra != rb:
            win, lose, wi, li = (a, b, ia, ib) if ra > rb else (b, a, ib, ia)
            return win, [lose], f"{wi.status} outweighs {li.status}"
        if ia.depth != ib.depth:
            win, lose = (a, b) if ia.depth < ib.depth else (b, a)
            return win, [lose], f"both are {ia.status}; {win[0]} is nearer a measurement"
        return None, [a, b], f"both are {ia.status} and equally near a measurement: neither can be preferred"

    # -- building the result

    def build(self) -> Result:
        kb = self.kb
        first, _ = self.support(set())
        info, settled, excluded = self.resolve()
        conclusions: list[Conclusion] = []
        recommendations: list[RecommendationResult] = []
        for key, item in info.items():
            if key[0] in kb.states:
                conclusions.append(self.conclusion(key, item, info))
        exercise_rank = self.exercise_order(info)
        for key, item in info.items():
            if key[0] in kb.recommendations:
                recommendations.append(self.recommendation(key, item, info, exercise_rank.get(key)))
        state_pos, rec_pos = kb.position("states"), kb.position("recommendations")
        kind_rank = {k: i for i, k in enumerate(RECOMMENDATION_KINDS)}
        conclusions.sort(key=lambda c: (state_pos[c.id], side_rank(c.side)))
        recommendations.sort(key=lambda r: (kind_rank[r.kind], kb.recommendations[r.id].order or 0, rec_pos[r.id], side_rank(r.side)))
        gone = [k for k in first if k not in info]
        withdrawn = {k: tuple(self.justification(c, first) for c in first[k].kept) for k in gone}
        # what went, by each premise it rested on: one index for every disagreement (linear, not one scan each)
        resting_on: dict[Key, list[Key]] = defaultdict(list)
        for key in gone:
            for premise in dict.fromkeys(p for c in first[key].kept for p in c.states):
                resting_on[premise].append(key)
        disagreements = [self.disagreement(s, first, info, gone, resting_on) for s in settled]
        disagreements.sort(key=lambda d: (side_rank(d.side), [state_pos[c.id] for c in d.dropped]))
        return Result(kb, self.case, self.thresholds, self.mdc, tuple(conclusions), tuple(recommendations),
                      tuple(disagreements), withdrawn)

    def justification(self, cand: _Candidate, info: Mapping[Key, _Info]) -> Justification:
        if cand.branch is None:
            return Justification(None, "given", "assessor")
        m = cand.match
        return Justification(
            cand.branch.rule.id, self.status(cand, info), self.evidence(cand, info),
            tuple(sorted(set(m.premises), key=_order)), tuple(sorted(set(m.recorded_false), key=_order)),
            tuple(sorted(set(m.not_recorded), key=_order)), tuple(sorted(set(m.assumptions), key=_order)),
            tuple(self.measurement(r) for r in m.readings), cand.branch.rule.source,
        )

    def justifications(self, item: _Info, info: Mapping[Key, _Info]) -> tuple[Justification, ...]:
        def strength(cand: _Candidate) -> tuple[Any, ...]:
            position = -1 if cand.branch is None else self.rule_position[cand.branch.rule.id]
            return (-status_rank(self.status(cand, info)), -EVIDENCE_RANK[self.evidence(cand, info)], position,
                    side_rank(cand.context))

        ordered = [item.best] + sorted((c for c in item.kept if c is not item.best), key=strength)
        return tuple(self.justification(c, info) for c in ordered)

    def measurement(self, reading: Any) -> Measurement:
        mdc = self.mdc.get(reading.finding)
        return Measurement(reading.finding, reading.side, reading.value, reading.threshold, round(reading.margin, 6), mdc,
                           _borderline(reading.margin, mdc), reading.threshold_id)

    def conclusion(self, key: Key, item: _Info, info: Mapping[Key, _Info]) -> Conclusion:
        state = self.kb.states[key[0]]
        readings = item.best.match.readings
        measured = readings and item.status in ("measured", "indicated")
        return Conclusion(
            key[0], key[1], state.label, item.status, item.evidence, _sorted(item.assumptions),
            self.justifications(item, info), self.measurement(readings[0]) if measured else None,
            _sorted(item.borderline), self.shows_as(key),
        )

    def shows_as(self, key: Key) -> tuple[Key, ...]:
        out = []
        for link in self.explains.get(key[0], ()):
            finding = self.kb.findings[link.effect]
            where = (link.effect, key[1] if finding.sided else None)
            if self.case.findings.get(where) is True:
                out.append(where)
        return tuple(out)

    def exercise_order(self, info: Mapping[Key, _Info]) -> dict[Key, int]:
        per_side: dict[Side, list[Key]] = defaultdict(list)
        for key in info:
            rec = self.kb.recommendations.get(key[0])
            if rec is not None and rec.kind == "exercise":
                per_side[key[1]].append(key)
        out = {}
        for keys in per_side.values():
            keys.sort(key=lambda k: (self.kb.recommendations[k[0]].order or 0, self.kb.position("recommendations")[k[0]]))
            out.update({k: i + 1 for i, k in enumerate(keys)})
        return out

    def recommendation(self, key: Key, item: _Info, info: Mapping[Key, _Info], order: int | None) -> RecommendationResult:
        rec = self.kb.recommendations[key[0]]
        addressed = []
        for address in rec.addresses:
            sided = self.kb.is_sided(address.target)
            where = (address.target, key[1] if sided else None)
            if where in info or self.case.findings.get(where) is True:
                if where not in addressed:
                    addressed.append(where)
        return RecommendationResult(
            rec.id, key[1], rec.kind, order, rec.label, rec.summary, item.status, item.evidence,
            _sorted(item.assumptions), self.justifications(item, info), _sorted(item.borderline), tuple(addressed),
        )

    def disagreement(self, settled: tuple[Side, Key | None, list[Key], str], first: Mapping[Key, _Info],
                     final: Mapping[Key, _Info], gone: Sequence[Key], resting_on: Mapping[Key, Sequence[Key]]) -> Disagreement:
        side, kept, dropped, reason = settled
        keep = None
        if kept is not None:
            source = final if kept in final else first
            keep = self.conclusion(kept, source[kept], source)
        lost = tuple(self.conclusion(k, first[k], first) for k in dropped)
        # what rested on a dropped state in the first support and is gone now: everything that went
        # downstream of it (``resting_on``: what went, by premise), found without recursion
        reach: set[Key] = set(dropped)
        todo = list(dropped)
        while todo:
            for key in resting_on.get(todo.pop(), ()):
                if key not in reach:
                    reach.add(key)
                    todo.append(key)
        withdrawn = tuple(k for k in gone if k in reach and k not in dropped)
        return Disagreement(side, keep, lost, tuple(sorted(withdrawn, key=self.item_order)), reason)

    def item_order(self, key: Key) -> tuple[int, int, int]:
        if key[0] in self.kb.states:
            return (0, self.kb.position("states")[key[0]], side_rank(key[1]))
        return (1, self.kb.position("recommendations")[key[0]], side_rank(key[1]))


def resolve(kb: KBModel, case: Case, thresholds: Mapping[str, float], mdc: Mapping[str, float],
            firings: Iterable[Firing]) -> Result:
    """Turn an engine's firings into a :class:`~hipkb.result.Result`."""
    return _Resolver(kb, case, thresholds, mdc, firings).build()


def _borderline(margin: float, mdc: float | None) -> bool:
    """|margin| < mdc, strictly, in decimal terms (20.8 − 25 is 4.2 from the threshold, not 4.1999…)."""
    return mdc is not None and abs(round(margin, 6)) < mdc


def _derivable_without(banned: Key, candidates: Sequence[_Candidate], comp_of: Mapping[Key, int]) -> set[Key]:
    """The facts of ``banned``'s component that can be established without it.

    Premises outside the component are established already (they lie
    upstream of it); inside, a candidate needs every premise derived first.
    Linear in the component's candidates; only cycles pay for it.
    """
    home = comp_of[banned]
    waiting: dict[Key, list[int]] = defaultdict(list)
    missing = []
    ready = []
    for i, cand in enumerate(candidates):
        own = {p for p in cand.states if comp_of[p] == home}
        missing.append(len(own))
        for p in own:
            waiting[p].append(i)
        if not own:
            ready.append(i)
    derived: set[Key] = set()
    while ready:
        cand = candidates[ready.pop()]
        if cand.key == banned or cand.key in derived:
            continue
        derived.add(cand.key)
        for j in waiting.get(cand.key, ()):
            missing[j] -= 1
            if missing[j] == 0:
                ready.append(j)
    return derived


def _order(key: Key) -> tuple[str, int]:
    return (key[0], side_rank(key[1]))


def _sorted(keys: Iterable[Key]) -> tuple[Key, ...]:
    return tuple(sorted(keys, key=_order))


def _where(context: Side) -> str:
    return "with no side" if context is None else f"on the {context}"
