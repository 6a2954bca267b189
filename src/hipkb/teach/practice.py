"""Case practice: a student's reading of a case, graded against the engine.

An answers file (YAML or JSON) holds up to three sections, each per side::

    contributors:       # the differential's contributors that hold
      left: [posterior_capsule_closed, pelvic_chain]
    programme:          # the programme's steps, in order
      left: [arm_bar, front_foot_elevated_split_squat, cable_crossover_step_up]
    next_assessment:    # the assessment to do next (none: no assessment is needed)
      left: record_pelvic_position

Only the sections and sides present are graded, one item each. An item is
``correct``, ``partly`` or ``incorrect``, with the explanation that shows
why, citing the rule and quote behind the right answer (GUIDON's case
method). What counts:

- **contributors**: the contributors of :func:`~hipkb.answers.differential.differential`
  that hold (*supported* or *present*). Correct: the same set. Partly: at
  least one right but not the same set. Incorrect: none right (or some
  named where none holds, or none named where some hold).
- **programme**: the exercises of :func:`~hipkb.answers.programme.programme`
  in order, preceded by the supine IR measurement when the programme is
  pending that test; an empty list where there is no programme. Correct:
  the same list. Partly: the right first step, or the right steps in
  another order, or some of the right steps in the right order. Incorrect:
  otherwise.
- **next_assessment**: the supine IR measurement where the programme
  waits for it (a limitation only predicted); otherwise the first
  assessment the engine recommends on that side (or with no side), in the
  KB's declared order (retest with the pelvis neutral, record the pelvic
  position, check for a pinch, measure supine IR, the straight leg raise,
  … the retest after the programme last); ``none`` where it recommends
  none. Correct: that one. Partly: another assessment it
  recommends there. Incorrect: one it does not recommend there.

``score`` is the share of graded items correct, a partly counting half:
1.0 exactly when every graded item matches the engine. A blank (null)
entry is not graded; an empty list means "none".

>>> import hipkb
>>> result = hipkb.assess("examples/demo-01.yaml")
>>> answers = parse_answers({"programme": {"left": ["arm_bar"]}}, result.kb)
>>> g = grade(result, answers)
>>> g.score, g.items[0].grade
(0.5, 'partly')
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Literal, Mapping, Sequence

from ..errors import InputError, suggest
from ..model import SIDES, Citation, KBModel, Key, Side
from ..record import field, record, replace
from ..result import RecommendationResult, Result
from ..sanitize import clean
from ..source import Document, read_document

__all__ = [
    "SECTIONS",
    "GRADES",
    "NONE",
    "Answers",
    "GradedItem",
    "Grade",
    "parse_answers",
    "read_answers",
    "grade",
    "contributor_ids",
    "expected_programme",
    "expected_next_assessment",
]

#: The sections of an answers file, in the order they are graded.
SECTIONS: tuple[str, ...] = ("contributors", "programme", "next_assessment")
GRADES: tuple[str, ...] = ("correct", "partly", "incorrect")
#: What a student writes for "no assessment is needed".
NONE = "none"
#: Most errors reported for one answers file.
MAX_ERRORS = 20
_SECTION_WORDS = {"contributors": "Contributors", "programme": "Programme", "next_assessment": "Next assessment"}


def contributor_ids() -> tuple[str, ...]:
    """The differential's contributor ids (stable), in its order."""
    from ..answers.differential import CONTRIBUTORS

    return CONTRIBUTORS


# --------------------------------------------------------------------------
# Reading an answers file


@record
class Answers:
    """A student's answers: per section, side → the answer (ids; None for next_assessment "none")."""

    contributors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    programme: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    next_assessment: Mapping[str, str | None] = field(default_factory=dict)
    path: str | None = None

    def __post_init__(self) -> None:
        for name in SECTIONS:
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def entries(self) -> tuple[tuple[str, Literal["left", "right"], Any], ...]:
        """(section, side, answer) of every answer given, sections and sides in their fixed order."""
        out: list[tuple[str, Literal["left", "right"], Any]] = []
        for section in SECTIONS:
            given = getattr(self, section)
            out += [(section, side, given[side]) for side in SIDES if side in given]
        return tuple(out)


