"""hipkb: a cited knowledge base and explainable expert system about hip internal rotation.

>>> import hipkb
>>> result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12, "right": 40}}})
>>> result.holds("ir_asymmetry", "left")
True
>>> isinstance(result, hipkb.Result)
True
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from .engines import EngineName
from .errors import (
    CaseError,
    ExplainError,
    GraphvizNotFound,
    HipkbError,
    InferenceError,
    InputError,
    KBError,
    RenderError,
    UnknownId,
)
from .infer import CaseInput, KnowledgeBase, load_kb
from .render import render
from .result import Conclusion, Disagreement, Justification, Measurement, RecommendationResult, Result
from .version import __version__

if TYPE_CHECKING:
    from .batch import BatchItem

__all__ = [
    "__version__",
    "assess",
    "assess_many",
    "load_kb",
    "render",
    "KnowledgeBase",
    "Result",
    "Conclusion",
    "RecommendationResult",
    "Disagreement",
    "Justification",
    "Measurement",
    "HipkbError",
    "InputError",
    "KBError",
    "CaseError",
    "UnknownId",
    "ExplainError",
    "InferenceError",
    "RenderError",
    "GraphvizNotFound",
]


def assess(
    case: CaseInput,
    *,
    kb: KnowledgeBase | None = None,
    thresholds: Mapping[str, float] | None = None,
    mdc: Mapping[str, float] | None = None,
    engine: EngineName = "compiled",
) -> Result:
    """Assess one case with the bundled KB (or ``kb``). See :meth:`KnowledgeBase.assess`."""
    return (kb or _default_kb()).assess(case, thresholds=thresholds, mdc=mdc, engine=engine)


def assess_many(
    cases: Iterable[CaseInput],
    *,
    kb: KnowledgeBase | None = None,
    jobs: int = 1,
    thresholds: Mapping[str, float] | None = None,
    mdc: Mapping[str, float] | None = None,
    engine: EngineName = "compiled",
) -> Iterator[BatchItem]:
    """Assess many cases, in input order; a bad case fails its own item only. See :mod:`hipkb.batch`."""
    from .batch import assess_many as _assess_many

    return _assess_many(cases, kb=kb or _default_kb(), jobs=jobs, thresholds=thresholds, mdc=mdc, engine=engine)


@functools.lru_cache(maxsize=1)
def _default_kb() -> KnowledgeBase:
    # The bundled KB is immutable (read-only tables all the way down), so one
    # loaded copy per process is shared: a cached value, not mutable state.
    return load_kb()
