"""The differential: why is IR limited on this side?

The article names five contributors to limited hip internal rotation;
:func:`differential` gives each one's **standing** on a side, the
arguments for and against it (with the KB's quotes), the findings behind
each argument, and the next assessment that would change the standing.
The standings follow DESIGN.md ("Standings, exactly"):

- ``posterior_capsule_closed``: *supported* when the capsule holds
  (indicated or given), *confounded* when supine IR is low with the pelvis
  forward or turned away, *argued against* when IR is within range, else
  *not assessed*;
- ``pelvic_chain``: *supported* when the pelvis does not rotate internally
  or a later link of the chain holds, *argued against* when the pelvis
  rotates internally, else *not assessed*;
- ``deep_external_rotators_stiff``: *supported* when it holds, *argued
  against* when the muscles at the back of the hip allow IR, else *not
  assessed*;
- ``pelvic_position``: *present* when the pelvis was forward or turned
  away on that side, *absent* when both were recorded false, else *not
  recorded*;
- ``ribcage_knee_foot``: *present* when a ribcage, knee or foot
  compensation was observed on that side (or with no side), else *not
  recorded*; reading them as this contributor is interpretation.

A contributor **holds** when it is *supported* or *present*. The capsule
read from the very IR drop being explained is labelled so: it explains
the drop, it is not further evidence for it.

>>> import hipkb
>>> rows = differential(hipkb.assess("examples/demo-01.yaml"), "left")
>>> [(c.id, c.standing) for c in rows]  # doctest: +NORMALIZE_WHITESPACE
[('posterior_capsule_closed', 'supported'), ('pelvic_chain', 'supported'),
 ('deep_external_rotators_stiff', 'not assessed'), ('pelvic_position', 'not recorded'),
 ('ribcage_knee_foot', 'present')]
>>> rows[0].next_assessment
'record_pelvic_position'
"""

from __future__ import annotations

from typing import Any, Iterable

from ..errors import ExplainError
from ..model import SIDES, Citation, KBModel, Key, Side, key_str
from ..record import field, record
from ..result import Conclusion, Justification, Result
from ..sanitize import clean
from . import words

__all__ = [
    "CONTRIBUTORS",
    "STANDINGS",
    "FROM_THIS_DROP",
    "Argument",
    "Contributor",
    "differential",
    "supports_differential",
]

#: The article's contributors to limited IR, in the order the differential lists them (stable ids).
CONTRIBUTORS: tuple[str, ...] = (
    "posterior_capsule_closed",
    "pelvic_chain",
    "deep_external_rotators_stiff",
    "pelvic_position",
    "ribcage_knee_foot",
)
#: Every standing a contributor can have.
STANDINGS: tuple[str, ...] = (
    "supported", "confounded", "argued against", "not assessed", "present", "absent", "not recorded",
)
#: The label of a cause read only from the effect it explains.
FROM_THIS_DROP = "read from this drop: it explains the drop, it is not further evidence for it"

_CHAIN = (
    "pelvis_not_internally_rotating",
    "inlet_not_closing",
    "outlet_not_opening",
    "acetabulum_not_anteverted",
    "femur_glide_space_lacking",
)
_PELVIS = ("pelvis_forward", "pelvis_turned_away")
_COMPENSATIONS = ("rib_cage_side_bend", "knee_valgus", "knee_varus", "knee_hyperextension", "foot_pronation")
_NEEDED_STATES = (
    "ir_limited", "ir_within_range", "posterior_capsule_closed", "pelvis_not_internally_rotating",
    "pelvis_internally_rotating", "deep_external_rotators_stiff", "posterior_hip_allows_ir",
)
_NEEDED_FINDINGS = ("supine_hip_ir", "straight_leg_raise", *_PELVIS)
_LABELS = {
    "pelvic_chain": "Pelvic chain: pelvis → inlet → outlet → hip socket → femur glide",
    "pelvic_position": "Pelvic position: forward or turned away from the tested side",
    "ribcage_knee_foot": "Ribcage, knee and foot",
}
_RIBCAGE_READING = (
    "The article's summary names the ribcage, knee and foot among what IR has much more to do with; "
    "reading the ribcage, knee and foot compensations observed as that contributor is interpretation."
)


@record
class Argument:
    """One argument for or against a contributor: words, the source, the findings behind it."""

    text: str
    source: Citation | None
    keys: tuple[Key, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "source": None if self.source is None else self.source.to_dict(),
            "keys": [key_str(k) for k in self.keys],
        }


