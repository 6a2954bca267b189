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
from types import CodeType, FunctionType
from typing import Any, Callable, Iterable, Mapping, Sequence

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


def live(model: KBModel, todo: list[Unit]) -> list[Unit]:
    """The units whose state premises can all be established: given in a case, or concluded by a live unit.

    A unit reading a state no case can give and no live unit concludes (for
    example a sided state with no side) can never fire; leaving it out
    changes no result and keeps the generated code small. Linear in the
    size of the units (a worklist, no fixpoint passes).
    """
    waiting: dict[Key, list[int]] = {}
    missing: list[int] = []
    ready: list[int] = []
    for i, (branch, context) in enumerate(todo):
        count = 0
        for key in set(branch.state_keys(context)):
            state = model.states.get(key[0])
            if state is not None and (key[1] is not None) == state.sided:
                continue  # a case can give it
            waiting.setdefault(key, []).append(i)
            count += 1
        missing.append(count)
        if count == 0:
            ready.append(i)
    alive = [False] * len(todo)
    established: set[Key] = set()
    while ready:
        i = ready.pop()
        if alive[i]:
            continue
        alive[i] = True
        for key in _conclusions(model, *todo[i]):
            if key in established:
                continue
            established.add(key)
            for j in waiting.get(key, ()):
                missing[j] -= 1
                if missing[j] == 0:
                    ready.append(j)
    return [unit for unit, keep in zip(todo, alive) if keep]


#: Most units in one generated function: CPython compiles many small
#: functions in time linear in their size, one huge function more slowly.
CHUNK = 512


def generate(model: KBModel) -> tuple[str, list[Unit]]:
    """The evaluator's Python source and the unit behind each firing number."""
    todo = live(model, units(model))
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
    parts: list[list[str]] = [[]]
    size = 0
    for group in groups:
        if size and size + len(group) > CHUNK:
            parts.append([])
            size = 0
        size += len(group)
        lines = parts[-1]
        cyclic = len(group) > 1 or group[0] in readers.get(group[0], ())
        if not cyclic:
            lines += _unit_lines(model, todo, group[0], "    ")
            continue
        lines += ["    done = set()", "    while True:", "        before = len(fired)"]
        for i in _propagation_order(group, readers):
            lines += _unit_lines(model, todo, i, "        ", guard=True)
        lines += ["        if len(fired) == before:", "            break"]
    head = ["def evaluate(F, G, T):", "    S = set(G)", "    fired = []", "    add = fired.append"]
    if len(parts) == 1:
        return "\n".join(head + parts[0] + ["    return fired"]) + "\n", todo
    out: list[str] = []
    for n, lines in enumerate(parts):
        out += [f"def _part{n}(F, S, T, fired, add):", *lines, "    return None", ""]
    out += head + [f"    _part{n}(F, S, T, fired, add)" for n in range(len(parts))] + ["    return fired"]
    return "\n".join(out) + "\n", todo


def _propagation_order(group: list[int], readers: Mapping[int, list[int]]) -> list[int]:
    """The units of a cycle in the order facts flow through them (breadth first from each in KB order).

    One pass in this order carries a new fact around the cycle to where the
    pass began, so the loop over the group takes a few passes, not one per
    unit of the cycle.
    """
    members = set(group)
    seen: set[int] = set()
    order: list[int] = []
    for start in group:
        if start in seen:
            continue
        seen.add(start)
        queue = [start]
        for unit in queue:  # grows as we go: breadth first
            order.append(unit)
            for reader in readers.get(unit, ()):
                if reader in members and reader not in seen:
                    seen.add(reader)
                    queue.append(reader)
    return order


def _unit_lines(model: KBModel, todo: list[Unit], i: int, indent: str, *, guard: bool = False) -> list[str]:
    branch, context = todo[i]
    test = branch.python(context)
    head = f"{indent}if {i} not in done and {test}:" if guard else f"{indent}if {test}:"
    body = [f"{indent}    add({i})"]
    if guard:
        body.append(f"{indent}    done.add({i})")
    body += [f"{indent}    S.add({key!r})" for key in _conclusions(model, branch, context)]
    return [f"{indent}# {branch.rule.id} [{branch.option}] {context or 'no side'}", head, *body]


