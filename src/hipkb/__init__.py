"""hipkb: a cited knowledge base and explainable expert system about hip internal rotation.

>>> import hipkb
>>> result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12, "right": 40}}})
>>> result.holds("ir_asymmetry", "left")
True
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .errors import (
    CaseError,
    ExplainError,
    GraphvizNotFound,
    HipkbError,
    InferenceError,
    InputError,
    KBError,
    RenderError,
)
from .kb import KnowledgeBase, load_kb

if TYPE_CHECKING:
    from .infer import Result

__all__ = [
    "assess",
    "assess_many",
    "load_kb",
    "render",
    "KnowledgeBase",
    "HipkbError",
    "InputError",
    "KBError",
    "CaseError",
    "ExplainError",
    "InferenceError",
    "RenderError",
    "GraphvizNotFound",
]
__version__ = "0.1.0"


def assess(
    case: Mapping[str, Any] | str | Path,
    *,
    kb: KnowledgeBase | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> Result:
    """Assess one case with the bundled KB (or ``kb``). See :meth:`KnowledgeBase.assess`."""
    return (kb or _default_kb()).assess(case, thresholds=thresholds)


@functools.lru_cache(maxsize=1)
def _default_kb() -> KnowledgeBase:
    # The bundled KB is immutable, so one loaded copy per process is shared
    # (a cached value, not state: it never changes after loading).
    return load_kb()


def __getattr__(name: str) -> Any:
    # Heavy parts (networkx, graphviz, multiprocessing) load only when used.
    if name == "render":
        from .render import render

        return render
    if name == "assess_many":
        from .batch import assess_many

        return assess_many
    raise AttributeError(f"module 'hipkb' has no attribute {name!r}")