@record
class Contributor:
    """One contributor to limited IR on one side, with its standing and the arguments.

    ``holds`` is True when the standing is ``supported`` or ``present``.
    ``assumptions`` are what a supported reading rests on without a record
    (e.g. the pelvic position during the supine test), as in a result's JSON.
    """

    id: str
    side: Side
    label: str
    standing: str
    holds: bool
    arguments_for: tuple[Argument, ...]
    arguments_against: tuple[Argument, ...]
    next_assessment: str | None
    sources: tuple[Citation, ...]
    assumptions: tuple[Key, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "standing": self.standing,
            "holds": self.holds,
            "for": [a.to_dict() for a in self.arguments_for],
            "against": [a.to_dict() for a in self.arguments_against],
            "next_assessment": self.next_assessment,
            "assumptions": [{"id": k[0], "side": k[1]} for k in self.assumptions],
            "sources": [s.to_dict() for s in self.sources],
        }


def supports_differential(kb: KBModel) -> bool:
    """True when the KB declares the stable ids the differential is tied to.

    >>> from hipkb.kb import load_model
    >>> supports_differential(load_model())
    True
    """
    return all(s in kb.states for s in _NEEDED_STATES) and all(f in kb.findings for f in _NEEDED_FINDINGS)


def differential(result: Result, side: Side) -> tuple[Contributor, ...]:
    """Every contributor to limited IR on ``side`` (left or right), in :data:`CONTRIBUTORS` order.

    Raises :class:`~hipkb.errors.ExplainError` for a side other than left
    or right, or for a KB without the stable ids the differential needs.
    """
    if side not in SIDES:
        raise ExplainError(f"the differential is per side: left or right, not {side!r}")
    if not supports_differential(result.kb):
        raise ExplainError(
            "this knowledge base does not declare the states and findings the differential is built on "
            "(ir_limited, posterior_capsule_closed, the pelvic chain, pelvis_forward, …)"
        )
    reader = _Reader(result, side)
    return (reader.capsule(), reader.chain(), reader.rotators(), reader.pelvic_position(), reader.ribcage_knee_foot())


