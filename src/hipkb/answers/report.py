"""Text and Markdown reports of a result, for people (JSON is ``Result.to_dict``).

>>> from hipkb.kb import load_kb
>>> result = load_kb().assess({"findings": {"supine_hip_ir": {"left": 12}}})
>>> describe_key(result, ("supine_hip_ir", "left"))
'supine hip internal rotation at 90° hip flexion (left) = 12° (threshold 25°)'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Key
from ..model import Citation, SIDES

if TYPE_CHECKING:
    from ..result import Conclusion, Justification, RecommendationResult, Result

__all__ = ["text_report", "markdown_report", "describe_key", "cite", "COACHING_NOTE"]

COACHING_NOTE = (
    "Coaching model: these rules encode a coaching article (Resilient Movement blog, 2025), "
    "with clinical norms cited where numbers are used. They explain and suggest; they do not diagnose."
)
_KIND_TITLES = {
    "strategy": "Strategy",
    "principle": "Principle",
    "exercise": "Exercise",
    "caution": "Caution",
    "assessment": "Assessment",
}


def _side_text(side: str | None) -> str:
    return side if side is not None else "no side"


def describe_key(result: Result, key: Key) -> str:
    """One fact in words: a finding with its value and threshold, or a state's label."""
    item, side = key
    kb = result.kb
    where = f" ({side})" if side else ""
    finding = kb.findings.get(item)
    if finding is not None:
        value = result.case.findings.get(key)
        label = _lower_first(finding.label)
        if finding.type == "degrees" and value is not None:
            threshold = result.thresholds.get(item)
            extra = f" (threshold {threshold:g}°)" if threshold is not None else ""
            return f"{label}{where} = {value:g}°{extra}"
        return f"{label}{where}: observed"
    return f"{_lower_first(kb.label(item))}{where}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def cite(citation: Citation, kb_sources: dict | None = None) -> str:
    """A citation in one line: the quote, the reference, the interpretation."""
    parts = []
    if citation.quote:
        parts.append(f"\u201c{citation.quote}\u201d")
    if citation.ref and citation.ref != "article":
        parts.append(f"[{citation.ref}]" + (f" {citation.note}" if citation.note else ""))
    elif citation.ref == "article":
        parts.append("[article]")
    if citation.interpretation:
        parts.append(f"Interpretation: {citation.interpretation}")
    return " ".join(parts)


def _justification_line(result: Result, just: Justification) -> str:
    if just.rule is None:
        return "stated in the case"
    because = ", ".join(describe_key(result, k) for k in just.because) or "no premises"
    return f"{because}  [rule {just.rule}]"


def _conclusion_lines(result: Result, conclusion: Conclusion, indent: str) -> list[str]:
    evidence = f" \u00b7 {conclusion.evidence}" if conclusion.evidence else ""
    lines = [f"{indent}{conclusion.label}  ({conclusion.id}; {conclusion.status}{evidence})"]
    lines += [f"{indent}    \u2190 {_justification_line(result, j)}" for j in conclusion.justifications]
    return lines


def _recommendation_lines(result: Result, rec: RecommendationResult, indent: str) -> list[str]:
    kb_rec = result.kb.recommendations[rec.id]
    title = _KIND_TITLES[rec.kind] + (f" {rec.order}" if rec.order else "")
    lines = [f"{indent}{title}: {rec.label} ({_side_text(rec.side)}; {rec.id} \u00b7 {rec.evidence})"]
    if rec.summary:
        lines.append(f"{indent}    Why: {rec.summary}")
    lines.append(f"{indent}    Source: {cite(kb_rec.source)}")
    lines += [f"{indent}    Also: {cite(extra)}" for extra in kb_rec.rationale]
    callers = sorted({", ".join(describe_key(result, k) for k in j.because) for j in rec.justifications})
    lines.append(f"{indent}    Called for by: " + "; ".join(callers))
    return lines


def text_report(result: Result) -> str:
    """The report ``hipkb assess`` prints: per side, then recommendations in order."""
    kb = result.kb
    head = f"{kb.name} {kb.version}"
    if result.case.subject:
        head += f" \u00b7 case {result.case.subject}"
    lines = [head, COACHING_NOTE, ""]
    if not result.conclusions:
        lines += ["No conclusions: nothing in this case triggers a rule.", ""]
    for side in (*SIDES, None):
        items = [c for c in result.conclusions if c.side == side]
        if not items:
            continue
        lines.append(f"{side.capitalize()} hip" if side else "Not tied to a side")
        for conclusion in items:
            lines += _conclusion_lines(result, conclusion, "  ")
        lines.append("")
    if result.recommendations:
        lines.append("Recommendations (strategies, principle, exercises in progression order, cautions, assessments)")
        for rec in result.recommendations:
            lines += _recommendation_lines(result, rec, "  ")
        lines.append("")
    if result.disagreements:
        lines.append("Disagreements")
        for d in result.disagreements:
            dropped = ", ".join(f"{c.id} ({c.status})" for c in d.dropped)
            kept = f"{d.kept.id} ({d.kept.status}) kept" if d.kept else "nothing kept"
            lines.append(f"  {_side_text(d.side)}: {kept}; dropped {dropped}: {d.reason}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def markdown_report(result: Result) -> str:
    """A compact Markdown summary (used by Jupyter's ``_repr_markdown_``)."""
    lines = [f"**{result.kb.name} {result.kb.version}**" + (f" \u00b7 case `{result.case.subject}`" if result.case.subject else ""), ""]
    lines.append(f"_{COACHING_NOTE}_")
    lines += ["", "| side | conclusion | status | evidence |", "|---|---|---|---|"]
    for c in result.conclusions:
        lines.append(f"| {_side_text(c.side)} | {c.label} (`{c.id}`) | {c.status} | {c.evidence or ''} |")
    lines += ["", "| side | recommendation | kind | order |", "|---|---|---|---|"]
    for r in result.recommendations:
        lines.append(f"| {_side_text(r.side)} | {r.label} (`{r.id}`) | {r.kind} | {r.order or ''} |")
    for d in result.disagreements:
        lines.append(f"\n> Disagreement ({_side_text(d.side)}): {', '.join(c.id for c in d.dropped)} dropped \u2014 {d.reason}")
    return "\n".join(lines) + "\n"
