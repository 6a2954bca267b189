"""Why does an item hold? Its causes in the KB's model, or, for limited IR, the differential.

- ``ir_limited`` (on a KB with the stable ids): the differential
  (:mod:`hipkb.answers.differential`), every contributor the article names
  with its standing, the arguments for and against, and the next
  assessment; plus how the limitation shows (its compensations) and any
  disagreement about it.
- any other state: the causes in the model (causal links, followed
  upstream) that hold, then those that do not, each once, in s(CASP)'s
  words ("because", "there is no evidence that", "it is not the case that").
- a recommendation: what called for it and what it addresses on this side
  (the exercise's mechanism, with the article's words).

>>> import hipkb
>>> answer = why(hipkb.assess("examples/demo-01.yaml"), ("posterior_hip_space_lacking", "left"))
>>> print(render(answer.lines), end="")
Lacking space at the back of the hip (left) — inferred, interpretation: because posterior hip capsule closed (left)
Causes in the model that hold:
  because posterior hip capsule closed (left) — indicated: supine hip internal rotation at 90° hip flexion is 12° on the left, below the 25° threshold
Causes in the model that do not hold:
  there is no evidence that deep external rotators stiff (left)
"""

from __future__ import annotations

from typing import Any, Sequence

from ..model import Key, Side
from ..record import record
from ..result import Conclusion, Justification, RecommendationResult, Result
from ..sanitize import clean
from . import words
from .differential import Contributor, differential, supports_differential
from .whynot import weighing
from .words import Line, render

__all__ = ["Cause", "WhyAnswer", "why", "render"]

_MARKS = {
    "supported": "✓", "present": "✓", "confounded": "!", "argued against": "✗", "absent": "✗",
    "not assessed": "?", "not recorded": "?",
}


@record
class Cause:
    """A cause of the item in the KB's model, on the item's side, and whether it holds."""

    key: Key
    holds: bool
    status: str | None
    text: str
    links: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.key[0], "side": self.key[1], "holds": self.holds, "status": self.status,
                "text": self.text, "links": list(self.links)}


@record
class WhyAnswer:
    """Why one item holds on one side (or, for limited IR, why it is or is not limited there)."""

    side: str | None
    holds: bool
    status: str | None
    evidence: str | None
    lines: tuple[Line, ...]
    differential: tuple[Contributor, ...] | None = None
    causes: tuple[Cause, ...] = ()
    called_for_by: tuple[tuple[Key, ...], ...] = ()
    addresses: tuple[Key, ...] = ()
    shows_as: tuple[Key, ...] = ()
    disagreements: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"side": self.side, "holds": self.holds, "status": self.status, "evidence": self.evidence}
        if self.differential is not None:
            out["differential"] = [c.to_dict() for c in self.differential]
            out["shows_as"] = [{"id": k[0], "side": k[1]} for k in self.shows_as]
        else:
            out["causes"] = [c.to_dict() for c in self.causes]
        if self.called_for_by:
            out["called_for_by"] = [[{"id": k[0], "side": k[1]} for k in keys] for keys in self.called_for_by]
            out["addresses"] = [{"id": k[0], "side": k[1]} for k in self.addresses]
        out["disagreements"] = list(self.disagreements)
        return out


def why(result: Result, key: Key) -> WhyAnswer:
    """Why ``key`` holds: the differential for limited IR, the causes of a state, the calls of a recommendation.

    For ``ir_limited`` on a side the answer is given whether or not it
    holds there (the differential says why not, too); for anything else
    the item must hold (:func:`hipkb.answers.whynot.why_not` answers when not).
    """
    item, side = key
    kb = result.kb
    if item == "ir_limited" and side is not None and supports_differential(kb):
        return _differential_answer(result, side)
    if item in kb.recommendations:
        return _recommendation_answer(result, key)
    return _causes_answer(result, key)


# --------------------------------------------------------------------------
# Shared pieces