class _Reader:
    def __init__(self, doc: Document, kb: KBModel) -> None:
        self.doc = doc
        self.kb = kb
        self.errors: list[InputError] = []

    def fail(self, message: str, *keys: Any, hint: str | None = None, key: bool = False) -> None:
        loc = self.doc.where(*keys, key=key)
        where = ".".join(str(k) for k in keys)
        if loc.line is None and where:
            message = f"{where}: {message}"
        self.errors.append(InputError(message, path=loc.path, line=loc.line, column=loc.column, hint=hint))

    def read(self) -> Answers:
        data = self.doc.data
        if not isinstance(data, dict):
            self.fail(f"an answers file is a mapping with {', '.join(SECTIONS)}, not {_kind(data)}")
            raise self.collected()
        sections: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
        for name, value in data.items():
            if name not in SECTIONS:
                self.fail(f"unknown section {_show(name)}", name, key=True,
                          hint=suggest(str(name), SECTIONS) or "sections: " + ", ".join(SECTIONS))
                continue
            if value is None:
                continue
            if not isinstance(value, dict):
                self.fail(f"{name!r} needs answers per side ({{left: …, right: …}}), not {_kind(value)}", name)
                continue
            for side, answer in value.items():
                if side not in SIDES:
                    self.fail(f"unknown side {_show(side)} in {name!r}", name, side, key=True,
                              hint=suggest(str(side), SIDES) or "sides are left and right")
                    continue
                if answer is None:
                    continue  # blank: not answered, not graded
                parsed = getattr(self, name)(answer, (name, side))
                if parsed is not _BAD:
                    sections[name][side] = parsed
        if self.errors:
            raise self.collected()
        if not any(sections.values()):
            self.fail("nothing to grade: give contributors, programme or next_assessment for a side")
            raise self.collected()
        return Answers(sections["contributors"], sections["programme"], sections["next_assessment"], self.doc.path)

    def collected(self) -> InputError:
        errors = self.errors[:MAX_ERRORS]
        first = errors[0]
        if len(errors) == 1:
            first.problems = (first,)  # type: ignore[attr-defined]
            return first
        more = len(errors) - 1
        combined = InputError(f"{first.message}{f' ({first.hint})' if first.hint else ''} "
                              f"(and {more} more error{'s' if more > 1 else ''})")
        combined.location = first.location
        combined.args = (str(combined),)
        combined.problems = tuple(errors)  # type: ignore[attr-defined]
        return combined

    def id_list(self, value: Any, at: tuple[Any, ...], pool: Sequence[str], what: str,
                aliases: Mapping[str, str] | None = None) -> Any:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            self.fail(f"give a list of {what} ids, not {_kind(value)}", *at)
            return _BAD
        out: list[str] = []
        bad = False
        for i, item in enumerate(items):
            where = at + ((i,) if isinstance(value, list) else ())
            if not isinstance(item, str):
                self.fail(f"{what} ids are text, not {_kind(item)}", *where)
                bad = True
            elif item not in pool:
                self.fail(f"unknown {what} {_show(item)}", *where, hint=suggest(item, pool, aliases=aliases))
                bad = True
            elif item in out:
                self.fail(f"{item!r} is listed twice", *where)
                bad = True
            else:
                out.append(item)
        return _BAD if bad else tuple(out)

    def contributors(self, value: Any, at: tuple[Any, ...]) -> Any:
        # states that belong to a contributor make the did-you-mean hint point at it
        aliases = {s: "pelvic_chain" for s in (
            "pelvis_not_internally_rotating", "inlet_not_closing", "outlet_not_opening",
            "acetabulum_not_anteverted", "femur_glide_space_lacking")}
        aliases.update({f: "pelvic_position" for f in ("pelvis_forward", "pelvis_turned_away")})
        return self.id_list(value, at, contributor_ids(), "contributor", aliases)

    def programme(self, value: Any, at: tuple[Any, ...]) -> Any:
        pool = [r.id for r in self.kb.recommendations.values() if r.kind in ("exercise", "assessment")]
        pool += [r for r in self.kb.recommendations if r not in pool]
        return self.id_list(value, at, pool, "recommendation")

    def next_assessment(self, value: Any, at: tuple[Any, ...]) -> Any:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str):
            self.fail(f"give one assessment id (or {NONE!r}), not {_kind(value)}", *at)
            return _BAD
        if value.strip().lower() == NONE:
            return None
        pool = [r.id for r in self.kb.recommendations.values() if r.kind == "assessment"]
        if value not in pool:
            rec = self.kb.recommendations.get(value)
            if rec is not None:
                self.fail(f"{value!r} is {_article(rec.kind)} {rec.kind}, not an assessment", *at)
            else:
                self.fail(f"unknown assessment {_show(value)}", *at, hint=suggest(value, pool) or f"or {NONE!r}")
            return _BAD
        return value


