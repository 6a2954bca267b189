"""Measurement uncertainty in the core: each reading's ``measurement`` and the borderline readings items rest on.

The specification (DESIGN "Measurement uncertainty", docs/reasoning.md,
kb/thresholds.yaml): ``margin`` = value − threshold; ``borderline`` when
|margin| < mdc, strictly; supine IR mdc 6.1° (Gradoz et al. 2018, the lower
end of 6.1–8.6°), straight leg raise and hip flexion 6° (interpretation);
thresholds 25° (supine IR), 50° (SLR), 100° (hip flexion), 10° (asymmetry);
``ir_asymmetry`` measures the side-to-side difference with the supine IR
mdc. Overrides: call > case file > KB. Every number below is a literal from
that text, never read from the code.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import hipkb
from hipkb.cli.common import cli


def assess(findings, **kwargs):
    return hipkb.assess({"findings": findings}, **kwargs)


def measurement(result, state, side):
    conclusion = result.conclusion(state, side)
    assert conclusion is not None, f"{state}/{side} should hold"
    return conclusion.measurement


# --------------------------------------------------------------------------
# The measurement dict (DESIGN's JSON)


def test_measurement_dict_of_demo_01_as_design_shows():
    result = hipkb.assess("examples/demo-01.yaml")
    data = {(c["id"], c["side"]): c for c in result.to_dict()["conclusions"]}
    assert data[("ir_limited", "left")]["measurement"] == {
        "finding": "supine_hip_ir", "side": "left", "value": 12, "threshold": 25,
        "margin": -13, "mdc": 6.1, "borderline": False,
    }
    assert data[("ir_within_range", "right")]["measurement"] == {
        "finding": "supine_hip_ir", "side": "right", "value": 40, "threshold": 25,
        "margin": 15, "mdc": 6.1, "borderline": False,
    }
    # read directly from the SLR reading: 45 vs 50, 5° off, within the 6° mdc
    for state in ("pelvis_not_internally_rotating", "sacrum_not_nutating"):
        assert data[(state, "left")]["measurement"] == {
            "finding": "straight_leg_raise", "side": "left", "value": 45, "threshold": 50,
            "margin": -5, "mdc": 6, "borderline": True,
        }
    for state in ("pelvis_internally_rotating", "sacrum_nutating", "posterior_hip_allows_ir"):
        assert data[(state, "right")]["measurement"]["margin"] == 35
        assert data[(state, "right")]["measurement"]["borderline"] is False


def test_the_capsule_read_from_the_ir_drop_carries_the_ir_reading():
    result = assess({"supine_hip_ir": {"left": 20}})
    m = measurement(result, "posterior_capsule_closed", "left")
    assert (m.finding, m.side, m.value, m.threshold, m.margin, m.mdc, m.borderline) == (
        "supine_hip_ir", "left", 20, 25, -5, 6.1, True)


def test_a_state_not_read_from_a_reading_has_no_measurement():
    result = assess({"supine_hip_ir": {"left": 20}})
    assert result.conclusion("posterior_hip_space_lacking", "left").measurement is None
    space = [c for c in result.to_dict()["conclusions"] if c["id"] == "posterior_hip_space_lacking"][0]
    assert space["measurement"] is None


# --------------------------------------------------------------------------
# Borderline on both sides of each threshold (strict)


@pytest.mark.parametrize("value, state, margin, borderline", [
    (12, "ir_limited", -13, False),
    (18, "ir_limited", -7, False),
    (19, "ir_limited", -6, True),       # 6 < 6.1
    (24, "ir_limited", -1, True),
    (25, "ir_within_range", 0, True),   # at the threshold: within range, margin 0, borderline
    (26, "ir_within_range", 1, True),
    (31, "ir_within_range", 6, True),
    (32, "ir_within_range", 7, False),
    (40, "ir_within_range", 15, False),
])
def test_supine_ir_borderline_around_25(value, state, margin, borderline):
    m = measurement(assess({"supine_hip_ir": {"right": value}}), state, "right")
    assert (m.value, m.threshold, m.margin, m.mdc, m.borderline) == (value, 25, margin, 6.1, borderline)


@pytest.mark.parametrize("value, margin, borderline", [(19, -6, False), (20, -5, True), (25, 0, True),
                                                       (30, 5, True), (31, 6, False)])
def test_a_margin_equal_to_the_mdc_is_not_borderline(value, margin, borderline):
    m = measurement(assess({"supine_hip_ir": {"left": value}}, mdc={"supine_hip_ir": 6}),
                    "ir_limited" if value < 25 else "ir_within_range", "left")
    assert (m.margin, m.mdc, m.borderline) == (margin, 6, borderline)


@pytest.mark.parametrize("value, states, margin, borderline", [
    (44, ("pelvis_not_internally_rotating", "sacrum_not_nutating"), -6, False),
    (45, ("pelvis_not_internally_rotating", "sacrum_not_nutating"), -5, True),
    (49, ("pelvis_not_internally_rotating", "sacrum_not_nutating"), -1, True),
    (50, ("pelvis_internally_rotating", "sacrum_nutating", "posterior_hip_allows_ir"), 0, True),
    (55, ("pelvis_internally_rotating", "sacrum_nutating", "posterior_hip_allows_ir"), 5, True),
    (56, ("pelvis_internally_rotating", "sacrum_nutating", "posterior_hip_allows_ir"), 6, False),
])
def test_straight_leg_raise_borderline_around_50(value, states, margin, borderline):
    result = assess({"straight_leg_raise": {"left": value}})
    for state in states:
        m = measurement(result, state, "left")
        assert (m.finding, m.value, m.threshold, m.margin, m.mdc, m.borderline) == (
            "straight_leg_raise", value, 50, margin, 6, borderline)


@pytest.mark.parametrize("value, margin, borderline", [(80, -20, False), (94, -6, False), (95, -5, True),
                                                       (99, -1, True)])
def test_hip_flexion_borderline_below_100(value, margin, borderline):
    m = measurement(assess({"supine_hip_flexion": {"left": value}}), "hip_flexion_limited", "left")
    assert (m.value, m.threshold, m.margin, m.mdc, m.borderline) == (value, 100, margin, 6, borderline)


def test_hip_flexion_at_its_threshold_is_not_limited():
    assert not assess({"supine_hip_flexion": {"left": 100}}).holds("hip_flexion_limited", "left")


def test_margin_zero_is_borderline_only_when_the_mdc_is_positive():
    assert measurement(assess({"supine_hip_ir": {"left": 25}}), "ir_within_range", "left").borderline is True
    m = measurement(assess({"supine_hip_ir": {"left": 25}}, mdc={"supine_hip_ir": 0}), "ir_within_range", "left")
    assert (m.margin, m.mdc, m.borderline) == (0, 0, False)


def test_each_side_is_judged_on_its_own_reading():
    result = assess({"supine_hip_ir": {"left": 23, "right": 12}})
    assert measurement(result, "ir_limited", "left").borderline is True
    assert measurement(result, "ir_limited", "right").borderline is False
    assert result.conclusion("ir_limited", "left").borderline == (("supine_hip_ir", "left"),)
    assert result.conclusion("ir_limited", "right").borderline == ()


# --------------------------------------------------------------------------
# ir_asymmetry: the side-to-side difference, with the supine IR mdc


def test_ir_asymmetry_measures_the_difference_with_the_supine_ir_mdc():
    m = measurement(assess({"supine_hip_ir": {"left": 12, "right": 25}}), "ir_asymmetry", "left")
    assert (m.finding, m.side, m.value, m.threshold, m.margin, m.mdc, m.borderline) == (
        "supine_hip_ir", "left", 13, 10, 3, 6.1, True)
    demo = measurement(hipkb.assess("examples/demo-01.yaml"), "ir_asymmetry", "left")
    assert (demo.value, demo.threshold, demo.margin, demo.mdc, demo.borderline) == (28, 10, 18, 6.1, False)


def test_ir_asymmetry_follows_supine_ir_mdc_and_asymmetry_threshold_overrides():
    findings = {"supine_hip_ir": {"left": 12, "right": 25}}
    assert measurement(assess(findings, mdc={"supine_hip_ir": 3}), "ir_asymmetry", "left").borderline is False
    m = measurement(assess(findings, thresholds={"ir_asymmetry": 12}), "ir_asymmetry", "left")
    assert (m.value, m.threshold, m.margin, m.borderline) == (13, 12, 1, True)
    # differing by exactly the threshold is not "more than": no asymmetry
    assert not assess({"supine_hip_ir": {"left": 15, "right": 25}}).holds("ir_asymmetry", "left")


# --------------------------------------------------------------------------
# What rests on a borderline reading lists it


def test_recommendations_resting_on_a_borderline_reading_list_it():
    result = assess({"supine_hip_ir": {"left": 23}})
    for rec in ("arm_bar", "front_foot_elevated_split_squat", "cable_crossover_step_up", "start_on_ground",
                "shift_centre_of_gravity", "record_pelvic_position"):
        item = result.recommendation(rec, "left")
        assert item is not None and item.borderline == (("supine_hip_ir", "left"),), rec
    data = {(r["id"], r["side"]): r for r in result.to_dict()["recommendations"]}
    assert data[("arm_bar", "left")]["borderline"] == [{"finding": "supine_hip_ir", "side": "left"}]
    # downstream conclusions too, through their premises
    assert result.conclusion("posterior_hip_space_lacking", "left").borderline == (("supine_hip_ir", "left"),)


def test_nothing_is_listed_when_the_reading_is_clear_of_its_threshold():
    result = assess({"supine_hip_ir": {"left": 12}})
    assert all(item.borderline == () for item in (*result.conclusions, *result.recommendations))
    assert all(r["borderline"] == [] for r in result.to_dict()["recommendations"])


def test_a_borderline_slr_reading_reaches_the_pelvic_chain():
    result = hipkb.assess("examples/demo-01.yaml")
    for state in ("inlet_not_closing", "outlet_not_opening", "acetabulum_not_anteverted",
                  "femur_glide_space_lacking", "pelvic_floor_not_ascending"):
        assert result.conclusion(state, "left").borderline == (("straight_leg_raise", "left"),), state
    assert result.recommendation("arm_bar", "left").borderline == ()  # rests on IR 12, clear of 25


# --------------------------------------------------------------------------
# Overrides: case file, API, CLI; the call wins over the case file


def write_case(tmp_path, text):
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_case_file_thresholds_and_mdc(tmp_path):
    path = write_case(tmp_path, "findings:\n  supine_hip_ir: {left: 27}\n"
                                "thresholds:\n  supine_hip_ir: 30\nmdc:\n  supine_hip_ir: 2\n")
    m = measurement(hipkb.assess(path), "ir_limited", "left")
    assert (m.value, m.threshold, m.margin, m.mdc, m.borderline) == (27, 30, -3, 2, False)


def test_the_call_overrides_the_case_file(tmp_path):
    path = write_case(tmp_path, "findings:\n  supine_hip_ir: {left: 20}\nmdc:\n  supine_hip_ir: 3\n")
    assert measurement(hipkb.assess(path), "ir_limited", "left").borderline is False  # 5 vs 3
    m = measurement(hipkb.load_kb().assess(path, mdc={"supine_hip_ir": 8}), "ir_limited", "left")
    assert (m.mdc, m.borderline) == (8, True)
    m = measurement(hipkb.load_kb().assess(path, thresholds={"supine_hip_ir": 22}), "ir_limited", "left")
    assert (m.threshold, m.margin, m.mdc, m.borderline) == (22, -2, 3, True)


def test_slr_and_flexion_mdc_overrides():
    result = assess({"straight_leg_raise": {"left": 45}, "supine_hip_flexion": {"left": 95}},
                    mdc={"straight_leg_raise": 4, "supine_hip_flexion": 10})
    assert measurement(result, "pelvis_not_internally_rotating", "left").borderline is False  # 5 vs 4
    m = measurement(result, "hip_flexion_limited", "left")
    assert (m.margin, m.mdc, m.borderline) == (-5, 10, True)


def test_cli_threshold_and_mdc_overrides_reach_the_measurement(tmp_path):
    path = write_case(tmp_path, "findings:\n  supine_hip_ir: {left: 20}\n")
    runner = CliRunner()
    out = runner.invoke(cli, ["sensitivity", str(path), "--format", "json",
                              "--threshold", "supine_hip_ir=22", "--mdc", "supine_hip_ir=1.5"])
    assert out.exit_code == 0, out.output
    first = json.loads(out.output)["tipping"][0]
    assert (first["tipping_value"], first["distance"], first["mdc"], first["within_mdc"]) == (22, 2, 1.5, False)


# --------------------------------------------------------------------------
# "Strictly" in decimal terms: float subtraction never decides a comparison


def test_a_decimal_margin_equal_to_the_mdc_is_not_borderline():
    m = measurement(assess({"supine_hip_ir": {"left": 20.8}}, mdc={"supine_hip_ir": 4.2}), "ir_limited", "left")
    assert m.to_dict()["margin"] == -4.2
    assert m.borderline is False


def test_sides_exactly_the_threshold_apart_in_tenths_are_not_asymmetric():
    for engine in ("compiled", "experta"):
        assert not assess({"supine_hip_ir": {"left": 6.1, "right": 16.1}}, engine=engine).holds("ir_asymmetry", "left")


def test_only_a_state_read_from_its_own_test_carries_the_measurement(tmp_path) -> None:
    # DESIGN "Measurement uncertainty": "every measured conclusion carries measurement"; reasoning.md: a
    # conclusion read from a reading of its own test (measured or indicated) carries it. A state with no test
    # of its own, concluded from a comparison, is inferred: no measurement of its own, but it still lists the
    # borderline reading it rests on.
    from test_semantics import QUOTE, both_engines, write_kb

    write_kb(
        tmp_path,
        states="- {id: own, label: Own, tested_by: d}\n- {id: other, label: Other}\n",
        findings="- {id: d, label: d, type: degrees, range: [0, 90], sided: true, group: measurement}\n",
        thresholds=f"- {{id: d, value: 20, mdc: {{value: 5, source: {QUOTE}}}, label: t, evidence: clinical-norm, source: {QUOTE}}}\n",
        rules=f"- {{id: r, label: r, when: [{{finding: d, below: d}}], then: [own, other], evidence: coaching-model, source: {QUOTE}}}\n",
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"d": {"left": 18}}})
    own, other = result.conclusion("own", "left"), result.conclusion("other", "left")
    assert own is not None and other is not None
    assert (own.status, other.status) == ("measured", "inferred")
    assert own.measurement is not None and own.measurement.to_dict() == {
        "finding": "d", "side": "left", "value": 18, "threshold": 20, "margin": -2, "mdc": 5, "borderline": True}
    assert other.measurement is None
    assert list(other.borderline) == [("d", "left")] == list(own.borderline)
