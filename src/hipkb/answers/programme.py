"""The programme on one side: what it contains, in what order, and whether it waits for a test.

DESIGN's programme is the four strategies, ``start_on_ground``, the three
exercises, ``avoid_stretching_in_isolation`` and ``retest_after_programme``;
it exists only where ``ir_limited`` holds. Called only by a *predicted*
limitation, it is pending its test: measure supine IR first. What a pinch
calls for (the referral, the caution that holds the step-up back) is not
part of it, but comes first. The report, the HTML report, the cards and
the practice grader all read the programme from here.

>>> import hipkb
>>> p = programme(hipkb.assess("examples/demo-01.yaml"), "left")
>>> p.exists, p.pending, p.steps
(True, False, ('arm_bar', 'front_foot_elevated_split_squat', 'cable_crossover_step_up'))
>>> programme(hipkb.assess({"findings": {"straight_leg_raise": {"left": 40}}}), "left").first_step
'assess_supine_hip_ir'
"""

from __future__ import annotations

from ..model import Side
from ..record import record
from ..result import RecommendationResult, Result

__all__ = ["PROGRAMME_IDS", "Programme", "programme"]

#: The recommendations that make up a programme (DESIGN rule 6), stable ids.
PROGRAMME_IDS: tuple[str, ...] = (
    "influence_pelvic_position",
    "integrate_foot_and_ribcage",
    "open_posterior_pelvis_and_hip",
    "shift_centre_of_gravity",
    "start_on_ground",
    "arm_bar",
    "front_foot_elevated_split_squat",
    "cable_crossover_step_up",
    "avoid_stretching_in_isolation",
    "retest_after_programme",
)
_MEASURE_FIRST = "assess_supine_hip_ir"
_REFERRAL = "refer_for_fai_evaluation"


@record
class Programme:
    """The programme on one side.

    ``steps``: the exercises in this person's order (their ``order`` is the
    position here); ``first_step``: what to do first (the supine IR
    measurement when the programme is ``pending``, else the first exercise);
    ``referral``: a referral to act on before any programme; ``cautions``:
    the cautions on this side (what to avoid, what is held back and why).
    """

    side: Side
    exists: bool
    pending: bool
    items: tuple[RecommendationResult, ...]
    exercises: tuple[RecommendationResult, ...]
    referral: RecommendationResult | None
    cautions: tuple[RecommendationResult, ...]

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.exercises)

    @property
    def first_step(self) -> str | None:
        if self.pending:
            return _MEASURE_FIRST
        return self.steps[0] if self.steps else None


def programme(result: Result, side: Side) -> Programme:
    """The programme on ``side`` of ``result`` (``exists`` is False where IR is not limited)."""
    limited = result.conclusion("ir_limited", side) if "ir_limited" in result.kb.states else None
    mine = [r for r in result.recommendations if r.side == side]
    items = tuple(r for r in mine if r.id in PROGRAMME_IDS)
    exercises = tuple(sorted((r for r in items if r.kind == "exercise"), key=lambda r: r.order or 0))
    referral = next((r for r in mine if r.id == _REFERRAL), None)
    cautions = tuple(r for r in mine if r.kind == "caution" and r.id != _REFERRAL)
    return Programme(
        side=side,
        exists=limited is not None,
        pending=limited is not None and limited.status == "predicted",
        items=items,
        exercises=exercises,
        referral=referral,
        cautions=cautions,
    )
