"""The student report: a bottom line first, then conclusions and recommendations in words.

``hipkb assess CASE`` prints :func:`text_report`; Jupyter shows
:func:`markdown_report` (the same content); the HTML report shows the same
:func:`bottom_line`. JSON is ``Result.to_dict()``, not this.

The report opens with a section headed ``Bottom line``: per side (left,
right, then what belongs to no side) at most four lines — any referral
first, the supine IR reading against its threshold (or "not measured"),
the contributors that hold (from the differential), and the first steps of
the programme in order, or "measure supine IR first" where the limitation
is only predicted or suspected. Then, concisely: disagreements in words,
the conclusions per side (plain labels, status and evidence in words, the
compensations each limitation shows as, assumptions, borderline
readings), and one entry per recommendation with its sides merged,
exercises numbered in this person's order. ``detail="full"`` adds the ids,
rule ids and the article's quotes.

>>> import hipkb
>>> result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12, "right": 40}}})
>>> for line in bottom_line(result)[0].lines:
...     print(line)
Supine IR 12°, below the 25° threshold: limited.
Contributing: posterior hip capsule closed.
Start with: Arm bar, then Front foot elevated split squat, then Cable crossover step-up.
>>> print(text_report(result).splitlines()[0])
Bottom line
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Literal, Sequence

from ..model import SIDES, Citation, KBModel, Key, Side, key_str
from ..record import field, record
from ..sanitize import clean
from .programme import programme
from .words import alike_premises, evidence_words, kind_title, status_words

if TYPE_CHECKING:
    from ..result import Conclusion, Disagreement, Justification, Measurement, RecommendationResult, Result

__all__ = [
    "Detail",
    "BottomLine",
    "bottom_line",
    "text_report",
    "markdown_report",
    "markdown_escape",
    "sides_text",
    "COACHING_NOTE",
]

Detail = Literal["brief", "full"]

COACHING_NOTE = (
    "A coaching model, not a diagnosis: rules from one coaching article (Resilient Movement blog, 2025), "
    "with clinical norms cited for the numbers."
)

# Stable ids of DESIGN's vocabulary the report words specially; a KB without
# them still gets a report, only without these lines.
_IR_FINDING = "supine_hip_ir"
_LIMITED = "ir_limited"
_WITHIN = "ir_within_range"
_SUSPECTED = "ir_limitation_suspected"
_HOLD_STEP_UP = "hold_loaded_ir_with_pinch"
_STEP_UP = "cable_crossover_step_up"
_SHIFT = "shift_centre_of_gravity"
_MEASURE_FIRST = "assess_supine_hip_ir"
_CONFOUNDED = "ir_test_confounded_by_pelvis"
_RETEST = "retest_supine_ir_pelvis_neutral"
_PELVIC_CHAIN = frozenset({
    "pelvis_not_internally_rotating", "inlet_not_closing", "outlet_not_opening",
    "acetabulum_not_anteverted", "femur_glide_space_lacking",
})

_VERBS = {"given": "states", "indicated": "indicates", "inferred": "suggests", "predicted": "predicts", "measured": "measures"}
_KIND_ORDER = {"principle": 0, "strategy": 1, "caution": 2, "assessment": 3, "exercise": 4}
_SIDE_ORDER = {"left": 0, "right": 1, None: 2}
_SIDES: tuple[Side, Side] = ("left", "right")


# --------------------------------------------------------------------------
# Small words


def _deg(value: float) -> str:
    return f"{float(value):g}°"


def _lower(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym (``IR``, ``FAI``)."""
    head = text.split(" ", 1)[0]
    if len(head) > 1 and head.isupper():
        return text
    return text[:1].lower() + text[1:]


def _label(kb: KBModel, item_id: str) -> str:
    return clean(kb.label(item_id))


def _name(kb: KBModel, item_id: str) -> str:
    return _lower(_label(kb, item_id))


def _side_name(side: str | None) -> str:
    return side if side is not None else "no side"


