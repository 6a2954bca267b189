"""Explanations of a result: how, why and why-not, per side, as text or JSON.

:func:`explain` is what :meth:`hipkb.Result.explain` and ``hipkb how|why|why-not``
call. Each question has its own module: :mod:`~hipkb.answers.how` (the
derivation), :mod:`~hipkb.answers.why` (the differential for limited IR,
the causes of any other state, what called for a recommendation and what
it addresses), :mod:`~hipkb.answers.whynot` (what stands in each rule's
way, and the findings that would make the item hold).

Without ``side``: how and why answer on every side where the item holds
(when it holds nowhere, they say why not on each side; ``why ir_limited``
then shows the differential on both sides); why-not answers on both sides
(an item that belongs to no side: with no side).

>>> import hipkb
>>> result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 30}}})
>>> print(explain(result, "ir_limited", side="left", question="why-not").text())  # doctest: +ELLIPSIS
Why not: hip internal rotation limited, on the left?
It does not hold on the left. What stands in the way of each rule that could conclude it:
  ✗ Supine IR below threshold means IR is limited
      supine hip internal rotation at 90° hip flexion is 30° on the left, not below the 25° threshold
...
It would hold if (each line is one way; checked by assessing the case again):
  supine hip internal rotation at 90° hip flexion were below 25° on the left
>>> explain(result, "ir_limitd")
Traceback (most recent call last):
...
hipkb.errors.UnknownId: unknown id 'ir_limitd' (did you mean 'ir_limited'?)
"""

from __future__ import annotations

from typing import Any, Literal, Union

from ..errors import ExplainError, suggest
from ..model import SIDES, Side
from ..record import record
from ..result import Result
from ..sanitize import clean
from . import words
from .how import HowAnswer, how
from .why import WhyAnswer, why
from .whynot import WhyNotAnswer, sides_to_ask, why_not
from .words import Line, render

__all__ = ["QUESTIONS", "Detail", "Answer", "Explanation", "explain"]

QUESTIONS: tuple[str, ...] = ("how", "why", "why-not")
Detail = Literal["brief", "full"]
Answer = Union[HowAnswer, WhyAnswer, WhyNotAnswer]
_TITLES = {"how": "How", "why": "Why", "why-not": "Why not"}


@record
class Explanation:
    """An answer to how / why / why-not about one item, on one or more sides.

    ``text(detail=...)`` is what the CLI prints (``full`` adds rule ids and
    the sources' quotes); ``to_dict()`` is its JSON: the question, the
    item, ``holds`` (on every side answered) and ``answers`` (one per
    side); with exactly one side answered, that answer's fields are also
    at the top level (``{"id": "ir_limited", "side": "left", "holds": true,
    "differential": [...], ...}``).
    """

    question: str
    id: str
    kind: str
    label: str
    side: Side
    answers: tuple[Answer, ...]

    @property
    def holds(self) -> bool:
        """True when the item holds on every side answered."""
        return all(a.holds for a in self.answers)

    def text(self, *, detail: Detail = "brief") -> str:
        """Plain language for a student (``detail="full"``: with rule ids and quotes)."""
        blocks = []
        for answer in self.answers:
            blocks.append(render([Line(0, self.title(answer)), *answer.lines], detail=detail))
        return "\n".join(blocks)

    def title(self, answer: Answer) -> str:
        where = words.on_side(answer.side)
        name = words.lower_first(self.label)
        if self.question == "why" and isinstance(answer, WhyAnswer) and answer.differential is not None:
            return f"Why is hip internal rotation {'limited' if answer.holds else 'not limited'} {where}?"
        return f"{_TITLES[self.question]}: {name}, {where}" + ("" if self.question == "how" else "?")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.question,
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "side": self.side,
            "holds": self.holds,
        }
        answers = [{"answer": _kind(a), **a.to_dict()} for a in self.answers]
        if len(answers) == 1:
            out.update({k: v for k, v in answers[0].items() if k not in out or k in ("side", "holds")})
        out["answers"] = answers
        return out


def _kind(answer: Answer) -> str:
    if isinstance(answer, HowAnswer):
        return "how"
    if isinstance(answer, WhyAnswer):
        return "why"
    return "why-not"


def explain(result: Result, item_id: str, *, side: Side = None, question: str = "how") -> Explanation:
    """Answer how / why / why-not about ``item_id`` on ``side`` (or on every side it concerns).

    Raises :class:`~hipkb.errors.UnknownId` for an id the KB does not
    declare and :class:`~hipkb.errors.ExplainError` for a question or side
    that cannot be asked.
    """
    if question not in QUESTIONS:
        raise ExplainError(f"unknown question {question!r}", hint=suggest(str(question), QUESTIONS) or "ask how, why or why-not")
    if side is not None and side not in SIDES:
        raise ExplainError(f"unknown side {side!r}", hint=suggest(str(side), SIDES) or "sides are left and right")
    kb = result.kb
    result.check_id(item_id)
    kind = kb.kind_of(item_id) or "state"
    if kind == "finding" and question == "why-not":
        raise ExplainError(f"{item_id!r} is a finding: it is entered in the case, not concluded")
    label = clean(kb.label(item_id))
    if not kb.is_sided(item_id):
        side = None
        sides: tuple[Side, ...] = (None,)
    elif side is not None:
        sides = (side,)
    elif question == "why-not":
        sides = sides_to_ask(kb, item_id)
    else:
        sides = _holding_sides(result, item_id, kind)
        if not sides:
            sides = sides_to_ask(kb, item_id)
    answers = tuple(_answer(result, question, kind, (item_id, s)) for s in sides)
    return Explanation(question, item_id, kind, label, side, answers)


def _holding_sides(result: Result, item_id: str, kind: str) -> tuple[Side, ...]:
    if kind == "finding":
        return tuple(s for s in (*SIDES, None) if (item_id, s) in result.case.findings)
    return result.sides_of(item_id)


def _answer(result: Result, question: str, kind: str, key: tuple[str, Side]) -> Answer:
    if question == "why-not":
        return why_not(result, key)
    if kind == "finding":
        if question == "why":
            return why(result, key)
        if key not in result.case.findings:
            lines = [Line(0, f"{_sentence(words.reading(result, key))}.")]
            assessment = result.kb.findings[key[0]].assessment
            if assessment is not None and assessment in result.kb.recommendations:
                lines.append(Line(0, f"To record it: {words.name(result.kb, assessment)}."))
            return HowAnswer(key[1], False, (), tuple(lines))
        return how(result, key)
    if question == "why" and key[0] == "ir_limited" and key[1] is not None:
        return why(result, key)  # the differential answers on a side where it does not hold, too
    if result.item(key[0], key[1]) is None:
        return why_not(result, key)
    return how(result, key) if question == "how" else why(result, key)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
