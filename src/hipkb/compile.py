"""Compile a knowledge base into an experta KnowledgeEngine class.

This is the only module that imports experta. Each KB rule, concluding
causal link and recommendation call becomes its own experta rule (one per
branch of its ``any`` conditions); the class is built once per KB and every
thread reuses its own engine instance, reset per case.

>>> from hipkb.kb import load_kb
>>> compiled = compile_kb(load_kb())
>>> firings = compiled.run({("supine_hip_ir", "left"): 12.0}, (), {"supine_hip_ir": 25.0, "ir_asymmetry": 10.0})
>>> ("ir_measured_limited", ("ir_limited", "left"), (("supine_hip_ir", "left"),)) in firings
True
"""

from __future__ import annotations

import collections
import collections.abc
import itertools
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from .errors import InferenceError
from .kb import KnowledgeBase
from .model import SIDES, Condition, Rule

__all__ = ["CompiledKB", "Firing", "compile_kb", "MAX_FIRINGS"]

Key = tuple[str, "str | None"]
#: (rule id, conclusion key, premise keys): one justification found by the engine.
Firing = tuple[str, Key, tuple[Key, ...]]
MAX_FIRINGS = 10_000

_IMPORT_LOCK = threading.Lock()


def _import_experta() -> Any:
    """Import experta in the world users get from ``pip install hipkb``.

    experta 1.9.4 pins frozendict 1.2, which subclasses ``collections.Mapping``
    (gone since Python 3.10), and calls ``logging.basicConfig()`` at import.
    Both are contained here, and only here: the alias exists only during the
    import, and any handler the import adds to the root logger is removed.
    """
    with _IMPORT_LOCK:
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        added = not hasattr(collections, "Mapping")
        if added:
            collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]
        try:
            import experta
            from experta import engine as _engine  # noqa: F401  (runs basicConfig now, under our watch)
        finally:
            if added:
                del collections.Mapping  # type: ignore[attr-defined]
            root.handlers[:] = handlers
            root.setLevel(level)
    return experta


@dataclass(frozen=True)
class _Branch:
    """One conjunction of a rule after expanding its ``any`` conditions."""

    rule: Rule
    index: int
    conditions: tuple[Condition, ...]


