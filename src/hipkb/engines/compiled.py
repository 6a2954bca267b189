"""The compiled evaluator: the KB turned into one generated Python function.

Every branch of every rule, in every context where it can hold, becomes
one ``if`` over the case's findings ``F``, the established states ``S`` and
the thresholds ``T``; the condition tests are written by the conditions
themselves (:meth:`hipkb.model.Condition.python`). The ``if``\\ s are
ordered so that whatever a test reads is concluded before it; a group of
rules that feed each other (a cycle) is repeated until nothing new
follows. That reaches the same closure as forward chaining, as CLIPS's
constructs-to-c and Soufflé do, without a Rete network per case.

>>> from hipkb.kb import load_model
>>> evaluator = CompiledEvaluator(load_model())
>>> firings = evaluator.run({("supine_hip_ir", "left"): 12.0}, (), {"supine_hip_ir": 25.0, "ir_asymmetry": 10.0,
...                          "straight_leg_raise": 50.0, "supine_hip_flexion": 100.0})
>>> model = evaluator.model
>>> sorted({model.branches[b].rule.id for b, side in firings if side == "left"})[:3]
['arm_bar_for_programme', 'assess_foot_presentation_for_ir_limitation', 'assess_squat_for_ir_limitation']
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

from ..graphs import components
from ..model import Branch, KBModel, Key, Side
from . import Firing

__all__ = ["CompiledEvaluator", "units", "generate"]

Unit = tuple[Branch, Side]


def units(model: KBModel) -> list[Unit]:
    """Every (branch, context) that can hold, in KB order."""
    out = []
    for branch in model.branches:
        for context in branch.contexts:
            if branch.python(context) is not None:
                out.append((branch, context))
    return out


def _conclusions(model: KBModel, branch: Branch, context: Side) -> tuple[Key, ...]:
    """The state keys a unit concludes (recommendations are never read by a rule)."""
    return tuple((t, context if model.states[t].sided else None) for t in branch.rule.then if t in model.states)


def generate(model: KBModel) -> tuple[str, list[Unit]]:
    """The evaluator's Python source and the unit behind each firing number."""
    todo = units(model)
    produced: dict[Key, list[int]] = {}
    for i, (branch, context) in enumerate(todo):
        for key in _conclusions(model, branch, context):
            produced.setdefault(key, []).append(i)
    readers: dict[int, list[int]] = {}
    for i, (branch, context) in enumerate(todo):
        for key in branch.state_keys(context):
            for j in produced.get(key, ()):
                readers.setdefault(j, []).append(i)
    # Tarjan gives sinks first; run producers before readers.
    groups = list(reversed(components(list(range(len(todo))), readers.get)))
    lines = [
        "def evaluate(F, G, T):",
        "    S = set(G)",
        "    fired = []",
        "    add = fired.append",
    ]
    for group in groups:
        cyclic = len(group) > 1 or group[0] in readers.get(group[0], ())
        if not cyclic:
            lines += _unit_lines(model, todo, group[0], "    ")
            continue
        lines += ["    done = set()", "    while True:", "        before = len(fired)"]
        for i in group:
            lines += _unit_lines(model, todo, i, "        ", guard=True)
        lines += ["        if len(fired) == before:", "            break"]
    lines.append("    return fired")
    return "\n".join(lines) + "\n", todo


def _unit_lines(model: KBModel, todo: list[Unit], i: int, indent: str, *, guard: bool = False) -> list[str]:
    branch, context = todo[i]
    test = branch.python(context)
    head = f"{indent}if {i} not in done and {test}:" if guard else f"{indent}if {test}:"
    body = [f"{indent}    add({i})"]
    if guard:
        body.append(f"{indent}    done.add({i})")
    body += [f"{indent}    S.add({key!r})" for key in _conclusions(model, branch, context)]
    return [f"{indent}# {branch.rule.id} [{branch.option}] {context or 'no side'}", head, *body]


class CompiledEvaluator:
    """The generated evaluator for one KB; build once, run per case (thread-safe)."""

    def __init__(self, model: KBModel) -> None:
        self.model = model
        self.source, todo = generate(model)
        self.firings: tuple[Firing, ...] = tuple((branch.index, context) for branch, context in todo)
        namespace: dict[str, Any] = {"NAN": math.nan, "__builtins__": {"set": set, "len": len}}
        # The source is built from KB ids written with repr() and from condition kinds; no KB text runs.
        exec(compile(self.source, f"<hipkb evaluator for {model.name} {model.version}>", "exec"), namespace)  # noqa: S102
        self._evaluate: Callable[..., list[int]] = namespace["evaluate"]

    def run(self, findings: Mapping[Key, float | bool], given: Iterable[Key], thresholds: Mapping[str, float]) -> list[Firing]:
        """The firings of one case."""
        table = self.firings
        return [table[i] for i in self._evaluate(findings, given, thresholds)]
