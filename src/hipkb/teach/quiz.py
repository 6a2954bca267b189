"""Quiz questions generated from the knowledge base, each with its answer's source.

Every question is built from the KB model, so its answer is right by
construction: the links of the causal model, the rules' conditions
(evaluated with their own methods), the states' ``tested_by`` and
``indicated_by``, the recommendations' ``addresses`` and calls. The wrong
choices (distractors) are sibling ids of the same kind that the KB shows
to be wrong: states that cannot hold in the case the question describes,
exercises that do not address the item, assessments that read nothing
the question turns on. Kinds:

- ``chain``: the next link of the model, forwards or backwards;
- ``test``: which assessment measures or indicates a state;
- ``reading``: what a reading means (a value beside its threshold);
- ``exercise``: which exercise acts on a contributor, and how;
- ``compensation``: what a compensation suggests;
- ``distinguish``: which assessment tells two contributors apart;
- ``withheld``: which recommendation is held back when, and why.

The same seed gives the same quiz, byte for byte. At least three quarters
of a quiz's questions quote the article; the rest cite their outside
reference.

>>> from hipkb.kb import load_model
>>> q = quiz(load_model(), count=3, seed=1)
>>> len(q.questions), all(x.answer in x.choices for x in q.questions)
(3, True)
>>> quiz(load_model(), count=3, seed=1).to_dict() == q.to_dict()
True
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any, Iterable, Iterator, Sequence

from ..errors import InputError, suggest
from ..model import Branch, Citation, Facts, KBModel, Side
from ..record import record
from ..sanitize import clean
from ._kbview import POLARITY_WORDS, Example, KBView

__all__ = ["KINDS", "Cited", "Question", "Quiz", "quiz", "all_questions"]

#: Question kinds, in the order the generators run.
KINDS: tuple[str, ...] = ("chain", "test", "reading", "exercise", "compensation", "distinguish", "withheld")
#: Most choices a question offers (the answer and up to three distractors).
MAX_CHOICES = 4
#: Fewest choices a question offers.
MIN_CHOICES = 3
#: Share of a quiz's questions that must quote the article.
ARTICLE_SHARE = 0.75

_LETTERS = "ABCDEFGH"
_KIND_WORDS = {
    "strategy": "strategy", "principle": "principle", "exercise": "exercise",
    "caution": "caution", "assessment": "assessment",
}


@record
class Cited:
    """Where a question's answer comes from: the article's words, or an outside reference.

    ``citation`` is the reference in full (for text output; not in the JSON).
    """

    ref: str | None
    quote: str | None
    citation: str | None = None
    interpretation: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"ref": self.ref, "quote": self.quote}


@record
class Question:
    """One multiple-choice question. ``answer`` is one of ``choices``.

    Beyond the JSON fields: ``choice_ids`` (the KB id behind each choice,
    in the same order), ``subject`` (the ids the question is about) and
    ``case`` (the small case the question describes, as (id, side, value)
    entries; empty when it describes none) — for tools and for checking
    the answer with the engine.
    """

    id: str
    kind: str
    prompt: str
    choices: tuple[str, ...]
    answer: str
    explanation: str
    source: Cited
    choice_ids: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()
    case: tuple[tuple[str, Side, float | bool], ...] = ()

    @property
    def answer_index(self) -> int:
        return self.choices.index(self.answer)

    @property
    def answer_id(self) -> str:
        return self.choice_ids[self.answer_index]

    @property
    def quotes_article(self) -> bool:
        return self.source.ref == "article" and bool(self.source.quote)

    def case_dict(self) -> dict[str, Any]:
        """The described case in case-file form (``{"findings": {...}}``), for ``hipkb assess``."""
        findings: dict[str, Any] = {}
        for item, side, value in self.case:
            if side is None:
                findings[item] = value
            else:
                findings.setdefault(item, {})[side] = value
        return {"findings": findings}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "prompt": self.prompt,
            "choices": list(self.choices),
            "answer": self.answer,
            "explanation": self.explanation,
            "source": self.source.to_dict(),
        }


@record
class Quiz:
    """A quiz: its questions in order, and the seed that chose them."""

    questions: tuple[Question, ...]
    seed: int
    kb_name: str = "hipkb"
    kb_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        """``{"questions": [...]}``, the JSON of ``hipkb quiz --format json``."""
        return {"questions": [q.to_dict() for q in self.questions]}

    def text(self) -> str:
        """Questions, then the answers with their explanations and sources (plain text)."""
        n = len(self.questions)
        lines = [f"Quiz: {n} question{'s' if n != 1 else ''} from the {clean(self.kb_name)} knowledge base (seed {self.seed})", ""]
        for i, q in enumerate(self.questions, 1):
            lines.append(f"{i}. {q.prompt}")
            lines += [f"   {_LETTERS[j]}) {c}" for j, c in enumerate(q.choices)]
            lines.append("")
        lines += ["Answers", ""]
        for i, q in enumerate(self.questions, 1):
            lines.append(f"{i}. {_LETTERS[q.answer_index]}) {q.answer}")
            lines.append(f"   {q.explanation}")
            lines.append(f"   {source_line(q.source)}")
            lines.append("")
        return "\n".join(lines)

    def markdown(self) -> str:
        """The quiz as Markdown: questions, then an answer key (for a page or a hand-out)."""
        n = len(self.questions)
        lines = ["# Quiz: hip internal rotation", "",
                 f"{n} question{'s' if n != 1 else ''} from the {_md(self.kb_name)} knowledge base (seed {self.seed}).", ""]
        for i, q in enumerate(self.questions, 1):
            lines += [f"## {i}. {_md(q.prompt)}", ""]
            lines += [f"- **{_LETTERS[j]}.** {_md(c)}" for j, c in enumerate(q.choices)]
            lines.append("")
        lines += ["## Answer key", ""]
        for i, q in enumerate(self.questions, 1):
            lines.append(f"{i}. **{_LETTERS[q.answer_index]}. {_md(q.answer)}** {_md(q.explanation)}")
            lines.append("")
            lines.append(f"   > {_md(source_line(q.source))}")
            lines.append("")
        return "\n".join(lines)


def source_line(source: Cited) -> str:
    """A question's source in words: the article's quote, or the outside reference."""
    if source.quote:
        who = "the article" if source.ref == "article" else (source.citation or source.ref or "the KB")
        return f"According to {who}: \u201c{source.quote}\u201d"
    return f"Source: {source.citation or source.ref}"


def _md(text: str) -> str:
    """KB text made inert in Markdown: no emphasis, links, HTML or headings from data."""
    out = []
    for ch in text:
        if ch in "\\`*_{}[]<>#|!":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------
# Drafts: a question before the seed picks its distractors and order


@record
class _Draft:
    id: str
    kind: str
    prompt: str
    answer: tuple[str, str]
    #: distractor candidates (id, text), best first; the seed shuffles within a tier
    tiers: tuple[tuple[tuple[str, str], ...], ...]
    explanation: str
    source: Cited
    subject: tuple[str, ...] = ()
    case: tuple[tuple[str, Side, float | bool], ...] = ()

    def distractor_pool(self) -> list[tuple[str, str]]:
        seen = {self.answer[1]}
        out = []
        for tier in self.tiers:
            for item in tier:
                if item[1] not in seen:
                    seen.add(item[1])
                    out.append(item)
        return out

    def finish(self, rng: random.Random) -> Question:
        seen = {self.answer[1]}
        picked: list[tuple[str, str]] = []
        for tier in self.tiers:
            options = [item for item in tier if item[1] not in seen]
            rng.shuffle(options)
            for item in options:
                if len(picked) == MAX_CHOICES - 1:
                    break
                if item[1] not in seen:
                    seen.add(item[1])
                    picked.append(item)
        choices = [self.answer, *picked]
        rng.shuffle(choices)
        return Question(
            id=self.id, kind=self.kind, prompt=self.prompt,
            choices=tuple(c[1] for c in choices), answer=self.answer[1],
            explanation=self.explanation, source=self.source,
            choice_ids=tuple(c[0] for c in choices), subject=self.subject, case=self.case,
        )


class _Words:
    """Plain words for the KB's items (labels cleaned, sides spelled out)."""

    def __init__(self, view: KBView) -> None:
        self.view = view
        self.kb = view.kb

    def label(self, item: str) -> str:
        return clean(self.kb.label(item))

    def name(self, item: str) -> str:
        """A label inside a sentence: quoted, as the KB writes it."""
        return f"\u201c{self.label(item)}\u201d"

    def lower(self, item: str) -> str:
        text = self.label(item)
        head = text.split(" ", 1)[0]
        return text if len(head) > 1 and head.isupper() else text[:1].lower() + text[1:]

    def where(self, side: Side) -> str:
        return f"on the {side}" if side is not None else "with no side"

    def threshold_text(self, threshold: str) -> str:
        value = self.view.thresholds.get(threshold)
        return "its threshold" if value is None else f"{value:g}°"

    def entry(self, item: str, side: Side, value: float | bool) -> str:
        where = f" {self.where(side)}" if side is not None else " (no side)"
        if item in self.kb.states:
            return f"{self.lower(item)}{where}, stated by the assessor"
        if isinstance(value, bool):
            return f"{self.lower(item)} {'observed' if value else 'recorded as not observed'}{where}"
        threshold = self.view.thresholds.get(item)
        limit = f" (threshold {threshold:g}°)" if threshold is not None else ""
        return f"{self.lower(item)}: {value:g}°{where}{limit}"

    def case(self, case: Example) -> str:
        position = self.kb.position("findings")
        states = self.kb.position("states")
        entries = sorted(
            case.items(),
            key=lambda e: (e[0] in self.kb.states, position.get(e[0], states.get(e[0], 0)), str(e[1])),
        )
        parts = [self.entry(*e) for e in entries]
        if not parts:
            return "nothing"
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

    def reading_note(self, citation: Citation | None) -> str:
        if citation is not None and citation.interpretation:
            return f" The KB's reading: {clean(citation.interpretation)}"
        return ""


