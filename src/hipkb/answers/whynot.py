"""Why does an item not hold on a side, and what would make it hold?

For each rule that could conclude the item there, the first condition
that failed (:meth:`hipkb.model.Branch.first_failure`, the one home of
condition semantics), read against the facts the engine established.
When a rule did fire but the item is not in the result, the reason: its
opposite outweighed it, it rested on something that was dropped, or it
was only ever reached through itself.

``would_hold_if``: the smallest sets of changes to the entered findings
that make the item hold on that side, found by searching the rules'
conditions (a state that does not hold is searched the same way, through
the rules that could conclude it), then **verified** by assessing the case
again with each set applied (a value just below a threshold is the
threshold − 1, or the lowest valid value when that is lower; "at least"
is the threshold itself): only sets after which the item really holds are
kept. Each set is minimal (no kept set contains another), sorted by size,
then content. When no change of findings suffices, ``cannot`` says what it
cannot hold while (a finding that is recorded where the rule needs none,
a state only an assessor can state, an opposite that outweighs it).

>>> import hipkb
>>> answer = why_not(hipkb.assess("examples/demo-01.yaml"), ("ir_limited", "right"))
>>> [[c.to_dict() for c in alt] for alt in answer.would_hold_if]
[[{'finding': 'supine_hip_ir', 'side': 'right', 'op': 'below', 'value': 25}]]
>>> answer.checks[0].failure.reason
'not below'
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Iterable

from ..errors import ExplainError
from ..graphs import components
from ..model import SIDES, Branch, Condition, Facts, Failure, KBModel, Key, Side, other_side, status_rank
from ..record import record
from ..result import Conclusion, Disagreement, Result, side_rank
from ..sanitize import clean
from . import words
from .words import Line

if TYPE_CHECKING:
    from ..infer import KnowledgeBase

__all__ = ["OPS", "Change", "RuleCheck", "WhyNotAnswer", "why_not", "would_hold_if", "weighing", "engine_facts"]

#: What a change does to a finding: a reading below / at least a value, a boolean observed / recorded false.
OPS: tuple[str, ...] = ("below", "at_least", "observed", "recorded_false")
#: Most alternatives searched per state, and most changes in one alternative.
MAX_ALTERNATIVES = 32
MAX_CHANGES = 4
#: Most alternatives verified by reassessing the case.
MAX_VERIFIED = 24

Alternative = frozenset["Change"]


@record(order=True)
class Change:
    """One change to an entered finding: ``op`` is below, at_least, observed or recorded_false.

    For ``below`` and ``at_least`` ``value`` is the bound (the threshold);
    for the booleans it is None.
    """

    finding: str
    side: Side
    op: str
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        return {"finding": self.finding, "side": self.side, "op": self.op,
                "value": int(value) if isinstance(value, float) and value.is_integer() else value}

    def concrete(self, kb: KBModel) -> float | bool | None:
        """The value entered to verify the change (None when no valid value does it)."""
        if self.op == "observed":
            return True
        if self.op == "recorded_false":
            return False
        assert self.value is not None
        finding = kb.findings[self.finding]
        low, high = finding.range or (float("-inf"), float("inf"))
        if self.op == "below":
            value = self.value - 1
            if value < low:
                value = low
            return value if value < self.value and value <= high else None
        return self.value if low <= self.value <= high else None

    def text(self, kb: KBModel) -> str:
        label = words.name(kb, self.finding)
        where = f" {words.on_side(self.side)}" if self.side is not None else ""
        if self.op == "below":
            return f"{label} were below {words.deg(self.value or 0)}{where}"
        if self.op == "at_least":
            return f"{label} were {words.deg(self.value or 0)} or more{where}"
        if self.op == "observed":
            return f"{label} were observed{where}"
        return f"{label} were recorded as not observed{where}"

    def sort_key(self, kb: KBModel) -> tuple[Any, ...]:
        return (kb.position("findings").get(self.finding, 0), side_rank(self.side), OPS.index(self.op), self.value or 0.0)


@record
class RuleCheck:
    """One rule (one option of its ``any``) that could conclude the item, in one context."""

    rule: str
    label: str
    option: int
    context: Side
    branch: int  # the branch's index in the KB (engines report firings as (branch, context))
    fired: bool
    failure: Failure | None
    text: str | None  # the failure in words

    def to_dict(self) -> dict[str, Any]:
        failure = None
        if self.failure is not None:
            f = self.failure
            failure = {
                "condition": f.condition.describe(),
                "id": None if f.key is None else f.key[0],
                "side": None if f.key is None else f.key[1],
                "reason": f.reason,
                "value": f.value,
                "threshold": f.threshold,
                "text": self.text,
            }
        return {"rule": self.rule, "label": self.label, "option": self.option, "branch": self.branch,
                "fired": self.fired, "failure": failure}


@record
class WhyNotAnswer:
    """Why an item does not hold on one side (or that it does), and what would make it hold."""

    side: str | None
    holds: bool
    checks: tuple[RuleCheck, ...]
    concluded: bool  # the engine concluded it (it may still have been dropped)
    withdrawn: str | None
    would_hold_if: tuple[tuple[Change, ...], ...]
    cannot: tuple[str, ...]
    lines: tuple[Line, ...]

    @property
    def blocked(self) -> bool:
        """True when no rule concluded the item here (a blocker stands in every rule's way)."""
        return not self.concluded

    def to_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "holds": self.holds,
            "blocked": self.blocked,
            "rules": [c.to_dict() for c in self.checks],
            "withdrawn": self.withdrawn,
            "would_hold_if": [[c.to_dict() for c in alt] for alt in self.would_hold_if],
            "cannot": list(self.cannot),
        }


