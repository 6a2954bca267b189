"""Tipping points: the readings at which a conclusion or recommendation would appear or go.

For each degrees reading entered in a case (per side), the candidate
tipping values come from the rule conditions, not from scanning degrees:
every threshold the reading is compared with (``below`` / ``at_least``),
and for ``lower_side`` the other side's reading minus the asymmetry
threshold (this side lower) or plus it (the other side lower, which is how
a change on this side flips the *other* side). Between two neighbouring
candidates every comparison keeps its truth value, so the result cannot
change there. Each candidate is then confirmed by rerunning the case
(same KB, thresholds and mdc) with the reading moved onto it and just
across it; a candidate where nothing appears or goes is dropped, and the
changes listed are exactly the difference between the two reruns.

What a tipping value means (``op``, read from the actual reading towards
the tipping value): ``at_least`` / ``at_most`` — a reading of exactly the
tipping value already brings the changes (IR 23° against a "below 25°"
threshold: limited up to just under 25°, within range at 25°); ``below`` /
``above`` — only a reading beyond it does, however close (IR 27°: still
within range at 25°, limited below 25°). ``distance`` is |tipping value −
reading| either way, and ``within_mdc`` is ``distance < mdc`` (strictly),
so the tipping value at a reading's own threshold is within the MDC exactly
when the reading is ``borderline``. Each tipping value lists the changes on
crossing *it*: moving further brings those of the nearer tipping values in
the same direction too. A tipping value that needs a reading outside the
finding's valid range is left out.

>>> import hipkb
>>> s = sensitivity(hipkb.assess({"findings": {"supine_hip_ir": {"left": 23}}}))
>>> t = s.tipping[0]
>>> t.finding, t.side, t.value, t.op, t.tipping_value, t.distance, t.within_mdc
('supine_hip_ir', 'left', 23.0, 'at_least', 25.0, 2.0, True)
>>> [c.to_dict() for c in t.changes][:2]
[{'id': 'ir_limited', 'side': 'left', 'goes': True}, {'id': 'ir_within_range', 'side': 'left', 'appears': True}]
>>> print(s.text().splitlines()[4])
Left supine IR 23°: at 25° (2° away, within the 6.1° measurement error) IR would be within range, ... the programme would go (and ... other changes).
"""

from __future__ import annotations

import bisect
import math
from typing import Any, Literal, Mapping, TypeGuard

from ..infer import KnowledgeBase
from ..model import SIDES, Key, KBModel, Side, other_side
from ..record import field, record
from ..result import Result, side_rank
from ..sanitize import clean
from .programme import programme

__all__ = ["Change", "TippingPoint", "EnteredReading", "Sensitivity", "sensitivity", "Op", "Detail"]

#: How the reading must relate to the tipping value for the changes to happen.
Op = Literal["below", "at_most", "at_least", "above"]
Detail = Literal["brief", "full"]

#: How far past a tipping value the confirming rerun moves the reading (or
#: half the way to the next candidate, when that is nearer).
STEP = 0.01
#: Candidate tipping values are rounded to this many decimals, so that a
#: boundary computed as 40.3 − 10 is the 30.3 an assessor would type.
DECIMALS = 6

#: Short names for the measurements a student enters (other findings: the KB label).
_SHORT = {
    "supine_hip_ir": "supine IR",
    "straight_leg_raise": "straight leg raise",
    "supine_hip_flexion": "hip flexion",
}
#: Plain words for the states measured against a threshold: (appears, goes).
_PHRASES = {
    "ir_limited": ("IR would be limited", "IR would no longer be limited"),
    "ir_within_range": ("IR would be within range", "IR would no longer be within range"),
    "ir_asymmetry": ("IR would count as lower than on the other side",
                     "IR would no longer count as lower than on the other side"),
    "hip_flexion_limited": ("hip flexion would be limited", "hip flexion would no longer be limited"),
}
_OP_WORDS = {"below": "below", "above": "above", "at_least": "at", "at_most": "at"}


@record
class Change:
    """A conclusion (``kind`` ``state``) or recommendation that appears or goes."""

    id: str
    side: Side
    appears: bool
    kind: Literal["state", "recommendation"] = "state"
    label: str = ""
    #: a conclusion read directly from the moved reading (it carries its measurement)
    direct: bool = False

    @property
    def key(self) -> Key:
        return (self.id, self.side)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "side": self.side, ("appears" if self.appears else "goes"): True}


