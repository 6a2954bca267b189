"""Tipping points in words and in JSON, and two tipping values a fraction of a degree apart.

DESIGN "Measurement uncertainty": ``hipkb sensitivity CASE`` lists, per side,
each measured finding's tipping values (the reading at which some conclusion
or recommendation would appear or go) and the distance from the actual
reading, flagged when within the MDC (strictly); a value is limited when it
is strictly below its threshold; the asymmetry counts when the sides differ
by *more* than 10°. Mutation testing of ``hipkb/answers/sensitivity.py``
showed the words of ``Sensitivity.text()`` unpinned, the JSON's ``op`` and
whole numbers, and the reading the module moves to just past a tipping value
(which must stay short of the next one). The texts are written out and
checked by eye: demo-01's values follow from its readings (IR 12° / 40°, SLR
45° / 85°) and the KB's defaults (IR 25°, SLR 50° with mdc 6°, asymmetry 10°).
"""

from __future__ import annotations

import json

import hipkb

HEADER = [
    '"at 25°" means a reading of 25° already changes it; "below 25°" means any reading under 25° does, 25° itself does not.',
    "Each line lists what changes on crossing that value; going further also brings the changes of the nearer values in "
    "the same direction.",
]
RETEST = ("A tipping value within the measurement error could be crossed by measuring again: retest that reading, with "
          "the same instrument.")


def test_demo_01_in_words() -> None:
    text = hipkb.assess("examples/demo-01.yaml").sensitivity().text()
    assert text.split("\n") == [
        "Tipping points for demo-01: the readings at which a conclusion or recommendation would appear or go.",
        *HEADER,
        "",
        # 12 < 25: limited; at 25 within range (and what rested on the limitation goes)
        "Left supine IR 12°: at 25° (13° away) IR would be within range, posterior hip capsule closed would no longer "
        "hold and the programme would go (and 6 other changes).",
        # 40 − 12 = 28 > 10: asymmetric; at 40 − 10 = 30 the sides differ by exactly 10, not more
        "Left supine IR 12°: at 30° (18° away) IR would no longer count as lower than on the other side.",
        # above 40 + 10 = 50 the right is the lower side
        "Left supine IR 12°: above 50° (38° away) on the right, IR would count as lower than on the other side.",
        "Left straight leg raise 45°: at 50° (5° away, within the 6° measurement error) muscles at the back of the hip "
        "allow internal rotation, pelvis internally rotating and sacrum nutating would hold instead of pelvis not "
        "internally rotating and sacrum not nutating (and 6 other changes).",
        "",
        "Right supine IR 40°: below 25° (15° away) IR would be limited, posterior hip capsule closed would hold and the "
        "programme would be recommended (and 6 other changes).",
        "Right supine IR 40°: at 22° (18° away) on the left, IR would no longer count as lower than on the other side.",
        "Right supine IR 40°: below 2° (38° away) IR would count as lower than on the other side.",
        "Right straight leg raise 85°: below 50° (35° away) pelvis not internally rotating and sacrum not nutating would "
        "hold instead of muscles at the back of the hip allow internal rotation, pelvis internally rotating and sacrum "
        "nutating (and 5 other changes).",
        "",
        RETEST,
        "",
    ]


def test_a_case_without_readings_has_nothing_to_move() -> None:
    text = hipkb.assess({"findings": {"hip_hike": "left"}}).sensitivity().text()
    assert text.split("\n") == [
        "Tipping points: the readings at which a conclusion or recommendation would appear or go.", *HEADER, "",
        "No measurement was entered: nothing to move.", ""]


def test_full_detail_lists_every_change_with_its_id_and_side() -> None:
    result = hipkb.assess({"subject": "x", "findings": {"supine_hip_ir": {"left": 23}}})
    lines = result.sensitivity().text(detail="full").split("\n")
    assert lines[0] == "Tipping points for x: the readings at which a conclusion or recommendation would appear or go."
    assert lines[4].startswith("Left supine IR 23°: at 25° (2° away, within the 6.1° measurement error) IR would be within range")
    assert lines[5:8] == [
        "    goes: Hip internal rotation limited [ir_limited/left]",
        "    appears: Hip internal rotation within range [ir_within_range/left]",
        "    goes: Posterior hip capsule closed [posterior_capsule_closed/left]",
    ]
    assert lines[-3:] == ["", RETEST, ""]


def test_a_reading_that_changes_nothing_says_so_with_its_range() -> None:
    # hip flexion is compared with its own threshold only (hip_flexion_limited, reasoning.md rule 1): with the
    # threshold overridden to 0° no reading in its valid range [0, 160] is below it, so nothing can tip.
    text = hipkb.assess({"findings": {"supine_hip_flexion": {"left": 120}}}, thresholds={"supine_hip_flexion": 0}).sensitivity().text()
    assert "Left hip flexion 120°: nothing would change anywhere in its range (0–160°)." in text.split("\n")


