"""Text wrapping and the choice of direction that fits a drawing to a 16:9 slide.

Graphviz lays a graph out in ranks: top to bottom (``TB``) or left to
right (``LR``). Which of the two fits a slide depends on the graph: a long
chain is a strip in one direction and a column in the other. Running
``dot`` to find out would make the DOT text depend on Graphviz, so the
choice is made from an estimate instead: each node's size from its
wrapped text, ranks by the longest path, clusters side by side. The
direction chosen is the one whose estimated drawing, scaled into a 16:9
box, shows its text largest. The estimate is deterministic and needs no
Graphviz.

>>> wrap("Lacking space for the femur to glide in the socket", 24)
['Lacking space for the', 'femur to glide in the', 'socket']
"""

from __future__ import annotations

import textwrap
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .views import View

__all__ = [
    "TITLE_WIDTH",
    "NOTE_WIDTH",
    "ROW_WIDTH",
    "TITLE_SIZE",
    "NOTE_SIZE",
    "ROW_SIZE",
    "GRAPH_TITLE_SIZE",
    "NODESEP",
    "RANKSEP",
    "RANKSEP_LR",
    "ranksep",
    "wrap",
    "node_size",
    "estimate",
    "choose_rankdir",
    "choose_layout",
    "LAYOUTS",
]

#: Characters per line of a node's title, notes and list rows.
TITLE_WIDTH = 24
NOTE_WIDTH = 34
ROW_WIDTH = 34
#: Font sizes (points) and spacing (inches) used by the DOT writer.
TITLE_SIZE = 14
NOTE_SIZE = 11
ROW_SIZE = 13
GRAPH_TITLE_SIZE = 20
#: Characters per line of the drawing's title.
TITLE_CHARS = 90
NODESEP = 0.3
RANKSEP = 0.45
#: Between ranks laid out left to right, where arrows run along the text.
RANKSEP_LR = 0.35
_MARGIN_X, _MARGIN_Y = 0.12 * 72, 0.06 * 72
_CHAR = 0.55  # average Helvetica character width, in ems
_VIRTUAL = (8.0, 8.0)
_SLIDE = 16 / 9
#: The widest drawing chosen when a narrower one exists (width / height).
_WIDEST = 1.6


def ranksep(rankdir: str) -> float:
    """Space between ranks (inches) for a direction."""
    return RANKSEP_LR if rankdir == "LR" else RANKSEP


def wrap(text: str, width: int) -> list[str]:
    """``text`` broken at spaces into lines of at most ``width`` characters (long words are split)."""
    return textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False) or [""]


def _block(lines: list[str], size: float) -> tuple[float, float]:
    width = max((len(line) for line in lines), default=0) * size * _CHAR
    return width, len(lines) * size * 1.2


def node_size(title: str, notes: tuple[str, ...] = (), rows: tuple[str, ...] = ()) -> tuple[float, float]:
    """(width, height) in points of a node as the DOT writer draws it."""
    parts = [_block(wrap(title, TITLE_WIDTH if not rows else ROW_WIDTH), TITLE_SIZE)]
    for note in notes:
        parts.append(_block(wrap(note, NOTE_WIDTH), NOTE_SIZE))
    for row in rows:
        parts.append(_block(wrap(row, ROW_WIDTH), ROW_SIZE))
        parts[-1] = (parts[-1][0], parts[-1][1] + 4)
    width = max(p[0] for p in parts) + 2 * _MARGIN_X + 12
    height = sum(p[1] for p in parts) + 2 * _MARGIN_Y + 8
    return max(width, 54.0), max(height, 36.0)


