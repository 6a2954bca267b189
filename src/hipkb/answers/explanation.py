"""Explanations of a result: how, why, why-not and what-if.

- **how**: the derivation tree of a conclusion or recommendation, down to
  the entered findings; every step names its rule, its source (quote,
  outside reference or interpretation) and its evidence level.
- **why**: for a state, the causes the KB's causal model gives for it
  (walking causal links upstream, ``conclude`` and ``explain`` alike) that
  hold in the case, each with how it was established, plus the confounders
  of its test and any disagreement; for a recommendation, the conclusions
  that called for it and their causes.
- **why-not**: every rule that could produce the item and the first of its
  own conditions that failed, worked out from the rule's conditions (a
  finding not entered names the assessment that obtains it; a value on the
  wrong side of its threshold gives both numbers; a state that does not
  hold is followed up the same way).
- **what-if**: run the case again with some findings changed and list what
  appears, what goes and what changes status.

Without ``side``, how and why answer for every side where the item holds
(or, when it holds nowhere, say why not on each side); why-not answers for
each side the item could hold on. A student asking "why is IR limited?"
gets the side(s) where it is.

>>> from hipkb.kb import load_kb
>>> kb = load_kb()
>>> result = kb.assess({"findings": {"supine_hip_ir": {"left": 30}}})
>>> print(explain(result, "ir_limited", side="left", question="why-not").text())  # doctest: +ELLIPSIS
Why not: Hip internal rotation limited (ir_limited, left)?
It does not hold on the left. Each rule that could conclude it, and the first condition that failed:
  ← rule ir_measured_limited (clinical-norm): Supine IR below threshold means IR is limited
      ✗ Supine hip internal rotation at 90° hip flexion (supine_hip_ir, left) = 30°, not below its threshold of 25°
...
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ..case import Case, Key, key_str
from ..errors import ExplainError, InputError, suggest
from ..model import KBModel as KnowledgeBase
from ..model import SIDES, Condition, Rule
from .report import cite

if TYPE_CHECKING:
    from ..result import Justification, Result

__all__ = [
    "QUESTIONS",
    "Node",
    "Answer",
    "Explanation",
    "DiffItem",
    "WhatIf",
    "explain",
    "what_if",
    "parse_change",
]

QUESTIONS: tuple[str, ...] = ("how", "why", "why-not")
_MARKS = {
    "item": "• ",
    "cause": "• ",
    "rule": "← ",
    "given": "← ",
    "check": "✓ ",
    "blocker": "✗ ",
    "confounder": "! ",
    "absent": "– ",
}


# --------------------------------------------------------------------------
# The structured answer


@dataclass(frozen=True)
class Node:
    """One line of an explanation and the lines under it.

    ``kind`` says what the line is: ``item`` (a fact of the case), ``rule``
    (a step by a rule, link or call), ``given`` (stated in the case),
    ``check`` (a negative condition that held), ``cause`` (a cause in the
    KB's model that holds), ``absent`` (a cause that does not), ``confounder``,
    ``blocker`` (a condition that failed), ``disagreement``, ``section`` or
    ``note``. ``id``/``side`` name the fact the line is about, ``rule`` the
    rule; ``condition`` is the failed condition in words and ``assessment``
    the recommendation that would obtain a missing finding.
    """

    kind: str
    text: str
    id: str | None = None
    side: str | None = None
    rule: str | None = None
    status: str | None = None
    evidence: str | None = None
    source: str | None = None
    condition: str | None = None
    assessment: str | None = None
    children: tuple[Node, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "text": self.text}
        for name in ("id", "side", "rule", "status", "evidence", "source", "condition", "assessment"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out

    def walk(self) -> Iterable[Node]:
        """This node and every node under it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def lines(self, indent: str = "") -> list[str]:
        mark = _MARKS.get(self.kind, "")
        out = [f"{indent}{mark}{_printable(self.text)}"]
        inner = indent + (" " * len(mark) if mark else "  ")
        if self.source:
            out.append(f"{inner}Source: {_printable(self.source)}")
        for child in self.children:
            out += child.lines(inner)
        return out


def _printable(text: str) -> str:
    """One line of text with control characters (a KB's or a case's, say ESC) made spaces."""
    return "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)


@dataclass(frozen=True)
class Answer:
    """The answer for one side: a headline and the lines that support it."""

    side: str | None
    holds: bool
    headline: str
    nodes: tuple[Node, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "holds": self.holds,
            "headline": self.headline,
            "nodes": [n.to_dict() for n in self.nodes],
        }

    def text(self) -> str:
        lines = [_printable(self.headline)]
        for node in self.nodes:
            lines += node.lines("  " if node.kind not in ("section", "note") else "")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Explanation:
    """An answer to how / why / why-not about one item, per side.

    ``text()`` is what ``hipkb how|why|why-not`` prints; ``to_dict()`` is
    its ``--format json``.
    """

    question: str
    id: str
    kind: str
    label: str
    side: str | None
    answers: tuple[Answer, ...]

    def text(self) -> str:
        title = {"how": "How", "why": "Why", "why-not": "Why not"}[self.question]
        blocks = []
        for answer in self.answers:
            where = f", {answer.side}" if answer.side else ""
            blocks.append(f"{title}: {_printable(self.label)} ({self.id}{where})?\n{answer.text()}")
        return "\n".join(blocks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "side": self.side,
            "answers": [a.to_dict() for a in self.answers],
        }

    @property
    def holds(self) -> bool:
        """True when the item holds on every side answered."""
        return all(a.holds for a in self.answers)


# --------------------------------------------------------------------------
# Entry point


def explain(result: Result, item_id: str, *, side: str | None = None, question: str = "how") -> Explanation:
    """Answer ``question`` (how, why or why-not) about ``item_id`` in ``result``.

    ``item_id`` is a state, a recommendation or a finding. Unknown ids and
    sides raise :class:`~hipkb.errors.ExplainError` with a did-you-mean.

    >>> from hipkb.kb import load_kb
    >>> r = load_kb().assess({"findings": {"supine_hip_ir": {"left": 12}}})
    >>> e = explain(r, "posterior_capsule_closed", question="how")
    >>> [a.side for a in e.answers], e.answers[0].nodes[0].children[0].rule
    (['left'], 'capsule_closed_from_ir_drop')
    >>> explain(r, "ir_limted")
    Traceback (most recent call last):
    ...
    hipkb.errors.ExplainError: unknown id 'ir_limted' (did you mean 'ir_limited'?)
    """
    q = question.replace("_", "-").lower()
    if q not in QUESTIONS:
        raise ExplainError(f"unknown question {question!r}", hint="ask how, why or why-not")
    kb = result.kb
    kind = kb.kind_of(item_id)
    if kind is None:
        pool = [*kb.states, *kb.recommendations, *kb.findings]
        raise ExplainError(f"unknown id {item_id!r}", hint=suggest(item_id, pool) or "name a state, recommendation or finding")
    sided = _sided(kb, item_id)
    if side is not None:
        if side not in SIDES:
            raise ExplainError(f"unknown side {side!r}", hint=suggest(side, SIDES) or "sides are left and right")
        if not sided:
            raise ExplainError(f"{item_id!r} belongs to no side; leave out the side")
    x = _Explainer(result)
    sides = _sides(result, item_id, kind, side, q)
    answers = []
    for s in sides:
        if q == "how":
            answers.append(x.how(item_id, kind, s))
        elif q == "why":
            answers.append(x.why(item_id, kind, s))
        else:
            answers.append(x.why_not(item_id, kind, s))
    return Explanation(q, item_id, kind, kb.label(item_id), side, tuple(answers))


def _sided(kb: KnowledgeBase, item_id: str) -> bool:
    if item_id in kb.states:
        return kb.states[item_id].sided
    if item_id in kb.findings:
        return kb.findings[item_id].sided
    return True  # a recommendation takes the side of what called for it


def _sides(result: Result, item_id: str, kind: str, side: str | None, question: str) -> list[str | None]:
    if side is not None:
        return [side]
    kb = result.kb
    if not _sided(kb, item_id):
        return [None]
    if kind == "finding":
        entered = [s for s in SIDES if (item_id, s) in result.case.findings]
        return list(entered) if entered and question != "why-not" else list(SIDES)
    holding: list[str | None] = [s for s in (*SIDES, None) if result.holds(item_id, s)]
    if question == "why-not":
        return [*SIDES, *([None] if None in holding else [])]
    return holding or list(SIDES)


# --------------------------------------------------------------------------
# Wording


def _side_word(side: str | None) -> str:
    return f"on the {side}" if side else "(no side)"


class _Explainer:
    def __init__(self, result: Result) -> None:
        self.result = result
        self.kb = result.kb
        self.findings = result.case.findings

    # -- naming

    def name(self, key: Key) -> str:
        item, side = key
        where = f", {side}" if side else ""
        return f"{self.kb.label(item)} ({item}{where})"

    def key_for(self, ref: str, side: str | None) -> Key:
        return (ref, side if _sided(self.kb, ref) else None)

    def status_text(self, key: Key) -> str:
        c = self.result.conclusion(*key)
        if c is not None:
            return f"{c.status} · {c.evidence}" if c.evidence else c.status
        r = self.result.recommendation(*key)
        if r is not None:
            return f"{r.kind} · {r.evidence}"
        return ""

    def item_text(self, key: Key) -> str:
        status = self.status_text(key)
        return f"{self.name(key)}: {status}" if status else self.name(key)

    def threshold(self, threshold_id: str | None) -> float | None:
        return None if threshold_id is None else self.result.thresholds.get(threshold_id)

    def finding_text(self, key: Key, cond: Condition | None = None, rule_side: str | None = None) -> str:
        """A finding with its value, read against the condition that used it."""
        finding = self.kb.findings[key[0]]
        value = self.findings.get(key)
        name = self.name(key)
        if value is None:
            return f"{name}: not entered"
        if finding.type != "degrees":
            return f"{name}: {'observed' if value else 'not observed'}"
        text = f"{name} = {_deg(value)}"
        t = self.threshold(cond.threshold) if cond is not None else None
        if cond is None or t is None:
            return text
        if cond.kind == "finding" and cond.compare == "below":
            return f"{text}, below its threshold of {_deg(t)}"
        if cond.kind == "finding" and cond.compare == "at_least":
            return f"{text}, at or above its threshold of {_deg(t)}"
        if cond.kind == "lower_side" and rule_side is not None:
            other = _other(rule_side)
            if key[1] == rule_side:
                theirs = self.findings.get((key[0], other))
                if isinstance(theirs, (int, float)):
                    return f"{text}, {_deg(theirs - value)} lower than on the {other}, more than the threshold of {_deg(t)}"
            return f"{text} (the {key[1]} side, compared)"
        return text

    # -- how

    def how(self, item_id: str, kind: str, side: str | None) -> Answer:
        key = (item_id, side)
        if kind == "finding":
            return self.finding_answer(key)
        if not self.result.holds(*key):
            return self.not_holding(item_id, kind, side, "how")
        node = self.derivation(key, set())
        return Answer(side, True, f"It holds {_side_word(side)}. Derivation, down to the entered findings:", (node,))

    def derivation(self, key: Key, shown: set[Key], *, depth: int | None = None) -> Node:
        """The item and the steps that concluded it (``depth`` None: all the way down)."""
        item = self.result.item(key)
        assert item is not None
        status = getattr(item, "status", None)
        if key in shown:
            return Node("item", f"{self.item_text(key)} (derivation shown above)", key[0], key[1], status=status, evidence=item.evidence)
        shown.add(key)
        steps = () if depth == 0 else tuple(self.step(key, j, shown, depth) for j in item.justifications)
        return Node("item", self.item_text(key), key[0], key[1], status=status, evidence=item.evidence, children=steps)

    def step(self, key: Key, just: Justification, shown: set[Key], depth: int | None) -> Node:
        if just.rule is None:
            return Node("given", "stated in the case (given)", status="given")
        rule = self.kb.rule(just.rule)
        children: list[Node] = []
        for premise in just.because:
            if premise[0] in self.kb.findings:
                cond = _condition_for(rule, premise[0])
                children.append(Node("item", self.finding_text(premise, cond, key[1]) + " (entered)", premise[0], premise[1], status="entered"))
            elif self.result.item(premise) is not None:
                deeper = None if depth is None else depth - 1
                children.append(self.derivation(premise, shown, depth=deeper))
            else:
                children.append(Node("item", self.name(premise), premise[0], premise[1]))
        for cond in rule.when:  # negative conditions that had to hold too
            if cond.negative:
                ref_key = self.key_for(cond.ref, key[1])  # type: ignore[arg-type]
                what = "not measured" if cond.kind == "absent" else (
                    "not observed" if self.findings.get(ref_key) is False else "not recorded (so not observed)"
                )
                children.append(Node("check", f"{self.name(ref_key)}: {what}", ref_key[0], ref_key[1], condition=_describe(cond)))
        return Node(
            "rule", f"{_origin(rule)} {rule.id} ({rule.evidence}): {rule.label}", rule=rule.id,
            status=just.status, evidence=rule.evidence, source=cite(rule.source), children=tuple(children),
        )

    def finding_answer(self, key: Key) -> Answer:
        finding = self.kb.findings[key[0]]
        if key in self.findings:
            return Answer(key[1], True, f"Entered in the case: {self.finding_text(key)}.", ())
        todo = self.assessment_hint(key[0])
        return Answer(key[1], False, f"Not entered in the case {_side_word(key[1]) if finding.sided else ''}".rstrip() + f".{todo}", ())

    def assessment_hint(self, finding_id: str) -> str:
        rec = self.kb.findings[finding_id].assessment
        return f" To obtain it: {self.kb.label(rec)} ({rec})." if rec else ""

    # -- not holding: how / why fall back to why-not

    def not_holding(self, item_id: str, kind: str, side: str | None, question: str) -> Answer:
        inner = self.why_not(item_id, kind, side)
        head = f"It does not hold {_side_word(side)}, so there is nothing to explain {'how' if question == 'how' else 'why'}."
        return Answer(side, False, head + " Why not:", inner.nodes)

    # -- why

    def why(self, item_id: str, kind: str, side: str | None) -> Answer:
        key = (item_id, side)
        if kind == "finding":
            base = self.finding_answer(key)
            return Answer(side, base.holds, base.headline, tuple(self.cause_sections(key)))
        if not self.result.holds(*key):
            return self.not_holding(item_id, kind, side, "why")
        if kind == "recommendation":
            return self.why_recommendation(key)
        nodes: list[Node] = []
        established = self.derivation(key, set(), depth=1)
        nodes.append(Node("section", "How it was established:", children=established.children))
        nodes += self.cause_sections(key)
        return Answer(side, True, f"It holds {_side_word(side)} ({self.status_text(key)}).", tuple(nodes))

    def cause_sections(self, key: Key) -> list[Node]:
        causes, absent, confounders = self.causes(key, {key})
        nodes: list[Node] = []
        if causes:
            nodes.append(Node("section", "Causes in the KB's model that hold in this case:", children=tuple(causes)))
        elif self.links_into(key[0]):
            nodes.append(Node("note", "None of the causes in the KB's model holds in this case."))
        else:
            nodes.append(Node("note", "The KB's causal model gives no causes for it: it is read from the findings above."))
        if absent:
            nodes.append(Node("section", "Causes in the KB's model not found in this case:", children=tuple(absent)))
        if confounders:
            nodes.append(Node("section", "Confounders of its test:", children=tuple(confounders)))
        disagreements = self.disagreements(key)
        if disagreements:
            nodes.append(Node("section", "Disagreements:", children=tuple(disagreements)))
        return nodes

    def links_into(self, effect: str) -> list[Any]:
        return [link for link in self.kb.links.values() if link.effect == effect]

    def fact_holds(self, key: Key) -> bool:
        if key[0] in self.kb.findings:
            value = self.findings.get(key)
            return value is not None and value is not False
        return self.result.conclusion(*key) is not None

    def causes(self, key: Key, path: set[Key]) -> tuple[list[Node], list[Node], list[Node]]:
        """The KB's causes of ``key``: those that hold (with theirs), those that don't, confounders."""
        holding: list[Node] = []
        absent: list[Node] = []
        confounders: list[Node] = []
        for link in self.links_into(key[0]):
            cause = self.key_for(link.cause, key[1])
            via = f"via {link.use} link {link.id} ({link.evidence}): {link.label}"
            finding = self.kb.findings.get(link.cause)
            if finding is not None and finding.group == "confounder":
                confounders.append(self.confounder(cause, link, via))
                continue
            if cause in path:
                continue  # a cycle through explain links: already being explained
            if not self.fact_holds(cause):
                absent.append(Node(
                    "absent", f"{self.name(cause)}: {self.absence(cause)}", cause[0], cause[1],
                    rule=link.id, evidence=link.evidence,
                ))
                continue
            upstream, not_here, confounding = self.causes(cause, path | {cause})
            children: list[Node] = [Node("note", via, rule=link.id, evidence=link.evidence, source=cite(link.source))]
            if finding is not None:
                children.append(Node("item", self.finding_text(cause) + " (entered)", cause[0], cause[1], status="entered"))
            else:
                children += self.established(cause, upstream)
            children += upstream + not_here + confounding
            status = None if finding is not None else self.result.conclusion(*cause).status  # type: ignore[union-attr]
            holding.append(Node("cause", self.item_text(cause), cause[0], cause[1], rule=link.id, status=status, children=tuple(children)))
        return holding, absent, confounders

    def established(self, key: Key, upstream: list[Node]) -> list[Node]:
        """How ``key`` was concluded, one step, leaving out the links its shown causes already explain."""
        shown = {n.rule for n in upstream}
        return [step for step in self.derivation(key, set(), depth=1).children if step.rule not in shown]

    def absence(self, key: Key) -> str:
        if key[0] in self.kb.findings:
            return "not observed" if key in self.findings else "not recorded"
        if key in self.result.withdrawn:
            return "dropped in a disagreement"
        producers = [r for r in self.kb.inference_rules if key[0] in r.then]
        return "does not hold in this case" if producers else "not stated in the case (no rule concludes it)"

    def confounder(self, key: Key, link: Any, via: str) -> Node:
        if not self.fact_holds(key):
            return Node("absent", f"{self.name(key)}: {self.absence(key)}", key[0], key[1], rule=link.id)
        consequences = []
        for c in self.result.conclusions:
            if any(key in j.because for j in c.justifications):
                consequences.append(self.derivation(c.key, set(), depth=1))
                for r in self.result.recommendations:
                    if any(c.key in j.because for j in r.justifications):
                        consequences.append(Node("item", f"so: {self.item_text(r.key)}", r.id, r.side))
        children = (Node("note", via, rule=link.id, evidence=link.evidence, source=cite(link.source)), *consequences)
        return Node("confounder", f"{self.name(key)}: observed", key[0], key[1], rule=link.id, children=children)

    def disagreements(self, key: Key) -> list[Node]:
        out = []
        for d in self.result.disagreements:
            involved = [c.key for c in d.dropped] + ([d.kept.key] if d.kept else [])
            if key not in involved:
                continue
            dropped = ", ".join(f"{self.name(c.key)} ({c.status})" for c in d.dropped)
            kept = f"{self.name(d.kept.key)} ({d.kept.status}) kept" if d.kept else "nothing kept"
            out.append(Node("disagreement", f"{kept}; dropped {dropped}: {d.reason}", key[0], d.side))
        return out

    def why_recommendation(self, key: Key) -> Answer:
        rec = self.result.recommendation(*key)
        assert rec is not None
        callers = []
        for just in rec.justifications:
            rule = self.kb.rule(just.rule)  # type: ignore[arg-type]
            children: list[Node] = []
            for premise in just.because:
                if premise[0] in self.kb.findings:
                    cond = _condition_for(rule, premise[0])
                    children.append(Node("item", self.finding_text(premise, cond, key[1]) + " (entered)", premise[0], premise[1], status="entered"))
                    continue
                node = self.derivation(premise, set(), depth=1)
                upstream, _, _ = self.causes(premise, {premise})
                extra = (Node("section", "its causes in the KB's model that hold:", children=tuple(upstream)),) if upstream else ()
                steps = tuple(self.established(premise, upstream))
                children.append(Node(node.kind, node.text, node.id, node.side, status=node.status, evidence=node.evidence, children=steps + extra))
            callers.append(Node(
                "rule", f"called for by {rule.id} ({rule.evidence}): {rule.label}", rule=rule.id,
                evidence=rule.evidence, source=cite(rule.source), children=tuple(children),
            ))
        kb_rec = self.kb.recommendations[key[0]]
        about = Node("note", f"{kb_rec.kind.capitalize()}: {kb_rec.summary}" if kb_rec.summary else kb_rec.kind.capitalize(), source=cite(kb_rec.source))
        head = f"It is recommended {_side_word(key[1])} ({self.status_text(key)}). What called for it:"
        return Answer(key[1], True, head, (*callers, about))

    # -- why-not

    def why_not(self, item_id: str, kind: str, side: str | None) -> Answer:
        key = (item_id, side)
        if kind == "finding":
            return self.finding_answer(key)
        if self.result.holds(*key):
            return Answer(side, True, f"It holds {_side_word(side)} ({self.status_text(key)}); ask how for its derivation.", ())
        if side is not None and self.result.holds(item_id, None):
            return Answer(side, True, f"It holds, but not tied to a side ({self.status_text((item_id, None))}); ask how for its derivation.", ())
        if key in self.result.withdrawn:
            return Answer(side, False, f"It was concluded {_side_word(side)}, then dropped in a disagreement:", tuple(self.dropped(key)))
        nodes = self.blockers(key, {key}, set())
        verb = "call for" if kind == "recommendation" else "conclude"
        if not nodes:
            hint = f" It can only be stated in the case (e.g. '{item_id}: {side or 'true'}' under findings)." if kind == "state" else ""
            return Answer(side, False, f"It does not hold {_side_word(side)}, and no rule can {verb} it.{hint}", ())
        head = f"It does not hold {_side_word(side)}. Each rule that could {verb} it, and the first condition that failed:"
        if kind == "state":
            nodes.append(Node("note", f"It could also be stated in the case ('{item_id}: {side or 'true'}' under findings)."))
        return Answer(side, False, head, tuple(nodes))

    def producers(self, item_id: str) -> list[Rule]:
        if item_id in self.kb.recommendations:
            return list(self.kb.recommendations[item_id].calls)
        return [r for r in self.kb.inference_rules if item_id in r.then]

    def dropped(self, key: Key) -> list[Node]:
        out = []
        for d in self.result.disagreements:
            for c in d.dropped:
                if c.key != key:
                    continue
                how = self.derivation_of_dropped(key)
                if d.kept is not None:
                    text = f"{self.name(d.kept.key)} is {d.kept.status}, and {d.reason}: {self.name(key)} ({c.status}) was dropped"
                else:
                    others = ", ".join(self.name(o.key) for o in d.dropped if o.key != key)
                    text = f"it disagreed with {others}; {d.reason}"
                out.append(Node("disagreement", text, key[0], key[1], status=c.status, children=tuple(how)))
        return out

    def derivation_of_dropped(self, key: Key) -> list[Node]:
        steps = []
        for just in self.result.withdrawn.get(key, ()):
            if just.rule is None:
                steps.append(Node("given", "it was stated in the case (given)", status="given"))
                continue
            rule = self.kb.rule(just.rule)
            because = ", ".join(self.name(p) for p in just.because)
            steps.append(Node(
                "rule", f"it was {just.status} by {_origin(rule)} {rule.id} ({rule.evidence}) from {because}",
                rule=rule.id, status=just.status, evidence=rule.evidence,
            ))
        return steps

    def blockers(self, key: Key, path: set[Key], expanded: set[Key]) -> list[Node]:
        """For each rule that could produce ``key``: the first condition that fails on its side."""
        out = []
        for rule in self.producers(key[0]):
            failure = self.first_failure(rule, key[1], path, expanded)
            if failure is None:
                failure = Node("note", "all of its conditions hold here, but the step was not kept: it would rest on the item itself")
            out.append(Node(
                "rule", f"{_origin(rule)} {rule.id} ({rule.evidence}): {rule.label}", rule=rule.id,
                evidence=rule.evidence, children=(failure,),
            ))
        return out

    def first_failure(self, rule: Rule, side: str | None, path: set[Key], expanded: set[Key]) -> Node | None:
        for cond in rule.when:
            failure = self.check(cond, side, path, expanded)
            if failure is not None:
                return failure
        return None

    def check(self, cond: Condition, side: str | None, path: set[Key], expanded: set[Key]) -> Node | None:
        """None when ``cond`` holds on ``side``; else a blocker saying why not."""
        described = _describe(cond)
        if cond.kind == "any":
            failures = [self.check(o, side, path, expanded) for o in cond.options]
            if any(f is None for f in failures):
                return None
            simple = all(o.kind == "finding" and o.compare is None for o in cond.options)
            if simple:
                names = ", ".join(self.name(self.key_for(o.ref, side)) for o in cond.options)  # type: ignore[arg-type]
                return Node("blocker", f"none of these was observed: {names}", condition=described)
            return Node("blocker", "none of these holds:", condition=described, children=tuple(f for f in failures if f))
        key = self.key_for(cond.ref, side)  # type: ignore[arg-type]
        if cond.kind == "state":
            if self.result.conclusion(*key) is not None:
                return None
            return self.state_blocker(key, cond, path, expanded)
        value = self.findings.get(key)
        if cond.kind == "absent":
            if value is None:
                return None
            shown = _deg(value) if isinstance(value, float) else ("observed" if value else "not observed")
            return Node(
                "blocker", f"{self.name(key)} was entered ({shown}); this rule applies only when it was not",
                key[0], key[1], condition=described,
            )
        if cond.kind == "not":
            if value is not True:
                return None
            group = self.kb.findings[key[0]].group
            why = "a confounder of the test" if group == "confounder" else "and this rule needs it absent"
            return Node("blocker", f"{self.name(key)} was observed: {why}", key[0], key[1], condition=described)
        if value is None:
            return self.missing(key, described)
        if cond.kind == "lower_side":
            other_key = (key[0], _other(side)) if side else key
            theirs = self.findings.get(other_key)
            if theirs is None:
                return self.missing(other_key, described)
            t = self.threshold(cond.threshold)
            if t is None or not (isinstance(value, float) and isinstance(theirs, float)):
                return Node("blocker", f"no threshold {cond.threshold!r} to compare with", key[0], key[1], condition=described)
            if theirs - value > t:
                return None
            diff = theirs - value
            relation = f"{_deg(diff)} lower than" if diff > 0 else ("equal to" if diff == 0 else f"{_deg(-diff)} higher than")
            return Node(
                "blocker",
                f"{self.name(key)} = {_deg(value)} is {relation} the {other_key[1]} side ({_deg(theirs)}), "
                f"not lower by more than the threshold of {_deg(t)}",
                key[0], key[1], condition=described,
            )
        # a finding condition
        if cond.compare is None:
            if value is True:
                return None
            return Node("blocker", f"{self.name(key)} was recorded as not observed", key[0], key[1], condition=described)
        t = self.threshold(cond.threshold)
        if t is None or isinstance(value, bool):
            return Node("blocker", f"no threshold {cond.threshold!r} to compare with", key[0], key[1], condition=described)
        if cond.compare == "below":
            if value < t:
                return None
            return Node("blocker", f"{self.name(key)} = {_deg(value)}, not below its threshold of {_deg(t)}", key[0], key[1], condition=described)
        if value >= t:
            return None
        return Node("blocker", f"{self.name(key)} = {_deg(value)}, below its threshold of {_deg(t)} (the rule needs at least that)", key[0], key[1], condition=described)

    def missing(self, key: Key, described: str) -> Node:
        finding = self.kb.findings[key[0]]
        rec = finding.assessment
        verb = "measured" if finding.type == "degrees" else "recorded"
        text = f"{self.name(key)} was not {verb}"
        if rec:
            text += f"; to obtain it: {self.kb.label(rec)} ({rec})"
        return Node("blocker", text, key[0], key[1], condition=described, assessment=rec)

    def state_blocker(self, key: Key, cond: Condition, path: set[Key], expanded: set[Key]) -> Node:
        described = _describe(cond)
        name = self.name(key)
        if key in path:
            return Node("blocker", f"needs {name}, the item in question: this path cannot conclude it", key[0], key[1], condition=described)
        if key in self.result.withdrawn:
            return Node("blocker", f"{name} was dropped in a disagreement", key[0], key[1], condition=described, children=tuple(self.dropped(key)))
        if key in expanded:
            return Node("blocker", f"{name} does not hold (see above)", key[0], key[1], condition=described)
        expanded.add(key)
        inner = self.blockers(key, path | {key}, expanded)
        if not inner:
            return Node(
                "blocker", f"{name} does not hold: no rule concludes it, and it was not stated in the case",
                key[0], key[1], condition=described,
            )
        return Node("blocker", f"{name} does not hold:", key[0], key[1], condition=described, children=tuple(inner))


def _describe(cond: Condition) -> str:
    return cond.describe()


def _origin(rule: Rule) -> str:
    return {"link": "link", "call": "call"}.get(rule.origin, "rule")


def _condition_for(rule: Rule, ref: str) -> Condition | None:
    for cond in rule.when:
        for c in cond.options if cond.kind == "any" else (cond,):
            if c.ref == ref and not c.negative:
                return c
    return None


def _other(side: str) -> str:
    return SIDES[1 - SIDES.index(side)]


def _deg(value: float) -> str:
    return f"{value:g}°"


# --------------------------------------------------------------------------
# What-if


@dataclass(frozen=True)
class DiffItem:
    """A conclusion or recommendation that appears, goes or changes."""

    kind: str  # "conclusion" | "recommendation"
    id: str
    side: str | None
    label: str
    before: str | None  # status (conclusions) or kind (recommendations) before; None if absent
    after: str | None
    rules_gained: tuple[str, ...] = ()
    rules_lost: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "id": self.id, "side": self.side, "label": self.label,
            "before": self.before, "after": self.after,
            "rules_gained": list(self.rules_gained), "rules_lost": list(self.rules_lost),
        }

    def line(self) -> str:
        where = f", {self.side}" if self.side else ""
        name = f"{self.label} ({self.id}{where})"
        if self.kind == "recommendation":
            name = f"{(self.after or self.before or '').capitalize()}: {name}"
            if self.before is None or self.after is None:
                return f"{'+' if self.before is None else '-'} {name}"
        elif self.before is None:
            return f"+ {name}: {self.after}"
        elif self.after is None:
            return f"- {name}: was {self.before}"
        parts = []
        if self.before != self.after:
            parts.append(f"{self.before} → {self.after}")
        if self.rules_gained:
            parts.append("now also by " + ", ".join(self.rules_gained))
        if self.rules_lost:
            parts.append("no longer by " + ", ".join(self.rules_lost))
        return f"~ {name}: " + "; ".join(parts)


