"""CDS Hooks cards: one per recommendation, its sides merged, for a clinic or course platform.

Each card is a plain dict with the CDS Hooks card fields (specification,
"Card Attributes"): ``uuid``, ``summary`` (one sentence, fewer than 140
characters), ``detail`` (GitHub-flavoured Markdown), ``indicator``
(``info``, ``warning`` or ``critical``: a referral is critical, any other
caution a warning) and ``source`` (``label``, and ``topic``: the kind of
recommendation as a Coding). ``source.url`` is left out: the article is a
blog post and the KB has no page of its own to point to. Everything hipkb
knows beyond the card fields is under ``extension["hipkb"]``: ``id``,
``side`` (the list of sides merged, ``None`` for what has no side),
``kind``, ``status`` and ``evidence`` (the strongest side's), ``order``
and ``sides`` (each side's status, evidence and order).

The ``uuid`` is a name-based UUID (version 5) of the KB, the case (subject,
findings, thresholds, mdc) and the recommendation id: the same input always
gives the same cards, and a card's uuid changes when the case does.

>>> import hipkb
>>> deck = cards(hipkb.assess("examples/demo-01.yaml"))
>>> arm_bar = next(c for c in deck if c["extension"]["hipkb"]["id"] == "arm_bar")
>>> arm_bar["summary"], arm_bar["indicator"], arm_bar["extension"]["hipkb"]["side"]
('Exercise 1: Arm bar (left).', 'info', ['left'])
>>> deck == cards(hipkb.assess("examples/demo-01.yaml"))
True
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any, Sequence

from ..model import Key, status_rank
from ..sanitize import clean
from .report import markdown_escape, sides_text
from .words import evidence_words, kind_title, status_words

if TYPE_CHECKING:
    from ..result import RecommendationResult, Result

__all__ = ["cards", "INDICATORS", "SUMMARY_LIMIT", "CARD_NAMESPACE", "TOPIC_SYSTEM"]

#: The CDS Hooks indicator values, in order of increasing urgency.
INDICATORS: tuple[str, ...] = ("info", "warning", "critical")
#: A summary is a sentence of fewer than this many characters (CDS Hooks: "<140-character").
SUMMARY_LIMIT = 140
#: The namespace of the cards' name-based uuids (a fixed, random UUID: hipkb's own).
CARD_NAMESPACE = uuid.UUID("962a40e8-272e-4f8c-8365-395d2e240cd2")
#: The code system of ``source.topic``: the recommendation kinds of hipkb's KB format (a local name).
TOPIC_SYSTEM = "urn:hipkb:recommendation-kind"

_REFERRAL = "refer_for_fai_evaluation"
_PENDING_TEST = "assess_supine_hip_ir"


def cards(result: Result) -> list[dict[str, Any]]:
    """The CDS Hooks cards for ``result``: one per recommendation, sides merged.

    The referral comes first, then every other card in the KB's order
    (strategies, principle, exercises in progression order, cautions,
    assessments). New dicts on every call: changing them changes nothing else.
    """
    merged: dict[str, list[RecommendationResult]] = {}
    for rec in result.recommendations:
        merged.setdefault(rec.id, []).append(rec)
    case_key = _case_key(result)
    ordered = sorted(merged.items(), key=lambda kv: (kv[0] != _REFERRAL, result.kb.position("recommendations").get(kv[0], 0)))
    return [_card(result, recs, case_key) for _, recs in ordered]


def _case_key(result: Result) -> str:
    """The case's content, canonical: what a card's uuid is made from (with the recommendation id)."""
    case = result.case
    return json.dumps(
        {
            "kb": [result.kb.name, result.kb.version],
            "subject": case.subject,
            "findings": case.findings_dict(result.kb),
            "thresholds": dict(sorted(result.thresholds.items())),
            "mdc": dict(sorted(result.mdc.items())),
        },
        sort_keys=True, ensure_ascii=True, separators=(",", ":"),
    )


def _card(result: Result, recs: Sequence[RecommendationResult], case_key: str) -> dict[str, Any]:
    kb = result.kb
    first = recs[0]
    strongest = min(recs, key=lambda r: (-status_rank(r.status), _side_rank(r.side)))
    return {
        "uuid": str(uuid.uuid5(CARD_NAMESPACE, f"{case_key}|{first.id}")),
        "summary": _summary(recs),
        "detail": _detail(result, recs),
        "indicator": _indicator(first),
        "source": {
            "label": f"{clean(kb.name)} knowledge base {clean(kb.version)}",
            "topic": {
                "system": TOPIC_SYSTEM,
                "code": first.kind,
                "display": kind_title(first.kind),
            },
        },
        "extension": {
            "hipkb": {
                "id": first.id,
                "side": [r.side for r in recs],
                "kind": first.kind,
                "status": strongest.status,
                "evidence": strongest.evidence,
                "order": first.order if len({r.order for r in recs}) == 1 else None,
                "sides": [{"side": r.side, "status": r.status, "evidence": r.evidence, "order": r.order} for r in recs],
            }
        },
    }


def _side_rank(side: str | None) -> int:
    return {"left": 0, "right": 1, None: 2}[side]


def _indicator(rec: RecommendationResult) -> str:
    if rec.id == _REFERRAL:
        return "critical"
    if rec.kind == "caution":
        return "warning"
    return "info"


def _summary(recs: Sequence[RecommendationResult]) -> str:
    """One sentence under 140 characters: ``Exercise 1: Arm bar (left, right).``"""
    first = recs[0]
    kind = "Referral" if first.id == _REFERRAL else kind_title(first.kind)
    orders = {r.order for r in recs}
    if first.kind == "exercise" and len(orders) == 1 and first.order is not None:
        kind += f" {first.order}"
    where = f" ({sides_text(r.side for r in recs)})"
    pending = ", pending a supine IR measurement" if all(r.status == "predicted" for r in recs) else ""
    head = f"{kind}: "
    label = clean(first.label)
    room = SUMMARY_LIMIT - 1 - len(head) - len(where) - len(pending) - 1  # the final full stop
    if len(label) > room:
        label = label[: max(room - 1, 0)].rstrip() + "…"
    return f"{head}{label}{where}{pending}."


def _detail(result: Result, recs: Sequence[RecommendationResult]) -> str:
    """The card's detail in Markdown: what it is, where and why, its status and evidence, the article's words."""
    kb = result.kb
    first = recs[0]
    lines = [markdown_escape(first.summary), ""]
    for rec in recs:
        side = rec.side.capitalize() if rec.side is not None else "No particular side"
        words = f"{status_words(rec.status)}; evidence: {evidence_words(rec.evidence)}"
        if rec.order is not None:
            words = f"number {rec.order} in this person's list; " + words
        if rec.status == "predicted" and rec.id != _PENDING_TEST:
            words += "; pending a supine IR measurement: measure it first"
        lines.append(f"- **{markdown_escape(side)}**: {markdown_escape(words)}")
        just = rec.justifications[0] if rec.justifications else None
        if just is not None and just.because:
            because = ", ".join(_words(result, key) for key in just.because)
            lines.append(f"  - because: {markdown_escape(because)}")
        if rec.addresses:
            acts = ", ".join(_words(result, key) for key in rec.addresses)
            lines.append(f"  - acts on: {markdown_escape(acts)}")
        if rec.assumptions:
            assumed = "; ".join(f"no {_words(result, key)}" for key in rec.assumptions)
            lines.append(f"  - assuming (not recorded): {markdown_escape(assumed)}")
        if rec.borderline:
            readings = ", ".join(_words(result, key) for key in rec.borderline)
            lines.append(f"  - rests on a borderline reading ({markdown_escape(readings)}): retest before acting on it")
    source = kb.recommendations[first.id].source if first.id in kb.recommendations else None
    if source is not None and source.quote:
        where = "the article" if source.ref == "article" else (source.ref or "the KB")
        lines += ["", f"> \u201c{markdown_escape(source.quote)}\u201d ({markdown_escape(where)})"]
    outside = kb.sources.get(source.ref) if source is not None and source.ref and not source.quote else None
    if source is not None and outside is not None:
        note = f" {source.note}" if source.note else ""
        lines += ["", f"Source: {markdown_escape(outside.citation + note)}"]
    if source is not None and source.interpretation:
        lines += ["", f"_Interpretation: {markdown_escape(source.interpretation)}_"]
    lines += ["", "_A coaching model, not a diagnosis._"]
    return "\n".join(lines)


def _words(result: Result, key: Key) -> str:
    """A state or finding in words, with a reading's value: ``straight leg raise angle 45°``."""
    item, _ = key
    label = clean(result.kb.label(item))
    label = label[:1].lower() + label[1:] if not label.split(" ", 1)[0].isupper() else label
    value = result.case.findings.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        label += f" {float(value):g}°"
    return label
