"""Draw reasoning: DOT, Mermaid and JSON text, and SVG/PNG/PDF through Graphviz.

Two halves, as in the ``graphviz`` package: a front end that writes DOT
(and Mermaid, and JSON) as plain text, deterministically, and a back end,
:func:`pipe`, the one place that runs Graphviz's ``dot`` program and the
one place that raises :class:`~hipkb.errors.GraphvizNotFound`. Text
formats never need Graphviz.

What can be drawn: a :class:`~hipkb.infer.Result` (the case's reasoning:
entered findings → states → recommendations, one colour and shape per kind,
sides in labels and in one cluster per side, rule ids on the edges, a
legend), one item's path in it (``focus=``), or a
:class:`~hipkb.kb.KnowledgeBase` (its causal model).

DOT is written by hand rather than through ``graphviz.Digraph``: its
quoting leaves backslashes and ``<...>`` strings to be interpreted by
``dot``, and labels from a KB or a case must stay literal text.

>>> from hipkb.kb import load_kb
>>> result = load_kb().assess({"findings": {"pinch_in_flexion_ir": "left"}})
>>> print(render(result, format="mermaid", focus="refer_for_fai_evaluation", side="left"))  # doctest: +ELLIPSIS
flowchart LR
  subgraph side_left["Left hip"]
    n0[/"Pinch felt in hip flexion with internal rotation<br/>...
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Literal, Union, overload

from ..errors import ExplainError, GraphvizNotFound, RenderError, suggest
from ..model import SIDES

if TYPE_CHECKING:
    import networkx

    from ..result import Result
    from ..model import KBModel as KnowledgeBase

__all__ = [
    "FORMATS",
    "TEXT_FORMATS",
    "SUFFIXES",
    "INSTALL_HINT",
    "render",
    "graph_of",
    "to_dot",
    "to_mermaid",
    "to_json",
    "pipe",
    "format_for_path",
]

FORMATS: tuple[str, ...] = ("dot", "mermaid", "json", "svg", "png", "pdf")
TEXT_FORMATS: tuple[str, ...] = ("dot", "mermaid", "json")
#: File suffix → format (for ``-o FILE`` without ``--format``).
SUFFIXES: dict[str, str] = {
    ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".json": "json",
    ".svg": "svg", ".png": "png", ".pdf": "pdf",
}
INSTALL_HINT = "install Graphviz: apt-get install graphviz / brew install graphviz"

Drawable = Union["Result", "KnowledgeBase"]

# -- look ------------------------------------------------------------------

FONT = "Helvetica"
_STATE_FILL = {
    "measured": "#c7e9c0",
    "given": "#fdd0a2",
    "inferred": "#fff2ae",
    "predicted": "#e6dcf2",
    "dropped": "#eeeeee",
}
_REC_STYLE = {  # kind → (shape, fill)
    "strategy": ("component", "#f4cae4"),
    "principle": ("component", "#fbe3f0"),
    "exercise": ("box", "#b3cde3"),
    "caution": ("octagon", "#fbb4ae"),
    "assessment": ("box", "#e5e5e5"),
}
_FINDING_FILL = "#deebf7"
_MODEL_STATE_FILL = "#fff2ae"
# Model edge kind → (style, colour, legend caption). Causal links carry
# their ids on the edge; rules and calls only in the tooltip (there are too
# many to read on a slide), negative conditions say what they mean.
_EDGE_STYLE = {
    "conclude": ("solid", "#1f4e79", "causal link (concludes)"),
    "explain": ("dotted", "#7f7f7f", "causal link (explains only)"),
    "rule": ("solid", "#4d4d4d", "diagnostic rule"),
    "call": ("solid", "#2e7d32", "calls for a recommendation"),
    "unless": ("dashed", "#c0392b", "unless observed"),
    "absent": ("dashed", "#7f7f7f", "if not measured"),
}
_MODEL_EDGE_TEXT = {"unless": "unless", "absent": "if not measured"}
_OPPOSE_COLOUR = "#c0392b"
_WRAP = 26


def _kind_title(kind: str) -> str:
    return kind.capitalize()


# --------------------------------------------------------------------------
# Public entry points


@overload
def render(
    obj: Drawable, *, format: Literal["svg", "png", "pdf"], focus: str | None = ..., side: str | None = ...,
    legend: bool | None = ...,
) -> bytes: ...
@overload
def render(
    obj: Drawable, *, format: Literal["dot", "mermaid", "json"] = ..., focus: str | None = ..., side: str | None = ...,
    legend: bool | None = ...,
) -> str: ...
@overload
def render(
    obj: Drawable, *, format: str, focus: str | None = ..., side: str | None = ..., legend: bool | None = ...,
) -> str | bytes: ...


def render(
    obj: Drawable,
    *,
    format: str = "dot",
    focus: str | None = None,
    side: str | None = None,
    legend: bool | None = None,
) -> str | bytes:
    """Draw a result (its reasoning) or a KB (its causal model).

    ``format``: ``dot``, ``mermaid``, ``json`` (text, returned as ``str``)
    or ``svg``, ``png``, ``pdf`` (``bytes``, rendered by Graphviz ``dot``).
    ``focus`` (with ``side``) keeps one item and the path that led to it;
    without ``side`` it keeps every side where the item holds. ``legend``
    defaults to on, and off in focus mode (nothing but the path).
    """
    if format not in FORMATS:
        raise RenderError(f"unknown format {format!r}", hint=suggest(format, FORMATS) or "formats: " + ", ".join(FORMATS))
    graph = graph_of(obj, focus=focus, side=side)
    show_legend = focus is None if legend is None else legend
    if format == "json":
        return to_json(graph)
    if format == "mermaid":
        return to_mermaid(graph, legend=show_legend)
    source = to_dot(graph, legend=show_legend)
    if format == "dot":
        return source
    return pipe(source, format)


def graph_of(obj: Drawable, *, focus: str | None = None, side: str | None = None) -> networkx.DiGraph:
    """The networkx graph :func:`render` draws (the focus applied)."""
    from ..derivation import derivation_graph, focus_graph, model_graph
    from ..result import Result
    from ..model import KBModel as KnowledgeBase

    if side is not None and side not in SIDES:
        raise ExplainError(f"unknown side {side!r}", hint=suggest(side, SIDES) or "sides are left and right")
    if isinstance(obj, Result):
        graph = derivation_graph(obj)
        kb = obj.kb
    elif isinstance(obj, KnowledgeBase):
        graph = model_graph(obj)
        kb = obj
        if side is not None:
            raise ExplainError("the KB's causal model has no sides; leave out the side")
    else:
        raise RenderError(f"cannot draw a {type(obj).__name__}: give a result or a knowledge base")
    if focus is None:
        if side is not None:
            raise ExplainError("a side only applies with a focus item")
        return graph
    if kb.kind_of(focus) is None:
        pool = [*kb.states, *kb.recommendations, *kb.findings]
        raise ExplainError(f"unknown id {focus!r}", hint=suggest(focus, pool) or "name a state, recommendation or finding")
    targets = [n for n, d in graph.nodes(data=True) if d["id"] == focus and (side is None or d["side"] in (side, None))]
    if not targets:
        where = f" on the {side}" if side else ""
        if isinstance(obj, Result):
            raise ExplainError(
                f"{focus!r} does not hold{where} in this case: there is no path to draw",
                hint=f"ask: hipkb why-not {focus}" + (f" --side {side}" if side else ""),
            )
        raise ExplainError(f"{focus!r} takes no part in the KB's rules or links: there is nothing to draw")
    return focus_graph(graph, *targets)


def format_for_path(path: str | Path) -> str | None:
    """The format a file name asks for by its suffix, or None.

    >>> format_for_path("out/case.svg"), format_for_path("model.mmd"), format_for_path("notes.txt")
    ('svg', 'mermaid', None)
    """
    return SUFFIXES.get(Path(path).suffix.lower())


# --------------------------------------------------------------------------
# Back end: the one place that runs Graphviz


def pipe(source: str, format: str) -> bytes:
    """Render DOT ``source`` to ``format`` (svg, png, pdf) with Graphviz ``dot``.

    Raises :class:`~hipkb.errors.GraphvizNotFound` when ``dot`` is not
    installed, :class:`~hipkb.errors.RenderError` when it fails.
    """
    try:
        import graphviz
    except ImportError:  # pragma: no cover - a declared dependency
        raise RenderError("the 'graphviz' Python package is missing", hint="pip install graphviz") from None
    try:
        return graphviz.pipe("dot", format, source.encode("utf-8"), quiet=True)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFound("Graphviz's 'dot' program was not found", hint=INSTALL_HINT) from None
    except graphviz.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"Graphviz 'dot' failed: {detail[0] if detail else 'exit ' + str(exc.returncode)}") from None
    except OSError as exc:
        raise RenderError(f"cannot run Graphviz 'dot': {exc.strerror or exc}", hint=INSTALL_HINT) from None


# --------------------------------------------------------------------------
# Escaping


def _clean(text: Any) -> str:
    """Text with control characters (newlines too) turned into spaces."""
    return "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in str(text))


def _wrap(text: str, width: int = _WRAP) -> list[str]:
    return textwrap.wrap(_clean(text), width=width, break_long_words=True, break_on_hyphens=False) or [""]


def dot_quote(text: Any) -> str:
    r"""A DOT double-quoted string that ``dot`` shows literally.

    Backslashes are doubled (``dot`` reads ``\n``, ``\N``, ``\l``... as
    escapes), quotes escaped, control characters dropped. ``<``, ``>``,
    braces and ``|`` are only special in record shapes and HTML labels,
    which quoted strings are not.

    >>> print(dot_quote('say "hi" \\ <b>{x|y}</b>'))
    "say \"hi\" \\ <b>{x|y}</b>"
    """
    return '"' + _clean(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: Any) -> str:
    r"""Text for inside a DOT HTML-like label: &, <, >, quotes as entities.

    ``dot`` still reads ``\N``-style escapes in HTML-like labels (after
    decoding entities), so backslashes are doubled here too.
    """
    return (
        _clean(text).replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&quot;").replace("'", "&#39;")
    )


_MERMAID_SPECIAL = {c: f"#{ord(c)};" for c in '"#&<>`\\{}|;'}


def mermaid_text(text: Any) -> str:
    """Text for inside a quoted Mermaid label: specials as ``#NN;`` entity codes.

    >>> mermaid_text('a "b" <c> #1')
    'a #34;b#34; #60;c#62; #35;1'
    """
    return "".join(_MERMAID_SPECIAL.get(ch, ch) for ch in _clean(text))


# --------------------------------------------------------------------------
# What each node says and looks like


def _value_text(data: dict[str, Any]) -> str:
    value = data.get("value")
    side = data.get("side")
    where = side if side else "no side"
    if isinstance(value, bool):
        return f"{where}: {'observed' if value else 'not observed'}"
    if isinstance(value, (int, float)):
        return f"{where} = {value:g}°"
    return where


def _side_groups(graph: Any, model: bool) -> list[tuple[str | None, list[tuple[Any, dict[str, Any]]]]]:
    """Nodes grouped for drawing: one cluster per side, then the side-less nodes (all of them for the KB model)."""
    nodes = list(graph.nodes(data=True))
    if model:
        return [(None, nodes)]
    groups: list[tuple[str | None, list[tuple[Any, dict[str, Any]]]]] = []
    for side in SIDES:
        members = [(n, d) for n, d in nodes if d.get("side") == side]
        if members:
            groups.append((side, members))
    groups.append((None, [(n, d) for n, d in nodes if d.get("side") not in SIDES]))
    return groups


def _node_text(data: dict[str, Any], model: bool) -> tuple[list[str], str]:
    """(main label lines, small second line) for a node."""
    kind = data["kind"]
    title = data["label"]
    if kind == "recommendation":
        prefix = _kind_title(data["group"]) + (f" {data['order']}" if data.get("order") else "")
        title = f"{prefix}: {title}"
    lines = _wrap(title)
    if model:
        return lines, data["id"]
    if kind == "finding":
        return lines, f"{data['id']} · {_value_text(data)}"
    side = data["side"] or "no side"
    if kind == "state":
        status = data["status"]
        if status == "dropped":
            status = f"dropped ({data.get('dropped_status')})"
        return lines, f"{data['id']} · {side} · {status}"
    return lines, f"{data['id']} · {side}"


def _node_look(data: dict[str, Any], model: bool) -> dict[str, str]:
    kind = data["kind"]
    if kind == "finding":
        return {"shape": "note", "style": "filled", "fillcolor": _FINDING_FILL}
    if kind == "recommendation":
        shape, fill = _REC_STYLE.get(data.get("group") or "", ("box", "#ffffff"))
        return {"shape": shape, "style": "filled", "fillcolor": fill}
    if model:
        return {"shape": "box", "style": "rounded,filled", "fillcolor": _MODEL_STATE_FILL}
    status = data.get("status") or "inferred"
    style = "rounded,filled"
    look = {"shape": "box", "fillcolor": _STATE_FILL.get(status, "#ffffff")}
    if status in ("predicted", "dropped"):
        style += ",dashed"
    if status == "dropped":
        look["fontcolor"] = "#777777"
    look["style"] = style
    return look


def _tooltip(data: dict[str, Any]) -> str:
    parts = [data["id"]]
    if data.get("side"):
        parts.append(data["side"])
    for name in ("status", "evidence"):
        if data.get(name):
            parts.append(str(data[name]))
    return " · ".join(parts)


def _edge_lines(data: dict[str, Any], model: bool, *, wrap: bool = True) -> list[str]:
    """The edge's label: its rule ids (or "outweighs"), long ids wrapped."""
    if data.get("kind") == "opposes":
        return ["outweighs"]
    kind = data.get("kind", "")
    if model and kind in _MODEL_EDGE_TEXT:
        return [_MODEL_EDGE_TEXT[kind]]
    if model and kind not in ("conclude", "explain"):
        return []
    rules = list(data.get("rules") or ())
    return [line for r in rules for line in (_wrap_id(r) if wrap else [r])]


