"""A plain-Python evaluation of a hipkb KB, and a seeded case generator.

Written only for the benchmark (and the equivalence test): it is the
reference floor the experta engine is compared with. It evaluates every
inference rule's conditions generically, straight from the KB model (no
experta), forward-chaining to a fixpoint, and returns the same firings the
engine returns: ``(rule id, conclusion key, premise keys)``. Those then go
through the same resolver (:func:`hipkb.infer.build_result`), so any
difference in the final JSON is a difference in what the engine matched.

Semantics (DESIGN.md, "What the engine must conclude"): all conditions of a
rule hold on one side; a rule is evaluated per side when anything it reads or
concludes is sided, once (side ``None``) otherwise; unsided findings and
states take part on either side.
"""

from __future__ import annotations

import itertools
import random
from typing import Any, Iterable, Mapping

from hipkb.case import Case, Key
from hipkb.kb import KnowledgeBase
from hipkb.model import SIDES, Condition, Rule

__all__ = ["reference_firings", "reference_assess", "generate_cases", "Evaluator"]

Firing = tuple[str, Key, tuple[Key, ...]]


def _order(key: Key) -> tuple[str, str]:
    return (key[0], key[1] or "")


class Evaluator:
    """Evaluate one KB's rules over findings; build once, call per case."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.branches: list[tuple[Rule, tuple[Condition, ...], bool]] = []
        for rule in kb.inference_rules:
            options = [c.options if c.kind == "any" else (c,) for c in rule.when]
            for combo in itertools.product(*options):
                self.branches.append((rule, tuple(combo), self._sided(rule, combo)))

    def _sided(self, rule: Rule, conditions: Iterable[Condition]) -> bool:
        kb = self.kb
        for c in conditions:
            if c.kind == "state" and kb.states[c.ref].sided:
                return True
            if c.kind in ("finding", "absent", "not", "lower_side") and kb.findings[c.ref].sided:
                return True
        return any(kb.states[t].sided for t in rule.then if t in kb.states)

    def _holds(self, cond: Condition, side: str | None, findings: Mapping[Key, Any], states: set[Key],
               thresholds: Mapping[str, float]) -> tuple[Key, ...] | None:
        """The premise keys when ``cond`` holds on ``side``, else None."""
        kb = self.kb
        if cond.kind == "state":
            key = (cond.ref, side if kb.states[cond.ref].sided else None)
            return (key,) if key in states else None
        key = (cond.ref, side if kb.findings[cond.ref].sided else None)
        if cond.kind == "absent":
            return () if key not in findings else None
        if cond.kind == "not":
            return () if findings.get(key) is not True else None
        if cond.kind == "finding":
            if key not in findings:
                return None
            value = findings[key]
            if cond.compare is None:
                return (key,) if value is True else None
            if cond.threshold not in thresholds:
                return None
            limit = thresholds[cond.threshold]
            ok = value < limit if cond.compare == "below" else value >= limit
            return (key,) if ok else None
        if cond.kind == "lower_side":
            if cond.threshold not in thresholds or key not in findings:
                return None
            for other in SIDES:
                okey = (cond.ref, other)
                if other != side and okey in findings and findings[okey] - findings[key] > thresholds[cond.threshold]:
                    return (key, okey)
            return None
        raise ValueError(f"unknown condition kind {cond.kind!r}")

    def firings(self, findings: Mapping[Key, Any], given: Iterable[Key], thresholds: Mapping[str, float]) -> list[Firing]:
        """Every justification the rules allow, to a fixpoint (order irrelevant)."""
        kb = self.kb
        states: set[Key] = set(given)
        found: set[Firing] = set()
        changed = True
        while changed:
            changed = False
            for rule, conditions, sided in self.branches:
                for side in (SIDES if sided else (None,)):
                    premises: list[Key] = []
                    for cond in conditions:
                        got = self._holds(cond, side, findings, states, thresholds)
                        if got is None:
                            break
                        premises.extend(got)
                    else:
                        because = tuple(sorted(set(premises), key=_order))
                        for target in rule.then:
                            if target in kb.states:
                                where = side if kb.states[target].sided else None
                            else:
                                where = side
                            firing = (rule.id, (target, where), because)
                            if firing not in found:
                                found.add(firing)
                                changed = True
                                if target in kb.states:
                                    states.add((target, where))
        return sorted(found, key=lambda f: (f[0], _order(f[1]), [_order(k) for k in f[2]]))


def reference_firings(kb: KnowledgeBase, case: Case, thresholds: Mapping[str, float]) -> list[Firing]:
    """Firings for one parsed case (building a fresh evaluator; see :class:`Evaluator`)."""
    return Evaluator(kb).firings(case.findings, case.given, thresholds)


def reference_assess(kb: KnowledgeBase, case: Case, thresholds: Mapping[str, float] | None = None,
                     evaluator: Evaluator | None = None) -> Any:
    """A :class:`hipkb.infer.Result` built from the reference firings."""
    from hipkb.infer import build_result, resolve_case

    parsed, merged = resolve_case(kb, case, thresholds)
    ev = evaluator or Evaluator(kb)
    return build_result(kb, parsed, merged, ev.firings(parsed.findings, parsed.given, merged))


# --------------------------------------------------------------------------
# Cases


def _degrees(rng: random.Random, low: float, high: float, anchors: list[float]) -> float:
    """A value in [low, high], often just around a threshold."""
    roll = rng.random()
    if anchors and roll < 0.6:
        base = rng.choice(anchors)
        value = base + rng.choice([-15, -5, -1, -0.5, 0, 0, 0.5, 1, 5, 15])
    elif roll < 0.7:
        value = rng.choice([low, high])
    else:
        value = rng.uniform(low, high)
    value = min(max(value, low), high)
    return round(value, 1) if rng.random() < 0.5 else float(round(value))


def _sided_bool(rng: random.Random) -> Any:
    return rng.choice([
        True, False, "left", "right", ["left"], ["right", "left"],
        {"left": True, "right": False}, {"left": False}, {"right": True}, {"left": True, "right": True},
    ])


def generate_cases(kb: KnowledgeBase, n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` valid case mappings over every finding and side of ``kb`` (seeded).

    Numbers cluster around thresholds (below, equal, above), booleans take
    every accepted form, some cases state states directly (``given``) and
    some override thresholds.
    """
    rng = random.Random(seed)
    defaults = kb.default_thresholds()
    anchors: dict[str, list[float]] = {f: [] for f in kb.findings}
    for rule in kb.inference_rules:
        for cond in _flat(rule.when):
            if cond.threshold in defaults and cond.ref in anchors:
                anchors[cond.ref].append(defaults[cond.threshold])
    finding_ids = list(kb.findings)
    state_ids = list(kb.states)
    cases = []
    for i in range(n):
        findings: dict[str, Any] = {}
        density = rng.choice([0.15, 0.35, 0.6, 0.9])
        for fid in finding_ids:
            if rng.random() > density:
                continue
            f = kb.findings[fid]
            if f.type == "degrees":
                low, high = f.range or (0.0, 180.0)
                if f.sided:
                    sides = rng.choice([("left",), ("right",), ("left", "right"), ("left", "right")])
                    findings[fid] = {s: _degrees(rng, low, high, anchors[fid]) for s in sides}
                else:
                    findings[fid] = _degrees(rng, low, high, anchors[fid])
            else:
                findings[fid] = _sided_bool(rng) if f.sided else rng.choice([True, False])
        if rng.random() < 0.2:
            for sid in rng.sample(state_ids, rng.choice([1, 1, 2])):
                findings[sid] = rng.choice(["left", "right", True]) if kb.states[sid].sided else True
        case: dict[str, Any] = {"subject": f"gen-{seed}-{i:05d}", "findings": findings}
        if rng.random() < 0.25:
            overrides = {}
            for tid in rng.sample(list(defaults), rng.choice([1, 2])):
                finding = kb.findings.get(tid)
                low, high = finding.range if finding is not None and finding.range else (0.0, 180.0)
                overrides[tid] = float(min(max(defaults[tid] + rng.choice([-10, -5, -2, 0, 3, 8]), low), high))
            case["thresholds"] = overrides
        cases.append(case)
    return cases


def _flat(conditions: Iterable[Condition]) -> Iterable[Condition]:
    for c in conditions:
        yield from (c.options if c.kind == "any" else (c,))