def _legend_size(view: View) -> tuple[float, float]:
    from .style import EDGE_LOOKS, NODE_LOOKS

    captions = [NODE_LOOKS[k].caption if k in NODE_LOOKS else EDGE_LOOKS[k].caption for k in view.legend]
    if not captions:
        return 0.0, 0.0
    columns = 2 if len(captions) > 6 else 1
    height = -(-len(captions) // columns)
    notes = [line for note in view.legend_notes for line in wrap(note, 44 * columns)]
    width = columns * (max(len(c) for c in captions) * 14 * _CHAR + 40)
    width = max(width, max((len(n) for n in notes), default=0) * 14 * _CHAR)
    return width + 10, (height + 1 + len(notes)) * 14 * 1.35 + 12


def _ranks(view: View) -> dict[str, int]:
    """Longest-path ranks over the edges that constrain the layout (cycles broken at back edges)."""
    names = [n.name for n in view.nodes]
    succ: dict[str, list[str]] = {n: [] for n in names}
    indeg = {n: 0 for n in names}
    for e in view.edges:
        if e.constraint and e.tail in succ and e.head in succ:
            succ[e.tail].append(e.head)
            indeg[e.head] += 1
    rank = {n: 0 for n in names}
    queue = deque(n for n in names if indeg[n] == 0)
    seen: set[str] = set()
    unplaced = iter(names)
    while len(seen) < len(names):
        if not queue:  # a cycle: start again from the first node not yet placed
            queue.append(next(n for n in unplaced if n not in seen))
        node = queue.popleft()
        if node in seen:
            continue
        seen.add(node)
        for nxt in succ[node]:
            if nxt in seen:
                continue
            rank[nxt] = max(rank[nxt], rank[node] + 1)
            indeg[nxt] -= 1
            if indeg[nxt] <= 0:
                queue.append(nxt)
    top = max(rank.values(), default=0)
    for n in view.nodes:
        if n.rank == "min":
            rank[n.name] = 0
        elif n.rank == "max":
            rank[n.name] = top
    return rank


def estimate(view: View, rankdir: str, *, legend_top: bool = False) -> tuple[float, float]:
    """Estimated (width, height) in points of the drawing laid out in ``rankdir`` (``TB`` or ``LR``).

    Each side cluster, the nodes of no side and the legend take their own
    band across the ranks (a cluster's box cannot overlap another's), so
    bands add up across the ranks and ranks add up along them.
    """
    ranks = _ranks(view)
    band_of = {n.name: n.side if any(n.side == s for s, _ in view.clusters) else "" for n in view.nodes}
    sizes = {n.name: node_size(n.title, n.notes, n.rows) for n in view.nodes}
    bands: dict[str, dict[int, list[tuple[float, float]]]] = {}
    for name, r in ranks.items():
        bands.setdefault(band_of[name] or "", {}).setdefault(r, []).append(sizes[name])
    # an edge across several ranks passes each rank between as a thin virtual node
    for e in view.edges:
        if e.constraint and e.tail in ranks and e.head in ranks:
            low, high = sorted((ranks[e.tail], ranks[e.head]))
            for r in range(low + 1, high):
                bands.setdefault(band_of[e.tail] or "", {}).setdefault(r, []).append(_VIRTUAL)
    legend = _legend_size(view)
    spine = len(view.clusters) > 1  # points on a rank of their own keep the sides in order (see the DOT writer)
    legend_alone = rankdir == "TB" and (spine or legend_top)  # the legend on a rank of its own, above everything
    if legend[0] and not legend_alone:
        bands["legend"] = {0: [legend]}
    nodesep, gap = NODESEP * 72, ranksep(rankdir) * 72
    across = 0 if rankdir == "TB" else 1  # the dimension along a rank
    along = 1 - across
    breadth = 0.0
    for band in bands.values():
        widest = max(sum(size[across] for size in row) + nodesep * (len(row) - 1) for row in band.values())
        breadth += widest + nodesep + (20 if band is not bands.get("legend") else 0)
    depth_of: dict[int, float] = {}
    for band in bands.values():
        for r, row in band.items():
            depth_of[r] = max(depth_of.get(r, 0.0), max(size[along] for size in row))
    if spine or legend_alone:
        depth_of[min(depth_of) - 1] = legend[1] if legend_alone else 0.0
    if legend_alone:
        breadth = max(breadth, legend[0])
    depth = sum(depth_of.values()) + gap * (len(depth_of) - 1) + (28 if view.clusters else 0)
    title = GRAPH_TITLE_SIZE * 1.6 * len(wrap(view.title, TITLE_CHARS))
    title_width = min(len(view.title), TITLE_CHARS) * GRAPH_TITLE_SIZE * 0.6 + 20  # bold
    if rankdir == "TB":
        return max(breadth, title_width), depth + title
    return max(depth, title_width), breadth + title


#: The layouts tried: (rankdir, legend on a rank of its own at the top).
LAYOUTS: tuple[tuple[str, bool], ...] = (("TB", False), ("TB", True), ("LR", False))


def choose_layout(view: View) -> tuple[str, bool]:
    """(rankdir, legend on top): whichever shows the drawing largest on a 16:9 slide without being wider.

    A layout fits when its estimated width is at most 1.6 times its height
    (16:9 is 1.78; the margin is for the estimate's error). Of those that
    fit, the one whose text comes out largest on a slide; when none fits,
    the least wide. Ties go to the earlier layout in :data:`LAYOUTS`.
    """
    def scale(size: tuple[float, float]) -> float:
        return min(_SLIDE / max(size[0], 1.0), 1.0 / max(size[1], 1.0))

    candidates = [(r, top) for r, top in LAYOUTS if not top or view.legend]
    sizes = {c: estimate(view, c[0], legend_top=c[1]) for c in candidates}
    fits = [c for c in candidates if sizes[c][0] / max(sizes[c][1], 1.0) <= _WIDEST]
    if not fits:
        return min(candidates, key=lambda c: (sizes[c][0] / max(sizes[c][1], 1.0), candidates.index(c)))
    return max(fits, key=lambda c: (scale(sizes[c]), -candidates.index(c)))


def choose_rankdir(view: View) -> str:
    """``TB`` or ``LR``, as :func:`choose_layout` chooses."""
    return choose_layout(view)[0]
