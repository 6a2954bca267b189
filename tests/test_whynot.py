"""why-not: what stands in each rule's way, and the findings that would make an item hold.

DESIGN.md "why-not ID" and the issue "Measurement error, tipping points":
each rule that could produce the item, its first failed condition, and
``would_hold_if`` (the smallest verified sets of finding changes), or what
it cannot hold while. A property test ties the answer to the engine's own
firings.
"""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hipkb
from conftest import REPO
from hipkb.answers.whynot import why_not
from hipkb.cli.common import cli
from hipkb.errors import ExplainError
from hipkb.model import SIDES

DEMO = REPO / "examples" / "demo-01.yaml"
KB = hipkb.load_kb()


def answer(findings: dict, item: str, side: str | None):
    return why_not(hipkb.assess({"findings": findings}), (item, side))


def alternatives(a) -> list:
    return [[c.to_dict() for c in alt] for alt in a.would_hold_if]


def test_measured_within_range_names_the_reading_and_the_change():
    a = why_not(hipkb.assess(DEMO), ("ir_limited", "right"))
    assert not a.holds and a.blocked
    first = a.checks[0]
    assert first.rule == "ir_measured_limited"
    assert (first.failure.key, first.failure.reason, first.failure.value, first.failure.threshold) == (
        ("supine_hip_ir", "right"), "not below", 40.0, 25.0)
    assert first.text == "supine hip internal rotation at 90° hip flexion is 40° on the right, not below the 25° threshold"
    assert alternatives(a) == [[{"finding": "supine_hip_ir", "side": "right", "op": "below", "value": 25}]]


def test_golden_text_why_not_ir_limited_right():
    text = hipkb.assess(DEMO).explain("ir_limited", side="right", question="why-not").text()
    assert text == (
        "Why not: hip internal rotation limited, on the right?\n"
        "It does not hold on the right. What stands in the way of each rule that could conclude it:\n"
        "  ✗ Supine IR below threshold means IR is limited\n"
        "      supine hip internal rotation at 90° hip flexion is 40° on the right, not below the 25° threshold\n"
        "  ✗ Without space to glide in the socket, the femur cannot rotate inward\n"
        "      there is no evidence that lacking space for the femur to glide in the socket (right)\n"
        "  ✗ Without space at the back of the hip, the femur cannot rotate inward\n"
        "      there is no evidence that lacking space at the back of the hip (right)\n"
        "It would hold if (each line is one way; checked by assessing the case again):\n"
        "  supine hip internal rotation at 90° hip flexion were below 25° on the right\n"
    )


@pytest.mark.parametrize("side", SIDES)
def test_capsule_blocked_by_an_observed_pelvis(side):
    a = answer({"supine_hip_ir": {side: 18}, "pelvis_forward": side}, "posterior_capsule_closed", side)
    reasons = {(c.rule, c.failure.reason, c.failure.key) for c in a.checks}
    assert reasons == {
        ("capsule_closed_from_ir_drop", "observed", ("pelvis_forward", side)),
        ("capsule_closed_from_ir_and_flexion_drop", "observed", ("pelvis_forward", side)),
    }
    assert alternatives(a) == [[{"finding": "pelvis_forward", "side": side, "op": "recorded_false", "value": None}]]


@pytest.mark.parametrize("side", SIDES)
def test_a_short_slr_blocks_the_pelvis_rotating(side):
    a = answer({"straight_leg_raise": {side: 45}}, "pelvis_internally_rotating", side)
    assert alternatives(a) == [[{"finding": "straight_leg_raise", "side": side, "op": "at_least", "value": 50}]]


def test_two_ways_sorted_by_content():
    # nothing recorded: the programme comes with limited IR, measured or predicted
    a = answer({}, "arm_bar", "left")
    assert alternatives(a) == [
        [{"finding": "supine_hip_ir", "side": "left", "op": "below", "value": 25}],
        [{"finding": "straight_leg_raise", "side": "left", "op": "below", "value": 50}],
    ]