def sides_text(sides: Iterable[str | None]) -> str:
    """Sides merged in their fixed order: ``left, right`` (``no side`` for what has none).

    >>> sides_text(["right", None, "left"])
    'left, right, no side'
    """
    return ", ".join(_side_name(s) for s in sorted(set(sides), key=lambda s: _SIDE_ORDER[s]))


def _join(items: Sequence[str], last: str = "and") -> str:
    items = list(dict.fromkeys(items))
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def _short(label: str) -> str:
    """A contributor's name without its gloss: ``Pelvic chain: pelvis → …`` → ``pelvic chain``."""
    return _lower(label.split(":", 1)[0].strip())


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def markdown_escape(text: str) -> str:
    r"""KB or case text made safe for Markdown: cleaned, with Markdown's punctuation escaped.

    >>> markdown_escape("pelvis_forward <b>*x*</b>")
    'pelvis\\_forward \\<b\\>\\*x\\*\\</b\\>'
    """
    return _MD_SPECIAL.sub(r"\\\1", clean(text))


# --------------------------------------------------------------------------
# Facts in words


def _reading(result: Result, m: Measurement) -> str:
    """``12°, below the 25° threshold`` (or the side-to-side difference for an asymmetry)."""
    if m.threshold_id and m.threshold_id != m.finding and m.threshold_id in result.kb.states:
        return f"a {_deg(m.value)} difference between the sides (more than {_deg(m.threshold)})"
    compare = "below" if m.margin < 0 else "at or above"
    return f"{_deg(m.value)}, {compare} the {_deg(m.threshold)} threshold"


def _borderline_sentence(m: Measurement) -> str:
    """``23° is within the 6.1° measurement error of the 25° threshold: retest before acting on it.``"""
    return (
        f"{_deg(m.value)} is within the {_deg(m.mdc or 0)} measurement error of the {_deg(m.threshold)} "
        "threshold: retest before acting on it."
    )


def _assumptions_line(kb: KBModel, keys: Sequence[Key]) -> str:
    """``assuming no pelvis forward … (left; not recorded)``: each item once, with its sides."""
    sides: dict[str, list[str | None]] = {}
    for item, side in keys:
        sides.setdefault(item, []).append(side)
    by_where: dict[str, list[str]] = {}
    for item, where in sides.items():
        named = [s for s in where if s is not None]
        by_where.setdefault(_join([_side_name(s) for s in sorted(set(named), key=_SIDE_ORDER.__getitem__)]), []).append(
            f"no {_name(kb, item)}")
    return "; ".join(
        f"assuming ({'on the ' + where + ', ' if where else ''}not recorded): {'; '.join(items)}"
        for where, items in by_where.items()
    )


def _entered(result: Result, key: Key) -> str:
    """An entered finding or given state in a few words: ``hip hike``, ``straight leg raise angle 45°``."""
    item, _ = key
    value = result.case.findings.get(key)
    text = _name(result.kb, item)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text += f" {_deg(value)}"
    return text


def _premise(result: Result, key: Key, side: Side = None) -> str:
    """A premise in words; one read on the other side than the conclusion's says so (``… 30° on the left``)."""
    text = _entered(result, key) if key[0] in result.kb.findings else _name(result.kb, key[0])
    if side is not None and key[1] is not None and key[1] != side:
        text += f" on the {key[1]}"
    return text


def _origin(result: Result, c: Conclusion) -> str:
    """Where a conclusion came from, for a disagreement: ``the pelvic chain``, ``the case``, a reading."""
    if c.status == "given" or not c.justifications:
        return "the case"
    just = c.justifications[0]
    if c.measurement is not None:
        return f"the {_name(result.kb, c.measurement.finding)} ({_deg(c.measurement.value)})"
    if any(k[0] in _PELVIC_CHAIN for k in just.because):
        return "the pelvic chain"
    premises = [_premise(result, k, c.side) for k in just.because]
    return _join(premises) if premises else "the model"