def _wrap_id(rule_id: str, width: int = 24) -> list[str]:
    """A long snake_case id broken after underscores, so edge labels stay narrow."""
    lines: list[str] = []
    for part in rule_id.split("_"):
        if lines and len(lines[-1]) + 1 + len(part) <= width:
            lines[-1] += "_" + part
        else:
            if lines:
                lines[-1] += "_"
            lines.append(part)
    return lines


def _edge_look(data: dict[str, Any], model: bool) -> dict[str, str]:
    kind = data.get("kind")
    if kind == "opposes":
        return {"style": "bold,dashed", "color": _OPPOSE_COLOUR, "fontcolor": _OPPOSE_COLOUR}
    if model:
        style, colour, _ = _EDGE_STYLE.get(kind or "", ("solid", "#4d4d4d", ""))
        return {"style": style, "color": colour, "fontcolor": colour}
    style = "dashed" if data.get("evidence") == "interpretation" else "solid"
    return {"style": style}


def _title(graph: networkx.DiGraph) -> str:
    meta = graph.graph
    head = f"{meta.get('kb', 'hipkb')} {meta.get('version', '')}".strip()
    if meta.get("kind") == "model":
        text = f"{head}: causal model, rules and recommendations"
    else:
        subject = meta.get("subject")
        text = f"{head}: reasoning for case {subject}" if subject else f"{head}: reasoning for one case"
    focus = meta.get("focus")
    if focus:
        items = [graph.nodes[n] for n in focus]
        names = ", ".join(f"{d['id']}" + (f" ({d['side']})" if d.get("side") else "") for d in items)
        text += f", path to {names}"
    return text