# --------------------------------------------------------------------------
# What the engine established


def _knowledge_base(kb: KBModel) -> KnowledgeBase:
    from ..infer import KnowledgeBase

    return kb if isinstance(kb, KnowledgeBase) else KnowledgeBase.from_model(kb)


def engine_facts(result: Result) -> tuple[Facts, frozenset[tuple[int, Side]]]:
    """The facts the engine established for the result's case (before opposites are settled) and its firings."""
    kb = _knowledge_base(result.kb)
    case = result.case
    firings = frozenset(kb.engine("compiled").run(case.findings, case.given, result.thresholds))
    states: set[Key] = set(case.given)
    for index, context in firings:
        for target in kb.branches[index].rule.then:
            state = kb.states.get(target)
            if state is not None:
                states.add((target, context if state.sided else None))
    return Facts(case.findings, frozenset(states), dict(result.thresholds)), firings


def _producers(kb: KBModel) -> dict[str, list[Branch]]:
    out: dict[str, list[Branch]] = {}
    for branch in kb.branches:
        for target in branch.rule.then:
            out.setdefault(target, []).append(branch)
    return out


def _contexts(kb: KBModel, branch: Branch, key: Key) -> list[Side]:
    """The contexts in which ``branch`` concludes ``key``."""
    item, side = key
    state = kb.states.get(item)
    if state is not None and not state.sided:
        return list(branch.contexts) if side is None else []
    return [side] if side in branch.contexts else []


# --------------------------------------------------------------------------
# The answer