@dataclass(frozen=True)
class WhatIf:
    """The difference between a case and the same case with some findings changed."""

    changes: tuple[tuple[Key, Any, Any], ...]  # (key, value before, value after)
    before: Result = field(repr=False)
    after: Result = field(repr=False)
    appeared: tuple[DiffItem, ...]
    gone: tuple[DiffItem, ...]
    changed: tuple[DiffItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "changes": [{"id": k[0], "side": k[1], "before": b, "after": a} for k, b, a in self.changes],
            "appeared": [d.to_dict() for d in self.appeared],
            "gone": [d.to_dict() for d in self.gone],
            "changed": [d.to_dict() for d in self.changed],
        }

    def text(self) -> str:
        said = "; ".join(f"{key_str(k)}: {_value(b)} → {_value(a)}" for k, b, a in self.changes)
        lines = [f"What if {said}?"]
        if not (self.appeared or self.gone or self.changed):
            lines.append("Nothing changes: the same conclusions and recommendations, with the same statuses.")
        for title, items in (("Appears", self.appeared), ("Goes", self.gone), ("Changes", self.changed)):
            if items:
                lines.append(f"{title}:")
                lines += [f"  {d.line()}" for d in items]
        return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if value is None:
        return "not entered"
    if isinstance(value, bool):
        return "true" if value else "false"
    return _deg(value) if isinstance(value, float) else str(value)