def _legend_entries(graph: networkx.DiGraph, model: bool) -> list[tuple[str, dict[str, Any]]]:
    """(caption, look-alike node data) for each kind of node drawn, in a fixed order."""
    present = list(graph.nodes.values())
    entries: list[tuple[str, dict[str, Any]]] = []
    if any(d["kind"] == "finding" for d in present):
        entries.append(("finding (entered)" if not model else "finding", {"kind": "finding"}))
    if model:
        if any(d["kind"] == "state" for d in present):
            entries.append(("state", {"kind": "state"}))
    else:
        for status in _STATE_FILL:
            if any(d["kind"] == "state" and d.get("status") == status for d in present):
                entries.append((f"state: {status}", {"kind": "state", "status": status}))
    for rec_kind in _REC_STYLE:
        if any(d["kind"] == "recommendation" and d.get("group") == rec_kind for d in present):
            entries.append((rec_kind, {"kind": "recommendation", "group": rec_kind}))
    return entries


# --------------------------------------------------------------------------
# DOT


def _dot_lines(lines: Iterable[str]) -> str:
    r"""Several lines as one DOT string, joined by ``\n`` line breaks."""
    return '"' + "\\n".join(dot_quote(line)[1:-1] for line in lines) + '"'


def _attrs(attrs: dict[str, str], raw: Iterable[str] = ()) -> str:
    parts = [f"{k}={dot_quote(v)}" for k, v in attrs.items()]
    parts += list(raw)
    return "[" + ", ".join(parts) + "]"