def test_a_tipping_point_in_json() -> None:
    # DESIGN: {"tipping": [{"finding", "side", "value", "tipping_value", "distance", "within_mdc", "changes": [{"id",
    # "side", "appears"|"goes"}]}]}, whole degrees as integers; op says which side of the value brings the change.
    point = hipkb.assess({"findings": {"supine_hip_ir": {"left": 23}}}).sensitivity().to_dict()["tipping"][0]
    assert json.dumps({k: v for k, v in point.items() if k != "changes"}) == (
        '{"finding": "supine_hip_ir", "side": "left", "value": 23, "tipping_value": 25, "op": "at_least", "distance": 2, '
        '"mdc": 6.1, "within_mdc": true}')
    assert point["changes"][:2] == [{"id": "ir_limited", "side": "left", "goes": True},
                                    {"id": "ir_within_range", "side": "left", "appears": True}]


def tipping(findings: dict[str, object], side: str) -> list[tuple[str, float, list[tuple[str, str, str]]]]:
    points = hipkb.assess({"findings": findings}).sensitivity().tipping
    return [(t.op, t.tipping_value, [(c.id, c.side, "appears" if c.appears else "goes") for c in t.changes])
            for t in points if t.side == side and t.finding == "supine_hip_ir"]


def test_two_tipping_values_a_fraction_of_a_degree_apart_stay_apart_going_up() -> None:
    # Left IR 20, right 35.005: limited below 25 (within range from 25 on); asymmetric while 35.005 − x > 10, i.e.
    # below 25.005. Going up, IR is within range at 25 and only at 25.005 stops being the lower side; a reading of
    # 25.003 is within range *and* still lower by more than 10.
    (first, second, *_) = tipping({"supine_hip_ir": {"left": 20, "right": 35.005}}, "left")
    assert (first[0], first[1], first[2][:2]) == ("at_least", 25.0, [("ir_limited", "left", "goes"), ("ir_within_range", "left", "appears")])
    assert second == ("at_least", 25.005, [("ir_asymmetry", "left", "goes")])


def test_two_tipping_values_a_fraction_of_a_degree_apart_stay_apart_going_down() -> None:
    # Left IR 27, right 35.005: going down, the left becomes the lower side below 25.005, and limited only below 25.
    (first, second, *_) = tipping({"supine_hip_ir": {"left": 27, "right": 35.005}}, "left")
    assert first == ("below", 25.005, [("ir_asymmetry", "left", "appears")])
    assert (second[0], second[1], second[2][:2]) == ("below", 25.0, [("ir_limited", "left", "appears"), ("ir_within_range", "left", "goes")])


def test_a_reading_exactly_at_its_threshold_tips_both_ways() -> None:
    # Left IR 25 = the threshold: within range (strictly below is limited); any reading under 25 is limited
    # (distance 0, within the MDC: the reading is borderline, DESIGN "Measurement uncertainty"). Upwards, the
    # asymmetry with the right's 40 goes at 30 and the right becomes the lower side above 50. ``probe`` is the
    # reading each rerun used: the value itself, or just past it.
    points = hipkb.assess({"findings": {"supine_hip_ir": {"left": 25, "right": 40}}}).sensitivity().tipping
    assert [(t.side, t.op, t.tipping_value, t.distance, t.within_mdc, t.probe, (t.changes[0].id, t.changes[0].side))
            for t in points] == [
        ("left", "below", 25.0, 0.0, True, 24.99, ("ir_limited", "left")),
        ("left", "at_least", 30.0, 5.0, True, 30.0, ("ir_asymmetry", "left")),
        ("left", "above", 50.0, 25.0, False, 50.01, ("ir_asymmetry", "right")),
        ("right", "at_most", 35.0, 5.0, True, 35.0, ("ir_asymmetry", "left")),
        ("right", "below", 25.0, 15.0, False, 24.99, ("ir_limited", "right")),
        ("right", "below", 15.0, 25.0, False, 14.99, ("ir_asymmetry", "right")),
    ]


def test_readings_and_tipping_values_are_listed_left_then_right() -> None:
    # DESIGN: sides "in a fixed order (left, then right)"; within a side, the KB's order of findings.
    s = hipkb.assess("examples/demo-01.yaml").sensitivity()
    assert [(r.side, r.finding) for r in s.readings] == [
        ("left", "supine_hip_ir"), ("left", "straight_leg_raise"), ("right", "supine_hip_ir"), ("right", "straight_leg_raise")]
    assert [(t["side"], t["finding"]) for t in s.to_dict()["tipping"]] == [
        ("left", "supine_hip_ir")] * 3 + [("left", "straight_leg_raise")] + [("right", "supine_hip_ir")] * 3 + [
        ("right", "straight_leg_raise")]