def why_not(result: Result, key: Key) -> WhyNotAnswer:
    """Why ``key`` (a state or recommendation, with its side) does not hold; what would make it hold."""
    kb = result.kb
    item, side = key
    if item not in kb.states and item not in kb.recommendations:
        raise ExplainError(f"{item!r} is a finding: it is entered in the case, not concluded")
    holds = result.item(item, side) is not None
    facts, firings = engine_facts(result)
    producers = _producers(kb)
    checks = []
    for branch in producers.get(item, ()):
        for context in _contexts(kb, branch, key):
            fired = (branch.index, context) in firings
            failure = branch.first_failure(facts, context)
            text = None if failure is None else failure_text(result, facts, failure)
            checks.append(RuleCheck(branch.rule.id, clean(branch.rule.label), branch.option, context, branch.index,
                                    fired, failure, text))
    given = key in result.case.given
    concluded = given or any(c.fired for c in checks)
    withdrawn = None if holds or not concluded else _withdrawal(result, key)
    alternatives: tuple[tuple[Change, ...], ...] = ()
    cannot: tuple[str, ...] = ()
    if not holds:
        alternatives, cannot = would_hold_if(result, key, facts=facts)
    lines = _lines(result, key, holds, checks, withdrawn, alternatives, cannot)
    return WhyNotAnswer(side, holds, tuple(checks), concluded, withdrawn, alternatives, cannot, tuple(lines))


def _lines(result: Result, key: Key, holds: bool, checks: list[RuleCheck], withdrawn: str | None,
           alternatives: tuple[tuple[Change, ...], ...], cannot: tuple[str, ...]) -> list[Line]:
    kb = result.kb
    where = words.on_side(key[1])
    out: list[Line] = []
    if holds:
        item = result.item(key[0], key[1])
        assert item is not None
        out.append(Line(0, f"It holds {where} ({item.status}, {item.evidence}): nothing stands in its way."))
        return out
    if withdrawn is not None:
        out.append(Line(0, f"It was concluded {where}, but it does not stand: {withdrawn}."))
    elif not checks:
        out.append(Line(0, f"It does not hold {where}: no rule concludes it there; only an assessor can state it."))
    else:
        out.append(Line(0, f"It does not hold {where}. What stands in the way of each rule that could conclude it:"))
        grouped: dict[str, list[RuleCheck]] = {}
        for check in checks:
            grouped.setdefault(check.rule, []).append(check)
        for rule_checks in grouped.values():
            check = rule_checks[0]
            texts = _failure_lines(result, rule_checks)
            mark = "✓" if not texts else "✗"
            out.append(Line(1, f"{mark} {check.label}" + ("" if texts else " (it applied)")))
            rule = kb.rule_index.get(check.rule)
            out += words.source_lines(kb, None if rule is None else rule.source, 3, rule=check.rule,
                                      evidence=None if rule is None else rule.evidence)
            out += [Line(3, text) for text in texts]
    if alternatives:
        out.append(Line(0, "It would hold if (each line is one way; checked by assessing the case again):"))
        for alt in alternatives:
            out.append(Line(1, " and ".join(c.text(kb) for c in alt)))
    elif cannot:
        out.append(Line(0, "No change to the entered findings makes it hold " + where + "; it cannot hold while:"))
        out += [Line(1, reason) for reason in cannot]
    return out


def _failure_lines(result: Result, checks: list[RuleCheck]) -> list[str]:
    """The failures of one rule's options, each once; unobserved booleans of an ``any`` on one line."""
    kb = result.kb
    texts: list[str] = []
    unobserved: dict[tuple[str, str | None], list[str]] = {}  # (reason, side)
    for check in checks:
        f = check.failure
        if f is None or check.text is None:
            continue
        if (len(checks) > 1 and f.key is not None and f.condition.kind == "finding" and f.condition.compare is None
                and f.reason in ("not recorded", "recorded false")):
            group = unobserved.setdefault((f.reason, f.key[1]), [])
            if not group:
                texts.append(f"\0{f.reason}\0{f.key[1]}")
            name = words.name(kb, f.key[0])
            if name not in group:
                group.append(name)
        elif check.text not in texts:
            texts.append(check.text)
    out = []
    for text in texts:
        if not text.startswith("\0"):
            out.append(text)
            continue
        _, reason, side_text = text.split("\0")
        side = None if side_text == "None" else side_text
        names = unobserved[(reason, side)]
        where = f" {words.on_side(side)}" if side is not None else ""
        if len(names) == 1:
            out.append(f"{words.NO_EVIDENCE if reason == 'not recorded' else words.NOT_THE_CASE} {names[0]}{where}"
                       + (": not recorded" if reason == "not recorded" else ": recorded"))
        elif reason == "not recorded":
            out.append(f"{words.NO_EVIDENCE} any of these was seen{where} (not recorded): " + "; ".join(names))
        else:
            out.append(f"{words.NOT_THE_CASE} any of these was seen{where} (recorded): " + "; ".join(names))
    return out


