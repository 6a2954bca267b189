"""Mermaid flowchart text for a view (for Markdown pages: GitHub, GitLab, MkDocs).

Labels are quoted Mermaid strings; their text passes
:func:`hipkb.sanitize.clean` and then every character Mermaid could read
as syntax or markup becomes a ``#NN;`` entity code, so a label never ends
a node, starts a link or injects HTML. Side clusters are subgraphs, in
the fixed order left, right; the legend is a subgraph of sample nodes.

>>> mermaid_text('a "b" <c> #1')
'a #34;b#34; #60;c#62; #35;1'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..sanitize import clean
from .style import EDGE_LOOKS, GLYPHS, NODE_LOOKS

if TYPE_CHECKING:
    from .views import View, VNode

__all__ = ["to_mermaid", "mermaid_text"]

_SPECIAL = {c: f"#{ord(c)};" for c in '"#&<>`\\{}|;[]()'}
_ARROWS = {"solid": "-->", "dashed": "-.->", "dotted": "-.->", "bold": "==>"}


def mermaid_text(text: str) -> str:
    """Text for inside a quoted Mermaid label: specials as ``#NN;`` entity codes."""
    return "".join(_SPECIAL.get(ch, ch) for ch in clean(str(text)))


def _class(look: str) -> str:
    return look.replace(":", "_")


def _shape(look: str, text: str) -> str:
    quoted = f'"{text}"'
    shape = NODE_LOOKS[look].shape
    if shape == "note":
        return f"[/{quoted}/]"
    if shape == "component":
        return f"[[{quoted}]]"
    if shape == "octagon":
        return "{{" + quoted + "}}"
    if NODE_LOOKS[look].rounded:
        return f"({quoted})"
    return f"[{quoted}]"


def _text(node: VNode) -> str:
    parts = [f"<b>{mermaid_text(node.title)}</b>" if node.rows else mermaid_text(node.title)]
    parts += [f"<small>{mermaid_text(n)}</small>" for n in node.notes]
    parts += [mermaid_text(r) for r in node.rows]
    return "<br/>".join(parts)


def to_mermaid(view: View) -> str:
    """Mermaid flowchart text for ``view`` (deterministic)."""
    ids = {node.name: f"n{i}" for i, node in enumerate(view.nodes)}
    out = [f"flowchart {view.rankdir}"]

    def line(node: VNode, indent: str) -> str:
        return f"{indent}{ids[node.name]}{_shape(node.look, _text(node))}:::{_class(node.look)}"

    clustered = {side for side, _ in view.clusters}
    for side, label in view.clusters:
        out.append(f'  subgraph side_{side}["{mermaid_text(label)}"]')
        out += [line(n, "    ") for n in view.nodes if n.side == side]
        out.append("  end")
    out += [line(n, "  ") for n in view.nodes if n.side not in clustered]
    styles = []
    for i, edge in enumerate(view.edges):
        edge_look = EDGE_LOOKS[edge.look]
        label = mermaid_text(", ".join(edge.label))
        text = f'|"{label}"| ' if label else " "
        out.append(f"  {ids[edge.tail]} {_ARROWS[edge_look.style]}{text}{ids[edge.head]}")
        styles.append(f"  linkStyle {i} stroke:{edge_look.color}")
    if view.legend:
        out.append('  subgraph legend["Legend"]')
        out.append("    direction TB")
        count = 0
        for key in view.legend:
            if key in NODE_LOOKS:
                sample = NODE_LOOKS[key]
                out.append(f"    legend{count}{_shape(key, mermaid_text(sample.caption))}:::{_class(key)}")
                count += 1
        for key in (k for k in view.legend if k in EDGE_LOOKS):
            arrow = EDGE_LOOKS[key]
            glyph = mermaid_text(GLYPHS[arrow.style])
            out.append(f'    legend{count}["{glyph} {mermaid_text(arrow.caption)}"]:::legendtext')
            count += 1
        for note in view.legend_notes:
            out.append(f'    legend{count}["<i>{mermaid_text(note)}</i>"]:::legendtext')
            count += 1
        out.append("  end")
    out += styles
    used = {n.look for n in view.nodes} | {k for k in view.legend if k in NODE_LOOKS}
    for key, look in NODE_LOOKS.items():
        if key not in used:
            continue
        extra = ",stroke-dasharray:4 3" if look.dashed else ""
        out.append(f"  classDef {_class(key)} fill:{look.fill},stroke:{look.border},color:{look.fontcolor}{extra}")
    if view.legend:
        out.append("  classDef legendtext fill:#ffffff,stroke:#ffffff,color:#333333")
    return "\n".join(out) + "\n"
