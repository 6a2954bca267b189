"""Compile a knowledge base into an experta KnowledgeEngine class.

This is the only module that imports experta. Each KB rule, concluding
causal link and recommendation call becomes its own experta rule (one per
branch of its ``any`` conditions); the class is built once per KB and every
thread reuses its own engine instance, reset per case. experta builds the
Rete network and does all matching and firing; :func:`_runtime` gives it
faster parts (matcher, strategy, reset) with the same semantics, which
``tests/test_engine_perf_shape.py`` checks against stock experta.

>>> from hipkb.kb import load_kb
>>> compiled = compile_kb(load_kb())
>>> firings = compiled.run({("supine_hip_ir", "left"): 12.0}, (), {"supine_hip_ir": 25.0, "ir_asymmetry": 10.0})
>>> ("ir_measured_limited", ("ir_limited", "left"), (("supine_hip_ir", "left"),)) in firings
True
"""

from __future__ import annotations

import collections
import collections.abc
import inspect
import itertools
import logging
import threading
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence

from .errors import InferenceError
from .kb import KnowledgeBase
from .model import SIDES, Condition, Rule

__all__ = ["CompiledKB", "Firing", "compile_kb", "MAX_FIRINGS"]

Key = tuple[str, "str | None"]
#: (rule id, conclusion key, premise keys): one justification found by the engine.
Firing = tuple[str, Key, tuple[Key, ...]]
MAX_FIRINGS = 10_000

_IMPORT_LOCK = threading.Lock()
_BUILD_LOCK = threading.Lock()


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


class _Branch(NamedTuple):
    """One conjunction of a rule after expanding its ``any`` conditions."""

    rule: Rule
    option: int  # which combination of the rule's `any` options
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
        #: threshold id → ids of the findings compared with it
        self._threshold_users: dict[str, frozenset[str]] = {}
        for cond in (c for branch in self.branches for c in branch.conditions):
            if cond.threshold is not None and cond.ref is not None:
                self._threshold_users[cond.threshold] = self._threshold_users.get(cond.threshold, frozenset()) | {cond.ref}
        self._local = threading.local()

    # -- building the class

    def _build_class(self) -> type:
        x = self.experta
        fact_types = {name: _fact_type(x, name) for name in ("Finding", "State", "Threshold", "Side")}
        self.facts = fact_types
        namespace: dict[str, Any] = {"__module__": __name__}
        for n, branch in enumerate(self.branches):
            patterns, premise_names, rhs = self._compile_branch(branch, fact_types)
            rule = x.Rule(*patterns, salience=self._salience(branch.rule))
            namespace[f"r{n:06d}_{branch.rule.id}_{branch.option}"] = rule(rhs)
        namespace.update(_runtime(x))
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
            assert cond.ref is not None  # every condition but `any` names what it reads
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
        # experta inspects the RHS signature every time it copies a rule
        # (several times per rule while building the network); give it the
        # answer up front.
        fire.__signature__ = _RHS_SIGNATURE  # type: ignore[attr-defined]
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
        # Working memory stays small: a threshold is declared only when a
        # finding compared with it is in the case (no rule could join it
        # otherwise: findings are never derived).
        present = {k[0] for k in findings}
        users = self._threshold_users
        facts += [f["Threshold"](id=k, v=v) for k, v in sorted(thresholds.items()) if not present.isdisjoint(users.get(k, ()))]
        facts += [f["Finding"](id=k[0], side=k[1], v=v) for k, v in sorted(findings.items(), key=lambda kv: _key_order(kv[0]))]
        facts += [f["State"](id=k[0], side=k[1]) for k in sorted(set(given), key=_key_order)]
        engine.declare(*facts)
        engine.run(max_firings)
        # run() stops right after its last allowed firing; collect what that
        # firing made possible, so a run that needed more is never taken as done
        added, removed = engine.get_activations()
        engine.strategy.update_agenda(engine.agenda, added, removed)
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


