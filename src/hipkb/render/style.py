"""How each kind of node and edge looks, and the words that go with it, shared by DOT, Mermaid and HTML.

A *look* is a short key (``state:measured``, ``rec:exercise``, ``edge:opposes``)
naming a shape, colours and a legend caption. Views (:mod:`hipkb.render.views`)
give every node and edge a look; the writers turn looks into attributes;
the legend lists the looks a drawing uses, in the fixed order below.

>>> NODE_LOOKS["state:measured"].caption
'state: measured'
>>> status_words("predicted")
'predicted, not measured'
"""

from __future__ import annotations

from ..answers.words import KIND_TITLES
from ..record import record

__all__ = [
    "FONT",
    "NodeLook",
    "EdgeLook",
    "NODE_LOOKS",
    "EDGE_LOOKS",
    "KIND_TITLES",
    "GROUP_TITLES",
    "GLYPHS",
    "status_words",
]

FONT = "Helvetica"


@record
class NodeLook:
    shape: str
    fill: str
    caption: str
    dashed: bool = False
    rounded: bool = False
    fontcolor: str = "#1a1a1a"
    border: str = "#4d4d4d"


@record
class EdgeLook:
    style: str  # solid | dashed | dotted | bold
    color: str
    caption: str
    arrowhead: str = "normal"


#: Every node look, in legend order.
NODE_LOOKS: dict[str, NodeLook] = {
    "finding": NodeLook("note", "#deebf7", "finding (entered)"),
    "finding:model": NodeLook("note", "#deebf7", "finding"),
    "finding:missing": NodeLook("note", "#ffffff", "not recorded", dashed=True, fontcolor="#555555"),
    "assumption": NodeLook("note", "#ffffff", "not recorded: assumed not observed", dashed=True, fontcolor="#555555"),
    "state:measured": NodeLook("box", "#b8e186", "state: measured", rounded=True),
    "state:given": NodeLook("box", "#fdd0a2", "state: stated by the assessor", rounded=True),
    "state:indicated": NodeLook("box", "#b3e2cd", "state: indicated by a test", rounded=True),
    "state:inferred": NodeLook("box", "#fff2ae", "state: inferred", rounded=True),
    "state:predicted": NodeLook("box", "#e6dcf2", "state: predicted, not measured", dashed=True, rounded=True),
    "state:dropped": NodeLook("box", "#eeeeee", "state: dropped in a disagreement", dashed=True, rounded=True,
                              fontcolor="#666666"),
    "state:model": NodeLook("box", "#fff2ae", "state", rounded=True),
    "chain:box": NodeLook("box", "#ffffff", "the pelvic chain, its steps in order", rounded=True),
    "chain:holds": NodeLook("box", "#fc9272", "this step fails on this side", rounded=True),
    "chain:opposite": NodeLook("box", "#b8e186", "this step works on this side", rounded=True),
    "chain:dropped": NodeLook("box", "#eeeeee", "predicted, but outweighed", dashed=True, rounded=True,
                              fontcolor="#666666"),
    "chain:open": NodeLook("box", "#ffffff", "nothing in this case says", dashed=True, rounded=True,
                           fontcolor="#666666", border="#999999"),
    "rec:strategy": NodeLook("component", "#f4cae4", "strategy"),
    "rec:principle": NodeLook("component", "#fbe3f0", "principle"),
    "rec:exercise": NodeLook("box", "#b3cde3", "exercise"),
    "rec:caution": NodeLook("box", "#fbb4ae", "caution", border="#c0392b"),
    "rec:assessment": NodeLook("box", "#e5e5e5", "assessment"),
    "group:findings": NodeLook("note", "#deebf7", "findings of one kind"),
}

#: Every edge look, in legend order.
EDGE_LOOKS: dict[str, EdgeLook] = {
    "edge:supports": EdgeLook("solid", "#4d4d4d", "leads to"),
    "edge:interpretation": EdgeLook("dashed", "#4d4d4d", "leads to (the KB's interpretation)"),
    "edge:assumes": EdgeLook("dotted", "#777777", "rests on an assumption"),
    "edge:opposes": EdgeLook("bold", "#c0392b", "outweighs (a disagreement)"),
    "edge:link": EdgeLook("solid", "#4d4d4d", "the article's chain"),
    "edge:outweighed": EdgeLook("dashed", "#c0392b", "predicts the next step, but a stronger reading outweighs it"),
    "edge:reading": EdgeLook("dashed", "#2b6ca3", "read from"),
    "edge:conclude": EdgeLook("solid", "#1f4e79", "causal link"),
    "edge:explain": EdgeLook("dotted", "#7f7f7f", "shows as / explains (does not conclude)"),
    "edge:rule": EdgeLook("solid", "#4d4d4d", "diagnostic rule"),
    "edge:call": EdgeLook("solid", "#2e7d32", "calls for"),
    "edge:unless": EdgeLook("dashed", "#c0392b", "unless observed"),
    "edge:absent": EdgeLook("dashed", "#7f7f7f", "if not measured"),
}

#: A sample of each edge style, for legends.
GLYPHS: dict[str, str] = {"solid": "——▸", "dashed": "– – ▸", "dotted": "·····▸", "bold": "━━▸"}

#: The heading of a box that lists several recommendations of one kind.
GROUP_TITLES: dict[str, str] = {
    "strategy": "Strategies",
    "principle": "Principle",
    "exercise": "Exercises, in this order",
    "caution": "Cautions",
    "assessment": "Next assessments",
}

_STATUS_WORDS = {
    "measured": "measured",
    "given": "stated by the assessor",
    "indicated": "indicated by a test",
    "inferred": "inferred",
    "predicted": "predicted, not measured",
    "dropped": "dropped",
}


def status_words(status: str | None) -> str:
    """A status in plain words."""
    return _STATUS_WORDS.get(status or "", status or "")
