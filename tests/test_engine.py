"""The engine's semantics, rule by rule (DESIGN.md "What the engine must conclude").

Each test states a case and the conclusions, statuses, sides and derivation
paths a user relies on. Scenario files under tests/cases/ cover the same
ground as data; these tests pin the semantics that are easiest to read in code.
"""

from __future__ import annotations

import json

import pytest

import hipkb
from conftest import keys

SIDES = ("left", "right")
OTHER = {"left": "right", "right": "left"}


def run(kb, findings, **kw):
    return kb.assess({"findings": findings}, **kw)


def just(result, item, side):
    found = result.conclusion(item, side) or result.recommendation(item, side)
    assert found is not None, f"{item}/{side} not in result"
    return {(j.rule, tuple(f"{i}/{s}" if s else i for i, s in j.because)) for j in found.justifications}


# -- 1. IR measurement and asymmetry ---------------------------------------


@pytest.mark.parametrize("side", SIDES)
def test_ir_below_threshold_is_measured_limited(kb, side):
    result = run(kb, {"supine_hip_ir": {side: 12, OTHER[side]: 40}})
    limited = result.conclusion("ir_limited", side)
    assert limited.status == "measured"
    assert just(result, "ir_limited", side) == {("ir_measured_limited", (f"supine_hip_ir/{side}",))}
    assert result.conclusion("ir_within_range", OTHER[side]).status == "measured"
    assert not result.holds("ir_limited", OTHER[side])


@pytest.mark.parametrize("side", SIDES)
def test_asymmetry_on_lower_side_only_when_difference_exceeds_threshold(kb, side):
    result = run(kb, {"supine_hip_ir": {side: 30, OTHER[side]: 41}})
    assert result.conclusion("ir_asymmetry", side).status == "measured"
    assert not result.holds("ir_asymmetry", OTHER[side])
    equalish = run(kb, {"supine_hip_ir": {side: 30, OTHER[side]: 40}})  # differ by exactly 10: not more
    assert not equalish.holds("ir_asymmetry", side)


def test_threshold_is_strict(kb):
    at = run(kb, {"supine_hip_ir": {"left": 25}})
    assert at.holds("ir_within_range", "left") and not at.holds("ir_limited", "left")
    below = run(kb, {"supine_hip_ir": {"left": 24.9}})
    assert below.holds("ir_limited", "left")


# -- 2. capsule, confounders, flexion ----------------------------------------


@pytest.mark.parametrize("side", SIDES)
def test_limited_ir_without_confounder_concludes_capsule(kb, side):
    result = run(kb, {"supine_hip_ir": {side: 12}})
    capsule = result.conclusion("posterior_capsule_closed", side)
    assert capsule.status == "inferred"
    assert just(result, "posterior_capsule_closed", side) == {
        ("capsule_closed_from_ir_drop", (f"ir_limited/{side}", f"supine_hip_ir/{side}")),
    }
    assert result.holds("open_posterior_pelvis_and_hip", side)
    assert result.holds("front_foot_elevated_split_squat", side)
    assert result.holds("avoid_stretching_in_isolation", side)


@pytest.mark.parametrize("side", SIDES)
def test_low_flexion_adds_a_second_capsule_justification(kb, side):
    result = run(kb, {"supine_hip_ir": {side: 12}, "supine_hip_flexion": {side: 90}})
    rules = {rule for rule, _ in just(result, "posterior_capsule_closed", side)}
    assert rules == {"capsule_closed_from_ir_drop", "capsule_closed_from_ir_and_flexion_drop"}
    assert result.conclusion("hip_flexion_limited", side).status == "measured"


@pytest.mark.parametrize("confounder", ["pelvis_forward", "pelvis_turned_away"])
@pytest.mark.parametrize("side", SIDES)
def test_confounder_blocks_capsule_and_asks_for_retest(kb, side, confounder):
    result = run(kb, {"supine_hip_ir": {side: 12, OTHER[side]: 12}, confounder: side})
    assert not result.holds("posterior_capsule_closed", side)
    assert result.holds("ir_test_confounded_by_pelvis", side)
    assert result.holds("retest_supine_ir_pelvis_neutral", side)
    # the other side is not confounded, so its capsule is concluded
    assert result.holds("posterior_capsule_closed", OTHER[side])
    assert not result.holds("ir_test_confounded_by_pelvis", OTHER[side])