_BAD = object()


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def parse_answers(answers: Mapping[str, Any] | Document, kb: KBModel) -> Answers:
    """Validate answers given as a mapping (or a read document); every error is reported, located.

    Raises :class:`~hipkb.errors.InputError` (one line, ``FILE:LINE:COL``, with
    did-you-mean hints; ``.problems`` holds every error).
    """
    doc = answers if isinstance(answers, Document) else Document(answers, "<answers>")
    return _Reader(doc, kb).read()


def read_answers(path: str | Path, kb: KBModel) -> Answers:
    """Read and validate an answers file (YAML or JSON, read safely)."""
    return parse_answers(read_document(path), kb)


# --------------------------------------------------------------------------
# Grading


@record
class GradedItem:
    """One graded answer: the section and side, what was given and expected, the grade and why.

    ``answer`` and ``expected`` are ids (a tuple for lists, an id or None for
    the next assessment); ``answer_text`` and ``expected_text`` say them in words.
    """

    section: str
    side: str
    answer: tuple[str, ...] | str | None
    expected: tuple[str, ...] | str | None
    grade: str
    explanation: str
    sources: tuple[Citation, ...] = ()
    answer_text: str = ""
    expected_text: str = ""
    #: each source in words (the article's quote, or the outside reference in full)
    source_text: tuple[str, ...] = ()

    @property
    def points(self) -> int:
        """2 for correct, 1 for partly, 0 for incorrect."""
        return {"correct": 2, "partly": 1}.get(self.grade, 0)

    def to_dict(self) -> dict[str, Any]:
        def ids(value: tuple[str, ...] | str | None) -> Any:
            return list(value) if isinstance(value, tuple) else value

        return {
            "section": self.section,
            "side": self.side,
            "answer": ids(self.answer),
            "expected": ids(self.expected),
            "grade": self.grade,
            "explanation": self.explanation,
            "sources": [{"ref": s.ref, "quote": s.quote} for s in self.sources],
        }


@record
class Grade:
    """The graded items of one answers file and the score."""

    items: tuple[GradedItem, ...]
    subject: str | None = None

    @property
    def score(self) -> float:
        """The share of items correct, a partly counting half (1.0 exactly when all are correct)."""
        if not self.items:
            return 0.0
        return sum(i.points for i in self.items) / (2 * len(self.items))

    def to_dict(self) -> dict[str, Any]:
        """``{"score": …, "items": [...]}``: the JSON of ``hipkb practice --format json``."""
        return {"score": self.score, "items": [i.to_dict() for i in self.items]}

    def text(self) -> str:
        """The grade in words: the score, then each item with its explanation and sources."""
        counts = {g: sum(1 for i in self.items if i.grade == g) for g in GRADES}
        who = f" for {clean(self.subject)}" if self.subject else ""
        lines = [
            f"Practice{who}: graded against the engine",
            f"Score: {self.score:.2f} ({counts['correct']} correct, {counts['partly']} partly, "
            f"{counts['incorrect']} incorrect, of {len(self.items)})",
            "",
        ]
        for item in self.items:
            lines.append(f"{_SECTION_WORDS[item.section]}, {item.side}: {item.grade}")
            lines.append(f"  You said: {item.answer_text}")
            if item.grade != "correct":
                lines.append(f"  The engine: {item.expected_text}")
            lines.append(f"  Why: {item.explanation}")
            for source in item.source_text:
                lines.append(f"  {source}")
            lines.append("")
        return "\n".join(lines)


def _cite(kb: KBModel, source: Citation) -> str:
    """A source in words: the quote and who said it, or the outside reference and its note."""
    ref = kb.sources.get(source.ref or "")
    who = "the KB" if ref is None else ("the article" if ref.kind == "article" else clean(ref.citation))
    if source.quote:
        return f"According to {who}: \u201c{clean(source.quote)}\u201d"
    if ref is not None:
        return f"Source: {who}" + (f" ({clean(source.note)})" if source.note else "")
    return f"The KB's reading: {clean(source.interpretation or '')}"


def grade(result: Result, answers: Answers) -> Grade:
    """Grade ``answers`` against the engine's result for the same case.

    Raises :class:`~hipkb.errors.ExplainError` when ``contributors`` are
    graded on a KB without the differential's stable ids.
    """
    items = []
    for section, side, answer in answers.entries():
        if section == "contributors":
            item = _grade_contributors(result, side, answer)
        elif section == "programme":
            item = _grade_programme(result, side, answer)
        else:
            item = _grade_next(result, side, answer)
        items.append(replace(item, source_text=tuple(_cite(result.kb, s) for s in item.sources)))
    return Grade(tuple(items), result.case.subject)