def _runtime(x: Any) -> Any:
    """Faster drop-in parts for experta's engine: matcher, strategy, reset.

    experta builds the Rete network from the compiled rules exactly as usual
    (its DNF rewriting, ``wire_rule``, check objects, join/NOT/TEST nodes,
    conflict-set nodes, activations, agenda and run loop all stay). What
    changes is how tokens travel through it, measured as the bulk of the
    time (see README, "Performance"):

    - alpha tests are ordered type → literals (most selective key first) →
      bindings → capture, and a node hands a fact only to the children whose
      literal test it passes (a dict lookup instead of one call per child);
    - nodes no longer copy every token on entry: a token is never changed
      after it is made, so a new one is made only where bindings are added;
    - ``changes()`` asks only the conflict-set nodes that received tokens,
      instead of all of them after every firing;
    - reset clears the memories of the nodes that have memory (a flat list)
      instead of walking the network recursively, and also drops pending
      activations left by an interrupted run;
    - the depth strategy computes each activation's key once, without the
      class-level ``lru_cache`` that hashed every activation;
    - per-token debug logging calls of experta's watchers are skipped.
    """
    from contextlib import suppress

    from experta.agenda import Agenda
    from experta.fact import InitialFact
    from experta.factlist import FactList
    from experta.fieldconstraint import L, W
    from experta.matchers.rete import ReteMatcher
    from experta.matchers.rete.check import FactCapture, FeatureCheck, SameContextCheck, TypeCheck, WhereCheck
    from experta.matchers.rete.mixins import ChildNode
    from experta.matchers.rete.nodes import (
        BusNode,
        ConflictSetNode,
        FeatureTesterNode,
        NotNode,
        OrdinaryMatchNode,
        WhereNode,
    )
    from experta.matchers.rete.token import Token, TokenInfo
    from experta.matchers.rete.utils import generate_checks
    from experta.rule import Rule as XRule
    from experta.strategies import DepthStrategy

    valid = Token.TagType.VALID
    make_token = tuple.__new__  # Token fields are built here; skip its per-token type assertions
    missing = object()

    def fast_test(check: Any) -> Callable[[Any], Any]:
        """A callable equivalent to ``check(fact)`` for the checks hipkb's rules use."""
        if isinstance(check, FactCapture):
            bind = check.bind
            return lambda fact: {bind: fact}
        if isinstance(check, TypeCheck):
            wanted = check.fact_type
            return lambda fact: type(fact) == wanted  # noqa: E721  (exact type, as experta checks)
        if isinstance(check, FeatureCheck) and isinstance(check.what, str) and "__" not in check.what:
            what, how = check.what, check.how
            bind = how.__bind__
            if isinstance(how, L):
                value = how.value

                def literal(fact: Any) -> Any:
                    actual = fact.get(what, missing)  # hipkb's facts have no field defaults
                    if actual is missing or not value == actual:
                        return False
                    return True if bind is None else {bind: actual}

                return literal
            if isinstance(how, W):

                def wildcard(fact: Any) -> Any:
                    actual = fact.get(what, missing)
                    if actual is missing:
                        return False
                    return True if bind is None else {bind: actual}

                return wildcard
        return check  # anything else: experta's own check object

    def literal_key(node: Any) -> tuple[str, Any] | None:
        check = node.matcher
        if (isinstance(check, FeatureCheck) and isinstance(check.how, L) and check.how.__bind__ is None
                and isinstance(check.what, str) and "__" not in check.what):
            try:
                hash(check.how.value)
            except TypeError:
                return None
            return (check.what, check.how.value)
        return None

    class Alpha(FeatureTesterNode):
        """A one-input test node fed ``(token, fact)``; children dispatched by literal."""

        test: Callable[[Any], Any]
        alphas: tuple[Any, ...]
        tables: tuple[tuple[str, dict[Any, tuple[Any, ...]]], ...]
        betas: tuple[Callable[[Any], Any], ...]

        def activate(self, token: Any) -> None:  # entry from a non-alpha parent (not wired so)
            self.feed(token, next(iter(token.data)))

        def feed(self, token: Any, fact: Any) -> None:
            match = self.test(fact)
            if not match:
                return
            if match is not True:
                context = token.context
                for key, value in match.items():
                    if isinstance(key, tuple):  # negated condition
                        if key[1] in context and context[key[1]] == value:
                            return
                    else:
                        if context.get(key, value) != value:
                            return
                        if (False, key) in context and context[(False, key)] == value:
                            return
                context = dict(context)
                context.update(match)
                token = make_token(Token, (token.tag, token.data, context))
            self.passed(token, fact)

        def passed(self, token: Any, fact: Any) -> None:
            for node in self.alphas:
                node.feed(token, fact)
            for what, table in self.tables:
                value = fact.get(what, missing)
                if value is not missing:
                    try:
                        targets = table.get(value, ())
                    except TypeError:  # an unhashable value equals no literal here
                        continue
                    for node in targets:
                        node.passed(token, fact)
            for callback in self.betas:
                callback(token)

    class Bus(BusNode):
        """The root: hands each fact only to the alpha branches of its type."""

        by_type: dict[type, tuple[Any, ...]]
        others: tuple[Any, ...]

        def add(self, fact: Any) -> None:
            self._send(make_token(Token, (valid, {fact}, {})), fact)

        def remove(self, fact: Any) -> None:
            self._send(make_token(Token, (Token.TagType.INVALID, {fact}, {})), fact)

        def _send(self, token: Any, fact: Any) -> None:
            for node in self.by_type.get(type(fact), ()):
                node.passed(token, fact)
            for node in self.others:
                node.feed(token, fact)

    class Join(OrdinaryMatchNode):
        """experta's join without the defensive token copy and per-pair logging."""

        touched: dict[Any, None]

        def activate_left(self, token: Any) -> None:
            self.touched[self] = None
            self._join(token, self.left_memory, self.right_memory, True)

        def activate_right(self, token: Any) -> None:
            self.touched[self] = None
            self._join(token, self.right_memory, self.left_memory, False)

        def _join(self, token: Any, own: list[Any], other: list[Any], is_left: bool) -> None:
            if token.tag is valid:
                own.append(TokenInfo(token.data, token.context))
            else:
                with suppress(ValueError):
                    own.remove(TokenInfo(token.data, token.context))
            context = token.context
            for other_data, other_items in other:
                other_context = dict(other_items)
                if self.matcher(context, other_context) if is_left else self.matcher(other_context, context):
                    merged = {k: v for k, v in context.items() if isinstance(k, str)}
                    for k, v in other_context.items():
                        if not isinstance(k, tuple):
                            merged[k] = v
                    joined = make_token(Token, (token.tag, token.data | other_data, merged))
                    for child in self.children:
                        child.callback(joined)

    class Not(NotNode):
        """experta's NOT node; it never changes a token, so no copy on entry."""

        touched: dict[Any, None]

        def activate_left(self, token: Any) -> None:
            self.touched[self] = None
            self._activate_left(token)

        def activate_right(self, token: Any) -> None:
            self.touched[self] = None
            self._activate_right(token)

    class Where(WhereNode):
        """experta's TEST node, calling the test without logging."""

        def activate(self, token: Any) -> None:
            check = self.matcher
            context = token.context
            if check.test(**{k: context.get(k) for k in check.parameters}):
                for child in self.children:
                    child.callback(token)

    class ConflictSet(ConflictSetNode):
        """experta's conflict-set node; also tells the matcher it has news."""

        dirty: dict[Any, None]
        touched: dict[Any, None]

        def activate(self, token: Any) -> None:
            self.dirty[self] = None
            self.touched[self] = None
            self._activate(token)

    from experta.conditionalelement import NOT, TEST
    from experta.fact import Fact
    from experta.matchers.rete.utils import prepare_rule

    def _prepare(rule: Any) -> Any:
        """experta's ``prepare_rule``, short-cut for rules already in its normal form.

        A flat conjunction that starts with a fact pattern and holds only
        patterns, ``NOT(pattern)`` and ``TEST`` is its own DNF; experta
        would rebuild it several times over to find that out (the bulk of
        the engine's build time). The copy is still made, as experta does:
        the class attribute is bound to whichever engine last looked it up.
        """
        return rule.new_conditions(*rule) if is_flat(rule) else prepare_rule(rule)

    def is_flat(rule: Any) -> bool:
        return bool(rule) and isinstance(rule[0], Fact) and all(
            isinstance(e, (Fact, TEST)) or (isinstance(e, NOT) and len(e) == 1 and isinstance(e[0], Fact))
            for e in rule
        )

    def wire_flat(rule: Any, terminals: Mapping[Any, Any]) -> None:
        """experta's ``wire_rule`` for a flat conjunction, node for node.

        Same nodes, same order, same sharing (alpha terminals only), but
        without defining and registering eight ``singledispatch`` functions
        per rule, which is what experta's version spends its time on.
        """
        def alpha(element: Any) -> Any:
            return terminals[element[0] if isinstance(element, NOT) else element]

        current = alpha(rule[0]) if len(rule) == 1 else None
        for first, second in zip(rule, rule[1:]):
            if isinstance(second, TEST):
                if current is None:
                    current = alpha(first)
                where = Where(WhereCheck(second[0]))
                current.add_child(where, where.activate)
                current = where
            else:
                cls = Not if isinstance(second, NOT) else Join
                if current is None:
                    left, right = alpha(first), alpha(second)
                else:
                    left, right = current, alpha(second)
                current = cls(SameContextCheck())
                left.add_child(current, current.activate_left)
                right.add_child(current, current.activate_right)
        assert current is not None  # a rule has at least one pattern
        conflict_set = ConflictSet(rule)
        current.add_child(conflict_set, conflict_set.activate)

    swaps = {
        FeatureTesterNode: Alpha, BusNode: Bus, OrdinaryMatchNode: Join,
        NotNode: Not, WhereNode: Where, ConflictSetNode: ConflictSet,
    }

    class Matcher(ReteMatcher):
        """experta's Rete matcher, tuned after experta has built the network."""

        def __init__(self, engine: Any) -> None:
            super().__init__(engine)
            self._tune()

        @staticmethod
        def prepare_ruleset(engine: Any) -> list[Any]:  # type: ignore[override]
            # a list in rule-name order (experta uses a set): the network's
            # shape and firing order then do not depend on hash seeds
            return [_prepare(rule) for rule in engine.get_rules()]

        @staticmethod
        def build_alpha_part(ruleset: Any, root_node: Any) -> dict[Any, Any]:
            """experta's alpha builder with a different test order: fail early, share prefixes."""
            rules = list(ruleset) + [XRule(InitialFact())]
            patterns = list(dict.fromkeys(fact for rule in rules for fact in _patterns(rule, x)))
            checks = {id(fact): list(dict.fromkeys(generate_checks(fact))) for fact in patterns}
            values: dict[tuple[type, Any], set[Any]] = {}
            for fact in patterns:
                for check in checks[id(fact)]:
                    if isinstance(check, FeatureCheck) and isinstance(check.how, L):
                        values.setdefault((type(fact), check.what), set()).add(repr(check.how.value))

            def order(fact: Any) -> Callable[[Any], tuple[Any, ...]]:
                def key(check: Any) -> tuple[Any, ...]:
                    if isinstance(check, TypeCheck):
                        return (0, 0, "")
                    if isinstance(check, FeatureCheck):
                        literal = isinstance(check.how, L) and check.how.__bind__ is None
                        return (1 if literal else 2, -len(values.get((type(fact), check.what), ())), repr(check.what))
                    return (3, 0, repr(check))
                return key

            terminals: dict[Any, Any] = {}
            made: dict[tuple[int, int], Any] = {}  # (parent, check) → node: shared prefixes, found in O(1)
            for fact in patterns:
                node = root_node
                for check in sorted(checks[id(fact)], key=order(fact)):
                    child = made.get((id(node), id(check)))
                    if child is None:
                        child = made[(id(node), id(check))] = FeatureTesterNode(check)
                        node.children.append(ChildNode(child, child.activate))
                    node = child
                terminals[fact] = node
            return terminals

        @staticmethod
        def build_beta_part(ruleset: Any, alpha_terminals: Any) -> None:
            rest = []
            for rule in ruleset:
                if is_flat(rule):
                    wire_flat(rule, alpha_terminals)
                else:
                    rest.append(rule)
            ReteMatcher.build_beta_part(rest, alpha_terminals)

        def _tune(self) -> None:
            nodes: list[Any] = []
            seen: set[int] = set()
            stack = [self.root_node]
            while stack:
                node = stack.pop()
                if id(node) in seen:
                    continue
                seen.add(id(node))
                nodes.append(node)
                stack.extend(child.node for child in reversed(node.children))
            for node in nodes:
                fast = swaps.get(type(node))
                if fast is not None:
                    node.__class__ = fast
            for node in nodes:
                node.children = [ChildNode(c.node, getattr(c.node, c.callback.__name__)) for c in node.children]
            # conflict-set nodes with news for changes(); nodes with memory to
            # clear at reset (the others are never touched by a small case)
            self._dirty: dict[Any, None] = {}
            self._touched: dict[Any, None] = {}
            for node in nodes:
                if isinstance(node, ConflictSet):
                    node.dirty = self._dirty
                if isinstance(node, (Join, Not, ConflictSet)):
                    node.touched = self._touched
            self._untracked = tuple(n for n in nodes if not isinstance(n, (Alpha, Bus, Where, Join, Not, ConflictSet)))
            for node in nodes:
                if isinstance(node, Alpha):
                    node.test = fast_test(node.matcher)
                    self._route(node)
            root = self.root_node
            if isinstance(root, Bus):
                by_type: dict[type, list[Any]] = {}
                others = []
                for child in root.children:
                    target = child.node
                    if isinstance(target, Alpha) and isinstance(target.matcher, TypeCheck):
                        by_type.setdefault(target.matcher.fact_type, []).append(target)
                    elif isinstance(target, Alpha):
                        others.append(target)
                    else:
                        raise TypeError(f"unexpected node under the root: {target}")
                root.by_type = {t: tuple(v) for t, v in by_type.items()}
                root.others = tuple(others)

        @staticmethod
        def _route(node: Any) -> None:
            alphas, betas = [], []
            tables: dict[str, dict[Any, list[Any]]] = {}
            for child in node.children:
                target = child.node
                if isinstance(target, Alpha) and child.callback.__name__ == "activate":
                    key = literal_key(target)
                    if key is None:
                        alphas.append(target)
                    else:
                        tables.setdefault(key[0], {}).setdefault(key[1], []).append(target)
                else:
                    betas.append(child.callback)
            node.alphas = tuple(alphas)
            node.betas = tuple(betas)
            node.tables = tuple((what, {v: tuple(t) for v, t in table.items()}) for what, table in tables.items())

        def changes(self, adding: Any = None, deleting: Any = None) -> tuple[list[Any], list[Any]]:
            root = self.root_node
            if deleting:
                for fact in deleting:
                    root.remove(fact)
            if adding:
                for fact in adding:
                    root.add(fact)
            added: list[Any] = []
            removed: list[Any] = []
            if self._dirty:
                for node in self._dirty:
                    if node.added:
                        added.extend(node.added)
                        node.added = set()
                    if node.removed:
                        removed.extend(node.removed)
                        node.removed = set()
                self._dirty.clear()
            return added, removed

        def reset(self) -> None:
            for node in self._touched:
                node._reset()
                if isinstance(node, ConflictSet):  # activations an interrupted run left behind
                    node.added = set()
                    node.removed = set()
            for node in self._untracked:
                node._reset()
            self._touched.clear()
            self._dirty.clear()

    class Strategy(DepthStrategy):
        """experta's depth strategy; each activation's key computed once, uncached."""

        def get_key(self, activation: Any) -> tuple[int, list[int]]:  # type: ignore[override]
            return (activation.rule.salience, sorted((f["__factid__"] for f in activation.facts), reverse=True))

        def update_agenda(self, agenda: Any, added: Any, removed: Any) -> None:
            if added or removed:
                self._update_agenda(agenda, added, removed)

    class QuietFactList(FactList):
        """experta's fact list without its INFO record per declared fact."""

        def declare(self, fact: Any) -> Any:
            fact.validate()
            fact_id = self._get_fact_id(fact)
            if self.duplication or fact_id not in self.reference_counter:
                fact.__factid__ = self.last_index
                self[self.last_index] = fact
                self.last_index += 1
                self.added.append(fact)
                self.reference_counter[fact_id] += 1
                return fact
            return None

    def reset(self: Any, **_: Any) -> None:
        """A reset() that skips experta's per-call introspection of the class."""
        self.agenda = Agenda()
        self.facts = QuietFactList()
        self.matcher.reset()
        self.facts.declare(InitialFact())
        self.running = False

    def run(self: Any, steps: float = float("inf")) -> None:
        """experta's run loop, without its INFO record per firing (a host logging at INFO sees nothing)."""
        self.running = True
        while steps > 0 and self.running:
            added, removed = self.get_activations()
            self.strategy.update_agenda(self.agenda, added, removed)
            activation = self.agenda.get_next()
            if activation is None:
                break
            steps -= 1
            activation.rule(self, **{k: v for k, v in activation.context.items() if not k.startswith("__")})
        self.running = False

    return {"__matcher__": Matcher, "__strategy__": Strategy, "reset": reset, "run": run}