def _roots(result: Result, keys: Iterable[Key], seen: set[Key] | None = None) -> list[Key]:
    """The entered findings (and given states) under some premises, following strongest justifications."""
    seen = set() if seen is None else seen
    out: list[Key] = []
    for key in keys:
        if key in seen:
            continue
        seen.add(key)
        if key[0] in result.kb.findings or key in result.case.given:
            out.append(key)
            continue
        item = result.item(key[0], key[1]) if key[0] in result.kb.states else None
        if item is not None and item.justifications:
            out += _roots(result, item.justifications[0].because, seen)
    return out


def _conclusion(result: Result, item_id: str, side: Side) -> Conclusion | None:
    if item_id not in result.kb.states:
        return None
    return result.conclusion(item_id, side)


# --------------------------------------------------------------------------
# The bottom line


@record
class BottomLine:
    """The bottom line for one side (``None``: what belongs to no side): at most four lines."""

    side: Side
    lines: tuple[str, ...]

    @property
    def heading(self) -> str:
        """``Left hip``, ``Right hip`` or ``No particular side``."""
        return f"{self.side.capitalize()} hip" if self.side is not None else "No particular side"


def bottom_line(result: Result) -> tuple[BottomLine, ...]:
    """The report's first section: per side, left then right then no side, at most four lines each.

    Left and right always have one (their IR reading, or "not measured");
    no side only when something in the result belongs to no side.
    """
    out = [BottomLine(side, _side_bottom_line(result, side)) for side in _SIDES]
    if any(c.side is None for c in result.conclusions) or any(r.side is None for r in result.recommendations):
        lines = _side_bottom_line(result, None)
        if lines:
            out.append(BottomLine(None, lines))
    return tuple(out)


def _side_bottom_line(result: Result, side: Side) -> tuple[str, ...]:
    kb = result.kb
    prog = programme(result, side)
    lines: list[str] = []
    if prog.referral is not None:
        because = _roots(result, [k for j in prog.referral.justifications[:1] for k in j.because])
        why = f" ({_join([_entered(result, k) for k in because])})" if because else ""
        lines.append(f"First, before any programme: {_lower(clean(prog.referral.label))}{why}.")
    ir_line = _ir_line(result, side)
    if ir_line:
        lines.append(ir_line)
    contributors = _contributors_line(result, side)
    if contributors:
        lines.append(contributors)
    next_line = _next_line(result, side, prog)
    if next_line:
        lines.append(next_line)
    return tuple(lines[:4])


def _ir_line(result: Result, side: Side) -> str | None:
    kb = result.kb
    if _IR_FINDING not in kb.findings:
        return None
    limited, within = _conclusion(result, _LIMITED, side), _conclusion(result, _WITHIN, side)
    suspected = _conclusion(result, _SUSPECTED, side)
    for c, word in ((limited, "limited"), (within, "within range")):
        if c is not None and c.measurement is not None:
            m = c.measurement
            text = f"Supine IR {_reading(result, m)}: {word}."
            if m.borderline:
                text += f" Borderline: {_borderline_sentence(m)}"
            if _conclusion(result, _CONFOUNDED, side) is not None:
                text += f" {_label(kb, _CONFOUNDED)}"
                retest = result.recommendation(_RETEST, side) if _RETEST in kb.recommendations else None
                text += f": {_lower(clean(retest.label))}." if retest is not None else "."
            return text
    where = "" if side is not None else " on either side"
    if limited is not None and limited.status == "given":
        return "Supine IR not measured; the case states it is limited."
    if limited is not None:
        return f"Supine IR not measured; {_origin(result, limited)} {_VERBS.get(limited.status, 'suggests')} it is limited."
    if suspected is not None:
        roots = _roots(result, alike_premises(suspected))
        shown = [_entered(result, k) for k in roots if k[0] != _IR_FINDING]
        why = f" {_join(shown)} suggest{'s' if len(shown) == 1 else ''} it may be limited" if shown else " a limitation is suspected"
        return f"Supine IR not measured{where};{why}."
    if side is None:
        return None
    return "Supine IR not measured."


