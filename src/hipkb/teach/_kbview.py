"""What the quiz generators read from the KB model: reachability, closures, example cases.

Everything here reads the loaded :class:`~hipkb.model.KBModel`; conditions
are evaluated with their own methods (:meth:`Branch.evaluate`,
:meth:`Condition.sides`), never re-read from YAML. A *closure* is every
state and recommendation the branches reach from a set of findings and
given states (the forward chaining the engines do, without the resolver's
statuses and disagreements); the generators use it to build the small
example case a question implies and to know what cannot hold there.

>>> from hipkb.kb import load_model
>>> view = KBView(load_model())
>>> view.reading_value("supine_hip_ir", "below", "supine_hip_ir")
12.0
>>> case = view.witness_state("ir_limited", "left")
>>> dict(case.findings)
{('supine_hip_ir', 'left'): 12.0}
>>> ("posterior_capsule_closed", "left") in view.closure(case)
True
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Iterable, Mapping

from ..model import Branch, Facts, KBModel, Key, Side
from ..record import field, record

__all__ = ["Example", "KBView", "POLARITY_WORDS"]

#: How far from its threshold an example reading sits (degrees), at least.
_DISTANCE = 10.0
#: How deep the example-case builder follows state premises.
_DEPTH = 4

POLARITY_WORDS = {"+": "observed", "-": "not observed", "below": "below", "at_least": "at or above"}
_FLIP = {"+": "-", "-": "+", "below": "at_least", "at_least": "below"}


@record
class Example:
    """A small case: findings (key → value) and states the assessor gives."""

    findings: Mapping[Key, float | bool] = field(default_factory=dict)
    given: frozenset[Key] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "findings", MappingProxyType(dict(self.findings)))

    def merge(self, other: Example) -> Example | None:
        """Both cases in one, or None when they record one finding differently."""
        findings = dict(self.findings)
        for key, value in other.findings.items():
            if key in findings and findings[key] != value:
                return None
            findings[key] = value
        return Example(findings, self.given | other.given)

    def with_finding(self, key: Key, value: float | bool) -> Example:
        return Example({**self.findings, key: value}, self.given)

    def items(self) -> tuple[tuple[str, Side, float | bool], ...]:
        """(id, side, value) of every entry, findings then given states."""
        out = [(k[0], k[1], v) for k, v in self.findings.items()]
        out += [(k[0], k[1], True) for k in sorted(self.given, key=lambda k: (k[0], str(k[1])))]
        return tuple(out)


class KBView:
    """Derived, read-only views of one KB for the question generators (build one per quiz)."""

    def __init__(self, kb: KBModel) -> None:
        self.kb = kb
        self.thresholds = kb.default_thresholds()
        self.article = next((s.id for s in kb.sources.values() if s.kind == "article"), None)
        states = kb.states
        forward: dict[str, set[str]] = {s: set() for s in states}
        for branch in kb.branches:
            premises = {k[0] for ctx in branch.contexts for k in branch.state_keys(ctx)}
            for target in branch.rule.then:
                if target in states:
                    for premise in premises:
                        forward.setdefault(premise, set()).add(target)
        for link in kb.links.values():
            if link.cause in states and link.effect in states:
                forward[link.cause].add(link.effect)
        backward: dict[str, set[str]] = {s: set() for s in states}
        for cause, effects in forward.items():
            for effect in effects:
                backward.setdefault(effect, set()).add(cause)
        self._forward = forward
        self._backward = backward
        self._producers: dict[str, tuple[Branch, ...]] = {}
        for branch in kb.branches:
            if branch.rule.origin == "call":
                continue
            for target in branch.rule.then:
                self._producers[target] = self._producers.get(target, ()) + (branch,)
        self._runs = tuple((branch, branch.contexts) for branch in kb.branches)
        self._closures: dict[tuple[tuple[Key, float | bool], ...], Mapping[Key, tuple[int, ...]]] = {}

    # -- the graph of states

    def descendants(self, state: str) -> set[str]:
        """States reachable from ``state`` through rules and links (not itself unless on a cycle)."""
        return _reach(state, self._forward)

    def ancestors(self, state: str) -> set[str]:
        """States from which ``state`` is reachable through rules and links."""
        return _reach(state, self._backward)

    def producers(self, item: str) -> tuple[Branch, ...]:
        """The branches of rules and concluding links that conclude ``item`` (calls excluded)."""
        return self._producers.get(item, ())

    def linked_states(self) -> set[str]:
        """States that are the cause or effect of a link between states."""
        out: set[str] = set()
        for link in self.kb.links.values():
            if link.cause in self.kb.states and link.effect in self.kb.states:
                out |= {link.cause, link.effect}
        return out

    # -- closures

    def closure(self, case: Example) -> Mapping[Key, tuple[int, ...]]:
        """Every (item, side) the branches reach from ``case``, with the indices of the branches that reach it."""
        cache_key = tuple(sorted(((k, v) for k, v in case.findings.items()), key=lambda kv: (kv[0][0], str(kv[0][1]))))
        cache_key += tuple(((k, True) for k in sorted(case.given, key=lambda k: (k[0], str(k[1])))))
        if cache_key in self._closures:
            return self._closures[cache_key]
        held: dict[Key, list[int]] = {k: [] for k in case.given}
        while True:
            facts = Facts(case.findings, frozenset(held), self.thresholds)
            new = False
            for branch, contexts in self._runs:
                for context in contexts:
                    if branch.evaluate(facts, context) is None:
                        continue
                    for target in branch.rule.then:
                        key = (target, context)
                        if key not in held:
                            held[key] = []
                            new = True
                        if branch.index not in held[key]:
                            held[key].append(branch.index)
            if not new:
                break
        out = MappingProxyType({k: tuple(v) for k, v in held.items()})
        self._closures[cache_key] = out
        return out

    def conflicted(self, closure: Mapping[Key, object]) -> bool:
        """True when two opposite states are both reached on one side (the engine would drop one)."""
        for item, side in closure:
            state = self.kb.states.get(item)
            if state is not None and state.opposite and (state.opposite, side) in closure:
                return True
        return False

    def holds_anywhere(self, closure: Mapping[Key, object], item: str) -> bool:
        return any((item, side) in closure for side in ("left", "right", None))

    # -- example cases

    def reading_value(self, finding: str, compare: str, threshold: str) -> float | None:
        """A reading clearly on the ``compare`` side of ``threshold`` (beyond its MDC), or None."""
        limit = self.thresholds.get(threshold)
        if limit is None or finding not in self.kb.findings:
            return None
        item = self.kb.thresholds.get(threshold)
        mdc = item.mdc if item is not None and item.mdc is not None else 0.0
        distance = max(_DISTANCE, math.ceil(2 * mdc))
        value = limit - distance if compare == "below" else limit + distance
        low, high = self.kb.findings[finding].range or (value, value)
        value = min(max(value, low), high)
        ok = value < limit if compare == "below" else value >= limit
        return float(value) if ok else None

    def neutral_value(self, finding: str) -> float | bool | None:
        """A value that records ``finding`` without it counting against a threshold (degrees: at or above one)."""
        item = self.kb.findings.get(finding)
        if item is None:
            return None
        if item.type != "degrees":
            return False
        for branch in self.kb.branches:
            for cond in branch.conditions:
                if cond.ref == finding and cond.kind == "finding" and cond.compare and cond.threshold:
                    return self.reading_value(finding, "at_least", cond.threshold)
        low, high = item.range or (0.0, 0.0)
        return float((low + high) / 2)

    def witness_state(self, state: str, side: Side, *, depth: int = 0, allow_given: bool = False) -> Example | None:
        """A small case in which ``state`` holds on ``side``, derived from findings when the KB allows.

        With ``allow_given``, a state no rule can derive is given by the assessor instead.
        """
        if depth < _DEPTH:
            for branch in self.producers(state):
                if side not in branch.contexts:
                    continue
                case = self.witness_branch(branch, side, depth=depth + 1)
                if case is not None and (state, side) in self.closure(case):
                    return case
        if allow_given and state in self.kb.states:
            return Example({}, frozenset({(state, side)}))
        return None

    def witness_branch(self, branch: Branch, side: Side, *, depth: int = 0) -> Example | None:
        """A small case in which every condition of ``branch`` holds in context ``side``, or None."""
        case: Example | None = Example()
        for cond in branch.conditions:
            if case is None:
                return None
            if cond.kind in ("not", "absent", "unassessed"):
                continue  # met by leaving things unrecorded; checked below
            sides = cond.sides(side)
            if sides is None:
                return None
            ref = cond.ref or ""
            for where in sides:
                if case is None:
                    return None
                if cond.kind == "state":
                    sub = self.witness_state(ref, where, depth=depth, allow_given=True)
                    case = None if sub is None else case.merge(sub)
                elif cond.kind == "finding":
                    value: float | bool | None = True
                    if cond.compare is not None:
                        value = self.reading_value(ref, cond.compare, cond.threshold or "")
                    case = None if value is None else case.merge(Example({(ref, where): value}))
                elif cond.kind == "recorded":
                    value = self.neutral_value(ref)
                    case = None if value is None else case.merge(Example({(ref, where): value}))
                else:  # lower_side and anything newer: no example
                    return None
        if case is None:
            return None
        facts = Facts(case.findings, frozenset(self.closure(case)), self.thresholds)
        return case if branch.evaluate(facts, side) is not None else None

    # -- what a finding's outcome says about a state

    def signature(self, state: str) -> dict[str, set[tuple[str, str]]]:
        """For each finding the producers of ``state`` (or of its opposite) read: (polarity, for/against).

        Polarity: ``+`` observed, ``-`` not observed, ``below`` / ``at_least``
        its threshold. Read from the rule conditions that conclude the state
        directly (not through other states).
        """
        out: dict[str, set[tuple[str, str]]] = {}
        item = self.kb.states.get(state)
        groups: list[tuple[str, str]] = [(state, "for")]
        if item is not None and item.opposite:
            groups.append((item.opposite, "against"))
        for target, stance in groups:
            for branch in self.producers(target):
                for cond in branch.conditions:
                    polarity = _polarity(cond.kind, cond.compare)
                    if polarity is not None and cond.ref:
                        out.setdefault(cond.ref, set()).add((polarity, stance))
        return out

    @staticmethod
    def leaning(signature: Mapping[str, set[tuple[str, str]]], finding: str) -> frozenset[str]:
        """The outcomes of ``finding`` that count *for* the state (against-outcomes flipped)."""
        return frozenset(p if stance == "for" else _FLIP[p] for p, stance in signature.get(finding, ()))


def _polarity(kind: str, compare: str | None) -> str | None:
    if kind == "finding":
        return "+" if compare is None else compare
    if kind == "not":
        return "-"
    return None


def _reach(start: str, edges: Mapping[str, Iterable[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(edges.get(start, ()))
    while todo:
        item = todo.pop()
        if item in seen:
            continue
        seen.add(item)
        todo.extend(edges.get(item, ()))
    return seen
