"""The reference engine: the KB as stock experta rules (the only module that imports experta).

Each branch of each KB rule, in each context where it can hold, becomes
one experta rule whose patterns the conditions describe: a state is a
``State`` fact, a recorded finding a ``Finding`` fact, a threshold a
``Threshold`` fact joined by a ``TEST``; "not recorded" and "not observed"
are ``NOT`` patterns over findings (which no rule produces, so no
salience is needed). experta's own Rete network, agenda and run loop do
all matching and firing; the engine class is built once per KB, every
thread gets its own engine instance, reset per case.

experta 1.9.4 pins frozendict 1.2, which uses ``collections.Mapping`` (gone
since Python 3.10), and calls ``logging.basicConfig()`` at import: both are
contained in :func:`_import_experta`, and nowhere else.
"""

from __future__ import annotations

import collections
import collections.abc
import logging
import threading
from typing import Any, Iterable, Mapping

from ..errors import InferenceError
from ..model import SIDES, Condition, KBModel, Key, Side, other_side, side_difference
from . import Firing
from .compiled import units

__all__ = ["ExpertaEngine"]

_IMPORT_LOCK = threading.Lock()
#: experta facts cannot hold None in a literal pattern reliably; "no side" is spelled out.
_NO_SIDE = "-"


def _import_experta() -> Any:
    """Import experta in the world users get from ``pip install hipkb``.

    The ``collections.Mapping`` alias exists only during the import, and any
    handler or level the import gives the root logger is taken back; the
    loggers experta logs through are silenced so hosts logging at INFO see
    nothing from it.
    """
    with _IMPORT_LOCK:
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        added = not hasattr(collections, "Mapping")
        if added:
            collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]
        try:
            import experta  # type: ignore[import-untyped]  # experta ships no type hints
            from experta import engine as _engine  # noqa: F401  (runs basicConfig now, under our watch)
        finally:
            if added:
                del collections.Mapping  # type: ignore[attr-defined]
            root.handlers[:] = handlers
            root.setLevel(level)
        for name in ("experta", "experta.watchers"):
            logging.getLogger(name).propagate = False
            logging.getLogger(name).disabled = True
    return experta


def _side(side: Side) -> str:
    return _NO_SIDE if side is None else side


class ExpertaEngine:
    """An experta ``KnowledgeEngine`` class for one KB, and one instance per thread."""

    def __init__(self, model: KBModel) -> None:
        self.model = model
        x = self.experta = _import_experta()
        self.Finding = type("Finding", (x.Fact,), {})
        self.State = type("State", (x.Fact,), {})
        self.Threshold = type("Threshold", (x.Fact,), {})
        namespace: dict[str, Any] = {"__module__": __name__}
        todo = units(model)
        self.firing_of = tuple((branch.index, context) for branch, context in todo)
        for n, (branch, context) in enumerate(todo):
            patterns: list[Any] = []
            for i, cond in enumerate(branch.conditions):
                patterns += self._patterns(cond, context, f"c{i}")
            targets = tuple(
                (t, context if model.states[t].sided else None) for t in branch.rule.then if t in model.states
            )
            rule = x.Rule(*patterns)
            namespace[f"r{n:06d}"] = rule(self._rhs(n, targets))
        with _IMPORT_LOCK:  # experta sets class-level descriptors while building
            self.engine_class = type("HipkbEngine", (x.KnowledgeEngine,), namespace)
        self._local = threading.local()

    def _rhs(self, n: int, targets: tuple[Key, ...]) -> Any:
        state = self.State

        def fire(engine: Any) -> None:
            engine.hipkb_fired.append(n)
            for target, side in targets:
                engine.declare(state(name=target, side=_side(side)))

        return fire

    def _patterns(self, cond: Condition, context: Side, var: str) -> list[Any]:
        """experta patterns for one condition in one context (the condition's own reading of sides)."""
        x = self.experta
        F, S, T = self.Finding, self.State, self.Threshold
        if cond.kind == "unassessed":
            keys = [(f, s) for f, sided in cond.findings
                    for s in ((None,) if not sided else (SIDES if context is None else (context,)))]
            return [x.NOT(F(name=f, side=_side(s))) for f, s in keys]
        sides = cond.sides(context)
        assert sides is not None, "units never include a context where a condition cannot hold"
        ref = cond.ref
        if cond.kind == "lower_side":
            assert context is not None
            here, there, limit = getattr(x.MATCH, f"{var}h"), getattr(x.MATCH, f"{var}o"), getattr(x.MATCH, f"{var}t")
            test = _test(f"lambda {var}h, {var}o, {var}t: side_difference({var}o, {var}h) > {var}t")
            return [F(name=ref, side=context, value=here), F(name=ref, side=other_side(context), value=there),
                    T(name=cond.threshold, value=limit), x.TEST(test)]
        out: list[Any] = []
        for j, side in enumerate(sides):
            where = _side(side)
            if cond.kind == "state":
                out.append(S(name=ref, side=where))
            elif cond.kind == "recorded":
                out.append(F(name=ref, side=where))
            elif cond.kind == "absent":
                out.append(x.NOT(F(name=ref, side=where)))
            elif cond.kind == "not":
                out.append(x.NOT(F(name=ref, side=where, value=True)))
            elif cond.kind == "finding" and cond.compare is None:
                out.append(F(name=ref, side=where, value=True))
            elif cond.kind == "finding":
                value, limit = f"{var}v{j}", f"{var}t{j}"
                op = "<" if cond.compare == "below" else ">="
                out += [F(name=ref, side=where, value=getattr(x.MATCH, value)),
                        T(name=cond.threshold, value=getattr(x.MATCH, limit)),
                        x.TEST(_test(f"lambda {value}, {limit}: {value} {op} {limit}"))]
            else:
                raise ValueError(f"cannot express a condition of kind {cond.kind!r} in experta")
        return out

    def engine(self) -> Any:
        """This thread's engine instance (created on first use)."""
        engine = getattr(self._local, "engine", None)
        if engine is None:
            with _IMPORT_LOCK:
                engine = self.engine_class()
            self._local.engine = engine
        return engine

    def run(self, findings: Mapping[Key, float | bool], given: Iterable[Key], thresholds: Mapping[str, float]) -> list[Firing]:
        """Run one case through experta; return the firings."""
        engine = self.engine()
        engine.reset()
        engine.hipkb_fired = []
        facts = [self.Threshold(name=k, value=v) for k, v in sorted(thresholds.items())]
        facts += [self.Finding(name=k[0], side=_side(k[1]), value=v) for k, v in sorted(findings.items(), key=_order)]
        facts += [self.State(name=k[0], side=_side(k[1])) for k in sorted(set(given), key=lambda k: _order((k, 0)))]
        engine.declare(*facts)
        # Each rule fires at most once per case (its facts are unique), so
        # one more step than there are rules proves the run finished.
        limit = len(self.firing_of) + 1
        engine.run(limit)
        fired: list[int] = engine.hipkb_fired
        if len(fired) >= limit:
            engine.reset()
            raise InferenceError(f"experta fired more than {limit - 1} rules on one case")
        engine.hipkb_fired = []
        return [self.firing_of[n] for n in fired]


def _test(source: str) -> Any:
    # The source is built from condition indices and comparison operators only, never from KB text.
    return eval(source, {"__builtins__": {}, "side_difference": side_difference})  # noqa: S307


def _order(item: tuple[Key, Any]) -> tuple[str, str]:
    key = item[0]
    return (key[0], key[1] or "")
