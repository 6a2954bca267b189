"""Plain words for explanations: sides, degrees, labels, readings, citations, connectives.

Every piece of KB or case text that leaves here has passed
:func:`hipkb.sanitize.clean`. The connectives follow s(CASP)'s
justifications: "because" (it holds), "there is no evidence that" (an
assumption: not recorded), "it is not the case that" (recorded false),
"according to" (the source).

>>> import hipkb
>>> result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}}})
>>> reading(result, ("supine_hip_ir", "left"))
'supine hip internal rotation at 90° hip flexion is 12° on the left'
>>> fact(result, ("pelvis_forward", "left"))
'there is no evidence that pelvis forward on the tested side during the supine IR test (left): not recorded, assumed'
>>> deg(12.0), deg(6.1)
('12°', '6.1°')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ..errors import ExplainError
from ..model import Citation, KBModel, Key
from ..record import record
from ..sanitize import clean

if TYPE_CHECKING:
    from ..result import Conclusion, Measurement, RecommendationResult, Result

__all__ = [
    "alike_premises",
    "BECAUSE",
    "NO_EVIDENCE",
    "NOT_THE_CASE",
    "ACCORDING_TO",
    "deg",
    "side_word",
    "on_side",
    "lower_first",
    "name",
    "thing",
    "reading",
    "measurement",
    "borderline_note",
    "fact",
    "cite",
    "reference",
    "Line",
    "render",
    "source_lines",
    "MAX_INDENT",
    "STATUS_WORDS",
    "EVIDENCE_WORDS",
    "KIND_TITLES",
    "status_words",
    "evidence_words",
    "kind_title",
]

#: A status in words, for the report, the cards and the HTML report.
STATUS_WORDS: dict[str, str] = {
    "measured": "measured",
    "given": "stated in the case",
    "indicated": "indicated by a test",
    "inferred": "inferred through the model",
    "predicted": "predicted, not measured",
}
#: An evidence level in words.
EVIDENCE_WORDS: dict[str, str] = {
    "clinical-norm": "clinical norm",
    "assessor": "assessor's record",
    "coaching-model": "coaching model",
    "interpretation": "interpretation",
}
#: A recommendation's kind as a title ("Exercise 1: Arm bar").
KIND_TITLES: dict[str, str] = {
    "strategy": "Strategy",
    "principle": "Principle",
    "exercise": "Exercise",
    "caution": "Caution",
    "assessment": "Assessment",
}


def status_words(status: str) -> str:
    """A status in words: ``indicated`` → ``indicated by a test``."""
    return STATUS_WORDS.get(status, status)


def evidence_words(evidence: str) -> str:
    """An evidence level in words: ``coaching-model`` → ``coaching model``."""
    return EVIDENCE_WORDS.get(evidence, evidence)


def kind_title(kind: str) -> str:
    """A recommendation's kind as a title: ``exercise`` → ``Exercise``."""
    return KIND_TITLES.get(kind, kind.capitalize())


BECAUSE = "because"
NO_EVIDENCE = "there is no evidence that"
NOT_THE_CASE = "it is not the case that"
ACCORDING_TO = "according to"


def deg(value: float) -> str:
    """Degrees as people write them: ``12°``, ``6.1°``."""
    return f"{float(value):g}°"


def side_word(side: str | None) -> str:
    """``left``, ``right`` or ``no side``."""
    return side if side is not None else "no side"


def on_side(side: str | None) -> str:
    """``on the left``, ``on the right`` or ``with no side``."""
    return f"on the {side}" if side is not None else "with no side"


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym (``IR``)."""
    head = text.split(" ", 1)[0]
    if len(head) > 1 and head.isupper():
        return text
    return text[:1].lower() + text[1:]


def name(kb: KBModel, item_id: str) -> str:
    """The KB's label for an id, cleaned, first letter lower-cased."""
    return lower_first(clean(kb.label(item_id)))


def thing(kb: KBModel, key: Key) -> str:
    """``hip internal rotation limited (left)``; an item of no side has no brackets."""
    item, side = key
    return f"{name(kb, item)} ({side})" if side is not None else name(kb, item)


def alike_premises(item: Conclusion | RecommendationResult) -> list[Key]:
    """The premises of an item's first justification and of those that reach it the same way.

    One rule with ``any`` options fires once per option that holds (a hip
    hike and a knee valgus both suggest a limitation): a student reads them
    as one reason with several signs, so answers name them together.
    """
    if not item.justifications:
        return []
    first = item.justifications[0]
    out: list[Key] = []
    for just in item.justifications:
        if (just.rule, just.status, just.evidence) == (first.rule, first.status, first.evidence):
            out += [k for k in just.because if k not in out]
    return out