class _Say:
    def __init__(self, result: Result) -> None:
        self.result = result
        self.kb = result.kb

    def label(self, item: str) -> str:
        return clean(self.kb.label(item))

    def lower(self, item: str) -> str:
        text = self.label(item)
        head = text.split(" ", 1)[0]
        return text if len(head) > 1 and head.isupper() else text[:1].lower() + text[1:]

    def ids(self, items: Iterable[str], labels: Mapping[str, str] | None = None) -> str:
        names = [(labels or {}).get(i) or self.label(i) for i in items]
        return "; ".join(names) if names else "none"

    def rule(self, rec: RecommendationResult | None) -> tuple[str, Citation | None]:
        """The label and source of the rule behind a recommendation's strongest justification."""
        if rec is None or not rec.justifications:
            return "", None
        just = rec.justifications[0]
        if just.rule is None:
            return "", just.source
        return clean(self.kb.rule(just.rule).label), just.source

    def ir_reading(self, side: Literal["left", "right"]) -> str:
        """``supine hip internal rotation at 90° hip flexion is 12° on the left, below the 25° threshold``."""
        for state in ("ir_limited", "ir_within_range"):
            if state not in self.kb.states:
                continue
            c = self.result.conclusion(state, side)
            if c is not None and c.measurement is not None:
                m = c.measurement
                compare = "below" if m.margin < 0 else "at or above"
                return (f"{self.lower(m.finding)} is {m.value:g}° on the {side}, "
                        f"{compare} the {m.threshold:g}° threshold")
        return ""


def _grade_contributors(result: Result, side: Literal["left", "right"], answer: tuple[str, ...]) -> GradedItem:
    say = _Say(result)
    rows = result.differential(side)
    labels = {c.id: clean(c.label) for c in rows}
    expected = tuple(c.id for c in rows if c.holds)
    given, right = set(answer), set(expected)
    if given == right:
        verdict = "correct"
    elif given & right:
        verdict = "partly"
    else:
        verdict = "incorrect"
    wrong: list[tuple[str, Any]] = []
    agreed: list[tuple[str, Any]] = []
    for c in rows:
        arguments = c.arguments_for if c.holds else (c.arguments_against or c.arguments_for)
        because = f": {clean(arguments[0].text)}" if arguments else ""
        if c.holds and c.id not in given:
            wrong.append((f"you left out {labels[c.id]}, which is {c.standing} on the {side}{because}", c))
        elif not c.holds and c.id in given:
            wrong.append((f"{labels[c.id]} does not hold on the {side}: it is {c.standing}{because}", c))
        elif c.holds:
            agreed.append((f"{labels[c.id]} is {c.standing}{because}", c))
    reasons = [text for text, _ in (*wrong, *agreed)]
    if not right and not given:
        reasons.append(f"no contributor holds on the {side}")
    sources: list[Citation] = []
    for _, c in (*wrong, *agreed):
        sources += [s for s in c.sources if s not in sources]
    explanation = "; ".join(reasons)
    return GradedItem("contributors", side, answer, expected, verdict, _sentence(explanation), tuple(sources[:4]),
                      say.ids(answer, labels), say.ids(expected, labels))


def expected_programme(result: Result, side: Side) -> tuple[str, ...]:
    """The programme's steps on ``side`` as a student should list them (measure first when pending)."""
    from ..answers.programme import programme

    p = programme(result, side)
    if not p.exists:
        return ()
    first = (p.first_step,) if p.pending and p.first_step else ()
    return first + tuple(s for s in p.steps if s not in first)


def _subsequence(short: Sequence[str], long: Sequence[str]) -> bool:
    it = iter(long)
    return all(any(x == y for y in it) for x in short)