def _cited(view: KBView, citation: Citation | None) -> Cited | None:
    """A question source from a KB citation: needs a quote from the article, or an outside reference."""
    if citation is None or citation.ref is None:
        return None
    source = view.kb.sources.get(citation.ref)
    if citation.ref == view.article:
        if not citation.quote:
            return None
        return Cited("article", clean(citation.quote), source.citation if source else None, citation.interpretation)
    return Cited(citation.ref, clean(citation.quote) if citation.quote else None,
                 clean(source.citation) if source else None, citation.interpretation)


def _first_cited(view: KBView, citations: Iterable[Citation | None]) -> Cited | None:
    """The first citation that quotes the article, else the first that names an outside reference."""
    found = [c for c in (_cited(view, x) for x in citations) if c is not None]
    return next((c for c in found if c.ref == "article"), found[0] if found else None)


def _tiers(*groups: Iterable[tuple[str, str]]) -> tuple[tuple[tuple[str, str], ...], ...]:
    out = []
    seen: set[str] = set()
    for group in groups:
        tier = []
        for item in group:
            if item[0] not in seen:
                seen.add(item[0])
                tier.append(item)
        out.append(tuple(tier))
    return tuple(out)


def _state_tiers(words: _Words, answer: str, pool: Sequence[str]) -> tuple[tuple[tuple[str, str], ...], ...]:
    """States as distractors: opposites of the answer first, then the same part of the body, then the rest."""
    kb = words.kb
    state = kb.states[answer]
    opposite = [s for s in pool if s == state.opposite]
    same = [s for s in pool if kb.states[s].entity == state.entity and s not in opposite]
    rest = [s for s in pool if s not in opposite and s not in same]
    return _tiers(*(((s, words.label(s)) for s in group) for group in (opposite, same, rest)))


