"""Draw reasoning: DOT, Mermaid, JSON, SVG/PNG/PDF and the HTML report.

:func:`render` is the one entry point; the modules behind it load only
when a format needs them (networkx and graphviz are heavy).
``hipkb.render`` stays this function even after ``import hipkb.render``:
the package imports this module eagerly, so the import system never
replaces the function with the module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, overload

if TYPE_CHECKING:
    from ..model import KBModel
    from ..result import Result

__all__ = ["render", "TextFormat", "BinaryFormat", "Format", "FORMATS"]

TextFormat = Literal["dot", "mermaid", "json", "html"]
BinaryFormat = Literal["svg", "png", "pdf"]
Format = TextFormat | BinaryFormat
FORMATS: tuple[str, ...] = ("dot", "mermaid", "json", "html", "svg", "png", "pdf")


@overload
def render(obj: Result | KBModel, *, format: TextFormat = ..., **options: Any) -> str: ...
@overload
def render(obj: Result | KBModel, *, format: BinaryFormat, **options: Any) -> bytes: ...
def render(obj: Result | KBModel, *, format: Format = "dot", **options: Any) -> str | bytes:
    """Render a result (or a KB's model) as text (dot, mermaid, json, html) or an image (svg, png, pdf).

    >>> import hipkb
    >>> text = hipkb.render(hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}}}), format="mermaid")
    >>> text.splitlines()[0]
    'flowchart TB'
    """
    from .legacy_render import render as _render

    return _render(obj, format=format, **options)