class CompiledKB:
    """An experta engine class for one KB, plus a per-thread engine pool."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.experta = _import_experta()
        self.branches: tuple[_Branch, ...] = tuple(
            _Branch(rule, i, tuple(combo))
            for rule in kb.inference_rules
            for i, combo in enumerate(itertools.product(*[c.options if c.kind == "any" else (c,) for c in rule.when]))
        )
        self.engine_class = self._build_class()
        self._local = threading.local()

    # -- building the class

    def _build_class(self) -> type:
        x = self.experta
        fact_types = {
            "Finding": type("Finding", (x.Fact,), {}),
            "State": type("State", (x.Fact,), {}),
            "Threshold": type("Threshold", (x.Fact,), {}),
            "Side": type("Side", (x.Fact,), {}),
        }
        self.facts = fact_types
        namespace: dict[str, Any] = {"__module__": __name__}
        for n, branch in enumerate(self.branches):
            patterns, premise_names, rhs = self._compile_branch(branch, fact_types)
            rule = x.Rule(*patterns, salience=self._salience(branch.rule))
            namespace[f"r{n:04d}_{branch.rule.id}_{branch.index}"] = rule(rhs)
        namespace["reset"] = _fast_reset(x)
        return type("HipkbEngine", (x.KnowledgeEngine,), namespace)

    def _salience(self, rule: Rule) -> int:
        # Negations only name findings, which no rule produces, so a single
        # stratum suffices; negating rules still run last, as a safeguard for
        # KBs that negate something a rule could later assert.
        return -1 if any(c.negative for c in _flat(rule.when)) else 0

    def _compile_branch(self, branch: _Branch, f: Mapping[str, type]) -> tuple[list[Any], list[str], Callable[..., None]]:
        x = self.experta
        kb = self.kb
        side = x.MATCH.side
        positive: list[Any] = []
        tests: list[Any] = []
        negative: list[Any] = []
        premises: list[str] = []
        needs_side = any(kb.states[t].sided for t in branch.rule.then if t in kb.states)
        bound = False
        for i, cond in enumerate(branch.conditions):
            name = f"p{i}"
            if cond.kind == "state":
                sided = kb.states[cond.ref].sided
                positive.append(name << f["State"](id=cond.ref, side=side if sided else None))
                premises.append(name)
                bound |= sided
            elif cond.kind == "finding":
                sided = kb.findings[cond.ref].sided
                where = side if sided else None
                bound |= sided
                premises.append(name)
                if cond.compare is None:
                    positive.append(name << f["Finding"](id=cond.ref, side=where, v=True))
                else:
                    positive.append(name << f["Finding"](id=cond.ref, side=where, v=getattr(x.MATCH, f"v{i}")))
                    positive.append(f["Threshold"](id=cond.threshold, v=getattr(x.MATCH, f"t{i}")))
                    op = "<" if cond.compare == "below" else ">="
                    tests.append(x.TEST(_test(f"lambda v{i}, t{i}: v{i} {op} t{i}")))
            elif cond.kind == "lower_side":
                bound = True
                premises += [name, f"q{i}"]
                positive.append(name << f["Finding"](id=cond.ref, side=side, v=getattr(x.MATCH, f"v{i}")))
                positive.append(f"q{i}" << f["Finding"](id=cond.ref, side=getattr(x.MATCH, f"s{i}"), v=getattr(x.MATCH, f"w{i}")))
                positive.append(f["Threshold"](id=cond.threshold, v=getattr(x.MATCH, f"t{i}")))
                tests.append(x.TEST(_test(f"lambda side, s{i}, v{i}, w{i}, t{i}: side != s{i} and w{i} - v{i} > t{i}")))
            elif cond.kind in ("absent", "not"):
                sided = kb.findings[cond.ref].sided
                needs_side |= sided
                fields: dict[str, Any] = {"id": cond.ref, "side": side if sided else None}
                if cond.kind == "not":
                    fields["v"] = True
                negative.append(x.NOT(f["Finding"](**fields)))
        if needs_side and not bound:
            positive.insert(0, f["Side"](side=side))
            bound = True
        rule_id = branch.rule.id
        targets = tuple((t, kb.states[t].sided if t in kb.states else bound) for t in branch.rule.then)
        state_targets = frozenset(t for t in branch.rule.then if t in kb.states)
        state_cls = f["State"]
        names = tuple(premises)

        def fire(engine: Any, **context: Any) -> None:
            where = context.get("side") if bound else None
            because = tuple(sorted({(context[n]["id"], context[n]["side"]) for n in names}, key=_key_order))
            for target, sided in targets:
                conclusion = (target, where if sided else None)
                engine.firings.append((rule_id, conclusion, because))
                if target in state_targets:
                    engine.declare(state_cls(id=target, side=conclusion[1]))

        fire.__name__ = rule_id
        return positive + tests + negative, premises, fire

    # -- running

    def engine(self) -> Any:
        """This thread's engine instance (created on first use)."""
        engine = getattr(self._local, "engine", None)
        if engine is None:
            with _IMPORT_LOCK:  # experta mutates class-level descriptors while building
                engine = self.engine_class()
            self._local.engine = engine
        return engine

    def run(
        self,
        findings: Mapping[Key, float | bool],
        given: Iterable[Key],
        thresholds: Mapping[str, float],
        *,
        max_firings: int = MAX_FIRINGS,
    ) -> list[Firing]:
        """Run the engine over one case; return every justification it found."""
        engine = self.engine()
        engine.reset()
        engine.firings = []
        f = self.facts
        facts = [f["Side"](side=s) for s in SIDES]
        facts += [f["Threshold"](id=k, v=v) for k, v in sorted(thresholds.items())]
        facts += [f["Finding"](id=k[0], side=k[1], v=v) for k, v in sorted(findings.items(), key=lambda kv: _key_order(kv[0]))]
        facts += [f["State"](id=k[0], side=k[1]) for k in sorted(set(given), key=_key_order)]
        engine.declare(*facts)
        engine.run(max_firings)
        if engine.agenda.activations:
            pending = engine.agenda.activations[-1].rule.__name__
            engine.reset()
            raise InferenceError(
                f"inference stopped after {max_firings} rule firings; rule {pending!r} still wanted to fire",
                hint="a rule may be feeding itself; check the KB's rules and links",
            )
        firings: list[Firing] = engine.firings
        engine.firings = []
        return firings


def _fast_reset(x: Any) -> Callable[[Any], None]:
    """A reset() that skips experta's per-call introspection of the class."""
    from experta.agenda import Agenda
    from experta.factlist import FactList

    initial = x.InitialFact

    def reset(self: Any, **_: Any) -> None:
        self.agenda = Agenda()
        self.facts = FactList()
        self.matcher.reset()
        self.facts.declare(initial())
        self.running = False

    return reset


def _test(source: str) -> Callable[..., bool]:
    # The source is built from condition indices only, never from KB text.
    return eval(source, {"__builtins__": {}})  # noqa: S307


def _flat(conditions: Sequence[Condition]) -> Iterable[Condition]:
    for c in conditions:
        yield from (c.options if c.kind == "any" else (c,))


def _key_order(key: Key) -> tuple[str, str]:
    return (key[0], key[1] or "")


def compile_kb(kb: KnowledgeBase) -> CompiledKB:
    """The compiled engine for ``kb`` (built once, then cached on the KB)."""
    compiled = kb._cache.get("compiled")
    if compiled is None:
        with _IMPORT_LOCK:
            compiled = kb._cache.get("compiled")
        if compiled is None:
            built = CompiledKB(kb)
            compiled = kb._cache.setdefault("compiled", built)
    return compiled
