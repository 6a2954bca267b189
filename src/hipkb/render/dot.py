r"""DOT text for a view, built with the ``graphviz`` package and its quoting.

Plain strings (tooltips, cluster names) go through :func:`graphviz.escape`,
so ``dot`` shows backslashes and ``<...>`` literally; labels are HTML-like
labels whose text is escaped here: first :func:`hipkb.sanitize.clean`
(control, bidi and separator characters spelled out), then backslashes
doubled (``dot`` still reads ``\N``-style escapes inside HTML-like
labels), then :func:`html.escape`. DOT node names are the derivation
graph's node ids with ``:`` written as ``.`` (a colon in an edge's end
would name a port). The output is deterministic: same view, same bytes.

>>> print(label_text('say "hi" \\ <b>\n'))
say &quot;hi&quot; \\ &lt;b&gt;\\n
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from ..sanitize import clean
from . import layout
from .style import EDGE_LOOKS, FONT, GLYPHS, NODE_LOOKS

if TYPE_CHECKING:
    import graphviz  # type: ignore[import-untyped]  # graphviz ships no type hints

    from .views import VEdge, View, VNode

__all__ = ["to_dot", "build", "dot_name", "label_text", "plain"]

_NOTE_COLOUR = "#333333"


def dot_name(name: str) -> str:
    """The DOT node name of a view node.

    >>> dot_name("state:ir_limited/left")
    'state.ir_limited/left'
    """
    return name.replace(":", ".")


def label_text(text: str) -> str:
    """Text for inside an HTML-like label: shown literally by ``dot``."""
    return html.escape(clean(str(text)).replace("\\", "\\\\"), quote=True)


def plain(text: str) -> str:
    """A plain DOT string attribute (tooltip, cluster label), shown literally."""
    import graphviz

    escaped: str = graphviz.escape(clean(str(text)))  # a str subclass dot shows literally: keep it as it is
    return escaped


def _lines(text: str, width: int) -> str:
    return "<BR/>".join(label_text(line) for line in layout.wrap(clean(text), width))


def _node_label(node: VNode) -> str:
    look = NODE_LOOKS[node.look]
    if not node.rows:
        body = _lines(node.title, layout.TITLE_WIDTH)
        for note in node.notes:
            body += f'<BR/><FONT POINT-SIZE="{layout.NOTE_SIZE}" COLOR="{_NOTE_COLOUR}">{_lines(note, layout.NOTE_WIDTH)}</FONT>'
        return f"<{body}>"
    rows = [f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><B>{_lines(node.title, layout.ROW_WIDTH)}</B></TD></TR>']
    for note in node.notes:
        rows.append(
            f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="{layout.NOTE_SIZE}" COLOR="{_NOTE_COLOUR}">'
            f"{_lines(note, layout.NOTE_WIDTH)}</FONT></TD></TR>"
        )
    for i, row in enumerate(node.rows):
        colour = ""
        if node.row_looks:
            colour = f' BGCOLOR="{NODE_LOOKS[node.row_looks[i]].fill}"'
        rows.append(
            f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"{colour}><FONT POINT-SIZE="{layout.ROW_SIZE}">'
            f"{_lines(row, layout.ROW_WIDTH)}</FONT></TD></TR>"
        )
    del look
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"


def _node_attrs(node: VNode) -> dict[str, str]:
    look = NODE_LOOKS[node.look]
    style = ["filled"]
    if look.rounded:
        style.append("rounded")
    if look.dashed:
        style.append("dashed")
    return {
        "shape": look.shape,
        "style": ",".join(style),
        "fillcolor": look.fill,
        "color": look.border,
        "fontcolor": look.fontcolor,
        "tooltip": plain(node.tooltip or node.title),
    }


def _edge_attrs(edge: VEdge) -> dict[str, str]:
    look = EDGE_LOOKS[edge.look]
    attrs = {
        "style": "bold,dashed" if look.style == "bold" else look.style,
        "color": look.color,
        "fontcolor": look.color,
        "tooltip": plain(edge.tooltip or " "),
    }
    if look.style == "bold":
        attrs["penwidth"] = "2"
    if not edge.constraint:
        attrs["constraint"] = "false"
    if edge.label:
        attrs["label"] = "<" + "<BR/>".join(label_text(line) for line in edge.label) + ">"
    return attrs


def _legend_cells(key: str) -> str:
    if key in NODE_LOOKS:
        look = NODE_LOOKS[key]
        style = ' STYLE="dashed"' if look.dashed else ""
        return (
            f'<TD BGCOLOR="{look.fill}" BORDER="1" COLOR="{look.border}" WIDTH="28"{style}> </TD>'
            f'<TD ALIGN="LEFT">{label_text(look.caption)}</TD>'
        )
    edge = EDGE_LOOKS[key]
    return (
        f'<TD><FONT COLOR="{edge.color}">{label_text(GLYPHS[edge.style])}</FONT></TD>'
        f'<TD ALIGN="LEFT">{label_text(edge.caption)}</TD>'
    )


def _legend(view: View) -> str:
    """One HTML-like table: a sample and a caption per look drawn, in two columns when there are many."""
    keys = list(view.legend)
    columns = 2 if len(keys) > 6 else 1
    height = -(-len(keys) // columns)
    rows = [f'<TR><TD COLSPAN="{2 * columns}" ALIGN="LEFT"><B>Legend</B></TD></TR>']
    for i in range(height):
        cells = "".join(_legend_cells(keys[i + c * height]) for c in range(columns) if i + c * height < len(keys))
        rows.append(f"<TR>{cells}</TR>")
    for note in view.legend_notes:
        rows.append(
            f'<TR><TD COLSPAN="{2 * columns}" ALIGN="LEFT" BALIGN="LEFT"><I>{_lines(note, 44 * columns)}</I></TD></TR>'
        )
    return (
        '<<TABLE BORDER="1" COLOR="#999999" CELLBORDER="0" CELLSPACING="3" CELLPADDING="2">'
        + "".join(rows) + "</TABLE>>"
    )


def _title(view: View) -> str:
    return f'<<FONT POINT-SIZE="{layout.GRAPH_TITLE_SIZE}"><B>{_lines(view.title, layout.TITLE_CHARS)}</B></FONT>>'


def build(view: View) -> graphviz.Digraph:
    """The view as a :class:`graphviz.Digraph` (nodes and edges in the view's order)."""
    import graphviz

    g = graphviz.Digraph("hipkb")
    g.attr(
        "graph", rankdir=view.rankdir, fontname=FONT, label=_title(view), labelloc="t", labeljust="l",
        nodesep=str(layout.NODESEP), ranksep=str(layout.ranksep(view.rankdir)), pad="0.2", bgcolor="white",
        tooltip=plain(view.title),
    )
    g.attr("node", fontname=FONT, fontsize=str(layout.TITLE_SIZE), margin="0.12,0.06", penwidth="1.2")
    g.attr("edge", fontname=FONT, fontsize=str(layout.NOTE_SIZE), arrowsize="0.8", penwidth="1.2")

    def add(target: graphviz.Digraph, node: VNode) -> None:
        target.node(dot_name(node.name), label=_node_label(node), **_node_attrs(node))

    for side, label in view.clusters:
        with g.subgraph(name=f"cluster_{side}") as sub:
            sub.attr("graph", label=plain(label), fontsize="16", style="rounded", color="#b0b0b0", labeljust="l")
            for node in view.nodes:
                if node.side == side:
                    add(sub, node)
    clustered = {side for side, _ in view.clusters}
    for node in view.nodes:
        if node.side not in clustered:
            add(g, node)
    if not view.clusters:
        for rank in ("min", "max"):
            names = [dot_name(n.name) for n in view.nodes if n.rank == rank]
            if names:
                with g.subgraph() as sub:
                    sub.attr("graph", rank=rank)
                    for name in names:
                        sub.node(name)
    if view.legend:
        g.node("legend", label=_legend(view), shape="plaintext", margin="0", tooltip="Legend")
    for edge in view.edges:
        g.edge(dot_name(edge.tail), dot_name(edge.head), **_edge_attrs(edge))
    if len(view.clusters) > 1:
        _side_spine(g, view)
    elif view.legend and view.legend_top and view.rankdir == "TB":
        _legend_on_top(g, view)
    return g


def _legend_on_top(g: graphviz.Digraph, view: View) -> None:
    """The legend alone on the first rank: an invisible edge to every node nothing else leads to."""
    heads = {e.head for e in view.edges if e.constraint}
    for node in view.nodes:
        if node.name not in heads:
            g.edge("legend", dot_name(node.name), style="invis")


def _side_spine(g: graphviz.Digraph, view: View) -> None:
    """Left before right: one invisible point per side, in order on the first rank, leading into its cluster.

    Graphviz orders clusters freely (no edge runs between them), so the
    right hip could come first. A flat edge between two points on one rank
    keeps its tail first; each point leads to every node of its cluster that
    nothing else leads to, so swapping the clusters would cross those edges,
    which the layout avoids.
    """
    if len(view.clusters) < 2:
        return
    heads = {e.head for e in view.edges if e.constraint}
    points = []
    for side, _ in view.clusters:
        point = f"side.{side}"
        g.node(point, shape="point", style="invis", width="0", height="0", label="")
        points.append(point)
        for node in view.nodes:
            if node.side == side and node.name not in heads:
                g.edge(point, dot_name(node.name), style="invis")
    top = ["legend", *points] if view.legend and view.rankdir == "TB" else points  # TB: the legend heads the drawing
    with g.subgraph() as same:
        same.attr("graph", rank="same")
        for point in top:
            same.node(point)
    for a, b in zip(top, top[1:]):
        g.edge(a, b, style="invis")
    if view.legend and view.rankdir == "LR":  # the legend stays above the first nodes, not in a column of its own
        g.edge(points[0], "legend", style="invis")


def to_dot(view: View) -> str:
    """DOT text for ``view`` (deterministic)."""
    source: str = build(view).source
    return source