class _Reader:
    def __init__(self, result: Result, side: Side) -> None:
        self.result = result
        self.kb = result.kb
        self.side = side

    # -- lookups

    def holds(self, state: str) -> Conclusion | None:
        if state not in self.kb.states:
            return None
        return self.result.conclusion(state, self.side if self.kb.states[state].sided else None)

    def value(self, finding: str) -> float | bool | None:
        if finding not in self.kb.findings:
            return None
        return self.result.case.findings.get(self.key(finding))

    def key(self, item: str) -> Key:
        return (item, self.side if self.kb.is_sided(item) else None)

    def recommendation(self, rec_id: str) -> str | None:
        return rec_id if rec_id in self.kb.recommendations else None

    def rule_source(self, rule_id: str) -> Citation | None:
        rule = self.kb.rule_index.get(rule_id)
        return None if rule is None else rule.source

    def link_source(self, link_id: str) -> Citation | None:
        link = self.kb.links.get(link_id)
        return None if link is None else link.source

    def explain_link_source(self, cause: str, effect: str) -> Citation | None:
        for link in self.kb.links.values():
            if link.cause == cause and link.effect == effect:
                return link.source
        return None

    def ir_low(self) -> bool:
        value = self.value("supine_hip_ir")
        limit = self.result.thresholds.get("supine_hip_ir")
        return isinstance(value, float) and limit is not None and value < limit

    def within_range(self) -> Argument | None:
        """IR measured within range on this side, as an argument."""
        c = self.holds("ir_within_range")
        if c is None:
            return None
        return self.from_justification(c.justifications[0], c, note=self.read_as(c.justifications[0], c))

    def from_justification(self, just: Justification, conclusion: Conclusion, *, note: str = "") -> Argument:
        """A justification as one argument: its readings (or who stated it), the rule's source."""
        kb = self.kb
        if just.rule is None:
            return Argument(f"stated by the assessor: {words.name(kb, conclusion.id)}", None, (conclusion.key,))
        if just.measurements:
            text = "; ".join(words.measurement(kb, m, borderline=False) for m in just.measurements) + note
            text += "".join(words.borderline_note(m) for m in just.measurements)
        else:
            text = clean(kb.rule(just.rule).label) + note
        findings = tuple(k for k in just.because if k[0] in kb.findings)
        return Argument(text, just.source, findings or tuple(just.because))

    def read_as(self, just: Justification, conclusion: Conclusion) -> str:
        """``read as pelvis not internally rotating`` for a reading; nothing for a statement."""
        return f": read as {words.name(self.kb, conclusion.id)}" if just.measurements else ""

    def stated(self, state: str) -> Argument:
        return Argument(f"stated by the assessor: {words.name(self.kb, state)}", self.holds_source(state), (self.key(state),))

    def holds_source(self, state: str) -> Citation | None:
        item = self.kb.states.get(state)
        return None if item is None else item.source

    # -- the five contributors

    def capsule(self) -> Contributor:
        cid = "posterior_capsule_closed"
        c = self.holds(cid)
        pro: list[Argument] = []
        con: list[Argument] = []
        assumptions: tuple[Key, ...] = ()
        if c is not None:
            assumptions = c.assumptions
            for just in c.justifications:
                if just.rule is None:
                    pro.append(self.stated(cid))
                    continue
                from_drop = any(m.finding == "supine_hip_ir" and m.side == self.side for m in just.measurements)
                pro.append(self.from_justification(just, c, note=f" ({FROM_THIS_DROP})" if from_drop else ""))
                for key in just.because:
                    premise = self.result.conclusion(key[0], key[1]) if key[0] in self.kb.states else None
                    if premise is not None and premise.id != "ir_limited" and premise.measurement is not None:
                        m = premise.measurement
                        pro.append(Argument(f"and {words.measurement(self.kb, m)}", just.source, ((m.finding, m.side),)))
            for key, recorded in _negatives(c.justifications[0]):
                pro.append(Argument(f"and {words.fact(self.result, key, recorded_false=recorded)}",
                                    self.finding_source(key[0]), (key,)))
        observed = [p for p in _PELVIS if self.value(p) is True]
        limited = self.holds("ir_limited")
        if c is None and self.ir_low() and limited is not None and limited.measurement is not None:
            pro.append(Argument(
                f"{words.measurement(self.kb, limited.measurement, borderline=False)} ({FROM_THIS_DROP})"
                + words.borderline_note(limited.measurement),
                self.rule_source("capsule_closed_from_ir_drop"), (self.key("supine_hip_ir"),),
            ))
        if observed and self.ir_low():
            keys = (self.key("supine_hip_ir"), *(self.key(p) for p in observed))
            seen = " and ".join(words.name(self.kb, p) for p in observed)
            con.append(Argument(
                f"the pelvis was out of position during the test ({seen}), so the low reading does not isolate the capsule",
                self.rule_source("ir_test_confounded_by_pelvic_position"), keys,
            ))
        within = self.within_range()
        if within is not None:
            con.append(within)
        if c is not None:
            standing = "supported"
            nxt = self.recommendation("record_pelvic_position") if any(k[0] in _PELVIS for k in c.assumptions) else None
        elif observed and self.ir_low():
            standing, nxt = "confounded", self.recommendation("retest_supine_ir_pelvis_neutral")
        elif within is not None:
            standing, nxt = "argued against", None
        else:
            standing = "not assessed"
            nxt = self.recommendation("assess_supine_hip_ir") if self.value("supine_hip_ir") is None else None
        return self.row(cid, clean(self.kb.label(cid)), standing, pro, con, nxt, assumptions)

    def finding_source(self, finding: str) -> Citation | None:
        item = self.kb.findings.get(finding)
        return None if item is None else item.source

    def chain(self) -> Contributor:
        pro: list[Argument] = []
        con: list[Argument] = []
        holding = [c for c in (self.holds(s) for s in _CHAIN) if c is not None]
        seen_rules: set[str | None] = set()
        assumptions: set[Key] = set()
        for c in holding:
            assumptions.update(c.assumptions)
            for just in c.justifications:
                if any(k[0] in _CHAIN for k in just.because):
                    continue  # a later link of the chain, not a new argument
                if just.rule in seen_rules and just.rule is not None:
                    continue
                seen_rules.add(just.rule)
                pro.append(self.from_justification(just, c, note=self.read_as(just, c)))
        rotating = self.holds("pelvis_internally_rotating")
        if rotating is not None:
            for just in rotating.justifications:
                con.append(self.from_justification(just, rotating, note=self.read_as(just, rotating)))
        within = self.within_range()
        if holding and within is not None:
            text = f"{within.text}, which outweighs the pelvic chain's prediction of limited IR"
            con.append(Argument(text, within.source, within.keys))
        if holding:
            standing, nxt = "supported", None
        elif rotating is not None:
            standing, nxt = "argued against", None
        else:
            standing = "not assessed"
            nxt = self.recommendation("assess_straight_leg_raise") if self.value("straight_leg_raise") is None else None
        return self.row("pelvic_chain", _LABELS["pelvic_chain"], standing, pro, con, nxt, tuple(sorted(assumptions, key=_order)))

    def rotators(self) -> Contributor:
        cid = "deep_external_rotators_stiff"
        c = self.holds(cid)
        pro: list[Argument] = []
        con: list[Argument] = []
        if c is not None:
            for just in c.justifications:
                pro.append(self.stated(cid) if just.rule is None else self.from_justification(just, c))
        allows = self.holds("posterior_hip_allows_ir")
        if allows is not None:
            for just in allows.justifications:
                con.append(self.from_justification(just, allows, note=self.read_as(just, allows)))
        for d in self.result.disagreements:
            if d.side == self.side and d.kept is not None and d.kept.id == cid:
                for lost in d.dropped:
                    arg = self.from_justification(lost.justifications[0], lost)
                    con.append(Argument(f"{arg.text}, but the assessor's statement outweighs it", arg.source, arg.keys))
        if c is not None:
            standing, nxt = "supported", None
        elif allows is not None:
            standing, nxt = "argued against", None
        else:
            standing = "not assessed"
            nxt = self.recommendation("assess_straight_leg_raise") if self.value("straight_leg_raise") is None else None
        return self.row(cid, clean(self.kb.label(cid)), standing, pro, con, nxt, () if c is None else c.assumptions)

    def pelvic_position(self) -> Contributor:
        pro: list[Argument] = []
        con: list[Argument] = []
        for p in _PELVIS:
            value = self.value(p)
            source = self.explain_link_source(p, "ir_limited") or self.finding_source(p)
            if value is True:
                pro.append(Argument(f"{words.name(self.kb, p)}: observed", source, (self.key(p),)))
            elif value is False:
                con.append(Argument(words.fact(self.result, self.key(p), recorded_false=True), source, (self.key(p),)))
        if pro:
            standing, nxt = "present", self.recommendation("retest_supine_ir_pelvis_neutral")
        elif len(con) == len(_PELVIS):
            standing, nxt = "absent", None
        else:
            standing = "not recorded"
            nxt = self.recommendation("record_pelvic_position" if self.value("supine_hip_ir") is not None else "assess_supine_hip_ir")
        return self.row("pelvic_position", _LABELS["pelvic_position"], standing, pro, con, nxt, ())

    def ribcage_knee_foot(self) -> Contributor:
        pro: list[Argument] = []
        con: list[Argument] = []
        reading = Citation(ref=None, quote=None, interpretation=_RIBCAGE_READING)
        call = self.kb.rule_index.get("integrate_foot_and_ribcage_for_compensations")
        if call is not None and call.source.quote:
            reading = Citation(ref=call.source.ref, quote=call.source.quote, interpretation=_RIBCAGE_READING)
        for f in _COMPENSATIONS:
            if f not in self.kb.findings:
                continue
            key = self.key(f)
            value = self.result.case.findings.get(key)
            where = "" if key[1] is not None else " (no side)"
            source = self.explain_link_source("ir_limited", f) or self.finding_source(f)
            if value is True:
                pro.append(Argument(f"{words.name(self.kb, f)}{where}: observed", source, (key,)))
            elif value is False:
                con.append(Argument(words.fact(self.result, key, recorded_false=True), source, (key,)))
        if pro:
            standing, nxt = "present", None
        else:
            standing = "not recorded"
            recorded = {f for f in _COMPENSATIONS if f in self.kb.findings and self.result.case.findings.get(self.key(f)) is not None}
            nxt = None
            for rec in ("assess_squat", "assess_foot_presentation"):
                produced = [f for f in _COMPENSATIONS if f in self.kb.findings and self.kb.findings[f].assessment == rec]
                if produced and not any(f in recorded for f in produced) and self.recommendation(rec):
                    nxt = rec
                    break
        row = self.row("ribcage_knee_foot", _LABELS["ribcage_knee_foot"], standing, pro, con, nxt, ())
        return Contributor(row.id, row.side, row.label, row.standing, row.holds, row.arguments_for,
                           row.arguments_against, row.next_assessment, _unique((reading, *row.sources)), ())

    # -- assembling a row

    def row(self, cid: str, label: str, standing: str, pro: Iterable[Argument], con: Iterable[Argument],
            nxt: str | None, assumptions: tuple[Key, ...]) -> Contributor:
        pro, con = _distinct(pro), _distinct(con)
        sources = _unique(a.source for a in (*pro, *con) if a.source is not None)
        return Contributor(cid, self.side, label, standing, standing in ("supported", "present"), pro, con, nxt,
                           sources, assumptions)


def _negatives(just: Justification) -> list[tuple[Key, bool]]:
    """The ``not`` conditions a justification met: (key, recorded false?) in order."""
    out = [(k, True) for k in just.recorded_false]
    out += [(k, False) for k in just.assumptions]
    return sorted(out, key=lambda kv: _order(kv[0]))


def _order(key: Key) -> tuple[str, int]:
    return (key[0], {"left": 0, "right": 1, None: 2}[key[1]])


def _distinct(arguments: Iterable[Argument]) -> tuple[Argument, ...]:
    out: list[Argument] = []
    for a in arguments:
        if all((a.text, a.keys) != (b.text, b.keys) for b in out):
            out.append(a)
    return tuple(out)


def _unique(citations: Iterable[Citation]) -> tuple[Citation, ...]:
    out: list[Citation] = []
    for c in citations:
        if c not in out:
            out.append(c)
    return tuple(out)
