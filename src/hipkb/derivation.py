"""Graphs of reasoning: what followed from what in one case, and the KB's model.

:func:`derivation_graph` turns a :class:`~hipkb.infer.Result` into a
networkx ``DiGraph`` whose edges run premise → conclusion, labelled with the
rule that made the step. :func:`focus_graph` keeps one item and everything
it rests on (its ancestors). :func:`model_graph` draws the knowledge base
itself: findings and states joined by causal links and rules, and the
recommendations each state calls for.

Node ids read ``kind:id/side``: ``finding:supine_hip_ir/left``,
``state:ir_limited/left``, ``rec:arm_bar/left`` (no ``/side`` for what
belongs to no side; never a side in :func:`model_graph`). Nodes and edges
are inserted in a fixed order, so the same result always gives the same
graph, and the same DOT, Mermaid and JSON.

>>> from hipkb.kb import load_kb
>>> result = load_kb().assess({"findings": {"supine_hip_ir": {"left": 12}}})
>>> g = derivation_graph(result)
>>> list(g.predecessors("state:ir_limited/left"))
['finding:supine_hip_ir/left']
>>> g.edges["finding:supine_hip_ir/left", "state:ir_limited/left"]["rule"]
'ir_measured_limited'
>>> sorted(focus_graph(g, "rec:cable_crossover_step_up/left"))
['finding:supine_hip_ir/left', 'rec:cable_crossover_step_up/left', 'state:ir_limited/left']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from .case import Key
from .model import SIDES

if TYPE_CHECKING:
    import networkx

    from .result import Justification, Result
    from .model import KBModel as KnowledgeBase
    from .model import Condition

__all__ = ["node_id", "derivation_graph", "focus_graph", "model_graph", "PREFIX"]

#: Node id prefix per kind of item.
PREFIX: dict[str, str] = {"finding": "finding", "state": "state", "recommendation": "rec"}


def node_id(kind: str, item: str, side: str | None = None) -> str:
    """The graph node id of an item: ``node_id("state", "ir_limited", "left")``.

    >>> node_id("recommendation", "arm_bar", "left")
    'rec:arm_bar/left'
    >>> node_id("finding", "rib_cage_side_bend")
    'finding:rib_cage_side_bend'
    """
    base = f"{PREFIX[kind]}:{item}"
    return base if side is None else f"{base}/{side}"


def derivation_graph(result: Result) -> networkx.DiGraph:
    """The derivation graph of a result: entered findings → states → recommendations.

    Node attributes: ``kind`` (finding, state, recommendation), ``id``,
    ``side``, ``label``, ``status`` (``entered`` for findings, the
    conclusion's status, ``recommended``, or ``dropped`` for a state left
    out by a disagreement), ``evidence``, ``value`` (a finding's entered
    value), ``group`` (a finding's group or a recommendation's kind) and
    ``order`` (an exercise's place in the progression). Only findings some
    justification rests on appear.

    Edge attributes: ``kind`` (``supports``, or ``opposes`` from the state
    that won a disagreement to the one it dropped), ``rule`` (the first rule
    that made the step, in KB order), ``rules`` (every such rule),
    ``evidence`` (of ``rule``) and, on ``opposes`` edges, ``reason``.
    """
    import networkx as nx

    kb = result.kb
    g = nx.DiGraph(kind="case", kb=kb.name, version=kb.version, subject=result.case.subject)
    states = {c.key: c for c in result.conclusions}
    dropped = {c.key: (d, c) for d in result.disagreements for c in d.dropped}

    # Findings first, in KB order then side order, so they sit together.
    used: set[Key] = set()
    for items in (result.conclusions, result.recommendations):
        for item in items:
            for just in item.justifications:
                used.update(k for k in just.because if k[0] in kb.findings)
    for key in result.withdrawn:
        for just in result.withdrawn[key]:
            used.update(k for k in just.because if k[0] in kb.findings)
    finding_index = {fid: i for i, fid in enumerate(kb.findings)}
    for key in sorted(used, key=lambda k: (finding_index[k[0]], _side_rank(k[1]))):
        finding = kb.findings[key[0]]
        g.add_node(
            node_id("finding", *key), kind="finding", id=key[0], side=key[1], label=finding.label,
            status="entered", evidence=None, value=result.case.findings.get(key), group=finding.group, order=None,
        )
    for c in result.conclusions:
        g.add_node(
            node_id("state", c.id, c.side), kind="state", id=c.id, side=c.side, label=c.label,
            status=c.status, evidence=c.evidence, value=None, group=None, order=None,
        )
    for r in result.recommendations:
        g.add_node(
            node_id("recommendation", r.id, r.side), kind="recommendation", id=r.id, side=r.side, label=r.label,
            status="recommended", evidence=r.evidence, value=None, group=r.kind, order=r.order,
        )
    for key, (disagreement, c) in dropped.items():
        g.add_node(
            node_id("state", *key), kind="state", id=c.id, side=c.side, label=c.label,
            status="dropped", evidence=c.evidence, value=None, group=None, order=None,
            dropped_status=c.status, reason=disagreement.reason,
        )

    def premise_node(key: Key) -> str | None:
        if key[0] in kb.findings:
            return node_id("finding", *key)
        if key in states or key in dropped:
            return node_id("state", *key)
        return None  # rested on something dropped in the same round: nothing to draw

    def add_support(target: str, justs: Iterable[Justification]) -> None:
        for just in justs:
            if just.rule is None:
                continue  # stated in the case: no premise
            for key in just.because:
                source = premise_node(key)
                if source is None:
                    continue
                if g.has_edge(source, target):
                    data = g.edges[source, target]
                    if just.rule not in data["rules"]:
                        data["rules"] = data["rules"] + (just.rule,)
                else:
                    g.add_edge(source, target, kind="supports", rule=just.rule, rules=(just.rule,), evidence=just.evidence)

    for c in result.conclusions:
        add_support(node_id("state", c.id, c.side), c.justifications)
    for r in result.recommendations:
        add_support(node_id("recommendation", r.id, r.side), r.justifications)
    for key in dropped:
        add_support(node_id("state", *key), result.withdrawn.get(key, ()))
    for d in result.disagreements:
        if d.kept is None:
            continue
        for c in d.dropped:
            g.add_edge(
                node_id("state", d.kept.id, d.kept.side), node_id("state", c.id, c.side),
                kind="opposes", rule=None, rules=(), evidence=None, reason=d.reason,
            )
    return g


def focus_graph(graph: networkx.DiGraph, *nodes: str) -> networkx.DiGraph:
    """The part of ``graph`` that ``nodes`` rest on: them and all their ancestors.

    Node and edge order follow ``graph``, so output stays deterministic.
    """
    import networkx as nx

    keep: set[str] = set()
    for node in nodes:
        keep.add(node)
        keep |= nx.ancestors(graph, node)
    out = nx.DiGraph(**graph.graph)
    out.graph["focus"] = list(nodes)
    for node, data in graph.nodes(data=True):
        if node in keep:
            out.add_node(node, **data)
    for a, b, data in graph.edges(data=True):
        if a in keep and b in keep:
            out.add_edge(a, b, **data)
    return out


def model_graph(kb: KnowledgeBase) -> networkx.DiGraph:
    """The KB's causal model: findings and states joined by links and rules, and the calls for recommendations.

    Nodes have ``kind``, ``id``, ``side`` (always None), ``label``,
    ``group`` (a finding's group, a recommendation's kind), ``order`` and
    ``sided``. Edge ``kind`` is ``conclude`` or ``explain`` (a causal link),
    ``rule`` (a diagnostic rule), ``call`` (a recommendation's call); a
    negative condition gives an edge of kind ``unless`` (``not F``) or
    ``absent`` (``F`` not measured). ``rule`` names the first link or rule,
    ``rules`` all of them.

    >>> from hipkb.kb import load_kb
    >>> g = model_graph(load_kb())
    >>> g.edges["state:inlet_not_closing", "state:outlet_not_opening"]["rule"]
    'inlet_closing_opens_outlet'
    >>> g.edges["finding:pelvis_turned_away", "state:posterior_capsule_closed"]["kind"]
    'unless'
    """
    import networkx as nx

    g = nx.DiGraph(kind="model", kb=kb.name, version=kb.version)
    involved: set[str] = set()
    for link in kb.links.values():
        involved |= {link.cause, link.effect}
    for rule in kb.inference_rules:
        involved |= {c.ref for c in _flat(rule.when) if c.ref is not None}
    for state in kb.states.values():
        g.add_node(
            node_id("state", state.id), kind="state", id=state.id, side=None, label=state.label,
            group=None, order=None, sided=state.sided,
        )
    for finding in kb.findings.values():
        if finding.id in involved:
            g.add_node(
                node_id("finding", finding.id), kind="finding", id=finding.id, side=None, label=finding.label,
                group=finding.group, order=None, sided=finding.sided,
            )
    for rec in kb.recommendations.values():
        g.add_node(
            node_id("recommendation", rec.id), kind="recommendation", id=rec.id, side=None, label=rec.label,
            group=rec.kind, order=rec.order, sided=True,
        )

    def ref_node(ref: str) -> str:
        kind = kb.kind_of(ref)
        assert kind is not None  # the loader resolved every reference
        return node_id(kind, ref)

    def add(source: str, target: str, kind: str, rule_id: str, evidence: str) -> None:
        if g.has_edge(source, target):
            data = g.edges[source, target]
            if rule_id not in data["rules"]:
                data["rules"] = data["rules"] + (rule_id,)
            return
        g.add_edge(source, target, kind=kind, rule=rule_id, rules=(rule_id,), evidence=evidence)

    for link in kb.links.values():
        add(ref_node(link.cause), ref_node(link.effect), link.use, link.id, link.evidence)
    for rule in kb.inference_rules:
        if rule.origin == "link":
            continue  # drawn from kb.links above
        edge_kind = "call" if rule.origin == "call" else "rule"
        for cond in _flat(rule.when):
            kind = {"not": "unless", "absent": "absent"}.get(cond.kind, edge_kind)
            for target in rule.then:
                add(ref_node(cond.ref), ref_node(target), kind, rule.id, rule.evidence)  # type: ignore[arg-type]
    return g


def _flat(conditions: Iterable[Condition]) -> Iterable[Condition]:
    for c in conditions:
        yield from (c.options if c.kind == "any" else (c,))


def _side_rank(side: str | None) -> int:
    return SIDES.index(side) if side in SIDES else len(SIDES)
