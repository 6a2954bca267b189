"""What if some findings were different? Assess again and compare.

:func:`what_if` reruns a result's case with findings changed (several at
once; None removes one; a state id sets or clears a given state), with
the same thresholds, measurement errors and engine-independent rules, and
lists what **appears**, what **goes**, what **changes status** (or
evidence), and the **borderline** changes: a reading that becomes, or
stops being, within its measurement error of its threshold.

>>> import hipkb
>>> result = hipkb.assess("examples/demo-01.yaml")
>>> diff = what_if(result, {("supine_hip_ir", "left"): 30.0})
>>> [(d.key, d.after) for d in diff.appears]
[(('ir_within_range', 'left'), ('measured', 'clinical-norm'))]
>>> [(b.finding, b.side, b.after) for b in diff.borderline]
[('supine_hip_ir', 'left', True)]
>>> parse_change(result.kb, "straight_leg_raise.left=85")
{('straight_leg_raise', 'left'): 85.0}
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..case import Case
from ..errors import ExplainError, InputError, UnknownId, suggest
from ..model import SIDES, KBModel, Key, Side, key_str
from ..record import field, record
from ..result import Conclusion, RecommendationResult, Result, side_rank
from ..sanitize import clean
from . import words
from .words import Line, render

__all__ = ["Difference", "BorderlineChange", "WhatIf", "what_if", "parse_change"]

Value = float | bool | None


@record
class Difference:
    """A conclusion or recommendation that appears, goes, or changes status or evidence.

    ``before`` and ``after`` are (status, evidence), None where the item is absent.
    """

    kind: str  # "conclusion" | "recommendation"
    key: Key
    label: str
    before: tuple[str, str] | None
    after: tuple[str, str] | None

    def to_dict(self) -> dict[str, Any]:
        def side(value: tuple[str, str] | None) -> dict[str, str] | None:
            return None if value is None else {"status": value[0], "evidence": value[1]}

        return {"kind": self.kind, "id": self.key[0], "side": self.key[1], "label": self.label,
                "before": side(self.before), "after": side(self.after)}


@record
class BorderlineChange:
    """A reading that becomes (``after``) or stops being (``before``) borderline against a threshold."""

    finding: str
    side: str | None
    threshold: float
    mdc: float | None
    value_before: float | None
    value_after: float | None
    before: bool
    after: bool

    def to_dict(self) -> dict[str, Any]:
        return {"finding": self.finding, "side": self.side, "threshold": _num(self.threshold), "mdc": _num(self.mdc),
                "value_before": _num(self.value_before), "value_after": _num(self.value_after),
                "borderline_before": self.before, "borderline_after": self.after}


@record
class WhatIf:
    """A case and the same case with some findings changed: what appears, goes and changes."""

    changes: tuple[tuple[Key, Value, Value], ...]  # (key, before, after)
    before: Result = field(repr=False)
    after: Result = field(repr=False)
    appears: tuple[Difference, ...]
    goes: tuple[Difference, ...]
    changed: tuple[Difference, ...]
    borderline: tuple[BorderlineChange, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "changes": [{"id": k[0], "side": k[1], "before": _json(b), "after": _json(a)} for k, b, a in self.changes],
            "appears": [d.to_dict() for d in self.appears],
            "goes": [d.to_dict() for d in self.goes],
            "changes_status": [d.to_dict() for d in self.changed],
            "borderline": [b.to_dict() for b in self.borderline],
        }

    def text(self, *, detail: str = "brief") -> str:
        """Plain language: the changes asked, then what appears, goes, changes and turns borderline."""
        kb = self.before.kb
        asked = "; ".join(_change_words(self.before, k, b, a) for k, b, a in self.changes)
        lines = [Line(0, f"What if {asked}?")]
        if not (self.appears or self.goes or self.changed or self.borderline):
            lines.append(Line(0, "Nothing changes: the same conclusions and recommendations, with the same statuses."))
        sections = (("Appears:", "+", self.appears), ("Goes:", "-", self.goes), ("Changes status:", "~", self.changed))
        for title, mark, items in sections:
            if not items:
                continue
            lines.append(Line(0, title))
            for d in items:
                ids = f" [{d.key[0]}]"
                if d.before is None:
                    said = f"{words.thing(kb, d.key)} — {_pair(d.after)}"
                elif d.after is None:
                    said = f"{words.thing(kb, d.key)} (was {_pair(d.before)})"
                else:
                    said = f"{words.thing(kb, d.key)}: {_pair(d.before)} → {_pair(d.after)}"
                lines.append(Line(1, f"{mark} {said}"))
                lines.append(Line(2, ids.strip(), full=True))
        if self.borderline:
            lines.append(Line(0, "Borderline readings:"))
            for b in self.borderline:
                lines.append(Line(1, f"! {_borderline_words(kb, b)}"))
        return render(lines, detail=detail)


def _pair(value: tuple[str, str] | None) -> str:
    return "" if value is None else f"{value[0]}, {value[1]}"


def _change_words(result: Result, key: Key, before: Value, after: Value) -> str:
    kb = result.kb
    where = f" {words.on_side(key[1])}" if key[1] is not None else ""
    return f"{words.name(kb, key[0])}{where} were {_value(after)} (instead of {_value(before)})"


def _borderline_words(kb: KBModel, b: BorderlineChange) -> str:
    where = f" {words.on_side(b.side)}" if b.side is not None else ""
    label = words.name(kb, b.finding)
    error = f"the {words.deg(b.mdc)} measurement error" if b.mdc is not None else "its measurement error"
    if b.after and b.value_after is not None:
        return (f"{label}{where}: {words.deg(b.value_after)} is now within {error} of the "
                f"{words.deg(b.threshold)} threshold (retest)")
    if b.value_after is None:
        return f"{label}{where}: no longer recorded, so no longer borderline"
    return (f"{label}{where}: {words.deg(b.value_after)} is no longer within {error} of the "
            f"{words.deg(b.threshold)} threshold")


def _value(value: Value) -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "observed" if value else "recorded as not observed"
    return words.deg(value)


def _json(value: Value) -> Any:
    return _num(value) if isinstance(value, float) else value


def _num(value: float | None) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --------------------------------------------------------------------------
# Changes


def parse_change(kb: KBModel, text: str) -> dict[Key, Value]:
    """Read ``ID.SIDE=VALUE`` (or ``ID=VALUE`` for what has no side) into changes.

    VALUE is a number (degrees), ``true``, ``false`` or ``none`` (remove).
    A sided true/false item without a side applies to both sides, as in
    case files; a sided reading needs its side.

    >>> from hipkb.kb import load_model
    >>> parse_change(load_model(), "rib_cage_side_bend=true")
    {('rib_cage_side_bend', None): True}
    >>> parse_change(load_model(), "hip_ir.left=20")
    Traceback (most recent call last):
    ...
    hipkb.errors.UnknownId: unknown finding 'hip_ir' in 'hip_ir.left=20' (did you mean 'supine_hip_ir'?)
    """
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise InputError(f"a change is ID.SIDE=VALUE or ID=VALUE, not {clean(text)!r}")
    item, dot, side_text = name.strip().partition(".")
    side = side_text if dot else None
    raw = raw.strip()
    kind = kb.kind_of(item)
    if kind not in ("finding", "state"):
        hint = suggest(item, kb.findings, aliases=kb.aliases()) or suggest(item, kb.states)
        raise UnknownId(f"unknown finding {clean(item)!r} in {clean(text)!r}", hint=hint)
    if side is not None and side not in SIDES:
        raise InputError(f"unknown side {clean(side)!r} in {clean(text)!r}", hint=suggest(side, SIDES) or "sides are left and right")
    lowered = raw.lower()
    value: Value
    if lowered in ("none", "null", ""):
        value = None
    elif lowered in ("true", "yes"):
        value = True
    elif lowered in ("false", "no"):
        value = False
    else:
        try:
            value = float(raw) if len(raw) <= 32 else math.nan
        except ValueError:
            raise InputError(f"{clean(raw)!r} is not a number, true, false or none (in {clean(text)!r})") from None
        if not math.isfinite(value):
            raise InputError(f"{clean(text)!r} needs a finite number of degrees")
    sided = kb.is_sided(item)
    if not sided and side is not None:
        raise InputError(f"{item!r} belongs to no side: write {item}={raw}")
    if sided and side is None:
        degrees = kind == "finding" and kb.findings[item].type == "degrees"
        if degrees:
            raise InputError(f"{item!r} is sided: give a side, e.g. {item}.left={raw}")
        return {(item, s): value for s in SIDES}
    return {(item, side): value}


def _check(kb: KBModel, key: Key, value: Value) -> None:
    item, side = key
    kind = kb.kind_of(item)
    if kind not in ("finding", "state"):
        pool = [*kb.findings, *kb.states]
        raise UnknownId(f"unknown finding {clean(str(item))!r}", hint=suggest(str(item), pool, aliases=kb.aliases()))
    if side not in (*SIDES, None):
        raise InputError(f"unknown side {clean(str(side))!r} for {item!r}", hint="sides are left and right")
    if kb.is_sided(item) != (side is not None):
        raise InputError(f"{item!r} {'is sided: give a side' if side is None else 'belongs to no side'}")
    if value is None:
        return
    if kind == "state" or kb.findings[item].type == "boolean":
        if not isinstance(value, bool):
            raise InputError(f"{key_str(key)} takes true, false or none, not {value!r}")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{key_str(key)} needs a number of degrees (or none), not {value!r}")
    low, high = kb.findings[item].range or (-math.inf, math.inf)
    if not low <= value <= high:
        raise InputError(f"{key_str(key)} = {value:g}° is outside its valid range [{low:g}, {high:g}]")


def _apply(kb: KBModel, case: Case, changes: Mapping[Key, Value]) -> Case:
    findings = {k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
                for k, v in changes.items() if k[0] in kb.findings}
    given = list(case.given)
    for key, value in changes.items():
        if key[0] in kb.states:
            if value is True and key not in given:
                given.append(key)
            elif value is not True and key in given:
                given.remove(key)
    updated = case.with_findings(findings)
    return Case(updated.findings, tuple(given), updated.thresholds, updated.subject, updated.path, updated.mdc)


def what_if(result: Result, changes: Mapping[Key, Value]) -> WhatIf:
    """Assess ``result``'s case again with ``changes``: what appears, goes, changes, turns borderline.

    ``changes`` maps (finding id, side) to a value (degrees, true or
    false), or None to remove the finding; a state id sets (true) or
    clears a given state. Raises :class:`~hipkb.errors.UnknownId` for an
    id the KB does not declare.
    """
    from ..infer import KnowledgeBase

    kb = result.kb
    if not changes:
        raise ExplainError("what-if needs at least one change")
    for key, value in changes.items():
        _check(kb, key, value)
    engine = kb if isinstance(kb, KnowledgeBase) else KnowledgeBase.from_model(kb)
    after = engine.assess(_apply(kb, result.case, changes), thresholds=dict(result.thresholds), mdc=dict(result.mdc))
    before_case = result.case
    recorded = tuple(
        (key, _before(before_case, key), None if value is None else (float(value) if not isinstance(value, bool) else value))
        for key, value in sorted(changes.items(), key=lambda kv: (kb.position("findings").get(kv[0][0], -1), kv[0][0], side_rank(kv[0][1])))
    )
    appears, goes, changed = _differences(result, after)
    return WhatIf(recorded, result, after, tuple(appears), tuple(goes), tuple(changed), _borderline(result, after))


def _before(case: Case, key: Key) -> Value:
    if key in case.findings:
        return case.findings[key]
    return True if key in case.given else None


def _differences(before: Result, after: Result) -> tuple[list[Difference], list[Difference], list[Difference]]:
    appears: list[Difference] = []
    goes: list[Difference] = []
    changed: list[Difference] = []
    for kind, old_items, new_items in (
        ("conclusion", before.conclusions, after.conclusions),
        ("recommendation", before.recommendations, after.recommendations),
    ):
        old = {i.key: i for i in old_items}
        new = {i.key: i for i in new_items}
        for key, item in new.items():
            now = (item.status, item.evidence)
            if key not in old:
                appears.append(Difference(kind, key, clean(item.label), None, now))
            else:
                was = (old[key].status, old[key].evidence)
                if was != now:
                    changed.append(Difference(kind, key, clean(item.label), was, now))
        for key, item in old.items():
            if key not in new:
                goes.append(Difference(kind, key, clean(item.label), (item.status, item.evidence), None))
    return appears, goes, changed


def _readings(result: Result) -> dict[tuple[str, Side, float], tuple[float, float | None, bool]]:
    """Every reading compared with a threshold in the result: (finding, side, threshold) → (value, mdc, borderline)."""
    out: dict[tuple[str, Side, float], tuple[float, float | None, bool]] = {}
    items: list[Conclusion | RecommendationResult] = [*result.conclusions, *result.recommendations]
    for item in items:
        for just in item.justifications:
            for m in just.measurements:
                out.setdefault((m.finding, m.side, m.threshold), (m.value, m.mdc, m.borderline))
    return out


def _borderline(before: Result, after: Result) -> tuple[BorderlineChange, ...]:
    old, new = _readings(before), _readings(after)
    out = []
    for where in sorted(set(old) | set(new), key=lambda w: (w[0], side_rank(w[1]), w[2])):
        was = old.get(where)
        now = new.get(where)
        flag_before = bool(was and was[2])
        flag_after = bool(now and now[2])
        if flag_before == flag_after:
            continue
        either = now if now is not None else was
        assert either is not None  # the flag changed, so the reading is in one result at least
        mdc = either[1]
        out.append(BorderlineChange(where[0], where[1], where[2], mdc, None if was is None else was[0],
                                    None if now is None else now[0], flag_before, flag_after))
    return tuple(out)