def failure_text(result: Result, facts: Facts, failure: Failure) -> str:
    """A failed condition in plain words (s(CASP)'s connectives for what is missing or false)."""
    kb = result.kb
    cond, key, reason = failure.condition, failure.key, failure.reason
    if key is None:
        return "it cannot apply here: it reads a side this context does not have"
    label = words.name(kb, key[0])
    where = f" {words.on_side(key[1])}" if key[1] is not None else ""
    if reason == "not recorded":
        if cond.kind == "finding" and cond.compare is None:
            return f"{words.NO_EVIDENCE} {words.thing(kb, key)}: not recorded"
        return f"{label} was not recorded{where}"
    if reason == "recorded false":
        return f"{words.NOT_THE_CASE} {words.thing(kb, key)}: recorded"
    if reason == "observed":
        return f"{label} was observed{where}"
    if reason == "recorded":
        shown = _value(failure.value)
        if cond.kind == "unassessed":
            return f"{label} is already recorded{where} ({shown}): {words.name(kb, cond.ref or '')} has been done there"
        return f"{label} is recorded{where} ({shown})"
    if reason == "not below":
        return f"{label} is {words.deg(failure.value)}{where}, not below the {words.deg(failure.threshold)} threshold"  # type: ignore[arg-type]
    if reason == "not at least":
        return f"{label} is {words.deg(failure.value)}{where}, below the {words.deg(failure.threshold)} threshold"  # type: ignore[arg-type]
    if reason == "not more than":
        diff = float(failure.value)  # type: ignore[arg-type]
        if diff <= 0:
            return f"{label}{where} is not lower than on the other side"
        return f"{label}{where} is {words.deg(diff)} lower than on the other side, not more than {words.deg(failure.threshold)}"  # type: ignore[arg-type]
    if reason == "does not hold":
        state = kb.states.get(key[0])
        if state is not None and state.opposite:
            opposite = result.item(state.opposite, key[1]) if state.opposite in kb.states else None
            if isinstance(opposite, Conclusion):
                return f"{words.NOT_THE_CASE} {words.thing(kb, key)}: {words.thing(kb, opposite.key)} holds ({opposite.status})"
        return f"{words.NO_EVIDENCE} {words.thing(kb, key)}"
    return clean(f"{cond.describe()}: {reason}")


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "observed" if value else "recorded as not observed"
    if isinstance(value, (int, float)):
        return words.deg(value)
    return str(value)


# --------------------------------------------------------------------------
# Dropped and withdrawn


def weighing(result: Result, d: Disagreement, key: Key) -> str:
    """Why a state was dropped in a disagreement, in words.

    e.g. "hip internal rotation within range was measured (35°), which
    outweighs the pelvic chain's prediction of hip internal rotation limited".
    """
    kb = result.kb
    lost = next((c for c in d.dropped if c.key == key), d.dropped[0])
    if d.kept is None:
        names = " and ".join(words.thing(kb, c.key) for c in d.dropped)
        return f"{names} are both {lost.status} and equally near a measurement: neither can be preferred, so both went"
    kept = d.kept
    reading = f" ({words.deg(kept.measurement.value)})" if kept.measurement is not None else ""
    said = f"{words.name(kb, kept.id)} was {kept.status}{reading}"
    origin = _origin(result, lost)
    if status_rank(kept.status) == status_rank(lost.status):
        return f"{said} and is nearer a measurement than {words.name(kb, lost.id)} ({lost.status}, from {origin})"
    if lost.status == "predicted":
        what = "the pelvic chain's prediction" if origin == "the pelvic chain" else f"the prediction from {origin}"
        return f"{said}, which outweighs {what} of {words.name(kb, lost.id)}"
    return f"{said}, which outweighs {words.name(kb, lost.id)} ({lost.status}, from {origin})"