@record
class TippingPoint:
    """One reading at which something appears or goes (see the module docstring for ``op``).

    ``probe``: the reading the confirming rerun used (the tipping value
    itself for ``at_least``/``at_most``, just past it for ``below``/``above``);
    ``summary``: the changes in plain words, as the text shows them.
    """

    finding: str
    side: Side
    value: float
    tipping_value: float
    op: Op
    distance: float
    mdc: float | None
    within_mdc: bool
    changes: tuple[Change, ...]
    probe: float
    summary: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "finding": self.finding,
            "side": self.side,
            "value": _number(self.value),
            "tipping_value": _number(self.tipping_value),
            "op": self.op,
            "distance": _number(self.distance),
            "mdc": None if self.mdc is None else _number(self.mdc),
            "within_mdc": self.within_mdc,
            "changes": [c.to_dict() for c in self.changes],
        }


@record
class EnteredReading:
    """A degrees reading entered in the case, and the range it may take."""

    finding: str
    side: Side
    value: float
    low: float
    high: float
    name: str


@record
class Sensitivity:
    """Every tipping value of a result: ``tipping`` in a fixed order (side, finding, distance)."""

    tipping: tuple[TippingPoint, ...]
    readings: tuple[EnteredReading, ...] = ()
    subject: str | None = None

    def within_mdc(self) -> tuple[TippingPoint, ...]:
        """The tipping values closer to their reading than its measurement error."""
        return tuple(t for t in self.tipping if t.within_mdc)

    def to_dict(self) -> dict[str, Any]:
        """``{"tipping": [{"finding", "side", "value", "tipping_value", "op", "distance", "mdc", "within_mdc", "changes"}]}``."""
        return {"tipping": [t.to_dict() for t in self.tipping]}

    def text(self, *, detail: Detail = "brief") -> str:
        """Plain words for a student, one line per tipping value; ``detail="full"`` lists every change."""
        title = "Tipping points" + (f" for {clean(self.subject)}" if self.subject else "")
        lines = [
            f"{title}: the readings at which a conclusion or recommendation would appear or go.",
            '"at 25°" means a reading of 25° already changes it; "below 25°" means any reading under 25° does, '
            "25° itself does not.",
            "Each line lists what changes on crossing that value; going further also brings the changes of the "
            "nearer values in the same direction.",
        ]
        if not self.readings:
            lines += ["", "No measurement was entered: nothing to move."]
        for side in (*SIDES, None):
            mine = [r for r in self.readings if r.side == side]
            if not mine:
                continue
            lines.append("")
            for reading in mine:
                head = f"{_side_word(side, reading.name)} {_deg(reading.value)}°"
                points = [t for t in self.tipping if t.side == side and t.finding == reading.finding]
                if not points:
                    lines.append(f"{head}: nothing would change anywhere in its range "
                                 f"({_deg(reading.low)}–{_deg(reading.high)}°).")
                for t in points:
                    error = "" if not t.within_mdc else f", within the {_deg(t.mdc or 0)}° measurement error"
                    lines.append(f"{head}: {_OP_WORDS[t.op]} {_deg(t.tipping_value)}° "
                                 f"({_deg(t.distance)}° away{error}) {t.summary}.")
                    if detail == "full":
                        for c in t.changes:
                            where = "" if c.side is None else f"/{c.side}"
                            lines.append(f"    {'appears' if c.appears else 'goes'}: {clean(c.label)} "
                                         f"[{clean(c.id)}{where}]")
        if self.within_mdc():
            lines += ["", "A tipping value within the measurement error could be crossed by measuring again: "
                          "retest that reading, with the same instrument."]
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------


def sensitivity(result: Result) -> Sensitivity:
    """The tipping values of every degrees reading entered in ``result``'s case.

    >>> import hipkb
    >>> s = hipkb.assess("examples/demo-01.yaml").sensitivity()
    >>> [(t.side, t.finding, t.tipping_value, t.distance, t.within_mdc) for t in s.tipping][:2]
    [('left', 'supine_hip_ir', 25.0, 13.0, False), ('left', 'supine_hip_ir', 30.0, 18.0, False)]
    """
    kb = result.kb if isinstance(result.kb, KnowledgeBase) else KnowledgeBase.from_model(result.kb)
    readings: list[EnteredReading] = []
    points: list[TippingPoint] = []
    for finding in kb.findings.values():
        if finding.type != "degrees":
            continue
        for side in (*SIDES, None):
            value = result.case.findings.get((finding.id, side))
            if not _is_number(value):
                continue
            low, high = finding.range or (-math.inf, math.inf)
            reading = EnteredReading(finding.id, side, float(value), float(low), float(high),
                              _SHORT.get(finding.id) or finding.label)
            readings.append(reading)
            points += _tipping(kb, result, reading)
    order = {f: i for i, f in enumerate(kb.findings)}
    ops = {"below": 0, "at_most": 0, "at_least": 1, "above": 1}
    points.sort(key=lambda t: (side_rank(t.side), order[t.finding], t.distance, ops[t.op], t.tipping_value))
    readings.sort(key=lambda r: (side_rank(r.side), order[r.finding]))
    return Sensitivity(tuple(points), tuple(readings), result.case.subject)