def basis(result: Result, just: Justification, *, because: Sequence[Key] | None = None) -> str:
    """What one justification rests on, in a few words (its readings, or its premises).

    ``because``: the premises to name instead of the justification's own
    (those of every firing alike, :func:`~hipkb.answers.words.alike_premises`).
    """
    kb = result.kb
    if just.rule is None:
        return "stated by the assessor"
    if just.measurements:
        return "; ".join(words.measurement(kb, m) for m in just.measurements)
    keys = just.because if because is None else because
    premises = [words.thing(kb, k) for k in keys if k[0] in kb.states]
    premises += [words.reading(result, k) for k in keys if k[0] not in kb.states]
    return "because " + " and ".join(premises) if premises else clean(kb.rule(just.rule).label)


def _headline(result: Result, item: Conclusion | RecommendationResult) -> str:
    kb = result.kb
    head = f"{clean(item.label)}" + (f" ({item.side})" if item.side is not None else "")
    first = item.justifications[0]
    return f"{head} — {item.status}, {item.evidence}: {basis(result, first, because=words.alike_premises(item))}"


def _disagreements(result: Result, key: Key) -> list[str]:
    out = []
    for d in result.disagreements:
        if d.kept is not None and d.kept.key == key:
            for lost in d.dropped:
                out.append(f"It outweighs {words.thing(result.kb, lost.key)}: {weighing(result, d, lost.key)}")
        elif any(c.key == key for c in d.dropped):
            out.append(f"It was dropped: {weighing(result, d, key)}")
    return out


# --------------------------------------------------------------------------
# ir_limited: the differential


def _differential_answer(result: Result, side: Side) -> WhyAnswer:
    kb = result.kb
    key = ("ir_limited", side)
    c = result.conclusion("ir_limited", side)
    lines: list[Line] = []
    if c is not None:
        lines.append(Line(0, _headline(result, c) + "."))
        if c.status == "predicted":
            lines.append(Line(0, "It is predicted, not measured: measure supine hip internal rotation to confirm it."))
    else:
        within = result.conclusion("ir_within_range", side) if "ir_within_range" in kb.states else None
        if within is not None and within.measurement is not None:
            lines.append(Line(0, f"Hip internal rotation is not limited {words.on_side(side)}: "
                                 f"{words.measurement(kb, within.measurement)}."))
        else:
            lines.append(Line(0, f"Hip internal rotation limited does not hold {words.on_side(side)}: "
                                 f"{words.reading(result, ('supine_hip_ir', side))}."))
    disagreements = _disagreements(result, key)
    lines += [Line(0, text + ".") for text in disagreements]
    rows = differential(result, side)
    holding = [r.label.split(":")[0] for r in rows if r.holds]
    lines.append(Line(0, f"Contributors the article names, {words.on_side(side)}"
                         + (f" (holding: {', '.join(_lower(h) for h in holding)}):" if holding else ":")))
    for row in rows:
        lines += _row_lines(result, row)
    shows = c.shows_as if c is not None else ()
    if shows:
        lines.append(Line(0, "It shows as: " + ", ".join(words.thing(kb, k) for k in shows) + "."))
    return WhyAnswer(side, c is not None, None if c is None else c.status, None if c is None else c.evidence,
                     tuple(lines), rows, shows_as=shows, disagreements=tuple(disagreements))


def _lower(text: str) -> str:
    return words.lower_first(text)


def _row_lines(result: Result, row: Contributor) -> list[Line]:
    kb = result.kb
    marked = " (interpretation)" if row.id == "ribcage_knee_foot" else ""
    out = [Line(1, f"{_MARKS.get(row.standing, '·')} {row.label} — {row.standing}{marked}")]
    out.append(Line(3, f"[{row.id}]", full=True))
    for n, arg in enumerate(row.arguments_for):
        connective = "because" if n == 0 else "and"
        text = arg.text[4:] if arg.text.startswith("and ") else arg.text
        out.append(Line(3, f"{connective} {text}"))
        out += [Line(4, t, full=True) for t in words.cite(kb, arg.source)]
    for arg in row.arguments_against:
        out.append(Line(3, f"against: {arg.text}"))
        out += [Line(4, t, full=True) for t in words.cite(kb, arg.source)]
    cited = {arg.source for arg in (*row.arguments_for, *row.arguments_against)}
    for source in row.sources:
        if source not in cited:
            out += [Line(3, t, full=True) for t in words.cite(kb, source)]
    if row.next_assessment is not None:
        label = words.name(kb, row.next_assessment)
        out.append(Line(3, f"next: {label}"))
        out.append(Line(4, f"[{row.next_assessment}]", full=True))
    return out