def _contributors_line(result: Result, side: Side) -> str | None:
    if side is None:
        return None
    from .differential import differential, supports_differential

    if not supports_differential(result.kb):
        return None
    # borderline readings behind a contributor; the IR reading's own line already flags its own
    shaky = {k for c in result.conclusions if c.side == side for k in c.borderline if k[0] != _IR_FINDING}
    held = []
    for contributor in differential(result, side):
        if not contributor.holds:
            continue
        name = _short(clean(contributor.label))
        readings = [k for a in contributor.arguments_for for k in a.keys if k in shaky]
        if readings:
            name += f" (borderline {_join([_entered(result, k) for k in dict.fromkeys(readings)])})"
        held.append(name)
    if not held:
        return None
    names = "; ".join(held)
    if _conclusion(result, _LIMITED, side) is not None:
        return f"Contributing: {names}."
    if _conclusion(result, _WITHIN, side) is not None:
        return f"Found although IR is within range: {names}."
    return f"Possible contributors: {names}."


def _next_line(result: Result, side: Side, prog: object) -> str | None:
    from .programme import Programme

    assert isinstance(prog, Programme)
    if prog.exists and prog.pending:
        return "Measure supine IR first: the programme waits for that measurement."
    if prog.exists and prog.exercises:
        names = [clean(r.label) for r in prog.exercises]
        text = "Start with: " + ", then ".join(names) + "."
        if any(r.id == _HOLD_STEP_UP for r in prog.cautions):
            text += f" {clean(result.kb.label(_HOLD_STEP_UP))}."
        return text
    if _conclusion(result, _SUSPECTED, side) is not None:
        return "Measure supine IR first."
    return None


# --------------------------------------------------------------------------
# The body: a small document model, rendered as text or Markdown


@record(frozen=False)
class _Entry:
    text: str
    notes: list[str] = field(default_factory=list)
    number: str | None = None


@record(frozen=False)
class _Group:
    title: str
    entries: list[_Entry] = field(default_factory=list)


@record(frozen=False)
class _Section:
    title: str
    items: list[_Entry | _Group] = field(default_factory=list)


def _sections(result: Result, detail: Detail) -> list[_Section]:
    sections = [_bottom_section(result)]
    if result.disagreements:
        sections.append(_Section("Disagreements", [_Entry(_disagreement(result, d)) for d in result.disagreements]))
    sections.append(_conclusions(result, detail))
    if result.recommendations:
        sections.append(_recommendations(result, detail))
    return sections


def _bottom_section(result: Result) -> _Section:
    return _Section("Bottom line", [_Group(b.heading, [_Entry(t) for t in b.lines]) for b in bottom_line(result)])


def _disagreement(result: Result, d: Disagreement) -> str:
    """``On the left, the pelvic chain predicts …, but … was measured (35°, …): the measurement stands …``"""
    kb = result.kb
    where = f"On the {d.side}" if d.side is not None else "With no side"
    went = len(d.withdrawn)
    basis = "the prediction" if all(c.status == "predicted" for c in d.dropped) else "what was dropped"
    withdrawn = f"; {went} item{'s' if went != 1 else ''} resting only on {basis} {'were' if went != 1 else 'was'} withdrawn" if went else ""
    if d.kept is None:
        names = _join([_name(kb, c.id) for c in d.dropped])
        return f"{where}, {names} contradict each other with equal standing: neither is kept{withdrawn}."
    kept = d.kept
    parts = [f"{_origin(result, c)} {_VERBS.get(c.status, 'suggests')} {_name(kb, c.id)}" for c in d.dropped]
    if kept.measurement is not None:
        stands = f"{_name(kb, kept.id)} was measured ({_reading(result, kept.measurement)})"
        what = "the measurement stands"
    elif kept.status == "given":
        stands = f"the case states {_name(kb, kept.id)}"
        what = "the case's statement stands"
    else:
        stands = f"{_origin(result, kept)} {_VERBS.get(kept.status, 'suggests')} {_name(kb, kept.id)}"
        what = f"the {kept.status} reading stands"
    return f"{where}, {_join(parts)}, but {stands}: {what}{withdrawn}."