def candidates(kb: KBModel, findings: Mapping[Key, float | bool], thresholds: Mapping[str, float],
               finding: str, side: Side) -> list[float]:
    """The values of ``finding`` on ``side`` at which some rule condition changes truth value, sorted.

    >>> import hipkb
    >>> kb = hipkb.load_kb()
    >>> f = {("supine_hip_ir", "left"): 12.0, ("supine_hip_ir", "right"): 40.0}
    >>> candidates(kb, f, kb.default_thresholds(), "supine_hip_ir", "left")
    [25.0, 30.0, 50.0]
    """
    out: set[float] = set()
    for branch in kb.branches:
        for context in branch.contexts:
            for cond in branch.conditions:
                if not cond.compares or cond.ref != finding or cond.threshold is None or cond.threshold not in thresholds:
                    continue
                limit = thresholds[cond.threshold]
                if cond.kind == "finding":
                    sides = cond.sides(context)
                    if sides is not None and side in sides:
                        out.add(limit)
                elif cond.kind == "lower_side" and context is not None and side is not None:
                    # this side lower: other − x > limit  ⇔  x < other − limit
                    # the other side lower: x − other > limit  ⇔  x > other + limit
                    other = findings.get((finding, other_side(context)))
                    here = findings.get((finding, context))
                    if context == side and _is_number(other):
                        out.add(other - limit)
                    elif context == other_side(side) and _is_number(here):
                        out.add(here + limit)
    return sorted({round(b, DECIMALS) + 0.0 for b in out})


def _tipping(kb: KnowledgeBase, result: Result, reading: EnteredReading) -> list[TippingPoint]:
    key = (reading.finding, reading.side)
    bounds = candidates(kb, result.case.findings, result.thresholds, reading.finding, reading.side)
    runs: dict[float, Result] = {}

    def run(value: float) -> Result:
        if value not in runs:
            case = result.case.with_findings({key: value})
            runs[value] = kb.assess(case, thresholds=dict(result.thresholds), mdc=dict(result.mdc))
        return runs[value]

    mdc = result.mdc.get(reading.finding)
    out = []
    for direction in (-1, 1):
        before = result
        for tipping_value, op, probe in _steps(bounds, reading, direction):
            after = run(probe)
            changes = _diff(kb, before, after, reading)
            if changes:
                distance = round(abs(tipping_value - reading.value), DECIMALS) + 0.0
                point = TippingPoint(
                    reading.finding, reading.side, reading.value, tipping_value, op, distance, mdc,
                    mdc is not None and distance < mdc, changes, probe,
                )
                out.append(_with_summary(point, kb, before, after))
            before = after
    return out


def _steps(bounds: list[float], reading: EnteredReading, direction: int) -> list[tuple[float, Op, float]]:
    """The crossings met moving the reading one way: (tipping value, op, reading just across).

    The line is cut into pieces: each candidate alone, and the open stretches
    between candidates; every comparison is constant on a piece. Moving up, an
    open stretch gives way to the candidate at its end (``at_least``: reached
    at the candidate itself), then the candidate to the stretch above it
    (``above``: only past it); moving down, ``at_most`` and ``below``.
    """
    v, low, high = reading.value, reading.low, reading.high
    n = len(bounds)
    k = bisect.bisect_left(bounds, v)
    on_point = k < n and bounds[k] == v
    out: list[tuple[float, Op, float]] = []
    if direction > 0:
        j = k
        if on_point:
            if not _push_open_above(out, bounds, k, high):
                return out
            j = k + 1
        for j in range(j, n):
            b = bounds[j]
            if b > high:
                break
            out.append((b, "at_least", b))
            if not _push_open_above(out, bounds, j, high):
                break
    else:
        j = k - 1
        if on_point:
            if not _push_open_below(out, bounds, k, low):
                return out
        for j in range(j, -1, -1):
            b = bounds[j]
            if b < low:
                break
            out.append((b, "at_most", b))
            if not _push_open_below(out, bounds, j, low):
                break
    return out


def _push_open_above(out: list[tuple[float, Op, float]], bounds: list[float], j: int, high: float) -> bool:
    b = bounds[j]
    upper = min(bounds[j + 1] if j + 1 < len(bounds) else math.inf, high)
    if not b < upper:
        return False  # nothing above b within the valid range
    out.append((b, "above", b + min(STEP, (upper - b) / 2)))
    return True