# --------------------------------------------------------------------------
# Other states: the causes in the model


def _links_into(result: Result, effect: str) -> list[Any]:
    return [link for link in result.kb.links.values() if link.effect == effect]


def _causes_answer(result: Result, key: Key) -> WhyAnswer:
    kb = result.kb
    item, side = key
    c = result.item(item, side) if item in kb.states else None
    lines: list[Line] = []
    if c is not None:
        lines.append(Line(0, _headline(result, c)))
    elif item in kb.findings:
        lines.append(Line(0, _sentence(words.reading(result, key)) + "."))
    # Walk the causal links upstream, breadth first, each cause once; the
    # causes of a cause are followed only where that cause holds.
    causes: list[Cause] = []
    seen: set[Key] = {key}
    via: dict[Key, list[str]] = {}
    queue: list[Key] = [key]
    at = 0
    while at < len(queue):
        effect = queue[at]
        at += 1
        if at > 1 and not causes[at - 2].holds:  # queue[i] is causes[i - 1]
            continue
        for link in _links_into(result, effect[0]):
            cause_key = (link.cause, effect[1] if kb.is_sided(link.cause) else None)
            via.setdefault(cause_key, []).append(link.id)
            if cause_key in seen:
                continue
            seen.add(cause_key)
            queue.append(cause_key)
            causes.append(_cause(result, cause_key, ()))
    causes = [Cause(c.key, c.holds, c.status, c.text, tuple(via[c.key])) for c in causes]
    holding = [x for x in causes if x.holds]
    missing = [x for x in causes if not x.holds]
    if not causes:
        state = kb.states.get(item)
        tested = c is not None and state is not None and state.has_test
        lines.append(Line(0, "The model names no cause for it" + (": it is read from its test." if tested else ".")))
    for title, group in (("Causes in the model that hold:", holding), ("Causes in the model that do not hold:", missing)):
        if not group:
            continue
        lines.append(Line(0, title))
        for cause in group:
            lines.append(Line(1, cause.text))
            for link_id in cause.links:
                link = kb.links[link_id]
                lines += words.source_lines(kb, link.source, 2, rule=link_id, label=link.label, evidence=link.evidence)
    disagreements = _disagreements(result, key)
    lines += [Line(0, text + ".") for text in disagreements]
    status = c.status if c is not None else None
    evidence = c.evidence if c is not None else None
    holds = c is not None or result.case.findings.get(key) is True
    return WhyAnswer(key[1], holds, status, evidence, tuple(lines), None, tuple(causes),
                     disagreements=tuple(disagreements))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _cause(result: Result, key: Key, links: tuple[str, ...]) -> Cause:
    kb = result.kb
    name = words.thing(kb, key)
    if key[0] in kb.findings:
        value = result.case.findings.get(key)
        if value is True or (isinstance(value, float) and not isinstance(value, bool)):
            return Cause(key, True, "entered", f"because {words.reading(result, key)}", links)
        return Cause(key, False, None, words.fact(result, key, recorded_false=value is False).replace(": not recorded, assumed", ": not recorded"), links)
    c = result.conclusion(key[0], key[1]) if key[0] in kb.states else None
    if c is not None:
        return Cause(key, True, c.status, f"because {name} — {c.status}: {basis(result, c.justifications[0], because=words.alike_premises(c)).removeprefix('because ')}", links)
    state = kb.states.get(key[0])
    if state is not None and state.opposite and state.opposite in kb.states:
        opposite = result.conclusion(state.opposite, key[1])
        if opposite is not None:
            return Cause(key, False, None, f"{words.NOT_THE_CASE} {name}: {words.thing(kb, opposite.key)} holds ({opposite.status})", links)
    for d in result.disagreements:
        if any(x.key == key for x in d.dropped):
            return Cause(key, False, None, f"{words.NOT_THE_CASE} {name}: it was dropped ({weighing(result, d, key)})", links)
    return Cause(key, False, None, f"{words.NO_EVIDENCE} {name}", links)