def parse_change(kb: KnowledgeBase, text: str) -> dict[Key, float | bool | None]:
    """Read ``ID.SIDE=VALUE`` (or ``ID=VALUE`` for what has no side) into changes.

    VALUE is a number (degrees), ``true``, ``false`` or ``none`` (remove).
    A sided true/false finding without a side applies to both sides, as in
    case files.

    >>> from hipkb.kb import load_kb
    >>> parse_change(load_kb(), "straight_leg_raise.left=85")
    {('straight_leg_raise', 'left'): 85.0}
    >>> parse_change(load_kb(), "rib_cage_side_bend=true")
    {('rib_cage_side_bend', None): True}
    """
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise InputError(f"expected ID.SIDE=VALUE or ID=VALUE, not {text!r}")
    item, dot, side_text = name.strip().partition(".")
    side: str | None = side_text if dot else None
    raw = raw.strip()
    kind = kb.kind_of(item)
    if kind not in ("finding", "state"):
        pool = [*kb.findings, *kb.states]
        raise InputError(f"{text!r}: unknown finding {item!r}", hint=suggest(item, pool))
    if side is not None and side not in SIDES:
        raise InputError(f"{text!r}: unknown side {side!r}", hint=suggest(side, SIDES) or "sides are left and right")
    lowered = raw.lower()
    value: float | bool | None
    if lowered in ("none", "null", ""):
        value = None
    elif lowered in ("true", "yes"):
        value = True
    elif lowered in ("false", "no"):
        value = False
    else:
        try:
            value = float(raw)
        except ValueError:
            raise InputError(f"{text!r}: {raw!r} is not a number, true, false or none") from None
        if not math.isfinite(value):
            raise InputError(f"{text!r}: needs a finite number, not {raw!r}")
    sided = _sided(kb, item)
    degrees = kind == "finding" and kb.findings[item].type == "degrees"
    if not sided and side is not None:
        raise InputError(f"{text!r}: {item!r} belongs to no side; write {item}={raw}")
    if degrees:
        if isinstance(value, bool):
            raise InputError(f"{text!r}: {item!r} needs a number of degrees (or none), not {raw}")
        if value is not None:
            finding = kb.findings[item]
            low, high = finding.range or (-math.inf, math.inf)
            if not low <= value <= high:
                raise InputError(f"{text!r}: {value:g}° is outside the valid range [{low:g}, {high:g}]")
        if sided and side is None:
            raise InputError(f"{text!r}: {item!r} is sided; give a side, e.g. {item}.left={raw}")
    elif value is not None and not isinstance(value, bool):
        raise InputError(f"{text!r}: {item!r} takes true, false or none, not {raw}")
    if not sided:
        return {(item, None): value}
    sides = [side] if side is not None else list(SIDES)
    return {(item, s): value for s in sides}