def _push_open_below(out: list[tuple[float, Op, float]], bounds: list[float], j: int, low: float) -> bool:
    b = bounds[j]
    lower = max(bounds[j - 1] if j > 0 else -math.inf, low)
    if not lower < b:
        return False
    out.append((b, "below", b - min(STEP, (b - lower) / 2)))
    return True


def _diff(kb: KBModel, before: Result, after: Result, reading: EnteredReading) -> tuple[Change, ...]:
    """What appears and goes between two results, states then recommendations in KB order."""
    changes = []
    tables: tuple[tuple[Literal["state", "recommendation"], str], ...] = (
        ("state", "conclusions"), ("recommendation", "recommendations"),
    )
    for kind, table in tables:
        old = {i.key: i for i in getattr(before, table)}
        new = {i.key: i for i in getattr(after, table)}
        for key in old.keys() ^ new.keys():
            appears = key in new
            item = new[key] if appears else old[key]
            measurement = getattr(item, "measurement", None)
            direct = measurement is not None and measurement.finding == reading.finding
            changes.append(Change(key[0], key[1], appears, kind, item.label, direct))
    states, recs = kb.position("states"), kb.position("recommendations")
    changes.sort(key=lambda c: (0 if c.kind == "state" else 1,
                                (states if c.kind == "state" else recs)[c.id], side_rank(c.side)))
    return tuple(changes)


def _with_summary(point: TippingPoint, kb: KBModel, before: Result, after: Result) -> TippingPoint:
    """The change in plain words: the reading's own conclusions, the programme, and how many more."""
    phrases: list[str] = []
    told: set[tuple[str, Key]] = set()
    sides = [s for s in (point.side, *(s for s in (*SIDES, None) if s != point.side))
             if any(c.side == s for c in point.changes)]
    for side in sides:
        mine = [c for c in point.changes if c.side == side]
        prefix = "" if side == point.side else f"on the {side}, " if side else "with no side, "
        said: list[str] = []
        direct = [c for c in mine if c.kind == "state" and c.direct]
        told.update(("state", c.key) for c in direct)
        keys = {c.id: c for c in direct}
        for c in direct:  # the measured states, in plain words; an opposite pair once
            if c.id not in _PHRASES:
                continue
            opposite = kb.states[c.id].opposite if c.id in kb.states else None
            partner = keys.get(opposite or "")
            if partner is not None and partner.appears != c.appears and (partner.id in _PHRASES) and not c.appears:
                continue  # said by its opposite ("IR would be within range" says limited IR goes)
            said.append(_PHRASES[c.id][0 if c.appears else 1])
        appear = [_lower(clean(c.label)) for c in direct if c.id not in _PHRASES and c.appears]
        go = [_lower(clean(c.label)) for c in direct if c.id not in _PHRASES and not c.appears]
        if appear and go:
            said.append(f"{_join(appear)} would hold instead of {_join(go)}")
        elif appear:
            said.append(f"{_join(appear)} would hold")
        elif go:
            said.append(f"{_join(go)} would no longer hold")
        had, has = programme(before, side), programme(after, side)
        if had.exists != has.exists:
            said.append("the programme would " + ("go" if had.exists else "be recommended"))
            told.update(("recommendation", r.key) for r in (*had.items, *has.items))
        if said:
            phrases.append(prefix + _join(said))
    rest = sum(1 for c in point.changes if (c.kind, c.key) not in told)
    if not phrases:
        text = f"{rest} conclusion{'s' if rest != 1 else ''} or recommendation{'s' if rest != 1 else ''} would change"
    else:
        text = "; ".join(phrases)
        if rest:
            text += f" (and {rest} other change{'s' if rest != 1 else ''})"
    return TippingPoint(point.finding, point.side, point.value, point.tipping_value, point.op, point.distance,
                        point.mdc, point.within_mdc, point.changes, point.probe, text)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _lower(label: str) -> str:
    """Lower-case the first letter of a label unless it starts an acronym ("IR …")."""
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        return label[0].lower() + label[1:]
    return label


def _side_word(side: Side, name: str) -> str:
    """"Left supine IR"; a reading with no side: "Supine IR"."""
    name = clean(name)
    return f"{side.capitalize()} {name}" if side else name[:1].upper() + name[1:]


def _deg(value: float) -> str:
    return f"{round(value, 4):g}"


def _number(value: float) -> int | float:
    value = round(value, DECIMALS)
    return int(value) if float(value).is_integer() else value


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