# --------------------------------------------------------------------------
# Generators


def _chain(view: KBView, words: _Words) -> Iterator[_Draft]:
    kb = view.kb
    linked = view.linked_states()
    for link in kb.links.values():
        if link.cause not in kb.states or link.effect not in kb.states:
            continue
        source = _cited(view, link.source)
        if source is None:
            continue
        explanation = f"{clean(link.label)}.{words.reading_note(link.source)}"
        cause, effect = link.cause, link.effect
        for direction, subject, answer, excluded in (
            ("next", cause, effect, view.descendants(cause) | {cause}),
            ("previous", effect, cause, view.ancestors(effect) | {effect}),
        ):
            pool = [s for s in kb.states if s not in excluded]
            near = [s for s in pool if s in linked]
            tiers = _tiers(((s, words.label(s)) for s in near), ((s, words.label(s)) for s in pool))
            prompt = (
                f"In the model, which of these follows directly from {words.name(subject)}?" if direction == "next"
                else f"In the model, which of these leads directly to {words.name(subject)}?"
            )
            yield _Draft(f"chain-{direction}-{link.id}", "chain", prompt, (answer, words.label(answer)), tiers,
                         explanation, source, subject=(subject, link.id))


def _assessments_with_findings(kb: KBModel) -> dict[str, frozenset[str]]:
    """Assessment id → the findings it records (only assessments that record some), KB order.

    An assessment records the findings that name it (``assessment:``) and
    those its own calls wait for (an ``absent`` condition: once recorded,
    it is no longer called).
    """
    out: dict[str, frozenset[str]] = {}
    for rec in kb.recommendations.values():
        if rec.kind != "assessment":
            continue
        produced = {f.id for f in kb.findings.values() if f.assessment == rec.id}
        for call in rec.calls:
            for branch in call.branches():
                produced |= {c.ref for c in branch.conditions if c.kind == "absent" and c.ref and c.ref in kb.findings}
        if produced:
            out[rec.id] = frozenset(produced)
    return out


