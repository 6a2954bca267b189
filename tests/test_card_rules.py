"""What a CDS Hooks card says, in the cases tests/test_cards.py does not reach.

DESIGN "Interfaces": ``result.cards()`` gives one card per recommendation
with its sides merged: ``summary`` (under 140 characters), ``detail`` in
Markdown, ``indicator`` (a referral ``critical``), ``source`` and
``extension: {"hipkb": {"id", "side", "kind", "status", "evidence"}}``
(hipkb.answers.cards: the status and evidence of the strongest side, with
each side's own under ``sides``). Mutation testing of
``hipkb/answers/cards.py`` showed these unpinned: the strongest side when
the sides differ, each side's pending note, what a recommendation rests on
with its reading, the outside source of a referral, a card with no side,
and an exercise numbered differently on each side. Expected values are
written out and checked by eye against DESIGN and docs/reasoning.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hipkb
from test_semantics import QUOTE, write_kb

#: the short SLR predicts limited IR on the left (reasoning.md rule 5); IR is measured low on the right.
PREDICTED_LEFT = {"findings": {"straight_leg_raise": {"left": 40, "right": 40}, "supine_hip_ir": {"right": 12}}}


def card(result: hipkb.Result, rec_id: str) -> dict[str, Any]:
    return next(c for c in result.cards() if c["extension"]["hipkb"]["id"] == rec_id)


def test_a_card_over_both_sides_shows_the_strongest_and_each_side() -> None:
    # DESIGN "Statuses": measured > predicted; "a programme called only by a predicted limitation is shown as
    # pending its test".
    arm_bar = card(hipkb.assess(PREDICTED_LEFT), "arm_bar")
    assert arm_bar["summary"] == "Exercise 1: Arm bar (left, right)."
    assert arm_bar["source"]["topic"] == {"system": "urn:hipkb:recommendation-kind", "code": "exercise", "display": "Exercise"}
    assert arm_bar["extension"]["hipkb"] == {
        "id": "arm_bar", "side": ["left", "right"], "kind": "exercise", "status": "measured", "evidence": "interpretation",
        "order": 1,
        "sides": [{"side": "left", "status": "predicted", "evidence": "interpretation", "order": 1},
                  {"side": "right", "status": "measured", "evidence": "interpretation", "order": 1}],
    }
    detail = arm_bar["detail"].split("\n")
    assert detail[2:5] == [
        "- **Left**: number 1 in this person's list; predicted, not measured; evidence: interpretation; pending a supine IR "
        "measurement: measure it first",
        "  - because: hip internal rotation limited",
        "  - acts on: hip internal rotation limited, pelvis not internally rotating, pelvic inlet not closing",
    ]
    assert detail[5] == "- **Right**: number 1 in this person's list; measured; evidence: interpretation"
    assert detail[-3:] == [
        "> “By rolling over the pelvis, we get the help of the ground and body weight to laterally compress the pelvis "
        "creating the shape of the pelvis we're looking for.” (the article)",
        "", "_A coaching model, not a diagnosis._"]


def test_the_measurement_that_comes_first_is_not_itself_pending() -> None:
    # DESIGN rule 6: a pending programme comes with assess_supine_hip_ir, which is what it waits for.
    measure = card(hipkb.assess(PREDICTED_LEFT), "assess_supine_hip_ir")
    assert measure["detail"].split("\n")[2] == "- **Left**: predicted, not measured; evidence: interpretation"


def test_a_card_says_what_it_rests_on_with_the_reading_what_it_assumes_and_its_interpretation() -> None:
    # reasoning.md: record_pelvic_position <- the capsule read from supine IR below threshold, while either pelvic
    # position is unrecorded (interpretation).
    record = card(hipkb.assess({"findings": {"supine_hip_ir": {"right": 12}}}), "record_pelvic_position")
    assert record["detail"].split("\n")[2:5] == [
        "- **Right**: indicated by a test; evidence: interpretation",
        "  - because: posterior hip capsule closed, supine hip internal rotation at 90° hip flexion 12°",
        "  - assuming (not recorded): no pelvis forward on the tested side during the supine IR test; no pelvis turned "
        "away from the tested side during the supine IR test",
    ]
    assert ("_Interpretation: Reading a low supine IR as a closed capsule assumes the pelvis was neither forward nor turned "
            "away; the KB asks for that to be recorded rather than assumed._") in record["detail"]


def test_a_referral_card_is_critical_and_cites_its_outside_source() -> None:
    # DESIGN rule 8 and "Interfaces": a referral is critical; FAI syndrome needs symptoms, signs and imaging
    # (Griffin et al. 2016, Warwick Agreement).
    referral = card(hipkb.assess({"findings": {"pinch_in_flexion_ir": "left"}}), "refer_for_fai_evaluation")
    assert (referral["summary"], referral["indicator"]) == ("Referral: Refer for clinical evaluation of possible FAI (left).", "critical")
    assert referral["source"]["topic"]["display"] == "Caution"
    detail = referral["detail"].split("\n")
    assert detail[2:4] == [
        "- **Left**: inferred through the model; evidence: interpretation",
        "  - because: possible impingement-type presentation: pinch in hip flexion with IR (not a diagnosis)",
    ]
    assert detail[-3].startswith("Source: Griffin DR, et al. (2016). The Warwick Agreement on femoroacetabular impingement "
                                 "syndrome (FAI syndrome)")
    assert detail[-3].endswith(" The Warwick Agreement: FAI syndrome is diagnosed from symptoms, clinical signs and imaging "
                               "findings together. This tool never diagnoses FAI; it refers.")


def test_a_card_with_no_side() -> None:
    # reasoning.md rule 7: a side-less compensation with IR measured on neither side: a side-less suspicion.
    squat = card(hipkb.assess({"findings": {"lumbar_arch": True}}), "assess_squat")
    assert squat["summary"] == "Assessment: Assess the squat (no side)."
    assert squat["extension"]["hipkb"]["side"] == [None]
    assert squat["detail"].split("\n")[2] == "- **No particular side**: inferred through the model; evidence: interpretation"


def test_an_exercise_numbered_differently_on_each_side_has_no_one_number(tmp_path: Path) -> None:
    # DESIGN: exercise numbers are positions in this person's list, per side; e1 is withheld on the left, so e2 is
    # 1 there and 2 on the right. A long label is cut so that the summary stays under 140 characters.
    def exercise(rid: str, order: int, label: str, when: str) -> str:
        return (f"- {{id: {rid}, kind: exercise, order: {order}, label: \"{label}\", summary: s., evidence: coaching-model, "
                f"source: {QUOTE}, called_for_by: [{{id: {rid}_call, label: r, when: [{when}], evidence: coaching-model, "
                f"source: {QUOTE}}}]}}\n")

    write_kb(tmp_path, states="- {id: s, label: S, tested_by: d}\n",
             findings="- {id: f, label: f, type: boolean, sided: true, group: symptom}\n"
                      "- {id: fs, label: fs, type: boolean, sided: true, group: symptom}\n"
                      "- {id: d, label: d, type: degrees, range: [0, 90], sided: true, group: measurement}\n",
             thresholds=f"- {{id: d, value: 10, label: t, evidence: clinical-norm, source: {QUOTE}}}\n",
             rules=f"- {{id: r_s, label: r, when: [{{finding: fs}}], then: [s], evidence: coaching-model, source: {QUOTE}}}\n",
             recommendations=exercise("e1", 1, "E1", "{state: s}, {not: f}")
             + exercise("e2", 2, " ".join(["A very long exercise name"] * 6), "{state: s}"))
    kb = hipkb.load_kb(tmp_path)
    e2 = card(kb.assess({"findings": {"s": True, "f": "left"}}), "e2")
    assert e2["summary"].startswith("Exercise: A very long exercise name") and e2["summary"].endswith("… (left, right).")
    assert (e2["extension"]["hipkb"]["order"], [s["order"] for s in e2["extension"]["hipkb"]["sides"]]) == (None, [1, 2])
    # predicted (s has a test of its own, concluded without it): the summary says it is pending, and still fits
    pending = card(kb.assess({"findings": {"fs": "left"}}), "e2")["summary"]
    assert pending.endswith("… (left), pending a supine IR measurement.") and len(pending) < 140