def _conclusions(result: Result, detail: Detail) -> _Section:
    section = _Section("Conclusions")
    if not result.conclusions:
        section.items.append(_Entry("None: nothing in this case triggers a rule."))
        return section
    shown: set[Key] = set()  # borderline readings already spelt out
    for side in (*SIDES, None):
        items = [c for c in result.conclusions if c.side == side]
        if not items:
            continue
        group = _Group(f"{side.capitalize()} hip" if side else "No particular side")
        if detail == "full":
            group.entries += [_full_conclusion(result, c, shown) for c in items]
        else:
            group.entries += _brief_conclusions(result, items, shown)
        section.items.append(group)
    return section


def _brief_conclusions(result: Result, items: list[Conclusion], shown: set[Key]) -> list[_Entry]:
    """One line per conclusion, merging those read the same way from the same facts.

    States inferred through the model's links with the same evidence and no
    assumption of their own share one line (their steps: ``hipkb how``).
    """
    merged: dict[tuple[object, ...], list[Conclusion]] = {}
    for c in items:
        just = c.justifications[0] if c.justifications else None
        own = just.assumptions if just else ()
        linked = just is not None and just.rule is not None and all(k[0] in result.kb.states for k in just.because)
        if c.status == "inferred" and linked and not own and not c.shows_as and c.measurement is None:
            key: tuple[object, ...] = ("inferred", c.evidence)
        else:
            key = (c.status, c.evidence, tuple(sorted(just.because)) if just else (), own,
                   c.measurement.value if c.measurement else None, c.shows_as, c.id if c.status == "given" else None)
        merged.setdefault(key, []).append(c)
    entries, chained = [], []
    for key, group in merged.items():
        first = group[0]
        if key[0] == "inferred" and len(group) > 1:
            names = _join([_name(result.kb, c.id) for c in group])
            chained.append(_Entry(f"Inferred through the model's links (evidence: {evidence_words(first.evidence)}): {names}"))
            continue
        label = clean(first.label) + "".join(f"; {_name(result.kb, c.id)}" for c in group[1:])
        text = f"{label}: {_how(result, first)}; evidence: {evidence_words(first.evidence)}"
        if first.shows_as:
            text += f"; shows as {_join([_name(result.kb, k[0]) for k in first.shows_as])}"
        entries.append(_Entry(text, _conclusion_notes(result, first, shown)))
    return entries + chained


def _how(result: Result, c: Conclusion) -> str:
    """How a conclusion was reached, in words."""
    kb = result.kb
    just = c.justifications[0] if c.justifications else None
    if c.status == "measured" and c.measurement is not None:
        return f"measured, {_reading(result, c.measurement)}"
    if c.status == "given" or just is None or just.rule is None:
        return "stated in the case"
    if c.status == "indicated" and c.measurement is not None:
        m = c.measurement
        return f"indicated by the {_name(kb, m.finding)} ({_deg(m.value)}, threshold {_deg(m.threshold)})"
    premises = [_premise(result, k, c.side) for k in alike_premises(c)]
    if c.status == "predicted":
        return f"predicted from {_join(premises)}, not measured" if premises else "predicted, not measured"
    return f"inferred from {_join(premises)}" if premises else status_words(c.status)


def _conclusion_notes(result: Result, c: Conclusion, shown: set[Key]) -> list[str]:
    """Own assumptions, and a borderline reading spelt out where it is first read."""
    notes = []
    just = c.justifications[0] if c.justifications else None
    if just is not None and just.assumptions:
        notes.append(_assumptions_line(result.kb, just.assumptions))
    m = c.measurement
    if m is not None and m.borderline and m.mdc is not None and (m.finding, m.side) not in shown:
        shown.add((m.finding, m.side))
        notes.append("borderline: " + _borderline_sentence(m))
    return notes