def _read_findings(view: KBView, state: str) -> set[str]:
    """Findings any condition of the producers of ``state`` (or of its opposite) reads."""
    kb = view.kb
    targets = [state] + ([kb.states[state].opposite] if kb.states[state].opposite else [])
    out: set[str] = set()
    for target in targets:
        for branch in view.producers(target or ""):
            for cond in branch.conditions:
                if cond.kind == "unassessed":
                    out |= {f for f, _ in cond.findings}
                elif cond.kind != "state" and cond.ref:
                    out.add(cond.ref)
    return out


def _test(view: KBView, words: _Words) -> Iterator[_Draft]:
    kb = view.kb
    assessments = _assessments_with_findings(kb)
    for state in kb.states.values():
        tests = ([state.tested_by] if state.tested_by else []) + list(state.indicated_by)
        answers = []
        for test in tests:
            finding = kb.findings.get(test)
            if finding is not None and finding.assessment in assessments and finding.assessment not in answers:
                answers.append(finding.assessment)
        if not answers:
            continue
        answer = answers[0]
        test = next(t for t in tests if kb.findings[t].assessment == answer)
        read = _read_findings(view, state.id) | set(tests)
        pool = [a for a, produced in assessments.items() if a not in answers and not (produced & read)]
        readings = []
        rule_sources: list[Citation | None] = []
        for branch in view.producers(state.id):
            for cond in branch.conditions:
                if cond.kind == "finding" and cond.ref == test and cond.compare:
                    status = kb.branch_status.get((branch.index, state.id))
                    if status in ("measured", "indicated"):
                        compare = POLARITY_WORDS[cond.compare]
                        readings.append(f"{words.label(test)} {compare} {words.threshold_text(cond.threshold or '')} "
                                        f"gives {words.name(state.id)} ({status}).")
                        rule_sources.append(branch.rule.source)
        source = _first_cited(view, [*rule_sources, kb.findings[test].source, state.source])
        if source is None:
            continue
        verb = "measures" if state.tested_by == test else "does the model read"
        prompt = (f"Which assessment measures {words.name(state.id)}?" if verb == "measures"
                  else f"Which assessment does the model read {words.name(state.id)} from?")
        explanation = f"{words.label(answer)}: it records {words.lower(test)}. " + " ".join(dict.fromkeys(readings))
        yield _Draft(f"test-{state.id}", "test", prompt, (answer, words.label(answer)),
                     _tiers(((a, words.label(a)) for a in pool)), explanation.strip(), source,
                     subject=(state.id, test))


