"""The one place that runs Graphviz's ``dot`` program, and the one place that raises GraphvizNotFound.

Text formats (DOT, Mermaid, JSON, HTML without its diagram) never need
Graphviz. ``dpi`` applies to PNG only (a bitmap); SVG and PDF are vector
formats, and ``dot`` writes a mis-scaled SVG when given a dpi.

>>> pipe("digraph { a -> b }", "svg")[:5]  # doctest: +SKIP
b'<?xml'
"""

from __future__ import annotations

import shutil
import subprocess

from ..errors import GraphvizNotFound, RenderError

__all__ = ["IMAGE_FORMATS", "DEFAULT_DPI", "INSTALL_HINT", "pipe", "dot_available"]

IMAGE_FORMATS: tuple[str, ...] = ("svg", "png", "pdf")
#: Graphviz's own default resolution for bitmaps.
DEFAULT_DPI = 96
INSTALL_HINT = "install Graphviz: apt-get install graphviz / brew install graphviz"


def dot_available() -> bool:
    """True when Graphviz's ``dot`` is on the PATH."""
    return shutil.which("dot") is not None


def pipe(source: str, format: str, *, dpi: int | None = None) -> bytes:
    """Render DOT ``source`` to ``format`` (svg, png, pdf) with Graphviz ``dot``.

    Raises :class:`~hipkb.errors.GraphvizNotFound` when ``dot`` is not
    installed, :class:`~hipkb.errors.RenderError` when it fails.
    """
    if format not in IMAGE_FORMATS:
        raise RenderError(f"dot cannot write {format!r} here; formats: {', '.join(IMAGE_FORMATS)}")
    program = shutil.which("dot")
    if program is None:
        raise GraphvizNotFound("Graphviz's 'dot' program was not found", hint=INSTALL_HINT)
    args = [program, f"-T{format}"]
    if dpi is not None:
        if format != "png":
            raise RenderError(f"a resolution (dpi) applies to png only, not {format}")
        args.append(f"-Gdpi={int(dpi)}")
    try:
        proc = subprocess.run(args, input=source.encode("utf-8"), capture_output=True, check=False)
    except FileNotFoundError:
        raise GraphvizNotFound("Graphviz's 'dot' program was not found", hint=INSTALL_HINT) from None
    except OSError as exc:
        raise RenderError(f"cannot run Graphviz 'dot': {exc.strerror or exc}", hint=INSTALL_HINT) from None
    if proc.returncode != 0 or not proc.stdout:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = next((line for line in detail if line.strip()), f"exit status {proc.returncode}")
        raise RenderError(f"Graphviz 'dot' failed: {first}")
    return proc.stdout