def _origin(result: Result, lost: Conclusion) -> str:
    """What a dropped conclusion rested on: ``the pelvic chain``, its premises, or its readings."""
    from .differential import _CHAIN

    just = lost.justifications[0] if lost.justifications else None
    if just is None or just.rule is None:
        return "the assessor's statement"
    premises = [k for k in just.because if k[0] in result.kb.states]
    if lost.id == "ir_limited" and any(k[0] in _CHAIN for k in premises):
        return "the pelvic chain"
    if premises:
        return " and ".join(words.thing(result.kb, k) for k in premises)
    if just.measurements:
        return "; ".join(words.measurement(result.kb, m, borderline=False) for m in just.measurements)
    return clean(result.kb.rule(just.rule).label) if just.rule in result.kb.rule_index else "its rule"


def _withdrawal(result: Result, key: Key) -> str:
    for d in result.disagreements:
        if any(c.key == key for c in d.dropped):
            return weighing(result, d, key)
    for d in result.disagreements:
        if key in d.withdrawn:
            dropped = d.dropped[0]
            return (f"it rested on {words.thing(result.kb, dropped.key)}, which was dropped: "
                    f"{weighing(result, d, dropped.key)}")
    return "it was only ever reached through itself (a cycle), so nothing well-founded supports it"


# --------------------------------------------------------------------------
# would_hold_if: a search of the rules' conditions, then verification


def would_hold_if(result: Result, key: Key, *, facts: Facts | None = None) -> tuple[tuple[tuple[Change, ...], ...], tuple[str, ...]]:
    """The verified, minimal sets of finding changes that make ``key`` hold; else why none can.

    Returns ``(alternatives, cannot)``; ``cannot`` is empty when some alternative exists.
    """
    kb = result.kb
    if facts is None:
        facts, _ = engine_facts(result)
    search = _Search(result, facts)
    candidates, reasons = search.run(key)
    verified: list[tuple[Change, ...]] = []
    failed_because: list[str] = []
    for alt in candidates:
        if len(verified) >= MAX_VERIFIED:
            break
        if any(set(v) <= alt for v in verified):
            continue
        ok, why = _verify(result, key, alt)
        if ok:
            verified.append(tuple(sorted(alt, key=lambda c: c.sort_key(kb))))
        elif why and why not in failed_because:
            failed_because.append(why)
    verified.sort(key=lambda alt: (len(alt), [c.sort_key(kb) for c in alt]))
    if verified:
        return tuple(verified), ()
    cannot = list(dict.fromkeys([*failed_because, *reasons]))
    if not cannot:
        cannot.append(f"no change of up to {MAX_CHANGES} entered findings that the search of its rules finds makes it hold")
    return (), tuple(cannot)


def _verify(result: Result, key: Key, alt: Alternative) -> tuple[bool, str | None]:
    kb = result.kb
    changes: dict[Key, float | bool] = {}
    for change in alt:
        value = change.concrete(kb)
        if value is None:
            return False, None
        changes[(change.finding, change.side)] = value
    rerun = _knowledge_base(kb).assess(result.case.with_findings(changes), thresholds=dict(result.thresholds),
                                       mdc=dict(result.mdc))
    if rerun.item(key[0], key[1]) is not None:
        return True, None
    for d in rerun.disagreements:
        if any(c.key == key for c in d.dropped) and d.kept is not None:
            return False, f"its opposite would outweigh it: {weighing(rerun, d, key)}"
        if key in d.withdrawn and d.kept is not None:
            lost = d.dropped[0]
            return False, (f"it would rest on {words.thing(kb, lost.key)}, which its opposite would outweigh: "
                           f"{weighing(rerun, d, lost.key)}")
    return False, None


