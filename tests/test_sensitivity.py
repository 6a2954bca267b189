"""``hipkb sensitivity`` and ``result.sensitivity()``: tipping values of the measured readings.

Specification (DESIGN "Measurement uncertainty", the sensitivity issue, docs/uncertainty.md):
a tipping value is a reading at which some conclusion or recommendation
would appear or go; ``distance`` = |tipping value − reading|; ``within_mdc``
when distance < mdc, strictly; limited means strictly below the threshold,
so from below the change happens *at* the threshold (``op`` ``at_least``)
and from above only *below* it (``op`` ``below``); for the asymmetry the
candidates are the other side's reading − 10° (this side lower) and + 10°
(the other side lower); a tipping value outside the finding's range is
left out. Numbers are literals from the KB's defaults: supine IR 25° (mdc
6.1°), SLR 50° (mdc 6°), hip flexion 100° (mdc 6°), asymmetry 10°; ranges
IR [0, 90], SLR [0, 150], flexion [0, 160].

The property tests check the answer against what-if reruns made here,
independently of the module: just across each tipping value exactly the
listed changes happen; nothing changes strictly between the reading and its
nearest tipping value, nor between neighbouring tipping values; and any
reading at all gives the actual result with the changes of every tipping
value crossed on the way.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hipkb
from hipkb.answers.sensitivity import Sensitivity, sensitivity
from hipkb.cli import main
from hipkb.cli.common import cli

IR, SLR, FLEX = "supine_hip_ir", "straight_leg_raise", "supine_hip_flexion"
RANGE = {IR: (0, 90), SLR: (0, 150), FLEX: (0, 160)}
PROGRAMME = ("arm_bar", "front_foot_elevated_split_squat", "cable_crossover_step_up", "start_on_ground",
             "shift_centre_of_gravity", "retest_after_programme")


def assess(findings, **kwargs):
    return hipkb.assess({"findings": findings}, **kwargs)


def points(result, finding, side):
    return [t for t in result.sensitivity().tipping if t.finding == finding and t.side == side]


def point_at(result, finding, side, value):
    found = [t for t in points(result, finding, side) if t.tipping_value == value]
    assert len(found) == 1, [(t.tipping_value, t.op) for t in points(result, finding, side)]
    return found[0]


def changes(point):
    return {(c.id, c.side, c.appears) for c in point.changes}


# --------------------------------------------------------------------------
# Exact numbers from the spec


def test_demo_01_left_ir_12_tips_at_25_thirteen_away_not_within_mdc():
    result = hipkb.assess("examples/demo-01.yaml")
    t = point_at(result, IR, "left", 25)
    assert (t.value, t.op, t.distance, t.mdc, t.within_mdc) == (12, "at_least", 13, 6.1, False)
    assert {("ir_limited", "left", False), ("ir_within_range", "left", True),
            ("posterior_capsule_closed", "left", False)} <= changes(t)
    assert {(r, "left", False) for r in PROGRAMME} <= changes(t)
    data = t.to_dict()
    assert {k: data[k] for k in ("finding", "side", "value", "tipping_value", "distance", "within_mdc")} == {
        "finding": "supine_hip_ir", "side": "left", "value": 12, "tipping_value": 25, "distance": 13,
        "within_mdc": False}
    assert {"id": "ir_limited", "side": "left", "goes": True} in data["changes"]
    assert {"id": "ir_within_range", "side": "left", "appears": True} in data["changes"]


def test_demo_01_asymmetry_tipping_values_on_both_sides():
    result = hipkb.assess("examples/demo-01.yaml")  # IR left 12, right 40; asymmetry 10
    # left moves: this side lower until 40 − 10 = 30; the right lower above 40 + 10 = 50
    t = point_at(result, IR, "left", 30)
    assert (t.op, t.distance, changes(t)) == ("at_least", 18, {("ir_asymmetry", "left", False)})
    t = point_at(result, IR, "left", 50)
    assert (t.op, t.distance, changes(t)) == ("above", 38, {("ir_asymmetry", "right", True)})
    # right moves: the left stays lower while right − 12 > 10, so it goes at 22; the right lower below 2
    t = point_at(result, IR, "right", 22)
    assert (t.op, t.distance, changes(t)) == ("at_most", 18, {("ir_asymmetry", "left", False)})
    t = point_at(result, IR, "right", 2)
    assert (t.op, t.distance, changes(t)) == ("below", 38, {("ir_asymmetry", "right", True)})
    t = point_at(result, IR, "right", 25)
    assert (t.op, t.distance, t.within_mdc) == ("below", 15, False)
    assert {("ir_within_range", "right", False), ("ir_limited", "right", True)} <= changes(t)
    assert [t.tipping_value for t in points(result, IR, "left")] == [25, 30, 50]
    assert [t.tipping_value for t in points(result, IR, "right")] == [25, 22, 2]


def test_demo_01_left_slr_45_is_within_the_6_degree_error_of_50():
    result = hipkb.assess("examples/demo-01.yaml")
    t = point_at(result, SLR, "left", 50)
    assert (t.op, t.distance, t.mdc, t.within_mdc) == ("at_least", 5, 6, True)
    assert {("pelvis_not_internally_rotating", "left", False), ("pelvis_internally_rotating", "left", True),
            ("sacrum_not_nutating", "left", False), ("sacrum_nutating", "left", True),
            ("posterior_hip_allows_ir", "left", True)} <= changes(t)
    right = point_at(result, SLR, "right", 50)
    assert (right.op, right.distance, right.within_mdc) == ("below", 35, False)


def test_strict_below_from_under_the_threshold_flips_at_the_threshold_itself():
    # IR 23 vs 25: limited up to just under 25, within range at 25
    t = point_at(assess({IR: {"left": 23}}), IR, "left", 25)
    assert (t.op, t.distance, t.within_mdc) == ("at_least", 2, True)
    assert assess({IR: {"left": 24.99}}).holds("ir_limited", "left")
    assert assess({IR: {"left": 25}}).holds("ir_within_range", "left")


def test_strict_below_from_over_the_threshold_flips_only_under_it():
    t = point_at(assess({IR: {"left": 27}}), IR, "left", 25)
    assert (t.op, t.distance, t.within_mdc) == ("below", 2, True)
    assert {("ir_within_range", "left", False), ("ir_limited", "left", True)} <= changes(t)


def test_a_reading_at_its_threshold_tips_at_distance_zero():
    result = assess({IR: {"left": 25}})
    assert [(t.tipping_value, t.op, t.distance, t.within_mdc) for t in points(result, IR, "left")] == [
        (25, "below", 0, True)]
    zero = assess({IR: {"left": 25}}, mdc={IR: 0})
    assert [(t.distance, t.within_mdc) for t in points(zero, IR, "left")] == [(0, False)]


@pytest.mark.parametrize("value, mdc, within", [(19, None, True), (19, 6, False), (20, 6, True),
                                                (31, 6, False), (32, None, False), (31, None, True)])
def test_within_mdc_is_strict(value, mdc, within):
    result = assess({IR: {"left": value}}, mdc=None if mdc is None else {IR: mdc})
    t = point_at(result, IR, "left", 25)
    assert t.distance == abs(value - 25)
    assert t.within_mdc is within
    # the tipping value at a reading's own threshold is within the mdc exactly when the reading is borderline
    state = "ir_limited" if value < 25 else "ir_within_range"
    assert result.conclusion(state, "left").measurement.borderline is within


def test_hip_flexion_tips_at_100():
    t = point_at(assess({FLEX: {"left": 98}}), FLEX, "left", 100)
    assert (t.op, t.distance, t.mdc, t.within_mdc) == ("at_least", 2, 6, True)
    assert ("hip_flexion_limited", "left", False) in changes(t)


def test_no_measurement_no_tipping_value():
    answer = assess({"hip_hike": "left"}).sensitivity()
    assert answer.to_dict() == {"tipping": []}
    assert "No measurement was entered" in answer.text()


def test_only_entered_readings_are_moved():
    result = assess({SLR: {"right": 60}, "hip_hike": "left"})
    assert {(t.finding, t.side) for t in result.sensitivity().tipping} == {(SLR, "right")}
    assert [r.finding for r in result.sensitivity().readings] == [SLR]


# --------------------------------------------------------------------------
# Overrides: API, case file, CLI


def test_api_threshold_and_mdc_overrides():
    result = assess({IR: {"left": 23}}, thresholds={IR: 30}, mdc={IR: 8})
    t = point_at(result, IR, "left", 30)
    assert (t.distance, t.mdc, t.within_mdc) == (7, 8, True)
    assert points(result, IR, "left") == [t]  # 25 is no longer a tipping value


def test_case_file_threshold_and_mdc_overrides(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text("findings:\n  supine_hip_ir: {left: 18, right: 30}\n"
                    "thresholds:\n  ir_asymmetry: 8\nmdc:\n  supine_hip_ir: 7.5\n", encoding="utf-8")
    result = hipkb.assess(path)
    t = point_at(result, IR, "left", 25)
    assert (t.distance, t.mdc, t.within_mdc) == (7, 7.5, True)
    t = point_at(result, IR, "left", 22)  # 30 − 8
    assert (t.op, t.distance, changes(t)) == ("at_least", 4, {("ir_asymmetry", "left", False)})


def test_cli_json(tmp_path):
    out = CliRunner().invoke(cli, ["sensitivity", "examples/demo-01.yaml", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert list(data) == ["tipping"]
    first = data["tipping"][0]
    assert {k: first[k] for k in ("finding", "side", "value", "tipping_value", "distance", "within_mdc")} == {
        "finding": "supine_hip_ir", "side": "left", "value": 12, "tipping_value": 25, "distance": 13,
        "within_mdc": False}
    assert all(set(c) in ({"id", "side", "goes"}, {"id", "side", "appears"}) for t in data["tipping"]
               for c in t["changes"])


def test_cli_overrides_and_engine():
    out = CliRunner().invoke(cli, ["sensitivity", "examples/demo-01.yaml", "--format", "json", "--engine", "experta",
                                   "--mdc", "supine_hip_ir=14", "--threshold", "straight_leg_raise=46"])
    assert out.exit_code == 0, out.output
    tipping = json.loads(out.output)["tipping"]
    ir = [t for t in tipping if (t["finding"], t["side"], t["tipping_value"]) == (IR, "left", 25)][0]
    assert (ir["distance"], ir["mdc"], ir["within_mdc"]) == (13, 14, True)
    slr = [t for t in tipping if (t["finding"], t["side"]) == (SLR, "left")][0]
    assert (slr["tipping_value"], slr["distance"], slr["within_mdc"]) == (46, 1, True)


def test_cli_text_is_plain_and_full_detail_adds_ids():
    brief = CliRunner().invoke(cli, ["sensitivity", "examples/demo-01.yaml"])
    assert brief.exit_code == 0, brief.output
    assert "Left supine IR 12°: at 25° (13° away) IR would be within range" in brief.output
    assert "the programme would go" in brief.output
    assert "Left straight leg raise 45°: at 50° (5° away, within the 6° measurement error)" in brief.output
    assert "Right supine IR 40°: below 25° (15° away) IR would be limited" in brief.output
    assert "ir_limited" not in brief.output and "arm_bar" not in brief.output and "_" not in brief.output
    full = CliRunner().invoke(cli, ["sensitivity", "examples/demo-01.yaml", "--detail", "full"])
    assert full.exit_code == 0
    assert "goes: Arm bar [arm_bar/left]" in full.output
    assert "appears: Hip internal rotation within range [ir_within_range/left]" in full.output


def test_text_for_the_brief_example():
    text = assess({IR: {"left": 23}}).sensitivity().text()
    line = [ln for ln in text.splitlines() if ln.startswith("Left supine IR 23°")][0]
    assert line.startswith("Left supine IR 23°: at 25° (2° away, within the 6.1° measurement error) "
                           "IR would be within range")
    assert "the programme would go" in line
    assert "retest" in text


def test_a_reading_with_nothing_to_tip_says_so():
    text = assess({FLEX: {"left": 120}, IR: {"left": 40}}).sensitivity().text()
    assert "Left hip flexion 120°: at 100°" not in text
    assert "Left hip flexion 120°: below 100° (20° away)" in text
    # SLR far above 50 with no IR: space present goes below 50 only
    assert [t.tipping_value for t in points(assess({SLR: {"left": 150}}), SLR, "left")] == [50]


@pytest.mark.parametrize("args", [["--mdc", "supine_hip_ir=x"], ["--mdc", "slr=3"], ["--threshold", "ir=3"]])
def test_cli_bad_overrides_exit_2(args, capsys):
    assert main(["sensitivity", "examples/demo-01.yaml", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hipkb: error:") and len(err.strip().splitlines()) == 1


def test_result_method_and_function_agree_and_are_deterministic():
    result = hipkb.assess("examples/demo-01.yaml")
    a, b = result.sensitivity(), sensitivity(result)
    assert isinstance(a, Sensitivity)
    assert a == b
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict()) and a.text() == b.text()


# --------------------------------------------------------------------------
# The valid range


def test_tipping_values_outside_the_range_are_left_out():
    # right 8: this side lower below 8 − 10 = −2, outside [0, 90]
    result = assess({IR: {"left": 5, "right": 8}})
    assert [t.tipping_value for t in points(result, IR, "left")] == [18, 25]  # 18 = 8 + 10: the right lower
    # right 80: the right lower only above 80 + 10 = 90, which no reading reaches
    result = assess({IR: {"left": 85, "right": 80}})
    assert 90 not in [t.tipping_value for t in points(result, IR, "left")]
    assert [t.tipping_value for t in points(result, IR, "left")] == [70, 25]


def test_a_tipping_value_at_the_end_of_the_range_is_kept_when_reached_there():
    t = point_at(assess({IR: {"left": 80}}, thresholds={IR: 90}), IR, "left", 90)
    assert (t.op, t.distance) == ("at_least", 10)  # 90 itself is a valid reading


def test_a_threshold_no_reading_can_cross_is_left_out():
    # threshold 0: "below 0" can never hold in [0, 90]
    assert points(assess({IR: {"left": 10}}, thresholds={IR: 0}), IR, "left") == []


# --------------------------------------------------------------------------
# Properties against what-if reruns on generated cases

HALF_DEGREES = {IR: st.integers(0, 180), SLR: st.integers(0, 300), FLEX: st.integers(0, 320)}


@st.composite
def cases(draw):
    findings = {}
    for finding in (IR, SLR, FLEX):
        sides = {}
        for side in ("left", "right"):
            if draw(st.booleans()):
                sides[side] = draw(HALF_DEGREES[finding]) / 2  # multiples of 0.5: exact in binary
        if sides:
            findings[finding] = sides
    if not findings:
        findings[IR] = {"left": draw(HALF_DEGREES[IR]) / 2}
    for flag in ("pelvis_forward", "pinch_in_flexion_ir", "hip_hike", "rib_cage_side_bend"):
        choice = draw(st.sampled_from([None, True, False, "left", "right"]))
        if choice is not None and not (flag == "rib_cage_side_bend" and isinstance(choice, str)):
            findings[flag] = choice
    thresholds = {}
    if draw(st.booleans()):
        thresholds = {IR: draw(st.integers(20, 35)), SLR: draw(st.integers(46, 54)),
                      FLEX: draw(st.integers(90, 115)), "ir_asymmetry": draw(st.integers(8, 15))}
    mdc = {IR: draw(st.sampled_from([0, 3, 6.1, 8.6]))} if draw(st.booleans()) else {}
    return {"findings": findings, "thresholds": thresholds}, mdc


def keyset(result):
    return ({("state", c.id, c.side) for c in result.conclusions}
            | {("recommendation", r.id, r.side) for r in result.recommendations})


def rerun(result, finding, side, value):
    case = result.case.with_findings({(finding, side): value})
    return result.kb.assess(case, thresholds=dict(result.thresholds), mdc=dict(result.mdc))


def diff(before, after):
    a, b = keyset(before), keyset(after)
    return {(k[1], k[2], False) for k in a - b} | {(k[1], k[2], True) for k in b - a}


EPS = 0.001  # far smaller than the 0.5° grid of the generated readings and thresholds


def across(point):
    """Just before and just across the tipping value, moving from the reading (decided here, not by the module)."""
    t = point.tipping_value
    return {"at_least": (t - EPS, t), "above": (t, t + EPS),
            "at_most": (t + EPS, t), "below": (t, t - EPS)}[point.op]


def crossed(point, x):
    t = point.tipping_value
    return {"at_least": x >= t, "above": x > t, "at_most": x <= t, "below": x < t}[point.op]


def expected_candidates(result, finding, side):
    """The spec's candidates: the finding's threshold, and for IR the other side ± the asymmetry threshold."""
    out = {result.thresholds[finding]}
    other = result.case.findings.get((finding, "right" if side == "left" else "left"))
    if finding == IR and isinstance(other, float):
        out |= {other - result.thresholds["ir_asymmetry"], other + result.thresholds["ir_asymmetry"]}
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.data())
def test_tipping_values_match_what_if_reruns(case_and_mdc, data):
    case, mdc = case_and_mdc
    result = hipkb.load_kb().assess(case, mdc=mdc)
    answer = result.sensitivity()
    entered = {(f, side) for f, sides in case["findings"].items() if f in RANGE for side in sides}
    assert {(r.finding, r.side) for r in answer.readings} == entered
    for reading in answer.readings:
        finding, side, value = reading.finding, reading.side, reading.value
        low, high = RANGE[finding]
        mine = [t for t in answer.tipping if (t.finding, t.side) == (finding, side)]
        for t in mine:
            # shape: the distance, the mdc flag, the range, the spec's candidates
            assert t.value == value and t.distance == abs(t.tipping_value - value)
            assert t.within_mdc == (t.mdc is not None and t.distance < t.mdc)
            assert t.mdc == result.mdc.get(finding)
            assert low <= t.tipping_value <= high
            assert t.tipping_value in expected_candidates(result, finding, side)
            assert t.op in (("at_least", "above") if t.tipping_value > value else ("at_most", "below")
                            if t.tipping_value < value else ("below", "above"))
            # just across it, exactly the listed changes happen
            before, after = across(t)
            if low <= after <= high:
                assert diff(rerun(result, finding, side, before), rerun(result, finding, side, after)) == \
                    {(c.id, c.side, c.appears) for c in t.changes} != set()
        for direction in (1, -1):
            ahead = sorted((t for t in mine if (t.tipping_value - value) * direction > 0
                            or (t.tipping_value == value and t.op == ("above" if direction > 0 else "below"))),
                           key=lambda t: (t.distance, t.op in ("above", "below")))
            # nothing changes strictly between the reading and the first tipping value, nor between neighbours
            stops = [value] + [t.tipping_value for t in ahead] + [high if direction > 0 else low]
            previous = keyset(result)
            for i in range(len(stops) - 1):
                a, b = stops[i], stops[i + 1]
                for fraction in (0.25, 0.5, 0.75):
                    x = a + (b - a) * fraction
                    if min(a, b) < x < max(a, b):
                        assert keyset(rerun(result, finding, side, x)) == previous, (finding, side, value, x)
                if i < len(ahead):
                    previous = keyset(rerun(result, finding, side, across(ahead[i])[1]))
        # any reading gives the actual result with the changes of every tipping value crossed on the way
        for _ in range(3):
            x = data.draw(st.integers(low * 2, high * 2)) / 2
            expected = keyset(result)
            towards = sorted((t for t in mine if crossed(t, x) and ((t.tipping_value - value) * (x - value) > 0
                              or t.tipping_value == value)), key=lambda t: (t.distance, t.op in ("above", "below")))
            for t in towards:
                for c in t.changes:
                    item = (c.kind, c.id, c.side)
                    expected = expected | {item} if c.appears else expected - {item}
            assert keyset(rerun(result, finding, side, x)) == expected, (finding, side, value, x)


@settings(max_examples=5, deadline=None)
@given(cases())
def test_the_answer_is_the_same_whichever_engine_assessed_the_case(case_and_mdc):
    case, mdc = case_and_mdc
    kb = hipkb.load_kb()
    compiled = kb.assess(case, mdc=mdc).sensitivity()
    experta = kb.assess(case, mdc=mdc, engine="experta").sensitivity()
    assert compiled.to_dict() == experta.to_dict()


def test_text_from_outside_reaches_the_terminal_cleaned():
    # case files refuse such a subject; a caller building the answer itself still gets it cleaned
    answer = Sensitivity((), (), subject="demo\x1b[31m\u202e")
    text = answer.text()
    assert "\x1b" not in text and "\u202e" not in text
    assert "demo\\x1b[31m\\u202e" in text.splitlines()[0]


def test_threads_get_the_same_answer():
    from concurrent.futures import ThreadPoolExecutor

    result = hipkb.assess("examples/demo-01.yaml")
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: json.dumps(result.sensitivity().to_dict()), range(8)))
    assert len(set(answers)) == 1
