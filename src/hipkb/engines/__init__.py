"""Engines decide which rules fire on a case; both produce the same firings.

A firing is ``(branch index, context)``: one branch of a KB rule (its
``any`` conditions expanded, :attr:`hipkb.model.KBModel.branches`) that
held on the left, on the right, or with no side (None). What the firing
rested on is the model's business (:meth:`hipkb.model.Branch.evaluate`),
so the engines agree on explanations as soon as they agree on firings.

- :mod:`hipkb.engines.compiled`: the default, a plain-Python evaluator
  generated from the KB when it loads.
- :mod:`hipkb.engines.experta`: the reference, stock experta rules built
  from the KB (experta is imported only when this engine is asked for).
"""

from __future__ import annotations

from typing import Iterable, Literal, Mapping, Protocol

from ..model import Key, Side

__all__ = ["ENGINES", "EngineName", "Firing", "Engine"]

EngineName = Literal["compiled", "experta"]
ENGINES: tuple[str, ...] = ("compiled", "experta")
#: (branch index, context)
Firing = tuple[int, Side]


class Engine(Protocol):
    """What an engine does: run one case, return the firings (in any order)."""

    def run(
        self,
        findings: Mapping[Key, float | bool],
        given: Iterable[Key],
        thresholds: Mapping[str, float],
    ) -> list[Firing]: ...