def _full_conclusion(result: Result, c: Conclusion, shown: set[Key]) -> _Entry:
    kb = result.kb
    text = f"{clean(c.label)} [{c.id}]: {_how(result, c)}; evidence: {evidence_words(c.evidence)}"
    if c.shows_as:
        text += f"; shows as {_join([_name(kb, k[0]) for k in c.shows_as])}"
    notes = _conclusion_notes(result, c, shown)
    if c.borderline and not (c.measurement and c.measurement.borderline):
        readings = [_entered(result, k) + (f" ({k[1]})" if k[1] else "") for k in c.borderline]
        notes.append(f"rests on a borderline reading: {_join(readings)}")
    for just in c.justifications:
        notes += _justification_notes(result, just)
    return _Entry(text, notes)


def _justification_notes(result: Result, just: Justification) -> list[str]:
    if just.rule is None:
        return ["stated in the case"]
    lines = [_rule_line(just)]
    lines += [f"  {line}" for line in _citation(just.source)]
    return lines


def _rule_line(just: Justification) -> str:
    """``rule R (status, evidence): because …`` with what was checked absent (which tells apart two firings of
    one rule, e.g. either pelvic position unrecorded)."""
    line = f"rule {just.rule} ({just.status}, {just.evidence}): because "
    line += ", ".join(key_str(k) for k in just.because) or "no premises"
    for words, keys in (("recorded false", just.recorded_false), ("not recorded", just.not_recorded)):
        if keys:
            line += f"; {words}: " + ", ".join(key_str(k) for k in keys)
    return line


def _citation(citation: Citation | None) -> list[str]:
    """The quote (exactly as the KB holds it), the outside reference, the interpretation."""
    if citation is None:
        return []
    lines = []
    where = "the article" if citation.ref == "article" else clean(citation.ref or "the KB")
    if citation.quote:
        lines.append(f"according to {where}: \u201c{clean(citation.quote)}\u201d")
    elif citation.ref:
        lines.append(f"according to {where}" + (f": {clean(citation.note)}" if citation.note else ""))
    if citation.interpretation:
        lines.append(f"interpretation: {clean(citation.interpretation)}")
    return lines


def _number(recs: Sequence[RecommendationResult]) -> str:
    """An exercise's number in this person's list: ``2``, or ``2 (left), 1 (right)`` when the sides differ."""
    orders = {r.order for r in recs}
    if len(orders) == 1:
        return str(next(iter(orders)))
    return ", ".join(f"{r.order} ({_side_name(r.side)})" for r in recs)


def _calls(result: Result, recs: Sequence[RecommendationResult]) -> str | None:
    """What called for a recommendation, in words.

    Leaves out the limitation every programme item shares and the readings
    (they are in the conclusions); a state read straight from entered
    findings (a pinch, a compensation) is named by those findings. Sides
    are named when they differ.
    """
    per_side: dict[Side, list[str]] = {}
    for r in recs:
        keys = r.justifications[0].because if r.justifications else ()
        names = per_side.setdefault(r.side, [])
        for key in keys:
            names += [n for n in _reasons(result, key) if n not in names]
    if not any(per_side.values()):
        return None
    texts = list(per_side.values())
    if all(t == texts[0] for t in texts):
        return _join(texts[0])
    return _join([f"{n} ({_side_name(side)})" for side, names in per_side.items() for n in names])


def _reasons(result: Result, key: Key) -> list[str]:
    kb = result.kb
    item, side = key
    if item == _LIMITED:
        return []
    if item in kb.findings:
        return [] if isinstance(result.case.findings.get(key), float) else [_name(kb, item)]
    c = result.item(item, side) if item in kb.states else None
    just = c.justifications[0] if c is not None and c.justifications else None
    if just is not None and just.rule is not None and just.because and all(
            result.case.findings.get(k) is True for k in just.because):
        return [_name(kb, k[0]) for k in just.because]
    return [_name(kb, item)]