def test_a_smaller_change_is_not_repeated_inside_a_larger_one():
    a = answer({"supine_hip_ir": {"left": 30}}, "integrate_foot_and_ribcage", "left")
    alts = alternatives(a)
    assert alts[0] == [
        {"finding": "supine_hip_ir", "side": "left", "op": "below", "value": 25},
        {"finding": "knee_hyperextension", "side": "left", "op": "observed", "value": None},
    ] or len(alts[0]) == 2
    sets = [{json.dumps(c, sort_keys=True) for c in alt} for alt in alts]
    assert all(not (x < y) for x in sets for y in sets)
    assert [len(x) for x in alts] == sorted(len(x) for x in alts)
    assert len(alts) == 5  # one per ribcage/knee/foot compensation, each with the low IR


def test_cannot_hold_while_a_finding_is_recorded():
    a = why_not(hipkb.assess(DEMO), ("ir_limitation_suspected", "left"))
    assert a.would_hold_if == ()
    assert a.cannot == ("supine hip internal rotation at 90° hip flexion is recorded on the left (12°)",)
    assert "it cannot hold while:" in hipkb.assess(DEMO).explain(
        "ir_limitation_suspected", side="left", question="why-not").text()


def test_only_an_assessor_can_state_stiff_rotators():
    a = why_not(hipkb.assess(DEMO), ("deep_external_rotators_stiff", "left"))
    assert a.checks == () and a.would_hold_if == ()
    assert a.cannot == ("deep external rotators stiff (left) is not stated by the assessor, and no rule concludes it",)


def test_an_opposite_that_outweighs_every_change():
    a = answer({"deep_external_rotators_stiff": "left", "straight_leg_raise": {"left": 40}}, "posterior_hip_allows_ir", "left")
    assert a.would_hold_if == ()
    assert any("its opposite would outweigh it" in c and "deep external rotators stiff was given" in c for c in a.cannot)


def test_dropped_by_its_measured_opposite():
    findings = {"supine_hip_ir": {"left": 35}, "straight_leg_raise": {"left": 40}}
    a = answer(findings, "ir_limited", "left")
    assert not a.holds and not a.blocked  # the engine concluded it, the resolver dropped it
    assert [c.rule for c in a.checks if c.fired] == ["femur_glide_space_enables_ir"]
    assert a.withdrawn == (
        "hip internal rotation within range was measured (35°), which outweighs the pelvic chain's prediction "
        "of hip internal rotation limited"
    )
    assert alternatives(a) == [[{"finding": "supine_hip_ir", "side": "left", "op": "below", "value": 25}]]
    withdrawn = answer(findings, "arm_bar", "left")
    assert withdrawn.withdrawn.startswith("it rested on hip internal rotation limited (left), which was dropped: ")


def test_holds_means_nothing_in_the_way():
    a = why_not(hipkb.assess(DEMO), ("arm_bar", "left"))
    assert a.holds and not a.blocked and a.would_hold_if == () and a.cannot == ()
    assert all(c.failure is None for c in a.checks)


def test_a_finding_is_not_asked_why_not():
    with pytest.raises(ExplainError):
        hipkb.assess(DEMO).explain("hip_hike", question="why-not")


def test_without_side_both_sides_are_answered():
    e = hipkb.assess(DEMO).explain("posterior_capsule_closed", question="why-not")
    assert [a.side for a in e.answers] == ["left", "right"]
    assert e.answers[0].holds and not e.answers[1].holds