def _html_label(lines: list[str], small: str | None) -> str:
    body = "<BR/>".join(_html(line) for line in lines)
    if small:
        body += f'<BR/><FONT POINT-SIZE="8" COLOR="#444444">{_html(small)}</FONT>'
    return f"label=<{body}>"


def _legend_table(entries: list[tuple[str, dict[str, Any]]], edge_data: list[dict[str, Any]], model: bool) -> str:
    """One HTML-like table node: a swatch and a caption per kind of node drawn."""
    rows = ['<TR><TD COLSPAN="2"><B>Legend</B></TD></TR>']
    for caption, data in entries:
        look = _node_look(data, model)
        dashed = ' STYLE="dashed"' if "dashed" in look.get("style", "") else ""
        rows.append(
            f'<TR><TD BGCOLOR="{look["fillcolor"]}" WIDTH="24"{dashed}> </TD>'
            f'<TD ALIGN="LEFT">{_html(caption)}</TD></TR>'
        )
    if not model:
        rows.append('<TR><TD>→</TD><TD ALIGN="LEFT">rule id on the edge; dashed: interpretation</TD></TR>')
        if any(d.get("kind") == "opposes" for d in edge_data):
            rows.append(f'<TR><TD><FONT COLOR="{_OPPOSE_COLOUR}">→</FONT></TD><TD ALIGN="LEFT">outweighs (disagreement)</TD></TR>')
    else:
        kinds = {d.get("kind") for d in edge_data}
        for kind, (style, colour, caption) in _EDGE_STYLE.items():
            if kind in kinds:
                rows.append(f'<TR><TD><FONT COLOR="{colour}">→</FONT></TD><TD ALIGN="LEFT">{_html(caption)} ({style})</TD></TR>')
    return '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">' + "".join(rows) + "</TABLE>"