def _apply(kb: KnowledgeBase, case: Case, changes: Mapping[Key, float | bool | None]) -> Case:
    findings = {k: v for k, v in changes.items() if k[0] in kb.findings}
    given = list(case.given)
    for key, value in changes.items():
        if key[0] in kb.states:
            if value is True and key not in given:
                given.append(key)
            elif value is not True and key in given:
                given.remove(key)
    updated = case.with_findings(findings)
    return Case(updated.findings, tuple(given), updated.thresholds, updated.subject, updated.path)


def what_if(
    kb: KnowledgeBase,
    case: Case | Mapping[str, Any] | str | Path,
    changes: Mapping[Key, float | bool | None],
    *,
    thresholds: Mapping[str, float] | None = None,
) -> WhatIf:
    """Assess ``case`` as it is and with ``changes``; list what appears, goes and changes.

    ``changes`` maps (finding id, side) to a value, or None to remove it
    (see :func:`parse_change`); a state id sets or clears a given state.

    >>> from hipkb.kb import load_kb
    >>> kb = load_kb()
    >>> diff = what_if(kb, {"findings": {"straight_leg_raise": {"left": 45}}}, {("straight_leg_raise", "left"): 85.0})
    >>> [(d.id, d.side) for d in diff.gone][:2]
    [('ir_limited', 'left'), ('pelvis_not_internally_rotating', 'left')]
    >>> ("pelvis_internally_rotating", "left") in [(d.id, d.side) for d in diff.appeared]
    True
    """
    from ..infer import assess, prepare as resolve_case

    parsed, _ = resolve_case(kb, case, thresholds)
    for key, value in changes.items():
        item, side = key
        if kb.kind_of(item) in ("finding", "state") and _sided(kb, item) != (side is not None):
            raise InputError(f"{key_str(key)}: {item!r} {'is sided: give a side' if side is None else 'belongs to no side'}")
        parse_change(kb, f"{item}{'.' + side if side else ''}={_raw(value)}")  # validates id, side and value
    before = assess(kb, parsed, thresholds=thresholds)
    after = assess(kb, _apply(kb, parsed, changes), thresholds=thresholds)
    recorded = tuple(
        (key, _before_value(parsed, key), value) for key, value in sorted(changes.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    )
    appeared, gone, changed = _diff(before, after)
    return WhatIf(recorded, before, after, tuple(appeared), tuple(gone), tuple(changed))


def _raw(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(float(value))


def _before_value(case: Case, key: Key) -> Any:
    if key in case.findings:
        return case.findings[key]
    return True if key in case.given else None


def _diff_state(item: Any) -> str:
    """What a diff reports about an item: a conclusion's status, a recommendation's kind."""
    return item.status if hasattr(item, "status") else item.kind


def _diff(before: Result, after: Result) -> tuple[list[DiffItem], list[DiffItem], list[DiffItem]]:
    appeared: list[DiffItem] = []
    gone: list[DiffItem] = []
    changed: list[DiffItem] = []
    for kind, old_items, new_items in (
        ("conclusion", before.conclusions, after.conclusions),
        ("recommendation", before.recommendations, after.recommendations),
    ):
        old = {i.key: i for i in old_items}
        new = {i.key: i for i in new_items}
        state = _diff_state
        for key, item in new.items():
            if key not in old:
                appeared.append(DiffItem(kind, item.id, item.side, item.label, None, state(item)))
                continue
            was = old[key]
            rules_before = [j.rule or "given" for j in was.justifications]
            rules_after = [j.rule or "given" for j in item.justifications]
            gained = tuple(r for r in rules_after if r not in rules_before)
            lost = tuple(r for r in rules_before if r not in rules_after)
            if state(was) != state(item) or gained or lost:
                changed.append(DiffItem(kind, item.id, item.side, item.label, state(was), state(item), gained, lost))
        for key, item in old.items():
            if key not in new:
                gone.append(DiffItem(kind, item.id, item.side, item.label, state(item), None))
    return appeared, gone, changed
