"""How was an item concluded? Its derivation down to the entered findings.

Each step shows the item, its status and evidence, and what it rests on,
in s(CASP)'s words: "because" (a premise that holds), "there is no
evidence that" (an assumption: not recorded), "it is not the case that"
(recorded false). A step already shown is written "(shown above)" and never
repeated; rule ids and the sources' quotes ("according to …") are the
``full`` detail. The walk keeps its own stack: a derivation thousands of
steps deep needs no recursion.

>>> import hipkb
>>> answer = how(hipkb.assess("examples/demo-01.yaml"), ("posterior_capsule_closed", "left"))
>>> print(render(answer.lines), end="")
Posterior hip capsule closed (left) — indicated, coaching-model
  because hip internal rotation limited (left) — measured, clinical-norm
    because supine hip internal rotation at 90° hip flexion is 12° on the left, below the 25° threshold
  and supine hip internal rotation at 90° hip flexion on the left (shown above)
  and there is no evidence that pelvis forward on the tested side during the supine IR test (left): not recorded, assumed
  and there is no evidence that pelvis turned away from the tested side during the supine IR test (left): not recorded, assumed
"""

from __future__ import annotations

from typing import Any

from ..model import Key, flatten
from ..record import record
from ..result import Conclusion, Justification, RecommendationResult, Result
from ..sanitize import clean
from . import words
from .words import Line, render

__all__ = ["Step", "HowAnswer", "how", "render"]


@record
class Step:
    """One fact of a derivation, listed once: a state, a recommendation or an entered finding."""

    key: Key
    kind: str  # "state" | "recommendation" | "finding"
    label: str
    status: str  # a result status, or "entered" for a finding
    evidence: str | None
    value: float | bool | None = None
    justifications: tuple[Justification, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.key[0],
            "side": self.key[1],
            "kind": self.kind,
            "label": self.label,
            "status": self.status,
            "evidence": self.evidence,
        }
        if self.kind == "finding":
            out["value"] = _json_value(self.value)
        else:
            out["justifications"] = [j.to_dict() for j in self.justifications]
        return out


@record
class HowAnswer:
    """The derivation of one item on one side: its steps (each once, depth first) and its lines."""

    side: str | None
    holds: bool
    steps: tuple[Step, ...]
    lines: tuple[Line, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "holds": self.holds, "steps": [s.to_dict() for s in self.steps]}


def how(result: Result, key: Key) -> HowAnswer:
    """The derivation of ``key`` (a state or recommendation that holds, or an entered finding)."""
    walker = _Walker(result)
    walker.walk(key)
    return HowAnswer(key[1], True, tuple(walker.steps), tuple(walker.lines))


class _Walker:
    def __init__(self, result: Result) -> None:
        self.result = result
        self.kb = result.kb
        self.shown: set[Key] = set()
        self.steps: list[Step] = []
        self.lines: list[Line] = []

    def item(self, key: Key) -> Conclusion | RecommendationResult | None:
        if key[0] in self.kb.states or key[0] in self.kb.recommendations:
            return self.result.item(key[0], key[1])
        return None

    def walk(self, root: Key) -> None:
        # A task is a line to emit, or (key, depth, connective, text) a node to expand.
        tasks: list[Line | tuple[Key, int, str, str | None]] = [(root, 0, "", None)]
        while tasks:
            task = tasks.pop()
            if isinstance(task, Line):
                self.lines.append(task)
                continue
            key, depth, connective, text = task
            if key in self.shown:
                self.lines.append(Line(depth, f"{connective} {self.name(key, sided=True)} (shown above)".strip()))
                continue
            self.shown.add(key)
            tasks.extend(reversed(self.expand(key, depth, connective, text)))

    def name(self, key: Key, *, sided: bool = False) -> str:
        if sided and key[1] is not None:
            return f"{words.name(self.kb, key[0])} {words.on_side(key[1])}"
        return words.thing(self.kb, key)

    def expand(self, key: Key, depth: int, connective: str, text: str | None) -> list[Line | tuple[Key, int, str, str | None]]:
        """The header line of a node and the tasks for what it rests on."""
        item = self.item(key)
        kb = self.kb
        if item is None:  # an entered finding
            value = self.result.case.findings.get(key)
            self.steps.append(Step(key, "finding", clean(kb.label(key[0])), "entered", "assessor", value))
            said = text or words.reading(self.result, key)
            if depth == 0:
                said += ": entered in the case"
            return [Line(depth, _sentence(f"{connective} {said}".strip()))]
        kind = "state" if key[0] in kb.states else "recommendation"
        self.steps.append(Step(key, kind, clean(item.label), item.status, item.evidence, None, item.justifications))
        head = f"{self.name(key)} — {item.status}, {item.evidence}"
        out: list[Line | tuple[Key, int, str, str | None]] = [Line(depth, _sentence(f"{connective} {head}".strip()))]
        # The item asked about shows every way it was reached; a step below it,
        # the strongest (the one its status comes from).
        shown = item.justifications if depth == 0 else item.justifications[:1]
        for n, just in enumerate(shown):
            inner = depth + 1
            if n > 0:
                out.append(Line(depth + 1, f"or, {just.status} ({just.evidence}):"))
                inner = depth + 2
            out += self.premises(just, inner)
        others = sorted({j.rule or "given" for j in item.justifications[len(shown):]} - {shown[0].rule or "given"})
        if others:
            out.append(Line(depth + 1, "also reached by: " + ", ".join(clean(r) for r in others), full=True))
        return out

    def premises(self, just: Justification, depth: int) -> list[Line | tuple[Key, int, str, str | None]]:
        kb = self.kb
        if just.rule is None:
            return [Line(depth, "because it was stated in the case (given)")]
        out: list[Line | tuple[Key, int, str, str | None]] = []
        said: dict[Key, str] = {}
        for m in just.measurements:
            said.setdefault((m.finding, m.side), words.measurement(kb, m))
        rule = kb.rule_index.get(just.rule)
        place: dict[str | None, int] = {}
        for cond in flatten(rule.when if rule is not None else ()):
            place.setdefault(cond.ref, len(place))
        states = sorted((k for k in just.because if k[0] in kb.states), key=lambda k: place.get(k[0], len(place)))
        findings = [k for k in just.because if k[0] not in kb.states]
        findings.sort(key=lambda k: (k not in said, place.get(k[0], len(place))))
        for key in (*states, *findings):
            out.append((key, depth, "because" if not out else "and", said.get(key)))
        for key in just.not_recorded:
            out.append(Line(depth, f"{'because' if not out else 'and'} {words.name(kb, key[0])} was not recorded"
                                   f"{' ' + words.on_side(key[1]) if key[1] else ''}"))
        for key in just.recorded_false:
            out.append(Line(depth, f"{'because' if not out else 'and'} {words.fact(self.result, key, recorded_false=True)}"))
        for key in just.assumptions:
            out.append(Line(depth, f"{'because' if not out else 'and'} {words.fact(self.result, key, recorded_false=False)}"))
        cited = words.source_lines(kb, just.source, depth, rule=just.rule,
                                   label=None if rule is None else rule.label,
                                   evidence=None if rule is None else rule.evidence)
        return [*cited, *out]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if not text.startswith(("because", "and", "or")) else text


def _json_value(value: float | bool | None) -> float | int | bool | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
