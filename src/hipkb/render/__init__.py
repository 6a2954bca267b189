"""Draw reasoning: DOT, Mermaid, JSON, SVG/PNG/PDF and the HTML report.

:func:`render` is the one entry point; the modules behind it load only
when a format needs them (networkx and graphviz are heavy):
:mod:`~hipkb.render.views` (what a picture shows), :mod:`~hipkb.render.layout`
(the direction that fits a slide), :mod:`~hipkb.render.dot`,
:mod:`~hipkb.render.mermaid`, :mod:`~hipkb.render.graphjson`,
:mod:`~hipkb.render.backend` (the one place that runs ``dot``) and
:mod:`~hipkb.render.html` (the report).

``hipkb.render`` stays this function even after ``import hipkb.render``:
the package imports this module eagerly, so the import system never
replaces the function with the module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

if TYPE_CHECKING:
    from ..model import KBModel
    from ..result import Result
    from .views import View

__all__ = [
    "render",
    "TextFormat",
    "BinaryFormat",
    "Format",
    "Detail",
    "FORMATS",
    "SUFFIXES",
    "format_for_path",
]

TextFormat = Literal["dot", "mermaid", "json", "html"]
BinaryFormat = Literal["svg", "png", "pdf"]
Format = Literal["dot", "mermaid", "json", "html", "svg", "png", "pdf"]
Detail = Literal["brief", "full"]
FORMATS: tuple[str, ...] = ("dot", "mermaid", "json", "html", "svg", "png", "pdf")
#: File suffix → format (for ``-o FILE`` without ``--format``).
SUFFIXES: dict[str, str] = {
    ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".json": "json",
    ".html": "html", ".htm": "html", ".svg": "svg", ".png": "png", ".pdf": "pdf",
}
_MIN_DPI, _MAX_DPI = 10, 1200


@overload
def render(
    obj: Result | KBModel, *, format: TextFormat = ..., focus: str | None = ..., side: str | None = ...,
    chain: bool = ..., detail: Detail = ..., rule_ids: bool = ..., legend: bool = ..., dpi: int | None = ...,
) -> str: ...
@overload
def render(
    obj: Result | KBModel, *, format: BinaryFormat, focus: str | None = ..., side: str | None = ...,
    chain: bool = ..., detail: Detail = ..., rule_ids: bool = ..., legend: bool = ..., dpi: int | None = ...,
) -> bytes: ...
def render(
    obj: Result | KBModel,
    *,
    format: Format = "dot",
    focus: str | None = None,
    side: str | None = None,
    chain: bool = False,
    detail: Detail = "brief",
    rule_ids: bool = False,
    legend: bool = True,
    dpi: int | None = None,
) -> str | bytes:
    """Draw a result (its reasoning) or a KB (its model); or write a result's HTML report.

    ``format``: ``dot``, ``mermaid``, ``json``, ``html`` (text, returned as
    ``str``) or ``svg``, ``png``, ``pdf`` (``bytes``, drawn by Graphviz
    ``dot``). Views: a result's reasoning (the default), one item's path
    (``focus``, with ``side`` or on every side where it holds), the pelvic
    chain alone (``chain=True``), or a KB's model in layers (``focus``
    narrows it). ``detail="full"`` draws every item and step with ids;
    ``rule_ids`` puts rule ids on the arrows; ``legend`` (on by default);
    ``dpi`` sets a PNG's resolution (Graphviz's default is 96).

    >>> import hipkb
    >>> text = hipkb.render(hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}}}), format="mermaid")
    >>> text.splitlines()[0]
    'flowchart TB'
    """
    from ..errors import RenderError, suggest

    if format not in FORMATS:
        raise RenderError(f"unknown format {format!r}", hint=suggest(str(format), FORMATS) or "formats: " + ", ".join(FORMATS))
    if dpi is not None:
        if format != "png":
            raise RenderError(f"a resolution (dpi) applies to png only, not {format}")
        if isinstance(dpi, bool) or not isinstance(dpi, int) or not _MIN_DPI <= dpi <= _MAX_DPI:
            raise RenderError(f"dpi must be a whole number from {_MIN_DPI} to {_MAX_DPI}, not {dpi!r}")
    if format == "html":
        from ..result import Result as _Result

        if not isinstance(obj, _Result):
            raise RenderError("the HTML report is of a case: give a result, not a knowledge base")
        if focus is not None or chain or side is not None:
            raise RenderError("the HTML report shows the whole case: leave out the focus, side and chain")
        from .html import html_report

        return html_report(obj, detail=detail)
    view = view_of(obj, focus=focus, side=side, chain=chain, detail=detail, rule_ids=rule_ids, legend=legend)
    if format == "json":
        from .graphjson import to_json

        return to_json(view.meta["graph"])
    if format == "mermaid":
        from .mermaid import to_mermaid

        return to_mermaid(view)
    from .dot import to_dot

    source = to_dot(view)
    if format == "dot":
        return source
    from .backend import pipe

    return pipe(source, format, dpi=dpi)


def view_of(
    obj: Result | KBModel, *, focus: str | None = None, side: str | None = None, chain: bool = False,
    detail: Detail = "brief", rule_ids: bool = False, legend: bool = True,
) -> View:
    """The :class:`~hipkb.render.views.View` that :func:`render` draws for these options."""
    from ..errors import ExplainError, RenderError
    from ..model import KBModel as _KBModel
    from ..result import Result as _Result
    from . import views

    if isinstance(obj, _Result):
        if chain:
            if focus is not None or side is not None:
                raise ExplainError("the chain view shows both sides of the whole chain: leave out the focus and side")
            return views.chain_view(obj, detail=detail, rule_ids=rule_ids, legend=legend)
        if focus is None:
            if side is not None:
                raise ExplainError("a side only applies with a focus item")
            return views.case_view(obj, detail=detail, rule_ids=rule_ids, legend=legend)
        return views.focus_view(obj, focus, side, detail=detail, rule_ids=rule_ids, legend=legend)
    if isinstance(obj, _KBModel):
        if side is not None:
            raise ExplainError("the KB's model has no sides; leave out the side")
        if chain:
            raise ExplainError("the chain view is of a case: give a result")
        return views.model_view(obj, focus=focus, detail=detail, rule_ids=rule_ids, legend=legend)
    raise RenderError(f"cannot draw a {type(obj).__name__}: give a result or a knowledge base")


def format_for_path(path: str | Path) -> str | None:
    """The format a file name asks for by its suffix, or None.

    >>> format_for_path("out/case.svg"), format_for_path("model.mmd"), format_for_path("notes.txt")
    ('svg', 'mermaid', None)
    """
    return SUFFIXES.get(Path(path).suffix.lower())