def _grade_programme(result: Result, side: Literal["left", "right"], answer: tuple[str, ...]) -> GradedItem:
    from ..answers.programme import PROGRAMME_IDS, programme

    say = _Say(result)
    p = programme(result, side)
    expected = expected_programme(result, side)
    if answer == expected:
        verdict = "correct"
    elif expected and answer and (
        answer[0] == expected[0] or set(answer) == set(expected) or _subsequence(answer, expected)
    ):
        verdict = "partly"
    else:
        verdict = "incorrect"
    sources: list[Citation] = []
    reading = say.ir_reading(side)
    if not p.exists:
        why = f"IR is not limited on the {side}" + (f" ({reading})" if reading else "") + ", so there is no programme"
        within = result.conclusion("ir_within_range", side) if "ir_within_range" in result.kb.states else None
        if within is not None and within.justifications and within.justifications[0].source is not None:
            sources.append(within.justifications[0].source)
    else:
        steps = ", ".join(f"{i}. {say.label(s)}" for i, s in enumerate(expected, 1))
        if p.pending:
            why = (f"limited IR on the {side} is only predicted, not measured, so the programme waits for its test: "
                   f"measure supine IR first ({steps})")
        else:
            why = f"IR is limited on the {side}" + (f" ({reading})" if reading else "") + f", so the programme runs: {steps}"
        why += " — the article's progression from the ground to split stance to loading"
        for rec in p.exercises:
            item = result.kb.recommendations.get(rec.id)
            if item is not None and item.order_source is not None and item.order_source not in sources:
                sources.append(item.order_source)
                break
        for caution in (c for c in p.cautions if c.id not in PROGRAMME_IDS):  # e.g. what holds a step back
            why += f"; {say.label(caution.id)}: {clean(caution.summary)}"
            _, source = say.rule(caution)
            if source is not None and source not in sources:
                sources.append(source)
        if p.referral is not None:
            why += f"; but first: {say.label(p.referral.id)}"
    mistakes = []
    if verdict != "correct":
        missing = [s for s in expected if s not in answer]
        extra = [s for s in answer if s not in expected]
        if missing:
            mistakes.append(f"missing: {say.ids(missing)}")
        if extra:
            mistakes.append(f"not in this programme: {say.ids(extra)}")
        if not missing and not extra:
            mistakes.append("the order differs")
    explanation = why + (" (" + "; ".join(mistakes) + ")" if mistakes else "")
    return GradedItem("programme", side, answer, expected, verdict, _sentence(explanation), tuple(sources),
                      say.ids(answer), say.ids(expected))


def recommended_assessments(result: Result, side: Side) -> tuple[RecommendationResult, ...]:
    """The assessments the engine recommends on ``side`` (or with no side), the next one first.

    The next one is the programme's first step where the programme waits for
    its test (measure supine IR first); otherwise the order is the KB's.
    """
    from ..answers.programme import programme

    order = dict(result.kb.position("recommendations"))
    first = programme(result, side)
    if first.pending and first.first_step is not None:
        order[first.first_step] = -1
    found = [r for r in result.recommendations if r.kind == "assessment" and r.side in (side, None)]
    return tuple(sorted(found, key=lambda r: (order.get(r.id, len(order)), r.side is None)))


def expected_next_assessment(result: Result, side: Side) -> str | None:
    """The engine's next assessment on ``side``: the first it recommends there, in the KB's order."""
    found = recommended_assessments(result, side)
    return found[0].id if found else None


def _grade_next(result: Result, side: Literal["left", "right"], answer: str | None) -> GradedItem:
    say = _Say(result)
    found = recommended_assessments(result, side)
    expected = found[0].id if found else None
    others = [r.id for r in found[1:] if r.id != expected]
    if answer == expected:
        verdict = "correct"
    elif answer in others:
        verdict = "partly"
    else:
        verdict = "incorrect"
    sources: list[Citation] = []
    if expected is None:
        why = f"the engine recommends no further assessment on the {side}"
    else:
        rule, source = say.rule(found[0])
        why = f"next on the {side} comes {say.label(expected)}" + (f", because: {rule}" if rule else "")
        if source is not None:
            sources.append(source)
        if others:
            why += f"; it also recommends, later: {say.ids(others)}"
    if verdict == "incorrect" and answer is not None:
        why += f"; {say.label(answer)} is not recommended on the {side}" + _not_recommended(result, side, answer)
    return GradedItem("next_assessment", side, answer, expected, verdict, _sentence(why), tuple(sources),
                      say.label(answer) if answer else NONE, say.label(expected) if expected else NONE)


def _not_recommended(result: Result, side: Literal["left", "right"], assessment: str) -> str:
    """Why an assessment is not recommended: what it records is already recorded, or nothing calls for it."""
    kb = result.kb
    for finding in kb.findings.values():
        if finding.assessment != assessment:
            continue
        key: Key = (finding.id, side if finding.sided else None)
        if key in result.case.findings:
            return f": {clean(kb.label(finding.id))[:1].lower() + clean(kb.label(finding.id))[1:]} is already recorded"
    return ": nothing in this case calls for it"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {_show(value)}"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
