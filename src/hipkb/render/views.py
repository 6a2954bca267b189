"""What a drawing shows: the views of a case and of the KB, ready for DOT, Mermaid or HTML.

A :class:`View` is a small, writer-neutral description of one picture:
nodes (a look, a title, small notes, or rows for a box that lists
several items), edges (a look, an optional label), the side clusters in
their fixed order (left, then right), the legend's entries and the
layout direction chosen to fit a 16:9 slide. The builders here turn the
networkx graphs of :mod:`hipkb.derivation` into views:

- :func:`case_view`: a case's reasoning. ``detail="brief"`` (the default,
  for slides) lists the recommendations of one kind and side in one box,
  merges what was not recorded, and draws only the direct steps (an arrow
  implied by a longer path is left out); ``detail="full"`` draws every
  item and every step with its ids and rule ids.
- :func:`focus_view`: one item and the path that led to it.
- :func:`chain_view`: the article's pelvic chain alone, per side.
- :func:`model_view`: the KB in layers, findings → states → recommendations.

Text here is raw; every writer passes it through :func:`hipkb.sanitize.clean`
and its own escaping.

>>> import hipkb
>>> view = case_view(hipkb.assess("examples/demo-01.yaml"))
>>> [label for _, label in view.clusters]
['Left hip', 'Right hip']
>>> next(n.rows for n in view.nodes if n.title == "Exercises, in this order")
('Start on the ground (principle)', '1. Arm bar', '2. Front foot elevated split squat', '3. Cable crossover step-up')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal, Mapping

from ..errors import ExplainError, RenderError, suggest
from ..model import SIDES, Side
from ..record import field, record, replace
from .style import EDGE_LOOKS, GROUP_TITLES, KIND_TITLES, NODE_LOOKS, status_words

if TYPE_CHECKING:
    import networkx  # type: ignore[import-untyped]  # networkx ships no type hints

    from ..model import KBModel
    from ..result import Result

__all__ = ["Detail", "VNode", "VEdge", "View", "case_view", "focus_view", "chain_view", "model_view", "DETAILS"]

Detail = Literal["brief", "full"]
DETAILS: tuple[str, ...] = ("brief", "full")
_REFERRAL = "refer_for_fai_evaluation"


@record
class VNode:
    """One box: ``title`` (bold when ``rows`` follow), small ``notes``, list ``rows``."""

    name: str
    look: str
    title: str
    notes: tuple[str, ...] = ()
    rows: tuple[str, ...] = ()
    #: per row, the look whose colour marks it (empty: none)
    row_looks: tuple[str, ...] = ()
    side: str | None = None
    tooltip: str = ""
    #: "min" or "max": keep the node in the first or last layer
    rank: str | None = None


@record
class VEdge:
    tail: str
    head: str
    look: str
    label: tuple[str, ...] = ()
    tooltip: str = ""
    constraint: bool = True


@record
class View:
    """A picture ready to write: nodes, edges, side clusters, legend, direction."""

    kind: str
    title: str
    nodes: tuple[VNode, ...]
    edges: tuple[VEdge, ...]
    #: (side, label) of each cluster, in drawing order
    clusters: tuple[tuple[str, str], ...] = ()
    #: node and edge looks shown in the legend, in legend order (empty: no legend)
    legend: tuple[str, ...] = ()
    legend_notes: tuple[str, ...] = ()
    rankdir: str = "TB"
    meta: Mapping[str, Any] = field(default_factory=dict)
    #: the legend on a rank of its own at the top (top to bottom only)
    legend_top: bool = False


# --------------------------------------------------------------------------
# Words


def _number(value: float) -> str:
    return f"{value:g}"


def _degrees(value: float) -> str:
    return f"{_number(value)}°"


def _value_words(value: Any, status: str | None = None) -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "observed" if value else "not observed"
    if isinstance(value, (int, float)):
        return _degrees(value)
    return str(value)


def _side_words(side: str | None) -> str:
    return side if side else "no side"


def _measurement_words(result: Result, item_id: str, side: Side) -> list[str]:
    c = result.conclusion(item_id, side) if item_id in result.kb.states else None
    m = c.measurement if c is not None else None
    if m is None:
        return []
    if m.threshold_id and m.threshold_id != m.finding:
        text = f"{_degrees(m.value)} lower than the other side (threshold {_degrees(m.threshold)})"
    elif m.margin < 0:
        text = f"{_degrees(m.value)}, below {_degrees(m.threshold)}"
    else:
        text = f"{_degrees(m.value)}, at least {_degrees(m.threshold)}"
    lines = [text]
    if m.borderline:
        mdc = f" of {_degrees(m.mdc)}" if m.mdc is not None else ""
        lines.append(f"borderline: within the measurement error{mdc}, retest")
    return lines


def _rec_title(kind: str, label: str, order: int | None) -> str:
    prefix = KIND_TITLES.get(kind, kind.capitalize())
    return f"{prefix} {order}: {label}" if order else f"{prefix}: {label}"


def _key_label(kb: KBModel, key: str, here: str | None = None) -> str:
    item, _, side = key.partition("/")
    return kb.label(item) + (f" ({side})" if side and side != here else "")


def _ruled(rules: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(r for r in rules if r)


# --------------------------------------------------------------------------
# Shared building blocks


@record(frozen=False)
class _Builder:
    """Collects nodes and merged edges in insertion order."""

    nodes: dict[str, VNode] = field(default_factory=dict)
    edges: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def node(self, node: VNode) -> None:
        self.nodes.setdefault(node.name, node)

    def edge(self, tail: str, head: str, kind: str, rules: Iterable[str | None], evidence: Iterable[str | None],
             **extra: Any) -> None:
        if tail == head:
            return
        data = self.edges.setdefault((tail, head), {"kind": kind, "rules": (), "evidence": (), **extra})
        if data["kind"] != kind and kind == "opposes":
            data["kind"] = kind
        data["rules"] = data["rules"] + tuple(r for r in rules if r and r not in data["rules"])
        data["evidence"] = data["evidence"] + tuple(evidence)


def _reduce(edges: dict[tuple[str, str], dict[str, Any]], keep: Iterable[str] = ("opposes",)) -> set[tuple[str, str]]:
    """The edges a longer path already implies (transitive reduction), except edges of the ``keep`` kinds.

    Reachability is kept as one integer bit set per node, filled in reverse
    topological order: linear in the edges times a machine word per 64 nodes,
    so a chain of thousands of steps costs milliseconds, not a quadratic table
    of sets. A graph with a cycle is left as it is.
    """
    kept = [k for k, d in edges.items() if d["kind"] not in keep]
    index: dict[str, int] = {}
    for a, b in kept:
        index.setdefault(a, len(index))
        index.setdefault(b, len(index))
    children: list[list[int]] = [[] for _ in index]
    indegree = [0] * len(index)
    for a, b in kept:
        children[index[a]].append(index[b])
        indegree[index[b]] += 1
    order = [n for n in range(len(index)) if indegree[n] == 0]
    for n in order:  # Kahn's algorithm; the list grows as it is read
        for c in children[n]:
            indegree[c] -= 1
            if indegree[c] == 0:
                order.append(c)
    if len(order) < len(index):
        return set()
    below = [0] * len(index)  # bit c set: c can be reached in one step or more
    for n in reversed(order):
        bits = 0
        for c in children[n]:
            bits |= (1 << c) | below[c]
        below[n] = bits
    implied: set[tuple[int, int]] = set()
    for n in range(len(index)):
        further = 0
        for c in children[n]:
            further |= below[c]  # reached through another step first
        implied |= {(n, c) for c in children[n] if further >> c & 1}
    return {(a, b) for a, b in kept if (index[a], index[b]) in implied}


def _edge_look(kind: str, evidence: tuple[str | None, ...]) -> str:
    if kind == "opposes":
        return "edge:opposes"
    if kind == "assumes":
        return "edge:assumes"
    if kind in ("link", "reading", "outweighed"):
        return f"edge:{kind}"
    if evidence and all(e == "interpretation" for e in evidence):
        return "edge:interpretation"
    return "edge:supports"


def _plain_tooltip(node: VNode) -> str:
    """What hovering over a box says in a brief view: its words, no ids."""
    parts = [node.title, *node.notes[:1]]
    if node.side:
        parts.append(f"{node.side} hip")
    return " · ".join(parts)


def _finish(
    kind: str, title: str, builder: _Builder, *, kb: KBModel, full: bool, drop: set[tuple[str, str]], rule_ids: bool,
    legend: bool, legend_notes: tuple[str, ...] = (), meta: Mapping[str, Any] | None = None,
    edge_look: Callable[[str, tuple[str | None, ...]], str] = _edge_look,
) -> View:
    """The collected nodes and edges as a view: labels, tooltips (ids only in full detail), legend, direction."""
    from .layout import choose_layout

    nodes = tuple(builder.nodes.values())
    if not full:
        nodes = tuple(replace(n, tooltip=_plain_tooltip(n)) for n in nodes)
    edges = []
    for (tail, head), data in builder.edges.items():
        if (tail, head) in drop:
            continue
        look = edge_look(data["kind"], data["evidence"])
        label: tuple[str, ...] = ()
        if data["kind"] == "opposes":
            label = ("outweighs",)
        elif rule_ids:
            label = data["rules"]
        if full:
            tooltip = data.get("reason") or ", ".join(data["rules"])
        else:
            tooltip = data.get("reason") or "; ".join(
                kb.rule_index[r].label if r in kb.rule_index else kb.links[r].label if r in kb.links else r
                for r in data["rules"]
            )
        edges.append(VEdge(tail, head, look, label, tooltip, data.get("constraint", True)))
    sides = [s for s in SIDES if any(n.side == s for n in nodes)]
    clusters = tuple((s, f"{s.capitalize()} hip") for s in sides)
    looks: tuple[str, ...] = ()
    if legend:
        used_nodes = {n.look for n in nodes} | {look for n in nodes for look in n.row_looks}
        used_edges = {e.look for e in edges}
        looks = tuple(k for k in NODE_LOOKS if k in used_nodes) + tuple(k for k in EDGE_LOOKS if k in used_edges)
    view = View(kind, title, nodes, tuple(edges), clusters, looks, legend_notes if legend else (), "TB", dict(meta or {}))
    rankdir, legend_top = choose_layout(view)
    return replace(view, rankdir=rankdir, legend_top=legend_top)


def _check_detail(detail: str) -> None:
    if detail not in DETAILS:
        raise RenderError(f"unknown detail {detail!r}", hint=suggest(detail, DETAILS) or "detail is brief or full")


# --------------------------------------------------------------------------
# A case


def _case_title(result: Result, what: str) -> str:
    subject = result.case.subject
    return f"{subject}: {what}" if subject else f"One case: {what}"


def case_view(result: Result, *, detail: Detail = "brief", rule_ids: bool = False, legend: bool = True) -> View:
    """The reasoning of a case: entered findings → states → recommendations, left hip then right hip."""
    _check_detail(detail)
    from ..derivation import derivation_graph

    return _derivation_view(
        result, derivation_graph(result), kind="case", title=_case_title(result, "from the findings to the recommendations"),
        detail=detail, rule_ids=rule_ids, legend=legend, group_recs=detail == "brief",
    )


def focus_view(
    result: Result, focus: str, side: str | None = None, *, detail: Detail = "brief", rule_ids: bool = False,
    legend: bool = True,
) -> View:
    """One item (on ``side``, or on every side where it holds) and the path that led to it."""
    _check_detail(detail)
    from ..derivation import derivation_graph, focus_graph

    kb = result.kb
    _check_side(side)
    if kb.kind_of(focus) is None:
        pool = [*kb.states, *kb.recommendations, *kb.findings]
        raise ExplainError(
            f"unknown id {focus!r}",
            hint=suggest(focus, pool, aliases=kb.aliases()) or "name a state, recommendation or finding",
        )
    graph = derivation_graph(result)
    targets = [
        n for n, d in graph.nodes(data=True)
        if d["id"] == focus and d["kind"] != "assumption" and (side is None or d["side"] in (side, None))
    ]
    if not targets:
        where = f" on the {side}" if side else ""
        raise ExplainError(f"{focus!r} does not hold{where} in this case: there is no path to draw")
    names = ", ".join(
        kb.label(graph.nodes[t]["id"]) + (f" ({graph.nodes[t]['side']})" if graph.nodes[t]["side"] else "")
        for t in targets
    )
    return _derivation_view(
        result, focus_graph(graph, *targets), kind="focus", title=_case_title(result, f"the path to {names}"),
        detail=detail, rule_ids=rule_ids, legend=legend, group_recs=False,
    )


def _check_side(side: str | None) -> None:
    if side is not None and side not in SIDES:
        raise ExplainError(f"unknown side {side!r}", hint=suggest(str(side), SIDES) or "sides are left and right")


def _rec_sort_key(data: Mapping[str, Any], position: Mapping[str, int]) -> tuple[int, int, int]:
    first = 0 if data["id"] == _REFERRAL else 1
    return (first, data.get("order") or 0, position.get(data["id"], 0))


def _derivation_view(
    result: Result, graph: networkx.DiGraph, *, kind: str, title: str, detail: str, rule_ids: bool, legend: bool,
    group_recs: bool,
) -> View:
    """A view of a derivation graph; ``group_recs`` (the whole case, brief) also boxes the chain and the lists."""
    kb = result.kb
    full = detail == "full"
    rule_ids = rule_ids or full
    position = kb.position("recommendations")
    builder = _Builder()
    mapping: dict[str, str] = {}
    boxes: dict[str, list[str]] = {}

    # The pelvic chain's steps on one side share a box (brief case view); IR itself stays out.
    if group_recs:
        for side in (*SIDES, None):
            members = [
                node_id for node_id in (f"state:{s}/{side}" if side else f"state:{s}" for s in _chain(kb)[:-1])
                if node_id in graph and graph.nodes[node_id]["status"] != "dropped"
            ]
            if len(members) >= 2:
                for m in members:
                    mapping[m] = f"chain:{side or 'none'}"
                boxes[f"chain:{side or 'none'}"] = members
    # Recommendations of one kind and side share a box; the principle heads the exercises (brief case view).
    if group_recs:
        for name, data in graph.nodes(data=True):
            if data["kind"] == "recommendation":
                group_kind = "exercise" if data["group"] == "principle" else data["group"]
                group = f"recs:{group_kind}/{data['side'] or 'none'}"
                boxes.setdefault(group, []).append(name)
                mapping[name] = group
    # States that lead nowhere further, read the same way from the same premises, share a box (brief case view).
    if group_recs:
        leaves: dict[tuple[Any, ...], list[str]] = {}
        for name, data in graph.nodes(data=True):
            if data["kind"] != "state" or name in mapping or data["status"] == "dropped":
                continue
            if any(d["kind"] != "opposes" for _, _, d in graph.out_edges(name, data=True)):
                continue
            if any(d["kind"] == "opposes" for _, _, d in graph.in_edges(name, data=True)):
                continue
            premises = tuple(sorted(mapping.get(p, p) for p in graph.predecessors(name)))
            sig = (data["side"], data["status"], premises, tuple(_measurement_words(result, data["id"], data["side"])))
            leaves.setdefault(sig, []).append(name)
        for sig, members in leaves.items():
            if len(members) >= 2:
                group = f"same:{sig[0] or 'none'}:{len(boxes)}"
                boxes[group] = members
                for m in members:
                    mapping[m] = group
    # What was not recorded (assumed, or read as absent) shares a box per side and targets (brief).
    if not full:
        absent = [n for n, d in graph.nodes(data=True)
                  if d["kind"] == "assumption" or (d["kind"] == "finding" and d["value"] is None)]
        targets: dict[tuple[str, str | None], set[str]] = {}
        for name in absent:
            key = (graph.nodes[name]["id"], graph.nodes[name]["side"])
            targets.setdefault(key, set()).update(mapping.get(s, s) for s in graph.successors(name))
        groups: dict[tuple[str | None, tuple[str, ...]], str] = {}
        for name in absent:
            key = (graph.nodes[name]["id"], graph.nodes[name]["side"])
            group = groups.setdefault((key[1], tuple(sorted(targets[key]))), f"missing:{key[1] or 'none'}:{len(groups)}")
            mapping[name] = group
            boxes.setdefault(group, []).append(name)

    for name, data in graph.nodes(data=True):
        target = mapping.get(name, name)
        if target in builder.nodes:
            continue
        if target.startswith("chain:"):
            builder.node(_chain_box(result, graph, target, boxes[target]))
        elif target.startswith("recs:"):
            builder.node(_rec_box(graph, target, boxes[target], position))
        elif target.startswith("same:"):
            builder.node(_same_box(result, graph, target, boxes[target]))
        elif target.startswith("missing:"):
            builder.node(_missing_box(graph, target, boxes[target]))
        else:
            builder.node(_derivation_node(result, name, data, full=full))
    for a, b, data in graph.edges(data=True):
        builder.edge(mapping.get(a, a), mapping.get(b, b), data["kind"], data.get("rules") or (), (data.get("evidence"),),
                     reason=data.get("reason"))
    drop = set() if full else _reduce(builder.edges)
    notes: tuple[str, ...] = ()
    if not full:
        notes = ("an arrow is a direct step; a step that a longer path implies is left out",)
    if any(t.startswith("chain:") for t in builder.nodes):
        notes += ("the pelvic chain's steps share one box: the chain view draws them one by one",)
    return _finish(kind, title, builder, kb=kb, full=full, drop=drop, rule_ids=rule_ids, legend=legend,
                   legend_notes=notes,
                   meta={"graph": graph})


def _chain(kb: KBModel) -> tuple[str, ...]:
    from ..derivation import chain_states

    try:
        return chain_states(kb)
    except ExplainError:
        return ()


def _chain_box(result: Result, graph: networkx.DiGraph, name: str, members: list[str]) -> VNode:
    first = graph.nodes[members[0]]
    rows = tuple(graph.nodes[m]["label"] for m in members)
    looks = tuple(_state_look(graph.nodes[m]["status"]) for m in members)
    notes = []
    measured = _measurement_words(result, first["id"], first["side"])
    if measured:
        notes.append(f"{first['label']}: {status_words(first['status'])}, {measured[0]}")
        notes += measured[1:]
    notes.append("each step leads to the next")
    return VNode(name, "chain:box", "Pelvic chain", tuple(notes), rows, looks, side=first["side"],
                 tooltip=" → ".join(graph.nodes[m]["id"] for m in members))


def _same_box(result: Result, graph: networkx.DiGraph, name: str, members: list[str]) -> VNode:
    first = graph.nodes[members[0]]
    measured = _measurement_words(result, first["id"], first["side"])
    title = status_words(first["status"])
    title = title[:1].upper() + title[1:]
    if measured:
        title += f": {measured[0]}"
    rows = tuple(graph.nodes[m]["label"] for m in members)
    return VNode(name, _state_look(first["status"]), title, tuple(measured[1:]), rows, side=first["side"],
                 tooltip=", ".join(graph.nodes[m]["id"] for m in members))


def _rec_box(graph: networkx.DiGraph, name: str, members: list[str], position: Mapping[str, int]) -> VNode:
    ordered = sorted(members, key=lambda m: _rec_sort_key(graph.nodes[m], position))
    kinds = [graph.nodes[m]["group"] for m in ordered]
    rows = []
    for m in ordered:
        d = graph.nodes[m]
        if d["group"] == "principle":
            rows.append(f"{d['label']} (principle)")
        else:
            rows.append(f"{d['order']}. {d['label']}" if d.get("order") else d["label"])
    main = next((k for k in kinds if k != "principle"), kinds[0])
    looks = tuple(f"rec:{k}" for k in kinds) if len(set(kinds)) > 1 else ()
    first = graph.nodes[ordered[0]]
    return VNode(name, f"rec:{main}", GROUP_TITLES.get(main, main), (), tuple(rows), looks, side=first["side"],
                 tooltip=", ".join(graph.nodes[m]["id"] for m in ordered))


def _missing_box(graph: networkx.DiGraph, name: str, members: list[str]) -> VNode:
    assumed = any(graph.nodes[m]["kind"] == "assumption" for m in members)
    look = "assumption" if assumed else "finding:missing"
    rows = tuple(dict.fromkeys(graph.nodes[m]["label"] for m in members))
    side = graph.nodes[members[0]]["side"]
    tooltip = ", ".join(dict.fromkeys(graph.nodes[m]["id"] for m in members))
    if len(rows) == 1:
        note = "not recorded: taken as not observed" if assumed else "not recorded"
        return VNode(name, look, rows[0], (note,), side=side, tooltip=tooltip)
    head = "Not recorded, taken as not observed" if assumed else "Not recorded"
    return VNode(name, look, head, (), rows, side=side, tooltip=tooltip)


def _state_look(status: str) -> str:
    return f"state:{status}" if f"state:{status}" in NODE_LOOKS else "state:inferred"


def _derivation_node(result: Result, name: str, data: Mapping[str, Any], *, full: bool) -> VNode:
    kb = result.kb
    kind = data["kind"]
    side = data["side"]
    ids = f"{data['id']} · {_side_words(side)}"
    tooltip = " · ".join(str(x) for x in (data["id"], side, data.get("status"), data.get("evidence")) if x)
    if kind == "finding":
        value = _value_words(data["value"])
        notes = [value if side else f"{value} (no side)"]
        if full:
            notes = [f"{data['id']} · {_side_words(side)}: {value}"]
        look = "finding" if data["value"] is not None else "finding:missing"
        return VNode(name, look, data["label"], tuple(notes), side=side, tooltip=tooltip)
    if kind == "assumption":
        notes = ["not recorded: taken as not observed"]
        if full:
            notes.append(ids)
        return VNode(name, "assumption", data["label"], tuple(notes), side=side, tooltip=tooltip)
    if kind == "recommendation":
        title = _rec_title(data["group"], data["label"], data.get("order"))
        notes = [ids] if full else ([] if side else ["no side"])
        return VNode(name, f"rec:{data['group']}", title, tuple(notes), side=side, tooltip=tooltip)
    status = data["status"]
    notes = []
    if status == "dropped":
        notes.append(f"dropped: {data.get('reason') or 'outweighed'}")
    else:
        words = status_words(status)
        measured = _measurement_words(result, data["id"], side)
        if measured:
            notes.append(f"{words}: {measured[0]}")
            notes += measured[1:]
        else:
            notes.append(words)
    if not side:
        notes.append("no side")
    if full:
        notes.append(f"{ids} · {status} · {data.get('evidence')}")
    return VNode(name, _state_look(status), data["label"], tuple(notes), side=side, tooltip=tooltip)


# --------------------------------------------------------------------------
# The pelvic chain


def chain_view(result: Result, *, detail: Detail = "brief", rule_ids: bool = False, legend: bool = True) -> View:
    """The pelvic chain alone (pelvis → inlet → outlet → acetabulum → femur glide → IR), each side highlighted."""
    _check_detail(detail)
    from ..derivation import chain_graph

    kb = result.kb
    full = detail == "full"
    rule_ids = rule_ids or full
    graph = chain_graph(result)
    builder = _Builder()
    for name, data in graph.nodes(data=True):
        side = data["side"]
        if data["kind"] == "finding":
            notes = [_value_words(data["value"])]
            if full:
                notes = [f"{data['id']} · {side}: {notes[0]}"]
            builder.node(VNode(name, "finding", data["label"], tuple(notes), side=side, tooltip=f"{data['id']} · {side}"))
            continue
        standing = data["standing"]
        notes = []
        if standing == "open":
            notes.append("not established in this case")
        else:
            words = status_words(data["status"])
            measured = _measurement_words(result, data["shown"], side) if standing != "dropped" else []
            notes.append(f"{words}: {measured[0]}" if measured else words)
            notes += measured[1:]
        if standing == "dropped":
            notes.append(f"dropped: {data['disagreement']}")
        elif data["disagreement"]:
            notes.append(f"outweighs the chain's prediction ({data['disagreement']})")
        if data["assumptions"]:
            notes.append("assuming not observed: " + "; ".join(_key_label(kb, k, side).lower() for k in data["assumptions"]))
        if data["borderline"] and not any(n.startswith("borderline") for n in notes):
            notes.append("rests on a borderline reading: " + ", ".join(_key_label(kb, k, side) for k in data["borderline"]))
        if full:
            notes.append(f"{data['shown']} · {side} · {data['status'] or 'open'} · {data['evidence'] or '-'}")
        tooltip = " · ".join(str(x) for x in (data["shown"], side, standing, data["status"], data["evidence"]) if x)
        builder.node(VNode(name, f"chain:{standing}", data["label"], tuple(notes), side=side, tooltip=tooltip))
    for a, b, data in graph.edges(data=True):
        kind = "link" if data["kind"] == "link" else "reading"
        head = graph.nodes[b]
        if kind == "link" and head.get("disagreement") and graph.nodes[a].get("standing") == "holds":
            kind = "outweighed"  # the chain predicted this step fails; a stronger reading says otherwise
        builder.edge(a, b, kind, data.get("rules") or (), (data.get("evidence"),))
    steps = " → ".join(_chain_word(kb, s) for s in graph.graph["steps"])
    title = _case_title(result, f"the pelvic chain, {steps}")
    return _finish("chain", title, builder, kb=kb, full=full, drop=set(), rule_ids=rule_ids, legend=legend,
                   legend_notes=("each step enables the next (the article); a missing step predicts limited IR",),
                   meta={"graph": graph})


_CHAIN_WORDS = {
    "pelvis_not_internally_rotating": "pelvis",
    "inlet_not_closing": "inlet",
    "outlet_not_opening": "outlet",
    "acetabulum_not_anteverted": "socket",
    "femur_glide_space_lacking": "femur glide",
    "ir_limited": "IR",
}


def _chain_word(kb: KBModel, state: str) -> str:
    return _CHAIN_WORDS.get(state, kb.label(state))


# --------------------------------------------------------------------------
# The KB's model


def model_view(
    kb: KBModel, *, focus: str | None = None, detail: Detail = "brief", rule_ids: bool = False, legend: bool = True,
) -> View:
    """The KB in layers: findings → states → recommendations (around ``focus``: what leads to it, what it leads to)."""
    _check_detail(detail)
    from ..derivation import model_graph

    full = detail == "full"
    rule_ids = rule_ids or full
    graph = model_graph(kb)
    title = "The knowledge base: findings → states → recommendations"
    if focus is not None:
        if kb.kind_of(focus) is None:
            pool = [*kb.states, *kb.recommendations, *kb.findings]
            raise ExplainError(
                f"unknown id {focus!r}",
                hint=suggest(focus, pool, aliases=kb.aliases()) or "name a state, recommendation or finding",
            )
        graph = _model_focus(graph, kb, focus)
        title = f"The knowledge base around {kb.label(focus)}"
    mapping: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    hidden: set[tuple[str, str]] = set()
    if not full:
        hidden = _model_implied(graph, kb)
        graph = _subgraph_without(graph, hidden)
        mapping, members = _model_groups(graph)
    builder = _Builder()
    for name, data in graph.nodes(data=True):
        target = mapping.get(name, name)
        if target in builder.nodes:
            continue
        if target in members and len(members[target]) > 1:
            builder.node(_model_group_node(graph, target, members[target]))
            continue
        ids: tuple[str, ...] = (data["id"],) if full else ()
        if data["kind"] == "finding":
            builder.node(VNode(name, "finding:model", data["label"], ids, tooltip=data["id"], rank="min"))
        elif data["kind"] == "recommendation":
            title_text = _rec_title(data["group"], data["label"], data.get("order"))
            builder.node(VNode(name, f"rec:{data['group']}", title_text, ids, tooltip=data["id"], rank="max"))
        else:
            builder.node(VNode(name, "state:model", data["label"], ids, tooltip=data["id"]))
    for a, b, data in graph.edges(data=True):
        tail, head = mapping.get(a, a), mapping.get(b, b)
        # "limited IR shows as a compensation": an explanation, drawn without pulling against the layers
        builder.edge(tail, head, data["kind"], data.get("rules") or (), (data.get("evidence"),),
                     constraint=data["kind"] != "explain")
    notes: tuple[str, ...] = ()
    if not full:
        notes = ("findings or recommendations with the same arrows share a box",)
        if hidden:
            notes += ("a call is drawn from the last state that makes it, and a condition every call of an item "
                      "needs (limited IR for the programme) only where it is the item's one reason",)
    return _finish("model", title, builder, kb=kb, full=full, drop=set(), rule_ids=rule_ids, legend=legend, legend_notes=notes,
                   edge_look=lambda kind, evidence: f"edge:{kind}" if f"edge:{kind}" in EDGE_LOOKS else "edge:rule",
                   meta={"graph": graph, "focus": focus})


_POSITIVE = ("state", "finding", "recorded", "lower_side")


def _model_implied(graph: networkx.DiGraph, kb: KBModel) -> set[tuple[str, str]]:
    """Call arrows a slide can leave out without changing what the picture says.

    - an option of an ``any`` that leads (by links and rules) to another
      option of the same ``any``: the later option stands for both (the
      chain's last step calls for the strategy, its earlier steps lead there);
    - a condition every call of an item needs (limited IR for the
      programme), where the item has other reasons drawn.
    """
    import networkx as nx

    from ..derivation import node_id

    leads = nx.DiGraph()
    leads.add_nodes_from(graph)
    leads.add_edges_from((a, b) for a, b, d in graph.edges(data=True) if d["kind"] in ("conclude", "rule"))
    paths: dict[tuple[str, str], bool] = {}

    def reaches(a: str | None, b: str | None) -> bool:
        """a leads to b by links and rules (asked only of a few pairs: the options of one ``any``)."""
        if a is None or b is None or a not in leads or b not in leads:
            return False
        if (a, b) not in paths:
            paths[(a, b)] = a != b and nx.has_path(leads, a, b)
        return paths[(a, b)]

    def ref(item: str | None) -> str | None:
        kind = kb.kind_of(item or "")
        return None if kind is None else node_id(kind, item or "")

    hidden: set[tuple[str, str]] = set()
    for rec in kb.recommendations.values():
        target = node_id("recommendation", rec.id)
        if target not in graph or not rec.calls:
            continue
        plain = [{ref(c.ref) for c in rule.when if c.kind in _POSITIVE} for rule in rec.calls]
        gates = set.intersection(*plain)
        needed: set[str | None] = set()
        offered: set[str | None] = set()
        for rule in rec.calls:
            for c in rule.when:
                if c.kind in _POSITIVE:
                    offered.add(ref(c.ref))
                    if ref(c.ref) not in gates:
                        needed.add(ref(c.ref))
                elif c.kind == "any":
                    options = [ref(o.ref) for o in c.options if o.kind in _POSITIVE]
                    offered.update(options)
                    for a in options:
                        if a is None or not any(
                            b not in (a, None) and reaches(a, b) and not reaches(b, a) for b in options
                        ):
                            needed.add(a)
        if not needed:
            needed = gates  # the shared conditions are the item's only reasons: draw them
        for source in offered - needed:
            if source is not None and graph.has_edge(source, target) and graph.edges[source, target]["kind"] == "call":
                hidden.add((source, target))
    return hidden


def _subgraph_without(graph: networkx.DiGraph, edges: set[tuple[str, str]]) -> networkx.DiGraph:
    out = graph.copy()
    out.remove_edges_from(edges)
    return out


def _model_focus(graph: networkx.DiGraph, kb: KBModel, focus: str) -> networkx.DiGraph:
    import networkx as nx

    from ..derivation import _subgraph, node_id

    kind = kb.kind_of(focus)
    assert kind is not None
    center = node_id(kind, focus)
    if center not in graph:
        raise ExplainError(f"{focus!r} takes no part in the KB's rules or links: there is nothing to draw")
    keep = {center} | nx.ancestors(graph, center) | set(graph.successors(center))
    return _subgraph(graph, keep, focus=[center])


def _model_groups(graph: networkx.DiGraph) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Findings of one large group share a box; findings and recommendations with the same arrows share a box."""
    mapping: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    by_group: dict[str, list[str]] = {}
    for name, data in graph.nodes(data=True):
        if data["kind"] == "finding":
            by_group.setdefault(data["group"] or "", []).append(name)
    for group, names in by_group.items():
        if len(names) > 3:
            for name in names:
                mapping[name] = f"findings:{group}"
            members[f"findings:{group}"] = names
    signatures: dict[str, str] = {}
    for kind in ("finding", "recommendation"):
        for name, data in graph.nodes(data=True):
            if data["kind"] != kind or name in mapping:
                continue
            ins = sorted((mapping.get(a, a), d["kind"]) for a, _, d in graph.in_edges(name, data=True))
            outs = sorted((mapping.get(b, b), d["kind"]) for _, b, d in graph.out_edges(name, data=True))
            sig = f"{kind}|{ins}|{outs}"
            group = signatures.setdefault(sig, f"{kind}s:{len(signatures)}")
            mapping[name] = group
            members.setdefault(group, []).append(name)
    for group, names in list(members.items()):
        if len(names) == 1:  # a box of one is the item itself
            del mapping[names[0]], members[group]
    return mapping, members


def _model_group_node(graph: networkx.DiGraph, name: str, names: list[str]) -> VNode:
    first = graph.nodes[names[0]]
    if first["kind"] == "finding":
        group = first["group"] or "finding"
        title = {"compensation": "Compensations", "confounder": "Pelvic position in the supine IR test",
                 "symptom": "Symptoms", "measurement": "Measurements"}.get(group, group.capitalize())
        rows = tuple(graph.nodes[n]["label"] for n in names)
        return VNode(name, "group:findings", title, (), rows, tooltip=", ".join(graph.nodes[n]["id"] for n in names),
                     rank="min")
    kinds = {graph.nodes[n]["group"] for n in names}
    title = GROUP_TITLES[first["group"]] if len(kinds) == 1 and first["group"] in GROUP_TITLES else "Called for together"
    position = {n: i for i, n in enumerate(names)}  # graph order
    ordered = sorted(names, key=lambda n: (graph.nodes[n].get("order") or 0, position[n]))
    labels: list[str] = []
    for n in ordered:
        d = graph.nodes[n]
        labels.append(d["label"] if len(kinds) == 1 and d["group"] != "exercise" else _rec_title(d["group"], d["label"], d.get("order")))
    looks = tuple(f"rec:{graph.nodes[n]['group']}" for n in ordered)
    look = f"rec:{first['group']}" if len(kinds) == 1 else "rec:assessment"
    return VNode(name, look, title, (), tuple(labels), row_looks=looks if len(kinds) > 1 else (),
                 tooltip=", ".join(graph.nodes[n]["id"] for n in ordered), rank="max")
