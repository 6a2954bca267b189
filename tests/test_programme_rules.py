"""The programme on one side (DESIGN rule 6 and rule 8), as the report, cards and practice read it.

Written against DESIGN.md with literal ids, to pin what mutation testing
showed no other test stating: the programme belongs to the side asked
about, its cautions are the cautions (never the strategies or exercises)
and the referral stands apart from them, and a KB without ``ir_limited``
has no programme at all.
"""

from __future__ import annotations

from pathlib import Path

import hipkb
from hipkb.answers.programme import programme

#: DESIGN rule 8: a pinch in flexion + IR on the left, with IR measured low there.
PINCH_LEFT = {"findings": {"supine_hip_ir": {"left": 12}, "pinch_in_flexion_ir": "left"}}


def test_the_programme_is_the_side_asked_about() -> None:
    result = hipkb.assess(PINCH_LEFT)
    assert programme(result, "left").side == "left"
    assert programme(result, "right").side == "right"
    assert programme(result, None).side is None


def test_cautions_are_the_cautions_and_the_referral_stands_apart() -> None:
    # DESIGN rule 8: the referral (Warwick Agreement) comes first and is not part of the programme;
    # "hold_loaded_ir_with_pinch says why" the step-up is withheld; rule 6: avoid_stretching_in_isolation
    # <- the capsule read from the drop. Strategies and exercises are not cautions.
    left = programme(hipkb.assess(PINCH_LEFT), "left")
    assert [c.id for c in left.cautions] == ["avoid_stretching_in_isolation", "hold_loaded_ir_with_pinch"]
    assert left.referral is not None and left.referral.id == "refer_for_fai_evaluation"
    assert left.steps == ("arm_bar", "front_foot_elevated_split_squat")  # the step-up withheld on a pinching side


def test_a_side_without_recommendations_has_no_cautions() -> None:
    right = programme(hipkb.assess(PINCH_LEFT), "right")
    assert (right.exists, right.cautions, right.referral, right.steps) == (False, (), None, ())


def test_a_kb_without_ir_limited_has_no_programme(tmp_path: Path) -> None:
    # DESIGN: "a KB written for version 1 ... still loads": the programme "exists only where ir_limited
    # holds", so a KB that has no such state has no programme (and asking is not an error).
    from test_semantics import write_kb

    folder = write_kb(tmp_path / "kb", states="- {id: tight, label: Tight}\n")
    result = hipkb.load_kb(folder).assess({"findings": {"tight": "left"}})
    left = programme(result, "left")
    assert (left.exists, left.pending, left.first_step) == (False, False, None)