def _fact_type(x: Any, name: str) -> type:
    """An experta Fact class with keyword fields only, built without per-field dispatch.

    experta's ``Fact.__init__`` routes every field through ``__setitem__``
    (a declared-yet? check and ``freeze``, a ``singledispatch`` call that
    returns hashable values unchanged). hipkb's fields are keywords whose
    values are already hashable (text, numbers, booleans, None, or experta
    field constraints in rule patterns), so they are stored directly.
    """
    store = dict.__setitem__

    def __init__(self: Any, **fields: Any) -> None:
        for key, value in fields.items():
            hash(value)  # what freeze() would insist on
            store(self, key, value)
        self._Fact__defaults = {}

    return type(name, (x.Fact,), {"__init__": __init__, "__module__": __name__})


def _patterns(rule: Any, x: Any) -> Iterable[Any]:
    """The fact patterns of a prepared rule, in the order they are written."""
    for element in rule:
        if isinstance(element, x.Fact):
            yield element
        elif isinstance(element, x.TEST):
            continue
        else:
            yield from _patterns(element, x)


def _rhs(engine: Any, **context: Any) -> None:
    """The shape of every compiled rule's right-hand side."""


_RHS_SIGNATURE = inspect.signature(_rhs)


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
        with _BUILD_LOCK:  # threads starting together build it once
            compiled = kb._cache.get("compiled")
            if compiled is None:
                compiled = kb._cache["compiled"] = CompiledKB(kb)
    return compiled