def test_predicted_ir_limitation_never_concludes_capsule(kb):
    result = run(kb, {"straight_leg_raise": {"left": 40}})
    assert result.conclusion("ir_limited", "left").status == "predicted"
    assert not result.holds("posterior_capsule_closed", "left")


# -- 3. straight leg raise -----------------------------------------------------


@pytest.mark.parametrize("side", SIDES)
def test_slr_at_threshold_means_pelvis_rotates_and_sacrum_nutates(kb, side):
    result = run(kb, {"straight_leg_raise": {side: 60}})
    for state in ("pelvis_internally_rotating", "sacrum_nutating", "posterior_hip_allows_ir"):
        assert result.conclusion(state, side).status == "measured"
    assert not result.holds("pelvis_not_internally_rotating", side)
    assert not any(c.side == OTHER[side] for c in result.conclusions)


@pytest.mark.parametrize("side", SIDES)
def test_slr_below_threshold_is_the_marked_converse(kb, side):
    result = run(kb, {"straight_leg_raise": {side: 45}})
    for state in ("pelvis_not_internally_rotating", "sacrum_not_nutating"):
        conclusion = result.conclusion(state, side)
        assert conclusion.status == "measured"
        assert conclusion.evidence == "interpretation"
    assert kb.rule("slr_space_lacking").source.interpretation


# -- 4. the causal chain -------------------------------------------------------

CHAIN = [
    ("inlet_not_closing", "pelvis_not_internally_rotating"),
    ("outlet_not_opening", "inlet_not_closing"),
    ("acetabulum_not_anteverted", "outlet_not_opening"),
    ("femur_glide_space_lacking", "acetabulum_not_anteverted"),
    ("pelvic_floor_not_ascending", "outlet_not_opening"),
]


@pytest.mark.parametrize("side", SIDES)
def test_chain_predicts_ir_limited_where_ir_not_measured(kb, side):
    result = run(kb, {"straight_leg_raise": {side: 40}})
    for state, cause in CHAIN:
        conclusion = result.conclusion(state, side)
        assert conclusion.status == "inferred"
        assert {b for _, b in just(result, state, side)} == {(f"{cause}/{side}",)}
    assert just(result, "ir_limited", side) == {("femur_glide_space_enables_ir", (f"femur_glide_space_lacking/{side}",))}
    assert result.holds("assess_supine_hip_ir", side)  # a prediction asks for its own test


def test_chain_is_a_second_justification_when_ir_measured_low(kb):
    result = run(kb, {"supine_hip_ir": {"left": 12}, "straight_leg_raise": {"left": 40}})
    limited = result.conclusion("ir_limited", "left")
    assert limited.status == "measured"
    assert [j.rule for j in limited.justifications] == ["ir_measured_limited", "femur_glide_space_enables_ir"]
    assert not result.holds("assess_supine_hip_ir", "left")


def test_measurement_wins_over_the_chain(kb):
    result = run(kb, {"supine_hip_ir": {"left": 35}, "straight_leg_raise": {"left": 40}})
    assert not result.holds("ir_limited", "left")
    assert result.conclusion("ir_within_range", "left").status == "measured"
    (disagreement,) = result.disagreements
    assert disagreement.side == "left"
    assert disagreement.kept.id == "ir_within_range"
    assert [c.id for c in disagreement.dropped] == ["ir_limited"]
    assert disagreement.dropped[0].status == "predicted"
    # nothing that rested on the dropped prediction survives
    for rec in ("cable_crossover_step_up", "shift_centre_of_gravity", "assess_squat", "assess_supine_hip_ir"):
        assert not result.holds(rec, "left")
    # the chain itself (which the measurement does not contradict) stays
    assert result.holds("femur_glide_space_lacking", "left")


def test_no_cyclic_justification(kb):
    result = run(kb, {"supine_hip_ir": {"left": 12}})
    # capsule → posterior space → ir_limited would justify ir_limited by its own consequence
    assert just(result, "ir_limited", "left") == {("ir_measured_limited", ("supine_hip_ir/left",))}
    assert result.holds("posterior_hip_space_lacking", "left")