class _Search:
    """Alternatives per state key, computed sinks first over the rules that could conclude each."""

    def __init__(self, result: Result, facts: Facts) -> None:
        self.result = result
        self.kb = result.kb
        self.facts = facts
        self.producers = _producers(self.kb)
        self.alts: dict[Key, list[Alternative]] = {}
        self.reasons: dict[Key, list[str]] = {}

    def run(self, target: Key) -> tuple[list[Alternative], list[str]]:
        # Every state key the target's rules can reach, found without recursion.
        needs: dict[Key, set[Key]] = {}
        todo = [target]
        while todo:
            key = todo.pop()
            if key in needs:
                continue
            needs[key] = set()
            if key != target and self.holds(key):
                continue  # holds already
            for branch, context in self.units(key):
                for dep in branch.state_keys(context):
                    needs[key].add(dep)
                    if dep not in needs:
                        todo.append(dep)
        order = list(needs)
        for component in components(order, lambda k: sorted(needs[k], key=_key_order)):
            for _ in range(len(component) * MAX_CHANGES + 2):
                changed = False
                for key in component:
                    if key == target:
                        continue
                    new = self.compute(key)
                    if new != self.alts.get(key):
                        self.alts[key] = new
                        changed = True
                if not changed:
                    break
        found = self.compute(target, target=True)
        return found, self.reasons.get(target, [])

    def units(self, key: Key) -> list[tuple[Branch, Side]]:
        return [(b, c) for b in self.producers.get(key[0], ()) for c in _contexts(self.kb, b, key)]

    def holds(self, key: Key) -> bool:
        """True when the state stands in the result (what the engine concluded and kept, or a given state)."""
        return key in self.result.case.given or (key[0] in self.kb.states and self.result.item(key[0], key[1]) is not None)

    def compute(self, key: Key, *, target: bool = False) -> list[Alternative]:
        if not target and self.holds(key):
            return [frozenset()]
        units = self.units(key)
        reasons: list[str] = []
        if not units:
            reasons.append(f"{words.thing(self.kb, key)} is not stated by the assessor, and no rule concludes it")
        found: list[Alternative] = []
        for branch, context in units:
            combos: list[Alternative] = [frozenset()]
            for cond in branch.conditions:
                options, reason = self.condition(cond, context)
                if not options:
                    if reason:
                        reasons.extend(r for r in reason if r not in reasons)
                    combos = []
                    break
                combos = _product(combos, options)
                if not combos:
                    break
            found.extend(combos)
        self.reasons[key] = reasons[:6]
        # Not standing now, it may still follow for the engine (and have been
        # dropped, or rest on something dropped): look for changes, not for "nothing".
        found = [alt for alt in found if alt]
        return _minimal(found, self.kb)

    def condition(self, cond: Condition, context: Side) -> tuple[list[Alternative], list[str] | None]:
        """The ways to make one condition hold (``[frozenset()]``: it holds), or why there is none."""
        kb, facts = self.kb, self.facts
        if cond.kind == "unassessed":
            failure = cond.failure(facts, context)
            if failure is None:
                return [frozenset()], None
            return [], [failure_text(self.result, facts, failure)]
        if cond.kind == "state":
            keys = cond.state_keys(context)
            if not keys and cond.sides(context) is None:
                return [], None
            combos: list[Alternative] = [frozenset()]
            for key in keys:
                options = self.alts.get(key, [frozenset()] if self.holds(key) else [])
                if not options:
                    return [], self.reasons.get(key) or [f"{words.NO_EVIDENCE} {words.thing(kb, key)}"]
                combos = _product(combos, options)
            return combos, None
        if cond.evaluate(facts, context) is not None:
            return [frozenset()], None
        sides = cond.sides(context)
        if sides is None:
            return [], None
        ref = cond.ref or ""
        finding = kb.findings.get(ref)
        if finding is None:
            return [], [f"{words.NO_EVIDENCE} {words.thing(kb, (ref, context))}"]
        found = facts.findings
        if cond.kind == "lower_side":
            assert context is not None
            limit = facts.thresholds[cond.threshold or ""]
            here, there = found.get((ref, context)), found.get((ref, other_side(context)))
            if isinstance(there, float) and not isinstance(there, bool):
                return [frozenset({Change(ref, context, "below", there - limit)})], None
            if isinstance(here, float) and not isinstance(here, bool):
                # "more than" is strict: one degree above the bound is enough
                return [frozenset({Change(ref, other_side(context), "at_least", here + limit + 1)})], None
            return [], [f"{words.name(kb, ref)} was recorded on neither side"]
        changes: list[Change] = []
        for side in sides:
            key = (ref, side)
            value = found.get(key)
            if cond.kind == "absent":
                if value is not None:
                    return [], [failure_text(self.result, facts, Failure(cond, key, "recorded", value))]
            elif cond.kind == "not":
                if value is True:
                    changes.append(Change(ref, side, "recorded_false"))
            elif cond.kind == "recorded":
                if value is None:
                    if finding.type == "boolean":
                        return [frozenset({Change(ref, side, "observed")}), frozenset({Change(ref, side, "recorded_false")})], None
                    bound = facts.thresholds.get(ref)
                    if bound is None:
                        return [], [f"{words.name(kb, ref)} was not recorded{' ' + words.on_side(side) if side else ''}"]
                    return [frozenset({Change(ref, side, "below", bound)}), frozenset({Change(ref, side, "at_least", bound)})], None
            elif cond.compare is None:
                if value is not True:
                    changes.append(Change(ref, side, "observed"))
            else:
                limit = facts.thresholds[cond.threshold or ""]
                if not (isinstance(value, float) and not isinstance(value, bool) and cond._passes(value, limit)):
                    changes.append(Change(ref, side, cond.compare, limit))
        return [frozenset(changes)], None