def reading(result: Result, key: Key) -> str:
    """An entered finding in words: its label, value and side."""
    kb = result.kb
    item, side = key
    value = result.case.findings.get(key)
    where = f" {on_side(side)}" if side is not None else ""
    if value is None:
        return f"{name(kb, item)}{where} was not recorded"
    if isinstance(value, bool):
        return f"{name(kb, item)}{where} was {'observed' if value else 'recorded as not observed'}"
    return f"{name(kb, item)} is {deg(value)}{where}"


def measurement(kb: KBModel, m: Measurement, *, borderline: bool = True) -> str:
    """A reading against its threshold: ``… is 12° on the left, below the 25° threshold``.

    With ``borderline`` (the default), a reading within its measurement
    error of the threshold says so.
    """
    label = name(kb, m.finding)
    where = f" {on_side(m.side)}" if m.side is not None else ""
    if m.threshold_id and m.threshold_id != m.finding and m.threshold_id in kb.states:
        # ir_asymmetry: the value is the side-to-side difference
        return f"{label}{where} is {deg(m.value)} lower than on the other side (more than {deg(m.threshold)})"
    compare = "below" if m.margin < 0 else "at or above"
    text = f"{label} is {deg(m.value)}{where}, {compare} the {deg(m.threshold)} threshold"
    if borderline:
        text += borderline_note(m)
    return text


def borderline_note(m: Measurement) -> str:
    """`` (within the 6° measurement error: borderline)`` for a borderline reading, else nothing."""
    if m.borderline and m.mdc is not None:
        return f" (within the {deg(m.mdc)} measurement error: borderline)"
    return ""


def fact(result: Result, key: Key, *, recorded_false: bool | None = None) -> str:
    """A negative condition in s(CASP)'s words: recorded false, or an assumption.

    ``recorded_false`` None looks the finding up in the case.
    """
    if recorded_false is None:
        recorded_false = result.case.findings.get(key) is False
    if recorded_false:
        return f"{NOT_THE_CASE} {thing(result.kb, key)}: recorded"
    return f"{NO_EVIDENCE} {thing(result.kb, key)}: not recorded, assumed"


def reference(kb: KBModel, ref: str | None) -> str:
    """A source id in a few words: ``the article`` or ``Gradoz MC, et al. (2018)``."""
    if ref is None:
        return "the KB"
    if ref == "article":
        return "the article"
    source = kb.sources.get(ref)
    if source is None:
        return clean(ref)
    citation = clean(source.citation)
    head, sep, _ = citation.partition(").")
    return head + ")" if sep else citation


def cite(kb: KBModel, citation: Citation | None) -> list[str]:
    """A source in words, one line each: the quote (or note), then any interpretation.

    >>> from hipkb.kb import load_model
    >>> cite(load_model(), Citation(ref="article", quote="Influencing Pelvic Position/Shape"))
    ['according to the article: “Influencing Pelvic Position/Shape”']
    """
    if citation is None:
        return []
    lines = []
    if citation.quote:
        lines.append(f"{ACCORDING_TO} {reference(kb, citation.ref)}: \u201c{clean(citation.quote)}\u201d")
    elif citation.ref:
        note = f": {clean(citation.note)}" if citation.note else ""
        lines.append(f"{ACCORDING_TO} {reference(kb, citation.ref)}{note}")
    if citation.interpretation:
        lines.append(f"interpretation: {clean(citation.interpretation)}")
    return lines


# --------------------------------------------------------------------------
# Lines of text


#: Deepest indentation a line gets; deeper steps stay at this depth (a
#: 700-step chain must not produce 1,400-space lines).
MAX_INDENT = 12


@record
class Line:
    """One line of an answer: its depth, its words, and whether only ``--detail full`` shows it."""

    depth: int
    text: str
    full: bool = False


def render(lines: Iterable[Line], *, detail: str = "brief") -> str:
    """Lines as text: two spaces a level (capped at :data:`MAX_INDENT`), brief lines only unless ``full``."""
    if detail not in ("brief", "full"):
        raise ExplainError(f"detail is 'brief' or 'full', not {detail!r}")
    out = []
    for line in lines:
        if line.full and detail != "full":
            continue
        out.append("  " * min(line.depth, MAX_INDENT) + line.text)
    return "\n".join(out) + "\n" if out else ""


def source_lines(kb: KBModel, citation: Citation | None, depth: int, *, rule: str | None = None,
                 label: str | None = None, evidence: str | None = None) -> list[Line]:
    """The ``--detail full`` lines naming a rule and citing its source."""
    out = []
    if rule is not None:
        what = f"rule {clean(rule)}"
        if label:
            what += f": {clean(label)}"
        if evidence:
            what += f" [{evidence}]"
        out.append(Line(depth, what, full=True))
    out += [Line(depth, text, full=True) for text in cite(kb, citation)]
    return out