def _reading(view: KBView, words: _Words) -> Iterator[_Draft]:
    kb = view.kb
    seen: list[tuple[str, str, str]] = []
    for branch in kb.branches:
        for cond in branch.conditions:
            triple = (cond.ref or "", cond.compare or "", cond.threshold or "")
            if cond.kind == "finding" and cond.compare and triple not in seen and cond.ref in kb.findings:
                seen.append(triple)
    tested = [s for s in kb.states.values() if s.has_test]
    for finding, compare, threshold in seen:
        side: Side = "left" if kb.findings[finding].sided else None
        value = view.reading_value(finding, compare, threshold)
        if value is None:
            continue
        case = Example({(finding, side): value})
        closure = view.closure(case)
        if view.conflicted(closure):
            continue
        # states needing the other side's reading say nothing about this one
        one_sided = [s.id for s in tested if not any(
            c.kind == "lower_side" and c.ref == finding for b in view.producers(s.id) for c in b.conditions)]
        pool = [s for s in one_sided if not view.holds_anywhere(closure, s)]
        for state in kb.states:
            for index in closure.get((state, side), ()):
                branch = kb.branches[index]
                reads = any(c.kind == "finding" and c.ref == finding and c.compare == compare for c in branch.conditions)
                status = kb.branch_status.get((index, state))
                if not reads or status not in ("measured", "indicated"):
                    continue
                source = _cited(view, branch.rule.source)
                if source is None:
                    continue
                assumed = [c.ref for c in branch.conditions if c.kind == "not" and c.ref]
                note = ""
                if assumed:
                    items = " or ".join(words.name(a) for a in assumed)
                    note = f" It assumes that no {items} was observed: in this case none was recorded."
                explanation = (f"{clean(branch.rule.label)} ({status}).{note}{words.reading_note(branch.rule.source)}")
                prompt = (f"A case records {words.case(case)}; nothing else is recorded. "
                          f"Which of these does the model read from it {words.where(side)}?")
                yield _Draft(f"reading-{finding}-{compare}-{state}", "reading", prompt, (state, words.label(state)),
                             _state_tiers(words, state, pool), explanation, source,
                             subject=(finding, state), case=case.items())
                break


def _exercise(view: KBView, words: _Words) -> Iterator[_Draft]:
    kb = view.kb
    exercises = [r for r in kb.recommendations.values() if r.kind == "exercise"]
    for ex in exercises:
        for address in ex.addresses:
            source = _cited(view, address.source)
            if source is None:
                continue
            target = address.target
            how = clean(address.label)
            note = words.reading_note(address.source)
            others = [e for e in exercises if e.id != ex.id and target not in {a.target for a in e.addresses}]
            yield _Draft(
                f"exercise-which-{ex.id}-{target}", "exercise",
                f"In the model, which exercise acts on {words.name(target)}?",
                (ex.id, words.label(ex.id)), _tiers(((e.id, words.label(e.id)) for e in others)),
                f"{words.label(ex.id)}: it {how}. {clean(ex.summary)}{note}", source, subject=(ex.id, target),
            )
            on_target = {clean(a.label) for e in exercises for a in e.addresses if a.target == target}
            own = {clean(a.label) for a in ex.addresses}
            pool = [(f"{e.id}:{a.target}", clean(a.label)) for e in exercises if e.id != ex.id for a in e.addresses
                    if clean(a.label) not in on_target and clean(a.label) not in own]
            yield _Draft(
                f"exercise-how-{ex.id}-{target}", "exercise",
                f"In the model, how does the {words.lower(ex.id)} act on {words.name(target)}?",
                (f"{ex.id}:{target}", how), _tiers(pool),
                f"The {words.lower(ex.id)} {how}: {clean(ex.summary)}{note}", source, subject=(ex.id, target),
            )