def test_cli_why_not_json():
    out = CliRunner().invoke(cli, ["why-not", "ir_limited", str(DEMO), "--side", "right", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert (data["question"], data["id"], data["side"], data["holds"]) == ("why-not", "ir_limited", "right", False)
    assert data["would_hold_if"] == [[{"finding": "supine_hip_ir", "side": "right", "op": "below", "value": 25}]]
    assert data["rules"][0]["failure"]["reason"] == "not below"


def test_cli_why_not_full_detail_names_rules():
    out = CliRunner().invoke(cli, ["why-not", "ir_limited", str(DEMO), "--side", "right", "--detail", "full"])
    assert "rule ir_measured_limited" in out.output
    brief = CliRunner().invoke(cli, ["why-not", "ir_limited", str(DEMO), "--side", "right"])
    assert "ir_measured_limited" not in brief.output


# --------------------------------------------------------------------------
# Property: the answer agrees with the engine's firings, and every way out works


def _degrees(finding_id: str) -> st.SearchStrategy[float]:
    finding = KB.findings[finding_id]
    low, high = finding.range or (0, 180)
    near = []
    threshold = KB.default_thresholds().get(finding_id)
    if threshold is not None:
        near = [v for v in (threshold - 7, threshold - 1, threshold, threshold + 1, threshold + 7) if low <= v <= high]
    return st.one_of(st.sampled_from(near or [low]), st.integers(math.ceil(low), math.floor(high)))


def _finding(finding_id: str) -> st.SearchStrategy:
    finding = KB.findings[finding_id]
    if finding.type == "degrees":
        return st.dictionaries(st.sampled_from(SIDES), _degrees(finding_id), min_size=1)
    if finding.sided:
        return st.dictionaries(st.sampled_from(SIDES), st.booleans(), min_size=1)
    return st.booleans()


CASES = st.fixed_dictionaries({}, optional={f: _finding(f) for f in KB.findings}).flatmap(
    lambda findings: st.one_of(
        st.just(findings),
        st.builds(lambda state, side: {**findings, state: side},
                  st.sampled_from([s for s in KB.states if KB.states[s].sided]), st.sampled_from(SIDES)),
    )
)
ITEMS = st.sampled_from([*KB.states, *KB.recommendations])


def _concluded(kb, case, thresholds):
    firings = set(kb.engine("compiled").run(case.findings, case.given, thresholds))
    keys = set(case.given)
    for index, context in firings:
        for target in kb.branches[index].rule.then:
            state = kb.states.get(target)
            keys.add((target, context if state is None or state.sided else None))
    return firings, keys


def _concrete(change: dict):
    """The test's own reading of an alternative: just below a bound (never under the valid range), at a bound, true, false."""
    if change["op"] == "observed":
        return True
    if change["op"] == "recorded_false":
        return False
    if change["op"] == "at_least":
        return float(change["value"])
    low = KB.findings[change["finding"]].range[0]
    return float(max(change["value"] - 1, low))


@settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(CASES, ITEMS, st.sampled_from([*SIDES, None]))
def test_why_not_agrees_with_the_engine_and_every_way_out_works(findings, item, side):
    result = hipkb.assess({"findings": findings})
    if item in KB.states and not KB.states[item].sided:
        side = None
    key = (item, side)
    firings, concluded = _concluded(KB, result.case, result.thresholds)
    a = why_not(result, key)
    # a blocker stands in every rule's way exactly when the engine did not conclude the item there
    assert a.blocked == (key not in concluded)
    assert a.holds == result.holds(item, side)
    for check in a.checks:
        assert (check.failure is None) == ((check.branch, check.context) in firings), check
    producing = {(b, c) for b, c in firings if item in KB.branches[b].rule.then and
                 (item not in KB.states or not KB.states[item].sided or c == side) and
                 (item in KB.states and not KB.states[item].sided or c == side)}
    assert producing <= {(check.branch, check.context) for check in a.checks}
    if a.holds:
        assert a.would_hold_if == () and a.cannot == ()
        return
    assert a.would_hold_if or a.cannot
    alts = alternatives(a)
    sets = [{(c["finding"], c["side"], c["op"]) for c in alt} for alt in alts]
    assert all(not (x < y) for x in sets for y in sets)  # minimal: none inside another
    assert [len(x) for x in alts] == sorted(len(x) for x in alts)
    for alt in alts:
        changed = dict(result.case.findings)
        for change in alt:
            changed[(change["finding"], change["side"])] = _concrete(change)
        rerun = KB.assess(result.case.with_findings(changed))
        assert rerun.holds(item, side), (alt, key)
