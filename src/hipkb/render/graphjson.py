"""JSON node-link data of the graph a drawing shows, for machines (networkx's ``node_link_data``).

Keys sorted, two-space indent, ASCII only (``\\u00b0`` for °), so the
same graph always gives the same bytes and no text in it can reach a
terminal as a control sequence. Read it back with
``networkx.node_link_graph(data, edges="edges")``.

>>> import hipkb, json
>>> data = json.loads(hipkb.render(hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}}}), format="json"))
>>> sorted(data)
['directed', 'edges', 'graph', 'multigraph', 'nodes']
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx  # type: ignore[import-untyped]  # networkx ships no type hints

__all__ = ["to_json"]


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def to_json(graph: networkx.DiGraph) -> str:
    """networkx node-link JSON (``edges="edges"``) of ``graph``, deterministic."""
    import networkx as nx

    try:
        data = nx.node_link_data(graph, edges="edges")
    except TypeError:  # networkx < 3.4 names the keyword ``link``
        data = nx.node_link_data(graph, link="edges")
    return json.dumps(_plain(data), sort_keys=True, indent=2, ensure_ascii=True) + "\n"