def test_stiff_rotators_given_chain_to_predicted_ir_limited(kb):
    result = run(kb, {"deep_external_rotators_stiff": "right"})
    assert result.conclusion("deep_external_rotators_stiff", "right").status == "given"
    assert result.conclusion("posterior_hip_space_lacking", "right").status == "inferred"
    assert result.conclusion("ir_limited", "right").status == "predicted"
    assert result.holds("open_posterior_pelvis_and_hip", "right")
    assert not any(c.side == "left" for c in result.conclusions)


def test_given_state_outweighs_prediction_and_measured_outweighs_given(kb):
    given = run(kb, {"pelvis_internally_rotating": "left", "straight_leg_raise": {"left": 40}})
    (d,) = given.disagreements
    assert d.kept.id == "pelvis_not_internally_rotating" and d.kept.status == "measured"
    assert d.dropped[0].id == "pelvis_internally_rotating" and d.dropped[0].status == "given"


# -- 5. compensations ----------------------------------------------------------


@pytest.mark.parametrize("side", SIDES)
def test_compensation_without_ir_measurement_suspects_limitation(kb, side):
    result = run(kb, {"hip_hike": side})
    assert keys(result.conclusions) == {("ir_limitation_suspected", side)}
    assert result.conclusion("ir_limitation_suspected", side).status == "inferred"
    for rec in ("assess_supine_hip_ir", "assess_squat", "assess_toe_touch", "assess_foot_presentation"):
        assert result.holds(rec, side)
    assert not result.holds("integrate_foot_and_ribcage", side)  # hip hike is not a foot/ribcage sign


def test_compensation_with_ir_measured_does_not_suspect(kb):
    result = run(kb, {"hip_hike": "left", "supine_hip_ir": {"left": 40}})
    assert not result.holds("ir_limitation_suspected", "left")


def test_unsided_compensation_takes_part_on_either_side(kb):
    result = run(kb, {"rib_cage_side_bend": True, "supine_hip_ir": {"right": 40}})
    assert result.holds("ir_limitation_suspected", "left")
    assert not result.holds("ir_limitation_suspected", "right")
    assert just(result, "integrate_foot_and_ribcage", "left") == {
        ("integrate_foot_and_ribcage_for_compensations", ("ir_limitation_suspected/left", "rib_cage_side_bend")),
    }


@pytest.mark.parametrize("sign", ["foot_pronation", "knee_valgus", "knee_varus"])
def test_foot_and_knee_signs_call_for_foot_and_ribcage_on_their_side(kb, sign):
    result = run(kb, {sign: "left", "supine_hip_ir": {"left": 12, "right": 12}})
    assert result.holds("integrate_foot_and_ribcage", "left")
    assert not result.holds("integrate_foot_and_ribcage", "right")


def test_limited_ir_without_slr_asks_for_slr(kb):
    result = run(kb, {"supine_hip_ir": {"left": 12}})
    assert result.holds("assess_straight_leg_raise", "left")
    with_slr = run(kb, {"supine_hip_ir": {"left": 12}, "straight_leg_raise": {"left": 80}})
    assert not with_slr.holds("assess_straight_leg_raise", "left")


# -- 6. impingement ------------------------------------------------------------


@pytest.mark.parametrize("pinch,state", [
    ("pinch_in_flexion_ir", "fai_flexion_ir"),
    ("pinch_in_extension_abduction", "fai_extension_abduction"),
])
@pytest.mark.parametrize("side", SIDES)
def test_pinch_gives_fai_presentation_and_refers(kb, pinch, state, side):
    result = run(kb, {pinch: side})
    assert result.conclusion(state, side).status == "inferred"
    assert result.holds("influence_pelvic_position", side)
    assert result.holds("refer_for_fai_evaluation", side)
    refer = result.recommendation("refer_for_fai_evaluation", side)
    assert refer.kind == "caution" and refer.evidence == "clinical-norm"
    assert not result.holds(state, OTHER[side])


# -- 7. programming --------------------------------------------------------------


