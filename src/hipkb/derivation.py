"""Graphs of reasoning: what followed from what in one case, the pelvic chain, and the KB's model.

:func:`derivation_graph` turns a :class:`~hipkb.result.Result` into a
networkx ``DiGraph`` whose edges run premise → conclusion, labelled with the
rule that made the step. :func:`focus_graph` keeps one item and everything
it rests on (its ancestors). :func:`chain_graph` is the article's causal
chain alone (pelvis → inlet → outlet → acetabulum → femur glide → IR), with
where each side of this case stands on every step. :func:`model_graph`
draws the knowledge base itself: findings and states joined by causal links
and rules, and the recommendations each state calls for.

Node ids read ``kind:id/side``: ``finding:supine_hip_ir/left``,
``state:ir_limited/left``, ``rec:arm_bar/left``, ``assumption:pelvis_forward/left``,
``chain:inlet_not_closing/left`` (no ``/side`` for what belongs to no side;
never a side in :func:`model_graph`). Nodes and edges are inserted in a
fixed order, so the same result always gives the same graph, and the same
DOT, Mermaid and JSON. networkx is imported only when a graph is built.

>>> import hipkb
>>> result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}}})
>>> g = derivation_graph(result)
>>> list(g.predecessors("state:ir_limited/left"))
['finding:supine_hip_ir/left']
>>> g.edges["finding:supine_hip_ir/left", "state:ir_limited/left"]["rule"]
'ir_measured_limited'
>>> sorted(focus_graph(g, "rec:arm_bar/left"))
['finding:supine_hip_ir/left', 'rec:arm_bar/left', 'state:ir_limited/left']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from .errors import ExplainError
from .model import SIDES, Key

if TYPE_CHECKING:
    import networkx  # type: ignore[import-untyped]  # networkx ships no type hints

    from .model import Condition, KBModel
    from .result import Justification, Result

__all__ = [
    "PREFIX",
    "CHAIN_START",
    "CHAIN_END",
    "node_id",
    "derivation_graph",
    "focus_graph",
    "chain_states",
    "chain_graph",
    "model_graph",
]

#: Node id prefix per kind of item.
PREFIX: dict[str, str] = {
    "finding": "finding",
    "state": "state",
    "recommendation": "rec",
    "assumption": "assumption",
    "chain": "chain",
}
#: The article's pelvic chain runs from this state to :data:`CHAIN_END` along causal links (stable ids).
CHAIN_START = "pelvis_not_internally_rotating"
CHAIN_END = "ir_limited"


def node_id(kind: str, item: str, side: str | None = None) -> str:
    """The graph node id of an item: ``node_id("state", "ir_limited", "left")``.

    >>> node_id("recommendation", "arm_bar", "left")
    'rec:arm_bar/left'
    >>> node_id("finding", "rib_cage_side_bend")
    'finding:rib_cage_side_bend'
    """
    base = f"{PREFIX[kind]}:{item}"
    return base if side is None else f"{base}/{side}"


def _side_rank(side: str | None) -> int:
    return SIDES.index(side) if side in SIDES else len(SIDES)


def derivation_graph(result: Result) -> networkx.DiGraph:
    """The derivation graph of a result: entered findings → states → recommendations.

    Node attributes: ``kind`` (finding, assumption, state, recommendation),
    ``id``, ``side``, ``label``, ``status`` (``entered`` for a finding with
    a value, ``not recorded`` for one whose absence a rule read,
    ``assumed`` for an assumption, the conclusion's status,
    ``recommended``, or ``dropped`` for a state left out by a
    disagreement), ``evidence``, ``value`` (a finding's entered value),
    ``group`` (a finding's group or a recommendation's kind), ``order`` (an
    exercise's place in this person's list), ``assumptions`` and
    ``borderline`` (``id/side`` strings). A finding appears only when some
    justification rests on it; an assumption (a finding not recorded, taken
    as not observed) only when some step assumes it.

    Edge attributes: ``kind`` (``supports``; ``assumes`` from an assumption;
    ``opposes`` from the state that won a disagreement to the one it
    dropped), ``rule`` (the first rule that made the step, in KB order),
    ``rules`` (every such rule), ``evidence`` (of ``rule``) and, on
    ``opposes`` edges, ``reason``.
    """
    import networkx as nx

    from .model import key_str

    kb = result.kb
    g = nx.DiGraph(kind="case", kb=kb.name, version=kb.version, subject=result.case.subject)
    states = {c.key: c for c in result.conclusions}
    dropped = {c.key: (d, c) for d in result.disagreements for c in d.dropped}
    withdrawn = [just for key in result.withdrawn for just in result.withdrawn[key]]
    every = [j for items in (result.conclusions, result.recommendations) for item in items for j in item.justifications]
    every += withdrawn

    # Findings first, in KB order then side order, so they sit together; then assumptions.
    used: set[Key] = set()
    assumed: set[Key] = set()
    for just in every:
        used.update(k for k in (*just.because, *just.recorded_false, *just.not_recorded) if k[0] in kb.findings)
        assumed.update(k for k in just.assumptions if k[0] in kb.findings)
    order = kb.position("findings")

    def by_kb_order(keys: Iterable[Key]) -> list[Key]:
        return sorted(keys, key=lambda k: (order[k[0]], _side_rank(k[1])))

    for key in by_kb_order(used):
        finding = kb.findings[key[0]]
        value = result.case.findings.get(key)
        g.add_node(
            node_id("finding", *key), kind="finding", id=key[0], side=key[1], label=finding.label,
            status="entered" if value is not None else "not recorded", evidence=None, value=value,
            group=finding.group, order=None, assumptions=(), borderline=(),
        )
    for key in by_kb_order(assumed):
        finding = kb.findings[key[0]]
        g.add_node(
            node_id("assumption", *key), kind="assumption", id=key[0], side=key[1], label=finding.label,
            status="assumed", evidence=None, value=None, group=finding.group, order=None, assumptions=(), borderline=(),
        )
    for c in result.conclusions:
        g.add_node(
            node_id("state", c.id, c.side), kind="state", id=c.id, side=c.side, label=c.label,
            status=c.status, evidence=c.evidence, value=None, group=None, order=None,
            assumptions=tuple(key_str(k) for k in c.assumptions),
            borderline=tuple(key_str(k) for k in c.borderline),
        )
    for r in result.recommendations:
        g.add_node(
            node_id("recommendation", r.id, r.side), kind="recommendation", id=r.id, side=r.side, label=r.label,
            status="recommended", evidence=r.evidence, value=None, group=r.kind, order=r.order,
            assumptions=tuple(key_str(k) for k in r.assumptions),
            borderline=tuple(key_str(k) for k in r.borderline),
        )
    for key, (disagreement, c) in dropped.items():
        g.add_node(
            node_id("state", *key), kind="state", id=c.id, side=c.side, label=c.label,
            status="dropped", evidence=c.evidence, value=None, group=None, order=None,
            assumptions=tuple(key_str(k) for k in c.assumptions), borderline=tuple(key_str(k) for k in c.borderline),
            dropped_status=c.status, reason=disagreement.reason,
        )

    def premise_node(key: Key) -> str | None:
        if key[0] in kb.findings:
            return node_id("finding", *key)
        if key in states or key in dropped:
            return node_id("state", *key)
        return None  # rested on something dropped in the same round: nothing to draw

    def add(source: str, target: str, kind: str, just: Justification) -> None:
        if g.has_edge(source, target):
            data = g.edges[source, target]
            if just.rule not in data["rules"]:
                data["rules"] = data["rules"] + (just.rule,)
        else:
            g.add_edge(source, target, kind=kind, rule=just.rule, rules=(just.rule,), evidence=just.evidence)

    def add_support(target: str, justs: Iterable[Justification]) -> None:
        for just in justs:
            if just.rule is None:
                continue  # stated in the case: no premise
            for key in (*just.because, *just.recorded_false, *just.not_recorded):
                source = premise_node(key)
                if source is not None:
                    add(source, target, "supports", just)
            for key in just.assumptions:
                if key[0] in kb.findings:
                    add(node_id("assumption", *key), target, "assumes", just)

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
    return _subgraph(graph, keep, focus=list(nodes))


def _subgraph(graph: networkx.DiGraph, keep: set[str], **meta: Any) -> networkx.DiGraph:
    import networkx as nx

    out = nx.DiGraph(**graph.graph)
    out.graph.update(meta)
    for node, data in graph.nodes(data=True):
        if node in keep:
            out.add_node(node, **data)
    for a, b, data in graph.edges(data=True):
        if a in keep and b in keep:
            out.add_edge(a, b, **data)
    return out


# --------------------------------------------------------------------------
# The pelvic chain


def chain_states(kb: KBModel) -> tuple[str, ...]:
    """The states of the article's pelvic chain, in order, from the KB's concluding causal links.

    >>> import hipkb
    >>> chain_states(hipkb.load_kb())  # doctest: +NORMALIZE_WHITESPACE
    ('pelvis_not_internally_rotating', 'inlet_not_closing', 'outlet_not_opening',
     'acetabulum_not_anteverted', 'femur_glide_space_lacking', 'ir_limited')
    """
    following: dict[str, list[str]] = {}
    for link in kb.links.values():
        if link.use == "conclude":
            following.setdefault(link.cause, []).append(link.effect)
    # breadth first from the start: the shortest chain, ties in KB order
    paths: dict[str, tuple[str, ...]] = {CHAIN_START: (CHAIN_START,)}
    frontier = [CHAIN_START] if CHAIN_START in kb.states else []
    while frontier and CHAIN_END not in paths:
        nxt = []
        for state in frontier:
            for effect in following.get(state, ()):
                if effect not in paths:
                    paths[effect] = paths[state] + (effect,)
                    nxt.append(effect)
        frontier = nxt
    if CHAIN_END not in paths or CHAIN_END not in kb.states:
        raise ExplainError(
            f"this knowledge base has no causal chain from {CHAIN_START!r} to {CHAIN_END!r}: there is no chain to draw"
        )
    return paths[CHAIN_END]


def chain_graph(result: Result) -> networkx.DiGraph:
    """The pelvic chain alone, once per side, with where this case stands on each step.

    One node per step and side (``chain:STATE/SIDE``, STATE the chain's
    deficit state) with ``standing``: ``holds`` (the deficit holds here),
    ``opposite`` (its opposite holds: the pelvis rotates, IR is within
    range), ``dropped`` (it followed but a disagreement dropped it) or
    ``open`` (nothing in this case says). ``shown`` names the state that
    stands (the deficit or its opposite), with its ``label``, ``status``,
    ``evidence``, ``assumptions``, ``borderline`` and, for a dropped or
    outweighing step, ``disagreement`` (the reason). The entered findings
    that bear directly on a step are drawn too (kind ``finding``). Sides:
    those the case says anything about (both when it says nothing).

    >>> import hipkb
    >>> g = chain_graph(hipkb.assess("examples/demo-01.yaml"))
    >>> g.nodes["chain:inlet_not_closing/left"]["standing"], g.nodes["chain:inlet_not_closing/right"]["standing"]
    ('holds', 'open')
    >>> g.nodes["chain:ir_limited/right"]["shown"]
    'ir_within_range'
    """
    import networkx as nx

    from .model import key_str

    kb = result.kb
    steps = chain_states(kb)
    derivation = derivation_graph(result)
    states = {c.key: c for c in result.conclusions}
    dropped = {c.key: (d, c) for d in result.disagreements for c in d.dropped}
    kept = {d.kept.key: d for d in result.disagreements if d.kept is not None}
    said = {k[1] for k in result.case.findings} | {k[1] for k in result.case.given} | {c.side for c in result.conclusions}
    sides = [s for s in SIDES if s in said] or list(SIDES)
    g = nx.DiGraph(kind="chain", kb=kb.name, version=kb.version, subject=result.case.subject, steps=steps)
    findings: list[tuple[str, str]] = []
    for side in sides:
        previous = None
        for index, step in enumerate(steps):
            state = kb.states[step]
            opposite = state.opposite if state.opposite in kb.states else None
            attrs: dict[str, Any] = {"standing": "open", "shown": step, "status": None, "evidence": None,
                                     "assumptions": (), "borderline": (), "disagreement": None}
            if (step, side) in states:
                c = states[(step, side)]
                attrs.update(standing="holds", status=c.status, evidence=c.evidence)
            elif opposite is not None and (opposite, side) in states:
                c = states[(opposite, side)]
                attrs.update(standing="opposite", shown=opposite, status=c.status, evidence=c.evidence)
            elif (step, side) in dropped:
                d, c = dropped[(step, side)]
                attrs.update(standing="dropped", status=c.status, evidence=c.evidence, disagreement=d.reason)
            else:
                c = None
            if c is not None:
                attrs.update(
                    assumptions=tuple(key_str(k) for k in c.assumptions),
                    borderline=tuple(key_str(k) for k in c.borderline),
                )
                if c.key in kept:
                    attrs["disagreement"] = kept[c.key].reason
            name = node_id("chain", step, side)
            g.add_node(
                name, kind="chain", id=step, side=side, step=index, label=kb.label(attrs["shown"]), **attrs,
            )
            shown_node = node_id("state", attrs["shown"], side)
            if shown_node in derivation:
                for pred in derivation.predecessors(shown_node):
                    data = derivation.nodes[pred]
                    if data["kind"] == "finding" and data["value"] is not None:
                        findings.append((pred, name))
            if previous is not None:
                link = next(
                    (l for l in kb.links.values() if l.cause == steps[index - 1] and l.effect == step and l.use == "conclude"),
                    None,
                )
                g.add_edge(
                    previous, name, kind="link", rule=link.id if link else None,
                    rules=(link.id,) if link else (), evidence=link.evidence if link else None,
                )
            previous = name
    for pred, target in findings:
        if pred not in g:
            g.add_node(pred, **derivation.nodes[pred])
        g.add_edge(pred, target, kind="supports", rule=None, rules=(), evidence=None)
    return g


# --------------------------------------------------------------------------
# The KB's model


def model_graph(kb: KBModel) -> networkx.DiGraph:
    """The KB's causal model: findings and states joined by links and rules, and the calls for recommendations.

    Nodes have ``kind``, ``id``, ``side`` (always None), ``label``,
    ``group`` (a finding's group, a recommendation's kind), ``order`` and
    ``sided``. Edge ``kind`` is ``conclude`` or ``explain`` (a causal link),
    ``rule`` (a diagnostic rule), ``call`` (a recommendation's call); a
    negative condition gives an edge of kind ``unless`` (``not F``) or
    ``absent`` (``F`` not measured). ``rule`` names the first link or rule,
    ``rules`` all of them.

    >>> import hipkb
    >>> g = model_graph(hipkb.load_kb())
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
        involved |= {c.ref for c in _flat(rule.when) if c.ref is not None and c.kind != "unassessed"}
    for finding in kb.findings.values():
        if finding.id in involved:
            g.add_node(
                node_id("finding", finding.id), kind="finding", id=finding.id, side=None, label=finding.label,
                group=finding.group, order=None, sided=finding.sided,
            )
    for state in kb.states.values():
        g.add_node(
            node_id("state", state.id), kind="state", id=state.id, side=None, label=state.label,
            group=None, order=None, sided=state.sided,
        )
    for rec in kb.recommendations.values():
        g.add_node(
            node_id("recommendation", rec.id), kind="recommendation", id=rec.id, side=None, label=rec.label,
            group=rec.kind, order=rec.order, sided=True,
        )

    def ref_node(ref: str) -> str | None:
        kind = kb.kind_of(ref)
        return None if kind is None else node_id(kind, ref)

    def add(source: str | None, target: str | None, kind: str, rule_id: str, evidence: str) -> None:
        if source is None or target is None:
            return
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
            if cond.ref is None or cond.kind == "unassessed":
                continue
            kind = {"not": "unless", "absent": "absent"}.get(cond.kind, edge_kind)
            for target in rule.then:
                add(ref_node(cond.ref), ref_node(target), kind, rule.id, rule.evidence)
    return g


def _flat(conditions: Iterable[Condition]) -> Iterable[Condition]:
    for c in conditions:
        yield from (c.options if c.kind == "any" else (c,))
