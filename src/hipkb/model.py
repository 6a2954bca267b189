"""Typed model of the knowledge base; conditions evaluate themselves.

The loader (:mod:`hipkb.kb`) builds these frozen objects from YAML. A
:class:`Condition` is the one home of condition semantics: it says whether
it holds on a side of a case (:meth:`Condition.evaluate`), why not
(:meth:`Condition.failure`), and how to test it in generated Python
(:meth:`Condition.python`). The engines, why-not and the KB checker all
use these methods; none keeps its own copy. ``docs/reasoning.md`` explains
the semantics for readers.

>>> c = Condition("finding", "supine_hip_ir", threshold="supine_hip_ir", compare="below", sided=True)
>>> c.describe()
'supine_hip_ir below its threshold supine_hip_ir'
>>> facts = Facts({("supine_hip_ir", "left"): 12.0}, frozenset(), {"supine_hip_ir": 25.0})
>>> c.evaluate(facts, "left").premises
(('supine_hip_ir', 'left'),)
>>> c.evaluate(facts, "right") is None
True
>>> c.failure(facts, "right").reason
'not recorded'
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Iterable, Literal, Mapping, Optional, Sequence, TypeGuard, TypeVar, cast

from .errors import Location
from .record import field, record

__all__ = [
    "SIDES",
    "CONTEXTS",
    "STATUSES",
    "EVIDENCE_LEVELS",
    "EVIDENCE_RANK",
    "RECOMMENDATION_KINDS",
    "Key",
    "Side",
    "is_side",
    "key_str",
    "other_side",
    "status_rank",
    "evidence_rank",
    "weaker_evidence",
    "Citation",
    "Source",
    "Entity",
    "State",
    "Finding",
    "Threshold",
    "Facts",
    "Reading",
    "Match",
    "Failure",
    "Condition",
    "Branch",
    "Rule",
    "Link",
    "Address",
    "Recommendation",
    "KBModel",
]

Side = Optional[Literal["left", "right"]]
#: A fact's key: (id, side); side None for what belongs to no side.
Key = tuple[str, Side]

#: The two sides, left first.
SIDES: tuple[Literal["left"], Literal["right"]] = ("left", "right")
#: Every rule runs in these contexts: each side, and no side.
CONTEXTS: tuple[Side, ...] = ("left", "right", None)
#: Statuses, strongest first.
STATUSES: tuple[str, ...] = ("measured", "given", "indicated", "inferred", "predicted")
#: Evidence levels a KB item can declare.
EVIDENCE_LEVELS: tuple[str, ...] = ("clinical-norm", "coaching-model", "interpretation")
#: Evidence strength; ``assessor`` is what an entered finding or given state brings.
EVIDENCE_RANK: Mapping[str, int] = MappingProxyType(
    {"clinical-norm": 3, "assessor": 3, "coaching-model": 2, "interpretation": 1}
)
RECOMMENDATION_KINDS: tuple[str, ...] = ("strategy", "principle", "exercise", "caution", "assessment")

_STATUS_RANK = {status: len(STATUSES) - i for i, status in enumerate(STATUSES)}


def is_side(value: object) -> TypeGuard[Side]:
    """True for "left", "right" and None (no side); tells a type checker that ``value`` is a :data:`Side`.

    >>> is_side("left"), is_side(None), is_side("lft")
    (True, True, False)
    """
    return value is None or value in SIDES


def key_str(key: Key) -> str:
    """``("ir_limited", "left")`` → ``"ir_limited/left"``; a side-less key is its bare id.

    >>> key_str(("rib_cage_side_bend", None))
    'rib_cage_side_bend'
    """
    item, side = key
    return item if side is None else f"{item}/{side}"


def other_side(side: str) -> Literal["left", "right"]:
    """The side opposite ``side``.

    >>> other_side("left")
    'right'
    """
    return "right" if side == "left" else "left"


def status_rank(status: str) -> int:
    """Higher is stronger: ``measured`` 5 … ``predicted`` 1."""
    return _STATUS_RANK[status]


def evidence_rank(evidence: str) -> int:
    """Higher is stronger: ``clinical-norm`` and ``assessor`` 3 … ``interpretation`` 1."""
    return EVIDENCE_RANK[evidence]


def weaker_evidence(own: str, other: str) -> str:
    """The weaker of two levels; on a tie, ``own`` (a rule keeps its own label).

    >>> weaker_evidence("clinical-norm", "assessor"), weaker_evidence("clinical-norm", "interpretation")
    ('clinical-norm', 'interpretation')
    """
    return other if EVIDENCE_RANK[other] < EVIDENCE_RANK[own] else own


# --------------------------------------------------------------------------
# Plain KB items


@record
class Citation:
    """Where a claim comes from: a quote, an outside reference, or interpretation."""

    ref: str | None = None
    quote: str | None = None
    interpretation: str | None = None
    note: str | None = None

    @property
    def is_interpretation(self) -> bool:
        return self.interpretation is not None

    def to_dict(self) -> dict[str, str | None]:
        return {"ref": self.ref, "quote": self.quote, "note": self.note, "interpretation": self.interpretation}


@record
class Source:
    id: str
    kind: str
    citation: str
    location: Location | None = field(default=None, compare=False, repr=False)


@record
class Entity:
    id: str
    label: str
    uberon: str | None = None
    fma: str | None = None
    part_of: str | None = None
    source: Citation | None = None
    location: Location | None = field(default=None, compare=False, repr=False)


@record
class State:
    """A state of the hip, pelvis or test that can hold (per side) in a case.

    ``tested_by``: the finding that measures it (a rule comparing it makes
    the state *measured*); ``indicated_by``: findings the article says
    indicate it (*indicated*). A state with either, concluded without
    them, is *predicted*.
    """

    id: str
    label: str
    sided: bool = True
    entity: str | None = None
    tested_by: str | None = None
    indicated_by: tuple[str, ...] = ()
    opposite: str | None = None
    description: str | None = None
    source: Citation | None = None
    location: Location | None = field(default=None, compare=False, repr=False)

    @property
    def has_test(self) -> bool:
        return self.tested_by is not None or bool(self.indicated_by)


@record
class Finding:
    id: str
    label: str
    type: str  # "degrees" | "boolean"
    sided: bool
    group: str
    range: tuple[float, float] | None = None
    assessment: str | None = None
    source: Citation | None = None
    entity: str | None = None
    unit: str | None = None
    aliases: tuple[str, ...] = ()
    description: str | None = None
    location: Location | None = field(default=None, compare=False, repr=False)


@record
class Threshold:
    id: str
    value: float
    label: str
    evidence: str
    source: Citation
    location: Location | None = field(default=None, compare=False, repr=False)
    #: further sources behind the value
    rationale: tuple[Citation, ...] = ()
    #: minimal detectable change of the reading (degrees), with its source
    mdc: float | None = None
    mdc_source: Citation | None = None


# --------------------------------------------------------------------------
# Conditions


@record
class Facts:
    """What a condition reads: recorded findings, established states, thresholds.

    ``findings`` maps (finding id, side) to a number (degrees) or a bool;
    a key that is missing was not recorded.
    """

    findings: Mapping[Key, float | bool]
    states: frozenset[Key] | set[Key]
    thresholds: Mapping[str, float]


@record
class Reading:
    """A reading compared with a threshold by one condition.

    For ``lower_side`` the value is the side-to-side difference (other side
    minus this side) and the comparison is "more than".
    """

    finding: str
    side: Side
    value: float
    threshold_id: str
    threshold: float
    compare: str  # "below" | "at_least" | "more_than"

    @property
    def margin(self) -> float:
        return self.value - self.threshold


@record
class Match:
    """How a condition (or a whole branch) held: the facts it used."""

    premises: tuple[Key, ...] = ()
    recorded_false: tuple[Key, ...] = ()
    not_recorded: tuple[Key, ...] = ()
    assumptions: tuple[Key, ...] = ()
    readings: tuple[Reading, ...] = ()

    def __add__(self, other: Match) -> Match:
        return Match(
            self.premises + other.premises,
            self.recorded_false + other.recorded_false,
            self.not_recorded + other.not_recorded,
            self.assumptions + other.assumptions,
            self.readings + other.readings,
        )


@record
class Failure:
    """Why a condition does not hold on a side: the first fact in its way.

    ``reason`` is one of: ``not recorded``, ``recorded false``, ``observed``,
    ``recorded``, ``not below``, ``not at least``, ``not more than``,
    ``does not hold``, ``no such side``.
    """

    condition: Condition
    key: Key | None
    reason: str
    value: float | bool | None = None
    threshold: float | None = None


_POSITIVE = ("state", "finding", "lower_side", "recorded")
_NEGATIVE = ("absent", "not", "unassessed")
ConditionKind = Literal["state", "finding", "lower_side", "recorded", "absent", "not", "unassessed", "any"]


@record
class Condition:
    """One condition of a rule, evaluated in a context (a side, or no side).

    kinds: ``state`` (S holds), ``finding`` (a boolean observed, or degrees
    compared ``below`` / ``at_least`` a ``threshold``), ``lower_side`` (lower
    than the other side by more than ``threshold``), ``recorded`` (has a
    value), ``absent`` (has none), ``not`` (not observed: recorded false,
    or not recorded, which is an assumption), ``unassessed`` (no finding in
    ``findings`` is recorded: ``ref`` names the assessment), ``any``
    (``options``; a rule is split into one branch per combination).

    ``on`` is ``this`` (the context's side), ``other`` or ``both``;
    ``sided`` says whether ``ref`` has sides (filled in by the loader).
    """

    kind: str
    ref: str | None = None
    threshold: str | None = None
    compare: str | None = None
    options: tuple[Condition, ...] = ()
    on: str = "this"
    sided: bool = True
    #: for ``unassessed``: (finding id, sided) of every finding naming the assessment
    findings: tuple[tuple[str, bool], ...] = ()
    #: added by the loader, not written in the KB
    implicit: bool = False
    location: Location | None = field(default=None, compare=False, repr=False)

    # -- shape

    @property
    def negative(self) -> bool:
        return self.kind in _NEGATIVE

    @property
    def compares(self) -> bool:
        """True when the condition compares a reading with a threshold."""
        return self.kind == "lower_side" or (self.kind == "finding" and self.compare is not None)

    def depends_on_context(self) -> bool:
        """True when the condition reads something on the context's side."""
        if self.kind == "any":
            return any(o.depends_on_context() for o in self.options)
        if self.kind == "unassessed":
            return any(sided for _, sided in self.findings)
        return self.sided and self.on != "both"

    def sides(self, context: Side) -> tuple[Side, ...] | None:
        """The sides the condition reads in ``context``; None when it cannot hold there.

        Every side returned must satisfy the condition (a conjunction).

        >>> Condition("absent", "supine_hip_ir").sides(None)
        ('left', 'right')
        >>> Condition("finding", "hip_hike").sides(None) is None
        True
        """
        if not self.sided:
            return (None,)
        if self.on == "both":
            return SIDES
        if self.on == "other":
            return None if context is None else (other_side(context),)
        if context is not None:
            return (context,)
        if self.kind == "state":
            return (None,)  # a state can hold with no side
        if self.kind in ("absent", "not"):
            return SIDES  # nothing on either side
        return None  # a sided reading never has no side

    # -- evaluation (the one definition of what a condition means)

    def evaluate(self, facts: Facts, context: Side) -> Match | None:
        """The facts that make the condition hold in ``context``, or None."""
        if self.kind == "unassessed":
            return Match() if not self._recorded_findings(facts, context) else None
        sides = self.sides(context)
        if sides is None:
            return None
        ref = self.ref or ""
        found = facts.findings
        if self.kind == "lower_side":
            if context is None:
                return None
            here, there = found.get((ref, context)), found.get((ref, other_side(context)))
            if not _number(here) or not _number(there):
                return None
            limit = facts.thresholds[self.threshold or ""]
            difference = side_difference(there, here)
            if not difference > limit:
                return None
            reading = Reading(ref, context, difference, self.threshold or "", limit, "more_than")
            return Match(premises=((ref, context), (ref, other_side(context))), readings=(reading,))
        keys = tuple((ref, s) for s in sides)
        if self.kind == "state":
            return Match(premises=keys) if all(k in facts.states for k in keys) else None
        if self.kind == "recorded":
            return Match(premises=keys) if all(k in found for k in keys) else None
        if self.kind == "absent":
            return Match(not_recorded=keys) if all(k not in found for k in keys) else None
        if self.kind == "not":
            values = [found.get(k) for k in keys]
            if any(v is True for v in values):
                return None
            return Match(
                recorded_false=tuple(k for k, v in zip(keys, values) if v is False),
                assumptions=tuple(k for k, v in zip(keys, values) if v is None),
            )
        if self.kind == "finding" and self.compare is None:
            return Match(premises=keys) if all(found.get(k) is True for k in keys) else None
        if self.kind == "finding":
            assert self.compare is not None  # a comparison-less finding returned above
            limit = facts.thresholds[self.threshold or ""]
            readings = []
            for key in keys:
                value = found.get(key)
                if not _number(value) or not self._passes(value, limit):
                    return None
                readings.append(Reading(ref, key[1], float(value), self.threshold or "", limit, self.compare))
            return Match(premises=keys, readings=tuple(readings))
        raise ValueError(f"cannot evaluate a condition of kind {self.kind!r}")

    def failure(self, facts: Facts, context: Side) -> Failure | None:
        """Why the condition does not hold in ``context`` (None when it holds)."""
        if self.evaluate(facts, context) is not None:
            return None
        if self.kind == "unassessed":
            key = self._recorded_findings(facts, context)[0]
            return Failure(self, key, "recorded", facts.findings[key])
        sides = self.sides(context)
        if sides is None:
            return Failure(self, None, "no such side")
        ref = self.ref or ""
        if self.kind == "lower_side":
            assert context is not None
            for key in ((ref, context), (ref, other_side(context))):
                if not _number(facts.findings.get(key)):
                    return Failure(self, key, "not recorded")
            limit = facts.thresholds[self.threshold or ""]
            diff = side_difference(facts.findings[(ref, other_side(context))], facts.findings[(ref, context)])
            return Failure(self, (ref, context), "not more than", diff, limit)
        for side in sides:
            key = (ref, side)
            value = facts.findings.get(key)
            if self.kind == "state" and key not in facts.states:
                return Failure(self, key, "does not hold")
            if self.kind == "recorded" and value is None:
                return Failure(self, key, "not recorded")
            if self.kind == "absent" and value is not None:
                return Failure(self, key, "recorded", value)
            if self.kind == "not" and value is True:
                return Failure(self, key, "observed", True)
            if self.kind == "finding" and self.compare is None and value is not True:
                return Failure(self, key, "not recorded" if value is None else "recorded false", value)
            if self.kind == "finding" and self.compare is not None:
                if not _number(value):
                    return Failure(self, key, "not recorded")
                limit = facts.thresholds[self.threshold or ""]
                if not self._passes(value, limit):
                    return Failure(self, key, f"not {self.compare.replace('_', ' ')}", value, limit)
        raise AssertionError("a failing condition names the fact in its way")

    def _passes(self, value: float, limit: float) -> bool:
        return value < limit if self.compare == "below" else value >= limit

    def _recorded_findings(self, facts: Facts, context: Side) -> list[Key]:
        recorded = []
        for finding, sided in self.findings:
            sides: Iterable[Side] = (None,) if not sided else (SIDES if context is None else (context,))
            recorded += [(finding, s) for s in sides if (finding, s) in facts.findings]
        return recorded

    # -- code generation (the compiled evaluator)

    def python(self, context: Side) -> str | None:
        """A Python expression over ``F`` (findings), ``S`` (states), ``T`` (thresholds), ``NAN``.

        None when the condition can never hold in ``context``. It must agree
        with :meth:`evaluate` (a test checks them against each other).

        >>> Condition("finding", "supine_hip_ir", threshold="supine_hip_ir", compare="below").python("left")
        "F.get(('supine_hip_ir', 'left'), NAN) < T['supine_hip_ir']"
        """
        if self.kind == "unassessed":
            keys = [(f, s) for f, sided in self.findings
                    for s in ((None,) if not sided else (SIDES if context is None else (context,)))]
            return " and ".join(f"{k!r} not in F" for k in keys) or "True"
        sides = self.sides(context)
        if sides is None:
            return None
        ref = self.ref or ""
        if self.kind == "lower_side":
            if context is None:
                return None
            this, that = (ref, context), (ref, other_side(context))
            return f"round(F.get({that!r}, NAN) - F.get({this!r}, NAN), 6) > T[{self.threshold!r}]"
        parts = []
        for side in sides:
            key = (ref, side)
            if self.kind == "state":
                parts.append(f"{key!r} in S")
            elif self.kind == "recorded":
                parts.append(f"{key!r} in F")
            elif self.kind == "absent":
                parts.append(f"{key!r} not in F")
            elif self.kind == "not":
                parts.append(f"F.get({key!r}) is not True")
            elif self.kind == "finding" and self.compare is None:
                parts.append(f"F.get({key!r}) is True")
            elif self.kind == "finding":
                op = "<" if self.compare == "below" else ">="
                parts.append(f"F.get({key!r}, NAN) {op} T[{self.threshold!r}]")
            else:
                raise ValueError(f"cannot compile a condition of kind {self.kind!r}")
        return " and ".join(parts)

    def state_keys(self, context: Side) -> tuple[Key, ...]:
        """The states this condition needs in ``context`` (empty for other kinds)."""
        if self.kind != "state":
            return ()
        sides = self.sides(context)
        return () if sides is None else tuple((self.ref or "", s) for s in sides)

    # -- words

    def describe(self) -> str:
        """A short technical description (ids, not labels)."""
        where = {"this": "", "other": " on the other side", "both": " on both sides"}[self.on]
        if self.kind == "any":
            return "any of: " + "; ".join(o.describe() for o in self.options)
        if self.kind == "finding" and self.compare == "below":
            return f"{self.ref}{where} below its threshold {self.threshold}"
        if self.kind == "finding" and self.compare == "at_least":
            return f"{self.ref}{where} at or above its threshold {self.threshold}"
        if self.kind == "finding":
            return f"{self.ref}{where} observed"
        if self.kind == "recorded":
            return f"{self.ref}{where} recorded"
        if self.kind == "absent":
            return f"{self.ref}{where} not recorded"
        if self.kind == "not":
            return f"{self.ref}{where} not observed"
        if self.kind == "unassessed":
            return f"no finding of {self.ref} recorded yet"
        if self.kind == "lower_side":
            return f"{self.ref} lower than on the other side by more than {self.threshold}"
        return f"{self.ref}{where} holds"


def side_difference(there: float, here: float) -> float:
    """The side-to-side difference of two readings, in decimal terms.

    Readings are decimals typed by a person; their float difference can be
    off in the 15th digit (16.1 - 6.1 = 10.000000000000002), which must not
    make "exactly 10 apart" count as "more than 10". Six places are far
    below any goniometer's resolution.

    >>> side_difference(16.1, 6.1)
    10.0
    """
    return round(there - here, 6)


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


# --------------------------------------------------------------------------
# Rules


@record
class Branch:
    """One conjunction of a rule: its ``any`` conditions expanded to one option each.

    ``index`` is the branch's position among all branches of the KB (the
    engines report firings as (branch index, context)).
    """

    rule: Rule
    option: int
    conditions: tuple[Condition, ...]
    index: int = 0

    def depends_on_context(self) -> bool:
        return any(c.depends_on_context() for c in self.conditions)

    @property
    def contexts(self) -> tuple[Side, ...]:
        """Where the branch runs: each side and no side, or only no side."""
        if not self.depends_on_context():
            return (None,)
        return tuple(c for c in CONTEXTS if all(cond.sides(c) is not None or cond.kind == "unassessed" for cond in self.conditions))

    def evaluate(self, facts: Facts, context: Side) -> Match | None:
        """The combined match of every condition, or None when one fails."""
        total = Match()
        for cond in self.conditions:
            match = cond.evaluate(facts, context)
            if match is None:
                return None
            total = total + match
        return total

    def first_failure(self, facts: Facts, context: Side) -> Failure | None:
        for cond in self.conditions:
            failure = cond.failure(facts, context)
            if failure is not None:
                return failure
        return None

    def python(self, context: Side) -> str | None:
        parts = []
        for cond in self.conditions:
            expr = cond.python(context)
            if expr is None:
                return None
            parts.append(expr)
        return " and ".join(f"({p})" for p in parts) or "True"

    def state_keys(self, context: Side) -> tuple[Key, ...]:
        return tuple(k for c in self.conditions for k in c.state_keys(context))

    def compared(self) -> frozenset[str]:
        """Ids of the findings this branch compares with a threshold."""
        return frozenset(c.ref or "" for c in self.conditions if c.compares)


@record
class Rule:
    """A unit of inference: all ``when`` conditions → every id in ``then``.

    ``origin``: ``rule`` (rules.yaml), ``link`` (a causal link with ``use:
    conclude``) or ``call`` (a recommendation's ``called_for_by``).
    """

    id: str
    label: str
    when: tuple[Condition, ...]
    then: tuple[str, ...]
    evidence: str
    source: Citation
    origin: str = "rule"
    location: Location | None = field(default=None, compare=False, repr=False)

    def branches(self) -> tuple[Branch, ...]:
        """The rule split at its ``any`` conditions (indices are filled in by the KB)."""
        combos: list[tuple[Condition, ...]] = [()]
        for cond in self.when:
            options = cond.options if cond.kind == "any" else (cond,)
            combos = [c + (o,) for c in combos for o in options]
        return tuple(Branch(self, i, combo) for i, combo in enumerate(combos))


@record
class Link:
    id: str
    label: str
    cause: str
    effect: str
    use: str  # "conclude" | "explain"
    evidence: str
    source: Citation
    location: Location | None = field(default=None, compare=False, repr=False)


@record
class Address:
    """What a recommendation acts on (a state or finding) and how, in the article's words."""

    target: str
    label: str
    evidence: str
    source: Citation
    location: Location | None = field(default=None, compare=False, repr=False)


@record
class Recommendation:
    id: str
    kind: str
    label: str
    summary: str
    evidence: str
    source: Citation
    order: int | None = None
    calls: tuple[Rule, ...] = ()
    #: further quotes that give the article's reasons for the item
    rationale: tuple[Citation, ...] = ()
    addresses: tuple[Address, ...] = ()
    #: a progression order the article implies but does not state
    order_source: Citation | None = None
    location: Location | None = field(default=None, compare=False, repr=False)


# --------------------------------------------------------------------------
# The whole model


_T = TypeVar("_T")


def _frozen(tables: Mapping[str, Mapping[str, object]], name: str, kind: type[_T]) -> Mapping[str, _T]:
    """A read-only copy of table ``name``, whose items the loader made as ``kind``."""
    return cast("Mapping[str, _T]", MappingProxyType(dict(tables[name])))


@record
class KBModel:
    """A loaded, validated knowledge base: read-only tables and derived indexes.

    Every table is a read-only mapping in declaration order; nothing a
    caller does can change it. Safe to share across threads.
    """

    name: str
    version: str
    directory: str
    sources: Mapping[str, Source]
    entities: Mapping[str, Entity]
    states: Mapping[str, State]
    findings: Mapping[str, Finding]
    thresholds: Mapping[str, Threshold]
    links: Mapping[str, Link]
    rules: Mapping[str, Rule]
    recommendations: Mapping[str, Recommendation]
    #: every rule the engines run, in KB order: rules, concluding links, calls
    inference_rules: tuple[Rule, ...] = field(default=(), compare=False, repr=False)
    branches: tuple[Branch, ...] = field(default=(), compare=False, repr=False)
    rule_index: Mapping[str, Rule] = field(default_factory=dict, compare=False, repr=False)
    positions: Mapping[str, Mapping[str, int]] = field(default_factory=dict, compare=False, repr=False)
    #: (branch index, target) → status of a state concluded by that branch
    branch_status: Mapping[tuple[int, str], str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        name: str,
        version: str,
        directory: str,
        tables: Mapping[str, Mapping[str, object]],
    ) -> KBModel:
        """Freeze the tables and compute the indexes the engines and resolver use."""
        states = _frozen(tables, "states", State)
        links = _frozen(tables, "links", Link)
        recommendations = _frozen(tables, "recommendations", Recommendation)
        rules: list[Rule] = list(_frozen(tables, "rules", Rule).values())
        rules += [_link_rule(link, states) for link in links.values() if link.use == "conclude"]
        for rec in recommendations.values():
            rules += rec.calls
        branches: list[Branch] = []
        for rule in rules:
            for branch in rule.branches():
                branches.append(Branch(branch.rule, branch.option, branch.conditions, len(branches)))
        status: dict[tuple[int, str], str] = {}
        for branch in branches:
            compared = branch.compared()
            for target in branch.rule.then:
                state = states.get(target)
                if state is None:
                    continue
                if state.tested_by is not None and state.tested_by in compared:
                    status[(branch.index, target)] = "measured"
                elif compared & set(state.indicated_by):
                    status[(branch.index, target)] = "indicated"
                elif state.has_test:
                    status[(branch.index, target)] = "predicted"
                else:
                    status[(branch.index, target)] = "inferred"
        positions = {
            "rules": {r.id: i for i, r in enumerate(rules)},
            "states": {s: i for i, s in enumerate(states)},
            "recommendations": {r: i for i, r in enumerate(recommendations)},
            "findings": {f: i for i, f in enumerate(tables["findings"])},
        }
        return cls(
            name, version, directory,
            _frozen(tables, "sources", Source), _frozen(tables, "entities", Entity), states,
            _frozen(tables, "findings", Finding), _frozen(tables, "thresholds", Threshold), links,
            _frozen(tables, "rules", Rule), recommendations,
            inference_rules=tuple(rules),
            branches=tuple(branches),
            rule_index=MappingProxyType({r.id: r for r in rules}),
            positions=MappingProxyType({k: MappingProxyType(v) for k, v in positions.items()}),
            branch_status=MappingProxyType(status),
        )

    def rule(self, rule_id: str) -> Rule:
        """The inference rule with this id (a rule, a concluding link or a call)."""
        return self.rule_index[rule_id]

    def position(self, table: str) -> Mapping[str, int]:
        """Declaration order of ids in ``rules``, ``states``, ``recommendations`` or ``findings``."""
        return self.positions[table]

    def kind_of(self, item_id: str) -> str | None:
        """'state', 'finding' or 'recommendation' for a declared id, else None."""
        if item_id in self.states:
            return "state"
        if item_id in self.findings:
            return "finding"
        if item_id in self.recommendations:
            return "recommendation"
        return None

    def label(self, item_id: str) -> str:
        tables: tuple[Mapping[str, State | Finding | Recommendation | Entity], ...] = (
            self.states, self.findings, self.recommendations, self.entities,
        )
        for table in tables:
            if item_id in table:
                return table[item_id].label
        return item_id

    def is_sided(self, item_id: str) -> bool:
        item = self.states.get(item_id) or self.findings.get(item_id)
        if item is not None:
            return item.sided
        return True

    def default_thresholds(self) -> dict[str, float]:
        return {t.id: t.value for t in self.thresholds.values()}

    def default_mdc(self) -> dict[str, float]:
        return {t.id: t.mdc for t in self.thresholds.values() if t.mdc is not None}

    def aliases(self) -> dict[str, str]:
        """Alias → finding id (aliases only improve did-you-mean hints)."""
        return {a: f.id for f in self.findings.values() for a in f.aliases}

    def producers(self, item_id: str) -> tuple[Rule, ...]:
        """The inference rules that can conclude ``item_id``, in KB order."""
        return tuple(r for r in self.inference_rules if item_id in r.then)


def _link_rule(link: Link, states: Mapping[str, State]) -> Rule:
    cause = states.get(link.cause)
    return Rule(
        id=link.id,
        label=link.label,
        when=(Condition("state", link.cause, sided=cause.sided if cause else True, location=link.location),),
        then=(link.effect,),
        evidence=link.evidence,
        source=link.source,
        origin="link",
        location=link.location,
    )


def flatten(conditions: Sequence[Condition]) -> Iterable[Condition]:
    """Every condition, with ``any`` options in place of the ``any``."""
    for cond in conditions:
        if cond.kind == "any":
            yield from cond.options
        else:
            yield cond