def test_pelvis_not_rotating_calls_for_ground_work(kb):
    result = run(kb, {"pelvis_not_internally_rotating": "left"})
    for rec in ("influence_pelvic_position", "start_on_ground", "arm_bar"):
        assert result.holds(rec, "left")
    assert result.conclusion("pelvis_not_internally_rotating", "left").status == "given"


def test_exercises_come_in_progression_order(kb):
    result = run(kb, {"supine_hip_ir": {"left": 12}, "straight_leg_raise": {"left": 40}})
    exercises = [r for r in result.recommendations if r.kind == "exercise"]
    assert [(r.id, r.order) for r in exercises] == [
        ("arm_bar", 1), ("front_foot_elevated_split_squat", 2), ("cable_crossover_step_up", 3),
    ]
    kinds = [r.kind for r in result.recommendations]
    assert kinds == sorted(kinds, key=["strategy", "principle", "exercise", "caution", "assessment"].index)


def test_centre_of_gravity_says_direction_depends_on_goal(kb):
    result = run(kb, {"supine_hip_ir": {"left": 12}})
    shift = result.recommendation("shift_centre_of_gravity", "left")
    assert "goal" in shift.summary


def test_recommendation_side_follows_its_conclusion(kb):
    result = run(kb, {"supine_hip_ir": {"left": 12, "right": 40}})
    assert {r.side for r in result.recommendations} == {"left"}


# -- thresholds --------------------------------------------------------------------


def test_thresholds_override_from_api_case_file_and_cli(kb, tmp_path):
    case = {"findings": {"supine_hip_ir": {"left": 28}}}
    assert not run(kb, case["findings"]).holds("ir_limited", "left")
    assert kb.assess(case, thresholds={"supine_hip_ir": 30}).holds("ir_limited", "left")
    in_file = tmp_path / "case.yaml"
    in_file.write_text("findings:\n  supine_hip_ir: {left: 28}\nthresholds:\n  supine_hip_ir: 30\n")
    assert kb.assess(in_file).holds("ir_limited", "left")
    # the call outranks the case file
    assert not kb.assess(in_file, thresholds={"supine_hip_ir": 20}).holds("ir_limited", "left")


def test_cli_threshold_option(tmp_path, capsys):
    from hipkb.cli import main

    case = tmp_path / "case.yaml"
    case.write_text("findings:\n  supine_hip_ir: {left: 28}\n")
    assert main(["assess", str(case), "--format", "json", "--threshold", "supine_hip_ir=30"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["thresholds"]["supine_hip_ir"] == 30
    assert ("ir_limited", "left") in {(c["id"], c["side"]) for c in data["conclusions"]}


def test_unknown_threshold_is_an_input_error(kb):
    with pytest.raises(hipkb.InputError, match="unknown threshold 'supine_hip_irr'.*did you mean 'supine_hip_ir'"):
        kb.assess({"findings": {}}, thresholds={"supine_hip_irr": 30})


# -- the JSON shape -------------------------------------------------------------------


def test_json_shape_of_design(kb, repo):
    data = kb.assess(repo / "examples" / "demo-01.yaml").to_dict()
    assert data["kb"] == {"name": "hipkb", "version": kb.version}
    capsule = next(c for c in data["conclusions"] if c["id"] == "posterior_capsule_closed")
    assert capsule["side"] == "left" and capsule["status"] == "inferred" and capsule["evidence"] == "coaching-model"
    assert capsule["justifications"][0]["because"] == ["ir_limited/left", "supine_hip_ir/left"]
    squat = next(r for r in data["recommendations"] if r["id"] == "front_foot_elevated_split_squat")
    assert (squat["side"], squat["kind"], squat["order"]) == ("left", "exercise", 2)
    assert data["disagreements"] == []


def test_library_does_not_touch_logging_or_collections():
    import collections
    import logging
    import subprocess
    import sys

    code = (
        "import logging, collections, hipkb;"
        "before = list(logging.root.handlers), logging.root.level;"
        "hipkb.assess({'findings': {'supine_hip_ir': {'left': 12}}});"
        "assert (list(logging.root.handlers), logging.root.level) == before, logging.root.handlers;"
        "assert not hasattr(collections, 'Mapping')"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert not hasattr(collections, "Mapping") or sys.version_info < (3, 10)
    assert logging  # imported for the subprocess's sake only