class _Recommendations:
    """The recommendations section: referral first, the exercises in order, then the rest by kind."""

    def __init__(self, result: Result, detail: Detail) -> None:
        self.result = result
        self.kb = result.kb
        self.detail = detail

    def title(self, recs: Sequence[RecommendationResult]) -> str:
        text = f"{clean(recs[0].label)} ({sides_text(r.side for r in recs)})"
        return text + (f" [{recs[0].id}]" if self.detail == "full" else "")

    def tail(self, recs: Sequence[RecommendationResult]) -> str:
        """Inline notes: own assumptions, sides pending a measurement, statuses (full)."""
        parts = []
        own = [k for r in recs for k in (r.justifications[0].assumptions if r.justifications else ())]
        if own:
            parts.append(_assumptions_line(self.kb, list(dict.fromkeys(own))))
        pending = [r.side for r in recs if r.status == "predicted"]
        if pending and len(pending) < len(recs):
            parts.append(f"pending a supine IR measurement on the {sides_text(pending)}")
        if self.detail == "full":
            parts.append(", ".join(f"{_side_name(r.side)}: {r.status} ({evidence_words(r.evidence)})" for r in recs))
        return "".join(f"; {p}" for p in parts)

    def notes(self, recs: Sequence[RecommendationResult]) -> list[str]:
        """Quotes and rule ids, with ``detail="full"`` only."""
        if self.detail != "full":
            return []
        notes = []
        rec = self.kb.recommendations.get(recs[0].id)
        if rec is not None:
            notes += _citation(rec.source)
            for extra in rec.rationale:
                notes += _citation(extra)
        for r in recs:
            notes += [f"{_side_name(r.side)}: {_rule_line(just)}" for just in r.justifications]
        return notes

    def section(self) -> _Section:
        result, kb = self.result, self.kb
        section = _Section("Recommendations")
        merged: dict[str, list[RecommendationResult]] = {}
        for r in result.recommendations:
            merged.setdefault(r.id, []).append(r)
        borderline = sorted({k for recs in merged.values() for r in recs for k in r.borderline}, key=_key_order)
        if borderline:
            readings = [_entered(result, k) + (f" on the {k[1]}" if k[1] else "") for k in borderline]
            section.items.append(_Entry(
                f"Some of these rest on a borderline reading ({_join(readings)}): retest before acting on them."
            ))
        referral = merged.pop("refer_for_fai_evaluation", None)
        if referral is not None:
            why = _calls(result, referral)
            text = f"First, before any programme: {self.title(referral)}" + (f" — for {why}" if why else "")
            section.items.append(_Entry(text + self.tail(referral), self.notes(referral)))
        first = merged.pop(_MEASURE_FIRST, None)
        if first is not None:
            waits = any(programme(result, r.side).pending for r in first)  # a stated limitation does not wait
            text = f"First: {self.title(first)} — what follows waits for it" if waits else f"First: {self.title(first)}"
            section.items.append(_Entry(text + self.tail(first), self.notes(first)))
        exercises = {i: recs for i, recs in merged.items() if recs[0].kind == "exercise"}
        hold = merged.pop(_HOLD_STEP_UP, None)
        if exercises or hold:
            section.items.append(self.exercises(exercises, hold))
            for item_id in exercises:
                merged.pop(item_id)
        position = kb.position("recommendations")
        for item_id, recs in sorted(merged.items(), key=lambda kv: (_KIND_ORDER.get(kv[1][0].kind, 9), position.get(kv[0], 0))):
            kind = kind_title(recs[0].kind)
            text = f"{kind}: {self.title(recs)}"
            why = _calls(result, recs) if recs[0].kind in ("strategy", "caution") else None
            if why:
                text += f" — for {why}"
            elif item_id == _SHIFT:
                text += " — forward or backward: which way depends on the goal"
            section.items.append(_Entry(text + self.tail(recs), self.notes(recs)))
        return section

    def exercises(self, exercises: dict[str, list[RecommendationResult]], hold: list[RecommendationResult] | None) -> _Group:
        kb = self.kb
        pending = bool(exercises) and all(r.status == "predicted" for recs in exercises.values() for r in recs)
        heading = "Exercises, pending a supine IR measurement: measure it first" if pending else "Exercises, in this order"
        group = _Group(heading)
        for recs in exercises.values():
            text = self.title(recs)
            acts = [k for r in recs for k in r.addresses]
            if acts:
                text += f" — acts on {_join([_name(kb, k[0]) for k in dict.fromkeys(acts)])}"
            group.entries.append(_Entry(text + self.tail(recs), self.notes(recs), number=_number(recs)))
        if hold is not None:
            step_up = _label(kb, _STEP_UP) if _STEP_UP in kb.recommendations else "The loaded exercise"
            text = f"{step_up}: held back on the {sides_text(r.side for r in hold)} — {_lower(clean(hold[0].label))}"
            if self.detail == "full":
                text += f" [{hold[0].id}]"
            group.entries.append(_Entry(text + self.tail(hold), self.notes(hold)))
        return group