# --------------------------------------------------------------------------
# Recommendations: what called for it, what it addresses


def _recommendation_answer(result: Result, key: Key) -> WhyAnswer:
    kb = result.kb
    rec = result.recommendation(key[0], key[1])
    assert rec is not None
    spec = kb.recommendations[rec.id]
    place = f", number {rec.order} in this person's list" if rec.order else ""
    lines = [Line(0, f"{clean(rec.label)}" + (f" ({rec.side})" if rec.side else "")
                  + f" — {rec.kind}{place}; {rec.status}, {rec.evidence}")]
    lines.append(Line(1, _sentence(clean(rec.summary))))
    lines += words.source_lines(kb, spec.source, 1)
    if rec.status == "predicted":
        lines.append(Line(1, "Pending its test: measure supine hip internal rotation first."))
    # What called for it: the premises every call shares, then the alternatives.
    calls = [tuple(j.because) for j in rec.justifications]
    shared = [k for k in calls[0] if all(k in call for call in calls)] if calls else []
    extra = []
    for call in calls:
        rest = tuple(k for k in call if k not in shared)
        if rest and rest not in extra:
            extra.append(rest)
    lines.append(Line(0, "Called for by:"))
    for n, k in enumerate(shared):
        lines.append(Line(1, f"{'because' if n == 0 else 'and'} {_premise(result, k)}"))
    if len(extra) == 1:
        lines += [Line(1, f"{'because' if not shared and n == 0 else 'and'} {_premise(result, k)}") for n, k in enumerate(extra[0])]
    elif extra:
        lines.append(Line(1, ("because " if not shared else "and ") + "any of these:"))
        lines += [Line(2, " and ".join(_premise(result, k) for k in alt)) for alt in extra]
    for key_ in rec.assumptions:
        lines.append(Line(1, f"and {words.fact(result, key_, recorded_false=False)}"))
    for just in rec.justifications:
        rule = kb.rule_index.get(just.rule or "")
        if rule is not None:
            lines += words.source_lines(kb, rule.source, 2, rule=rule.id, label=rule.label, evidence=rule.evidence)
    addressed = set(rec.addresses)
    groups: list[tuple[str, str | None, list[str], list[Any]]] = []
    for address in spec.addresses:
        target = (address.target, rec.side if kb.is_sided(address.target) else None)
        if target not in addressed:
            continue
        name = words.thing(kb, target) + (" (interpretation)" if address.source.interpretation else "")
        group = next((g for g in groups if (g[0], g[1]) == (address.label, address.source.quote)), None)
        if group is None:
            groups.append((address.label, address.source.quote, [name], [address.source]))
        else:
            group[2].append(name)
            group[3].append(address.source)
    if groups:
        lines.append(Line(0, f"What it addresses {words.on_side(rec.side)}:"))
        for label, quote, names, sources in groups:
            lines.append(Line(1, f"{clean(label)}: " + ", ".join(names)))
            if quote:
                lines.append(Line(2, f"{words.ACCORDING_TO} {words.reference(kb, sources[0].ref)}: \u201c{clean(quote)}\u201d"))
            for source in dict.fromkeys(s.interpretation for s in sources if s.interpretation):
                lines.append(Line(2, f"interpretation: {clean(source)}", full=True))
    disagreements = _disagreements(result, key)
    return WhyAnswer(rec.side, True, rec.status, rec.evidence, tuple(lines), None, (),
                     tuple(tuple(c) for c in calls), rec.addresses, disagreements=tuple(disagreements))


def _premise(result: Result, key: Key) -> str:
    kb = result.kb
    if key[0] in kb.states:
        c = result.conclusion(key[0], key[1])
        status = f" — {c.status}" if c is not None else ""
        return f"{words.thing(kb, key)}{status}"
    return words.reading(result, key)
