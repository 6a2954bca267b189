"""The student report, word for word, on seven cases that take its different paths.

The cases come from DESIGN's rules (the scenario each row names in
tests/cases/). Each report under tests/golden/report-*.txt was read by eye
against DESIGN "Answers: report" and docs/reasoning.md when it was written:
the bottom line per side (reading vs threshold or "not measured", the
contributors that hold, a referral first, the first steps or "measure
supine IR first"), conclusions in words, merged recommendations numbered
for this person, disagreements and assumptions in words. They change only
on purpose: ``UPDATE_GOLDEN=1 pytest tests/test_report_golden.py``, then
read ``git diff tests/golden`` before committing.
"""

from __future__ import annotations

import pytest

import hipkb
from conftest import REPO, assert_golden
from hipkb.answers.report import text_report

CASES = {
    # r3: the pelvis forward on the tested side while IR reads low (confounder and contributor)
    "pelvis-forward": {"subject": "pelvis-forward", "findings": {"supine_hip_ir": {"left": 18}, "pelvis_forward": "left"}},
    # r8: a pinch in flexion + IR: the referral first, the loaded step-up withheld
    "pinch": {"subject": "pinch", "findings": {"supine_hip_ir": {"left": 12}, "pinch_in_flexion_ir": "left"}},
    # r7: compensations without a measurement: suspected, "measure supine IR first"
    "compensations-only": {"subject": "compensations-only", "findings": {"hip_hike": "right", "knee_valgus": "right"}},
    # r5: IR measured within range overrules the chain a short SLR predicts
    "overruled": {"subject": "overruled", "findings": {"supine_hip_ir": {"left": 35}, "straight_leg_raise": {"left": 40}}},
    # r5: a limitation given by the assessor, not measured
    "given": {"subject": "given", "findings": {"ir_limited": "left", "deep_external_rotators_stiff": "left"}},
    # r7: a trunk compensation with IR measured on one side only points at the other side
    "unsided-one-measured": {"subject": "unsided-one-measured", "findings": {"supine_hip_ir": {"left": 30}, "lumbar_arch": True}},
}


def check(name: str, text: str) -> None:
    assert_golden(name, text, test_file="tests/test_report_golden.py")


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_brief_report_reads_as_reviewed(name: str) -> None:
    check(f"report-{name}.txt", text_report(hipkb.assess(CASES[name])))


def test_the_full_report_of_the_demo_reads_as_reviewed() -> None:
    check("report-demo-01-full.txt", text_report(hipkb.assess(REPO / "examples" / "demo-01.yaml"), detail="full"))