def _compensation(view: KBView, words: _Words) -> Iterator[_Draft]:
    kb = view.kb
    for finding in kb.findings.values():
        if finding.group != "compensation":
            continue
        for branch in kb.branches:
            if branch.rule.origin == "call" or not any(
                c.kind == "finding" and c.ref == finding.id and c.compare is None for c in branch.conditions
            ):
                continue
            side: Side = "left" if "left" in branch.contexts else None
            if side not in branch.contexts:
                continue
            case = view.witness_branch(branch, side)
            if case is None:
                continue
            closure = view.closure(case)
            source = _cited(view, branch.rule.source)
            if view.conflicted(closure) or source is None:
                continue
            pool = [s for s in kb.states if not view.holds_anywhere(closure, s)]
            for state in branch.rule.then:
                if state not in kb.states or (state, side) not in closure:
                    continue
                where = words.where(side) if side is not None else "for no particular side"
                prompt = (f"A case records {words.case(case)}; nothing else is recorded. "
                          f"What does the model take this to suggest {where}?")
                explanation = f"{clean(branch.rule.label)}.{words.reading_note(branch.rule.source)}"
                yield _Draft(f"compensation-{finding.id}-{branch.rule.id}", "compensation", prompt,
                             (state, words.label(state)), _state_tiers(words, state, pool), explanation, source,
                             subject=(finding.id, state), case=case.items())


def _distinguish(view: KBView, words: _Words) -> Iterator[_Draft]:
    kb = view.kb
    assessments = _assessments_with_findings(kb)
    for target in kb.states.values():
        if target.tested_by is None:
            continue
        causes = [link.cause for link in kb.links.values()
                  if link.effect == target.id and link.use == "conclude" and link.cause in kb.states]
        if not causes:
            continue
        ancestors: set[str] = set()
        todo = list(causes)
        while todo:
            item = todo.pop()
            if item not in ancestors:
                ancestors.add(item)
                todo += [l.cause for l in kb.links.values()
                         if l.effect == item and l.use == "conclude" and l.cause in kb.states]
        shown_by = {l.cause for l in kb.links.values() if l.effect == target.id and l.cause in kb.findings}
        readers = {s for s in kb.states if any(
            c.kind == "finding" and c.compare is None and c.ref in shown_by
            for b in view.producers(s) for c in b.conditions)}
        contributors = [s for s in kb.states if (s in ancestors or s in readers) and view.signature(s)]
        for a, b in itertools.combinations(contributors, 2):
            # a state read from how the test went (e.g. the pelvis out of position) is told apart from a
            # cause only by an outcome that counts for one and against the other
            strict = a not in ancestors or b not in ancestors
            yield from _distinguish_pair(view, words, target.id, a, b, assessments, strict=strict)


def _distinguish_pair(view: KBView, words: _Words, target: str, a: str, b: str,
                      assessments: dict[str, frozenset[str]], *, strict: bool = False) -> Iterator[_Draft]:
    """One question per assessment that tells ``a`` from ``b`` best (the others that do are left out)."""
    kb = view.kb
    sig_a, sig_b = view.signature(a), view.signature(b)
    ranks: dict[str, int] = {}
    for rec, produced in assessments.items():
        rank = 0
        for f in produced:
            lean_a, lean_b = view.leaning(sig_a, f), view.leaning(sig_b, f)
            if lean_a and lean_b and lean_a != lean_b:
                rank = max(rank, 2)  # one outcome for a, another for b
            elif bool(lean_a) != bool(lean_b):
                rank = max(rank, 1)  # bears on one of them only
            elif lean_a and rank == 0:
                rank = -1  # bears on both alike: neither right nor clearly wrong
        ranks[rec] = rank
    best = max(ranks.values(), default=0)
    if best < (2 if strict else 1):
        return
    pool = [r for r, rank in ranks.items() if rank == 0]
    case = None
    for state in (a, b):
        found = view.witness_state(state, "left")
        if found is not None:
            case = found if case is None else (case.merge(found) or case)
    prompt = (f"Both {words.name(a)} and {words.name(b)} can lie behind {words.name(target)}. "
              f"Which assessment helps tell them apart?")
    for answer in (r for r, rank in ranks.items() if rank == best):
        source = _cited(view, kb.recommendations[answer].source)
        if source is None:
            continue
        produced = assessments[answer]
        said = [p for p in (_leaning_words(view, words, s, sig, produced) for s, sig in ((a, sig_a), (b, sig_b))) if p]
        silent = [s for s, sig in ((a, sig_a), (b, sig_b)) if not any(sig.get(f) for f in produced)]
        explanation = f"{words.label(answer)}: in the model, " + "; ".join(said)
        if silent:
            explanation += f"; it says nothing about {words.name(silent[0])}"
        yield _Draft(f"distinguish-{a}-{b}-{answer}", "distinguish", prompt, (answer, words.label(answer)),
                     _tiers(((r, words.label(r)) for r in pool)), explanation + ".", source,
                     subject=(a, b, target), case=() if case is None else case.items())