def _product(left: list[Alternative], right: list[Alternative]) -> list[Alternative]:
    out = []
    for a, b in itertools.product(left, right):
        merged = _merge(a, b)
        if merged is not None and len(merged) <= MAX_CHANGES:
            out.append(merged)
    return out


def _merge(a: Alternative, b: Alternative) -> Alternative | None:
    """Two sets of changes as one; None when they contradict each other."""
    by_key: dict[Key, Change] = {(c.finding, c.side): c for c in a}
    for change in b:
        where = (change.finding, change.side)
        old = by_key.get(where)
        if old is None or old == change:
            by_key[where] = change
        elif old.op == change.op == "below":
            by_key[where] = min(old, change, key=lambda c: c.value or 0.0)
        elif old.op == change.op == "at_least":
            by_key[where] = max(old, change, key=lambda c: c.value or 0.0)
        else:
            return None
    return frozenset(by_key.values())


def _minimal(alternatives: Iterable[Alternative], kb: KBModel) -> list[Alternative]:
    """Distinct alternatives, no one a superset of another, sorted by size then content, capped."""
    ordered = sorted(set(alternatives), key=lambda alt: (len(alt), sorted(c.sort_key(kb) for c in alt)))
    out: list[Alternative] = []
    for alt in ordered:
        if not any(kept <= alt for kept in out):
            out.append(alt)
        if len(out) >= MAX_ALTERNATIVES:
            break
    return out


def _key_order(key: Key) -> tuple[str, int]:
    return (key[0], side_rank(key[1]))


def sides_to_ask(kb: KBModel, item_id: str) -> tuple[Side, ...]:
    """Where why-not looks by default: both sides, or no side for an item that has none."""
    state = kb.states.get(item_id)
    if state is not None and not state.sided:
        return (None,)
    return tuple(SIDES)