def to_dot(graph: networkx.DiGraph, *, legend: bool = True) -> str:
    """DOT text for a graph from :mod:`hipkb.derivation` (deterministic)."""
    model = graph.graph.get("kind") == "model"
    out = [
        "digraph hipkb {",
        "  " + _attrs({
            "rankdir": "LR", "fontname": FONT, "fontsize": "14", "labelloc": "t", "labeljust": "l",
            "nodesep": "0.18", "ranksep": "0.45", "label": _title(graph),
        }).replace("[", "graph [", 1) + ";",
        "  " + _attrs({"fontname": FONT, "fontsize": "10", "margin": "0.12,0.06"}).replace("[", "node [", 1) + ";",
        "  " + _attrs({"fontname": FONT, "fontsize": "8", "color": "#4d4d4d", "arrowsize": "0.7"}).replace("[", "edge [", 1) + ";",
    ]

    def node_line(name: str, data: dict[str, Any], indent: str) -> str:
        lines, small = _node_text(data, model)
        look = _node_look(data, model)
        look["tooltip"] = _tooltip(data)
        return f"{indent}{dot_quote(name)} {_attrs(look, [_html_label(lines, small)])};"

    for side, members in _side_groups(graph, model):
        if side is None:
            out += [node_line(n, d, "  ") for n, d in members]
            continue
        out.append(f"  subgraph {dot_quote('cluster_' + side)} {{")
        out.append("    " + _attrs({
            "label": f"{side.capitalize()} hip", "style": "rounded", "color": "#b0b0b0", "fontsize": "12",
        }).replace("[", "graph [", 1) + ";")
        out += [node_line(n, d, "    ") for n, d in members]
        out.append("  }")
    for a, b, data in graph.edges(data=True):
        look = _edge_look(data, model)
        if data.get("kind") == "opposes":
            look["tooltip"] = str(data.get("reason") or "")
        else:
            evidence = f" ({data['evidence']})" if data.get("evidence") else ""
            look["tooltip"] = ", ".join(data.get("rules") or ()) + evidence
        lines = _edge_lines(data, model)
        label = ["label=" + _dot_lines(lines)] if lines else []
        out.append(f"  {dot_quote(a)} -> {dot_quote(b)} {_attrs(look, label)};")
    if legend:
        entries = _legend_entries(graph, model)
        if entries:
            out.append(f"  {dot_quote('legend')} [shape=\"plaintext\", margin=\"0\", label=<{_legend_table(entries, [d for _, _, d in graph.edges(data=True)], model)}>];")
    out.append("}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# Mermaid


def _mermaid_shape(data: dict[str, Any], text: str) -> str:
    quoted = f'"{text}"'
    if data["kind"] == "finding":
        return f"[/{quoted}/]"
    if data["kind"] == "recommendation":
        if data.get("group") in ("strategy", "principle"):
            return "{{" + quoted + "}}"
        return f"[{quoted}]"
    return f"({quoted})"


def _mermaid_class(data: dict[str, Any], model: bool) -> str:
    if data["kind"] == "finding":
        return "finding"
    if data["kind"] == "recommendation":
        return data.get("group") or "recommendation"
    return "state" if model else data.get("status") or "inferred"


def _mermaid_classdefs() -> list[str]:
    defs = [f"  classDef finding fill:{_FINDING_FILL},stroke:#4a6f96"]
    defs.append(f"  classDef state fill:{_MODEL_STATE_FILL},stroke:#8a7a2a")
    for status, fill in _STATE_FILL.items():
        extra = ",stroke-dasharray:4 3" if status in ("predicted", "dropped") else ""
        colour = ",color:#777777" if status == "dropped" else ""
        defs.append(f"  classDef {status} fill:{fill},stroke:#666666{extra}{colour}")
    for kind, (_, fill) in _REC_STYLE.items():
        defs.append(f"  classDef {kind} fill:{fill},stroke:#666666")
    return defs


def to_mermaid(graph: networkx.DiGraph, *, legend: bool = True) -> str:
    """Mermaid flowchart text for a graph from :mod:`hipkb.derivation` (deterministic)."""
    model = graph.graph.get("kind") == "model"
    ids = {name: f"n{i}" for i, name in enumerate(graph.nodes)}
    out = ["flowchart LR"]

    def node_line(name: str, data: dict[str, Any], indent: str) -> str:
        lines, small = _node_text(data, model)
        text = "<br/>".join(mermaid_text(line) for line in [" ".join(lines), small] if line)
        return f"{indent}{ids[name]}{_mermaid_shape(data, text)}:::{_mermaid_class(data, model)}"

    for side, members in _side_groups(graph, model):
        if side is None:
            out += [node_line(n, d, "  ") for n, d in members]
            continue
        out.append(f'  subgraph side_{side}["{side.capitalize()} hip"]')
        out += [node_line(n, d, "    ") for n, d in members]
        out.append("  end")
    styles = []
    for i, (a, b, data) in enumerate(graph.edges(data=True)):
        label = mermaid_text(", ".join(_edge_lines(data, model, wrap=False)))
        dashed = _edge_look(data, model).get("style", "solid") != "solid"
        arrow = "-.->" if dashed else "-->"
        text = f'|"{label}"| ' if label else " "
        out.append(f"  {ids[a]} {arrow}{text}{ids[b]}")
        colour = _edge_look(data, model).get("color")
        if colour and (model or data.get("kind") == "opposes"):
            styles.append(f"  linkStyle {i} stroke:{colour}")
    if legend:
        entries = _legend_entries(graph, model)
        if entries:
            out.append('  subgraph legend["Legend"]')
            for i, (caption, data) in enumerate(entries):
                out.append(f"    legend{i}{_mermaid_shape(data, mermaid_text(caption))}:::{_mermaid_class(data, model)}")
            out.append("  end")
    out += styles
    out += _mermaid_classdefs()
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# JSON


def to_json(graph: networkx.DiGraph) -> str:
    """networkx node-link JSON (``edges="edges"``), keys sorted, for machines."""
    import networkx as nx

    try:
        data = nx.node_link_data(graph, edges="edges")
    except TypeError:  # networkx < 3.4 names the keyword ``link``
        data = nx.node_link_data(graph, link="edges")
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