def _leaning_words(view: KBView, words: _Words, state: str, sig: dict[str, set[tuple[str, str]]],
                   produced: Iterable[str]) -> str:
    """``“X” or “Y” not observed points to “S”``: what the assessment's outcomes say about one state."""
    order = view.kb.position("findings")
    groups: dict[tuple[str, str], list[str]] = {}
    for f in sorted(produced, key=lambda f: order.get(f, 0)):
        for polarity, stance in sorted(sig.get(f, ())):
            groups.setdefault((polarity, stance), []).append(f)
    parts = []
    for (polarity, stance), found in groups.items():
        verb = "points to" if stance == "for" else "argues against"
        limit = f" {words.threshold_text(found[0])}" if polarity in ("below", "at_least") else ""
        names = " or ".join(words.name(f) for f in found)
        parts.append(f"{names} {POLARITY_WORDS[polarity]}{limit} {verb} {words.name(state)}")
    return "; ".join(parts)


def _withheld(view: KBView, words: _Words) -> Iterator[_Draft]:
    kb = view.kb
    for rec in kb.recommendations.values():
        done: set[str] = set()
        for branch in kb.branches:
            if branch.rule.origin != "call" or rec.id not in branch.rule.then or "left" not in branch.contexts:
                continue
            for cond in branch.conditions:
                if cond.kind == "not" and cond.ref and cond.ref in kb.findings:
                    deciding = [cond.ref]
                elif cond.kind == "unassessed":
                    deciding = [f for f, _ in cond.findings]
                else:
                    continue
                for finding in deciding:
                    if finding in done:
                        continue
                    draft = _withheld_one(view, words, rec.id, branch, cond.kind, finding)
                    if draft is not None:
                        done.add(finding)
                        yield draft


def _withheld_one(view: KBView, words: _Words, rec: str, branch: Branch, how: str, finding: str) -> _Draft | None:
    kb = view.kb
    side: Side = "left"
    base = view.witness_branch(branch, side)
    if base is None:
        return None
    item = kb.findings[finding]
    where: Side = side if item.sided else None
    if (finding, where) in base.findings:
        return None
    value: float | bool | None = True if item.type != "degrees" else view.neutral_value(finding)
    if value is None:
        return None
    case = base.with_finding((finding, where), value)
    before, after = view.closure(base), view.closure(case)
    if (rec, side) not in before or (rec, side) in after or view.conflicted(after):
        return None
    # held back by this finding alone: the call's other conditions still hold
    facts = Facts(case.findings, frozenset(after), view.thresholds)
    others = [c for c in branch.conditions if not (c.kind == how and (c.ref == finding or (
        how == "unassessed" and finding in {f for f, _ in c.findings})))]
    if any(c.evaluate(facts, side) is None for c in others):
        return None
    kind = kb.recommendations[rec].kind
    pool = [r for r in kb.recommendations if r != rec and kb.recommendations[r].kind == kind and (r, side) in after]
    if how == "not":
        why = [r for r in kb.recommendations if (r, side) in after and (r, side) not in before
               and kb.recommendations[r].kind == "caution"
               and any(c.kind == "finding" and c.ref == finding for i in after[(r, side)] for c in kb.branches[i].conditions)]
        if why:
            caution = kb.recommendations[why[0]]
            explanation = (f"{words.label(rec)} is held back {words.where(side)} when {words.name(finding)} is observed "
                           f"({words.label(caution.id)}). {clean(caution.summary)}")
            source = _cited(view, caution.source) or _cited(view, branch.rule.source)
        else:
            explanation = f"{clean(branch.rule.label)}."
            source = _cited(view, branch.rule.source)
    else:
        explanation = (f"{words.label(rec)} records {words.lower(finding)}; an assessment is not recommended again "
                       f"on a side where what it records is already recorded.")
        source = _cited(view, kb.recommendations[rec].source)
    if source is None:
        return None
    prompt = (f"A case records {words.case(case)}; nothing else is recorded. Which {_KIND_WORDS.get(kind, kind)} "
              f"would the model recommend {words.where(side)} without the {words.lower(finding)}, but not with it?")
    return _Draft(f"withheld-{rec}-{finding}", "withheld", prompt, (rec, words.label(rec)),
                  _tiers(((r, words.label(r)) for r in pool)), explanation, source,
                  subject=(rec, finding), case=case.items())