#: The only builtins the generated code can reach (condition tests may use ``round``).
BUILTINS: Mapping[str, Any] = {"set": set, "len": len, "round": round}
#: Names the generated code may use (checked on a code object read back from the cache).
_NAMES = frozenset({*BUILTINS, "get", "add", "append", "NAN", "evaluate"})
_CONSTANTS = (str, bool, float, type(None))


class CompiledEvaluator:
    """The generated evaluator for one KB; build once, run per case (thread-safe).

    ``code`` is the compiled module (two plain data tables and functions over
    them); :meth:`from_code` rebuilds an evaluator from it and ``firings``
    without generating or compiling anything (the KB cache uses it).
    """

    model: KBModel
    code: CodeType
    firings: tuple[Firing, ...]

    def __init__(self, model: KBModel) -> None:
        source, todo = generate(model)
        # The source is built from KB ids written with repr() and from condition kinds; no KB text runs.
        code = compile(source, f"<hipkb evaluator for {model.name} {model.version}>", "exec")
        self._setup(model, code, tuple((branch.index, context) for branch, context in todo))
        self._source: str | None = source

    @classmethod
    def from_code(cls, model: KBModel, code: CodeType, firings: Sequence[Firing]) -> CompiledEvaluator:
        """An evaluator from a code object made by an earlier :class:`CompiledEvaluator` for this KB.

        Raises ValueError when ``code`` or ``firings`` do not have the shape
        this module generates (a cache entry that is not what it should be).
        """
        table = tuple(firings)
        n_branches = len(model.branches)
        for firing in table:
            if (type(firing) is not tuple or len(firing) != 2 or type(firing[0]) is not int
                    or not 0 <= firing[0] < n_branches or firing[1] not in ("left", "right", None)):
                raise ValueError("firings table does not match the KB")
        _check_code(code, len(table))
        evaluator = cls.__new__(cls)
        evaluator._setup(model, code, table)
        evaluator._source = None
        return evaluator

    def _setup(self, model: KBModel, code: CodeType, firings: tuple[Firing, ...]) -> None:
        self.model = model
        self.code = code
        self.firings = firings
        namespace: dict[str, Any] = {"NAN": math.nan, "__builtins__": {"set": set, "len": len, "round": round}}
        exec(code, namespace)  # noqa: S102  (generated here, or checked by from_code)
        evaluate = namespace.get("evaluate")
        if not isinstance(evaluate, FunctionType):
            raise ValueError("the evaluator code defines no evaluate()")
        self._evaluate: Callable[..., list[int]] = evaluate

    @property
    def source(self) -> str:
        """The generated Python source (generated again when the evaluator came from a cached code object)."""
        if self._source is None:
            self._source = generate(self.model)[0]
        return self._source

    def run(self, findings: Mapping[Key, float | bool], given: Iterable[Key], thresholds: Mapping[str, float]) -> list[Firing]:
        """The firings of one case."""
        table = self.firings
        return [table[i] for i in self._evaluate(findings, given, thresholds)]


def _check_code(code: Any, n_firings: int) -> None:
    """Raise ValueError unless ``code`` looks like what :func:`generate` compiles to.

    It must be a code object whose names are the few the generated code
    uses, whose constants are plain data or nested code of the same kind,
    and whose firing numbers are in range. This catches a damaged cache
    entry; it is not a sandbox (the cache is trusted only when no one else
    can write it: :mod:`hipkb.kbcache`).
    """
    todo = [code]
    seen = 0
    while todo:
        item = todo.pop()
        seen += 1
        if type(item) is not CodeType or seen > 1_000_000:
            raise ValueError("not a generated evaluator")
        for name in item.co_names:
            if name not in _NAMES and not (name.startswith("_part") and name[5:].isdigit()):
                raise ValueError(f"unexpected name {name!r} in the evaluator code")
        for const in item.co_consts:
            if type(const) is CodeType:
                todo.append(const)
            elif type(const) is tuple:
                todo.extend(c for c in const if type(c) is CodeType)  # never: keys are tuples of str/None
                if any(type(c) not in (str, type(None)) for c in const):
                    raise ValueError("unexpected constant in the evaluator code")
            elif type(const) is int:
                if not 0 <= const < max(n_firings, 1):
                    raise ValueError("firing number out of range in the evaluator code")
            elif type(const) not in _CONSTANTS:
                raise ValueError("unexpected constant in the evaluator code")