def _recommendations(result: Result, detail: Detail) -> _Section:
    return _Recommendations(result, detail).section()


def _key_order(key: Key) -> tuple[str, int]:
    return (key[0], _SIDE_ORDER[key[1]])


def _footer(result: Result) -> str:
    kb = result.kb
    subject = f"Case {clean(result.case.subject)} · " if result.case.subject else ""
    return f"{subject}{clean(kb.name)} knowledge base {clean(kb.version)}. {COACHING_NOTE}"


# --------------------------------------------------------------------------
# Rendering


def text_report(result: Result, *, detail: Detail = "brief") -> str:
    """The report ``hipkb assess`` prints (plain text, one screen for demo-01 with ``detail="brief"``)."""
    lines: list[str] = []
    for section in _sections(result, detail):
        lines.append(section.title)
        for item in section.items:
            if isinstance(item, _Group):
                lines.append(f"  {item.title}")
                for entry in item.entries:
                    lines += _text_entry(entry, "    ")
            else:
                lines += _text_entry(item, "  ")
        lines.append("")
    lines.append(_footer(result))
    return "\n".join(lines) + "\n"


def _text_entry(entry: _Entry, indent: str) -> list[str]:
    head = f"{entry.number}. " if entry.number else ""
    lines = [f"{indent}{head}{entry.text}"]
    lines += [f"{indent}{' ' * len(head)}  {note}" for note in entry.notes]
    return lines


def markdown_report(result: Result, *, detail: Detail = "brief") -> str:
    """The same report in Markdown (Jupyter's ``_repr_markdown_``)."""
    lines: list[str] = []
    for section in _sections(result, detail):
        lines += [f"#### {section.title}", ""]
        for i, item in enumerate(section.items):
            if isinstance(item, _Group):
                if i and lines[-1]:
                    lines.append("")
                lines += [f"**{markdown_escape(item.title)}**", ""]
                for entry in item.entries:
                    lines += _markdown_entry(entry)
                lines.append("")
            else:
                lines += _markdown_entry(item)
        if lines[-1]:
            lines.append("")
    lines.append(f"_{markdown_escape(_footer(result))}_")
    return "\n".join(lines) + "\n"


def _markdown_entry(entry: _Entry) -> list[str]:
    numbered = entry.number is not None and entry.number.isdigit()
    bullet = f"{entry.number}." if numbered else "-"
    head = f"({entry.number}) " if entry.number and not numbered else ""
    lines = [f"{bullet} {head}{markdown_escape(entry.text)}"]
    pad = " " * (len(bullet) + 1)
    lines += [f"{pad}- {markdown_escape(note)}" for note in entry.notes]
    return lines