_GENERATORS = {
    "chain": _chain,
    "test": _test,
    "reading": _reading,
    "exercise": _exercise,
    "compensation": _compensation,
    "distinguish": _distinguish,
    "withheld": _withheld,
}


# --------------------------------------------------------------------------
# Public API


def _check_kinds(kinds: Sequence[str] | None) -> tuple[str, ...]:
    if not kinds:
        return KINDS
    out = []
    for kind in kinds:
        if kind not in KINDS:
            raise InputError(f"unknown question kind {kind!r}",
                             hint=suggest(str(kind), KINDS) or "kinds: " + ", ".join(KINDS))
        if kind not in out:
            out.append(kind)
    return tuple(k for k in KINDS if k in out)


def _drafts(kb: KBModel, kinds: Sequence[str]) -> list[_Draft]:
    view = KBView(kb)
    words = _Words(view)
    out: list[_Draft] = []
    ids: set[str] = set()
    for kind in kinds:
        for draft in _GENERATORS[kind](view, words):
            if draft.id in ids or len(draft.distractor_pool()) < MIN_CHOICES - 1:
                continue
            ids.add(draft.id)
            out.append(draft)
    return out


def all_questions(kb: KBModel, *, seed: int = 0, kinds: Sequence[str] | None = None) -> Quiz:
    """Every question the KB yields (of ``kinds``), in the generators' order; ``seed`` picks distractors.

    >>> from hipkb.kb import load_model
    >>> len(all_questions(load_model()).questions) > 50
    True
    """
    chosen = _check_kinds(kinds)
    rng = random.Random(seed)
    return Quiz(tuple(d.finish(rng) for d in _drafts(kb, chosen)), seed, kb.name, kb.version)


def quiz(kb: KBModel, *, count: int = 10, seed: int = 0, kinds: Sequence[str] | None = None) -> Quiz:
    """``count`` questions (fewer if the KB has fewer) drawn by ``seed``, the kinds taking turns.

    At least three quarters quote the article; the same arguments give the
    same quiz. Raises :class:`~hipkb.errors.InputError` for an unknown kind
    or a count below 1.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InputError(f"a quiz needs a count of at least 1, not {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(f"the seed is a whole number, not {seed!r}")
    chosen = _check_kinds(kinds)
    rng = random.Random(seed)
    drafts = _drafts(kb, chosen)
    groups = {k: [d for d in drafts if d.kind == k] for k in chosen}
    for kind in chosen:
        rng.shuffle(groups[kind])
    turns = [k for k in chosen if groups[k]]
    rng.shuffle(turns)
    ordered: list[_Draft] = []
    while any(groups[k] for k in turns):
        for kind in turns:
            if groups[kind]:
                ordered.append(groups[kind].pop(0))
    quoted = [d for d in ordered if d.source.ref == "article" and d.source.quote]
    target = min(count, len(ordered))
    allowed = target - math.ceil(ARTICLE_SHARE * target)
    while target > 0 and min(len(quoted), target) < target - allowed:
        target -= 1
        allowed = target - math.ceil(ARTICLE_SHARE * target)
    picked: list[_Draft] = []
    others = 0
    for draft in ordered:
        if len(picked) == target:
            break
        if draft.source.ref == "article" and draft.source.quote:
            picked.append(draft)
        elif others < allowed:
            others += 1
            picked.append(draft)
    return Quiz(tuple(d.finish(rng) for d in picked), seed, kb.name, kb.version)
