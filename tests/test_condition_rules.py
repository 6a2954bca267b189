"""Readings against thresholds and side-less facts, as docs/reasoning.md states them.

Mutation testing showed two readings no other test stated with a value
between whole degrees: an asymmetry of 10.4° against a 10° threshold
("lower than the other side by more than T", reasoning.md rule 1), and a
side-less fact named with no side in the JSON (DESIGN: "side is ... null
for something that belongs to no side").
"""

from __future__ import annotations

import hipkb


def test_an_asymmetry_a_fraction_of_a_degree_over_the_threshold_counts() -> None:
    # reasoning.md rule 1: ir_asymmetry when supine IR is lower than on the other side by more than
    # ir_asymmetry; "Measurement uncertainty": for ir_asymmetry the value is the side-to-side difference
    # and the mdc the supine IR one (6.1), borderline when |margin| < mdc.
    result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 20, "right": 30.4}}}, thresholds={"ir_asymmetry": 10})
    c = result.conclusion("ir_asymmetry", "left")
    assert c is not None and (c.status, c.evidence) == ("measured", "interpretation")
    m = c.measurement.to_dict()
    assert m == {"finding": "supine_hip_ir", "side": "left", "value": 10.4, "threshold": 10, "margin": 0.4,
                 "mdc": 6.1, "borderline": True}
    assert result.conclusion("ir_asymmetry", "right") is None  # only on the lower side


def test_an_asymmetry_a_fraction_of_a_degree_under_the_threshold_does_not() -> None:
    result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 20, "right": 29.6}}}, thresholds={"ir_asymmetry": 10})
    assert result.sides_of("ir_asymmetry") == ()


def test_a_side_less_fact_is_named_without_a_side() -> None:
    # demo-01: rib_cage_side_bend: true (no side) with IR limited on the left calls integrate_foot_and_ribcage
    # there (reasoning.md, Recommendations); the JSON names the unsided premise by its bare id.
    data = hipkb.assess("examples/demo-01.yaml").to_dict()
    rec = next(r for r in data["recommendations"] if (r["id"], r["side"]) == ("integrate_foot_and_ribcage", "left"))
    assert rec["justifications"][0]["because"] == ["ir_limited/left", "rib_cage_side_bend"]
    assert data["findings"]["rib_cage_side_bend"] is True


def test_an_assessment_called_by_side_less_facts_is_recommended_once_with_no_side(tmp_path) -> None:
    # reasoning.md "Facts, sides and contexts": "A rule none of whose conditions depends on the context runs
    # in the no-side context only"; an assessment's implicit {unassessed: R} over side-less findings does not
    # depend on it either (unsided findings count on every side).
    from test_semantics import QUOTE, both_engines, write_kb

    write_kb(
        tmp_path,
        states="- {id: t, label: T, sided: false}\n",
        findings="- {id: trunk, label: trunk, type: boolean, sided: false, group: compensation, assessment: check_trunk}\n",
        recommendations=(
            "- {id: check_trunk, kind: assessment, label: Check the trunk, summary: Check., evidence: coaching-model, "
            f"source: {QUOTE}, called_for_by: [{{id: check_trunk_for_t, label: r, when: [{{state: t}}], "
            f"evidence: coaching-model, source: {QUOTE}}}]}}\n"
        ),
    )
    kb = hipkb.load_kb(tmp_path)
    assert both_engines(kb, {"findings": {"t": True}}).sides_of("check_trunk") == (None,)
    assert both_engines(kb, {"findings": {"t": True, "trunk": False}}).sides_of("check_trunk") == ()  # assessed already


def test_two_rules_that_feed_each_other_both_fire(tmp_path) -> None:
    # DESIGN "Engine": "strongly connected groups of rules iterated to their fixpoint"; any KB may have a
    # cycle. x -> y and y -> x: entering either concludes the other (inferred, reasoning.md).
    from test_semantics import QUOTE, both_engines, write_kb

    rules = "".join(
        f"- {{id: {rid}, label: r, when: [{{{kind}: {src}}}], then: [{dst}], evidence: coaching-model, source: {QUOTE}}}\n"
        for rid, kind, src, dst in (("r_fx", "finding", "fx", "x"), ("r_fy", "finding", "fy", "y"),
                                    ("r_xy", "state", "x", "y"), ("r_yx", "state", "y", "x"))
    )
    flags = "".join(f"- {{id: {f}, label: {f}, type: boolean, sided: true, group: symptom}}\n" for f in ("fx", "fy"))
    write_kb(tmp_path, states="- {id: x, label: X}\n- {id: y, label: Y}\n", findings=flags, rules=rules)
    kb = hipkb.load_kb(tmp_path)
    from_x = both_engines(kb, {"findings": {"fx": "left"}})
    assert [(c.id, c.side, c.status) for c in from_x.conclusions] == [("x", "left", "inferred"), ("y", "left", "inferred")]
    from_y = both_engines(kb, {"findings": {"fy": "right"}})
    assert [(c.id, c.side, c.justifications[0].rule) for c in from_y.conclusions] == [("x", "right", "r_yx"), ("y", "right", "r_fy")]


def test_a_side_less_state_concluded_on_a_side_holds_with_no_side_and_leads_on(tmp_path) -> None:
    # reasoning.md: "A rule concludes its states ... in the context it ran in"; a state declared without
    # sides holds with no side (DESIGN: side null "for something that belongs to no side"), and a rule
    # reading it reads it with no side.
    from test_semantics import QUOTE, both_engines, write_kb

    write_kb(
        tmp_path,
        states="- {id: u, label: U, sided: false}\n- {id: v, label: V, sided: false}\n",
        findings="- {id: k, label: k, type: boolean, sided: true, group: symptom}\n",
        rules=f"- {{id: r_ku, label: r, when: [{{finding: k}}], then: [u], evidence: coaching-model, source: {QUOTE}}}\n"
              f"- {{id: r_uv, label: r, when: [{{state: u}}], then: [v], evidence: coaching-model, source: {QUOTE}}}\n",
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"k": "left"}})
    assert (result.sides_of("u"), result.sides_of("v")) == ((None,), (None,))


# -- the model's conditions, read directly (hipkb.model.Condition: the one home of their semantics, used by
# the engines' generators, why-not and the KB checker) ---------------------------------------------------

def test_a_condition_read_directly_is_strict_at_its_threshold_and_needs_both_readings() -> None:
    from hipkb.model import Condition, Facts

    below = Condition("finding", "supine_hip_ir", threshold="supine_hip_ir", compare="below")
    at_least = Condition("finding", "supine_hip_ir", threshold="supine_hip_ir", compare="at_least")
    at = Facts({("supine_hip_ir", "left"): 25.0}, frozenset(), {"supine_hip_ir": 25.0})
    # reasoning.md: "Threshold comparisons are strict: a value equal to its threshold is not below it."
    assert below.evaluate(at, "left") is None
    assert below.failure(at, "left").reason == "not below"
    assert at_least.evaluate(at, "left") is not None
    # reasoning.md: lower_side compares F on this side with the other side; with one side missing it cannot hold.
    lower = Condition("lower_side", "supine_hip_ir", threshold="ir_asymmetry")
    one_side = Facts({("supine_hip_ir", "left"): 12.0}, frozenset(), {"ir_asymmetry": 10.0})
    assert lower.evaluate(one_side, "left") is None and lower.evaluate(one_side, "right") is None
    # reasoning.md: {unassessed: R} fails once a finding of R is recorded on that side.
    squat = Condition("unassessed", "assess_squat", findings=(("hip_shift_in_squat", True),))
    shifted = Facts({("hip_shift_in_squat", "left"): False}, frozenset(), {})
    assert squat.evaluate(shifted, "left") is None and squat.evaluate(shifted, "right") is not None
    assert squat.evaluate(shifted, None) is None  # no side: none may be recorded on any side


def test_an_assessment_with_no_side_is_skipped_when_done_on_either_side() -> None:
    # reasoning.md rule 7 and "{unassessed: R} ... in context no side: none is recorded on any side":
    # a side-less compensation with IR measured on neither side gives a side-less suspicion, which asks
    # for the squat, unless a squat finding is recorded on either side.
    done = hipkb.assess({"findings": {"rib_cage_side_bend": True, "hip_shift_in_squat": {"left": False, "right": False}}})
    assert done.sides_of("ir_limitation_suspected") == (None,)
    assert done.sides_of("assess_squat") == ()
    not_done = hipkb.assess({"findings": {"rib_cage_side_bend": True}})
    assert not_done.sides_of("assess_squat") == (None,)


def test_each_kind_of_condition_read_directly_fails_where_reasoning_md_says() -> None:
    # docs/reasoning.md "Facts, sides and contexts", row by row, in a context where each must NOT hold.
    from hipkb.model import Condition, Facts

    facts = Facts({("supine_hip_ir", "left"): 20.0, ("supine_hip_ir", "right"): 30.0, ("hip_hike", "left"): False},
                  frozenset({("ir_limited", "left")}), {"ir_asymmetry": 10.0})
    # {state: S}: S holds on that side
    assert Condition("state", "ir_limited").evaluate(facts, "right") is None
    # {finding: F} (boolean): F observed on that side (recorded false is not observed)
    assert Condition("finding", "hip_hike").evaluate(facts, "left") is None
    # {recorded: F}: F has a value on that side
    assert Condition("recorded", "hip_hike").evaluate(facts, "right") is None
    # {absent: F}: F has no value on that side; with no side: no value on either side
    assert Condition("absent", "supine_hip_ir").evaluate(facts, "left") is None
    assert Condition("absent", "supine_hip_ir").evaluate(facts, None) is None
    assert Condition("absent", "hip_hike").evaluate(facts, None) is None  # recorded (false) on the left
    assert Condition("absent", "pelvis_forward").evaluate(facts, None) is not None
    # lower than the other side by *more than* T: 30 − 20 is exactly 10
    assert Condition("lower_side", "supine_hip_ir", threshold="ir_asymmetry").evaluate(facts, "left") is None
    # on: other reads the other side, and has none with no side; on: both must hold on each side
    assert Condition("recorded", "hip_hike", on="other").evaluate(facts, "right") is not None
    assert Condition("recorded", "hip_hike", on="other").evaluate(facts, None) is None
    assert Condition("recorded", "hip_hike", on="both").evaluate(facts, "left") is None
    assert Condition("recorded", "supine_hip_ir", on="both").evaluate(facts, "left") is not None


def test_both_engines_read_the_asymmetry_against_its_own_threshold() -> None:
    # DESIGN: both engines "produce the same firings"; reasoning.md rule 1: lower than the other side by more
    # than ir_asymmetry (10°). 20 − 12 = 8 is not more than 10, whatever the supine IR threshold (here 5°).
    for engine in ("compiled", "experta"):
        result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12, "right": 20}}}, thresholds={"supine_hip_ir": 5},
                              engine=engine)
        assert result.sides_of("ir_asymmetry") == () and result.sides_of("ir_within_range") == ("left", "right")


def test_both_engines_skip_a_side_less_assessment_done_on_either_side_and_read_the_other_sides_ir() -> None:
    # reasoning.md rule 7 and the {unassessed: R} / {recorded: F, on: other} rows, through stock experta too:
    # a side-less compensation with IR measured on neither side gives one side-less suspicion (a hip hike recorded
    # false on the right is not an IR reading there), and its squat assessment is skipped once a squat finding is
    # recorded on either side.
    for engine in ("compiled", "experta"):
        done = hipkb.assess({"findings": {"rib_cage_side_bend": True, "hip_hike": {"right": False},
                                          "hip_shift_in_squat": {"left": False}}}, engine=engine)
        assert done.sides_of("ir_limitation_suspected") == (None,)
        assert done.sides_of("assess_squat") == ()


def test_recorded_reads_its_own_finding_on_its_own_side_or_the_other(tmp_path) -> None:
    # reasoning.md: "{recorded: F}: F has a value (true, false or a number) on that side"; kb-format.md:
    # "on: other" reads the condition on the other side. Another finding recorded is not F recorded.
    from test_resolver_rules import rule
    from test_semantics import both_engines, write_kb

    write_kb(
        tmp_path,
        states="- {id: s, label: S}\n- {id: o, label: O}\n",
        findings="- {id: f, label: f, type: degrees, range: [0, 90], sided: true, group: measurement}\n"
                 "- {id: g, label: g, type: boolean, sided: true, group: symptom}\n",
        rules=rule("r_s", "{recorded: f}", "s") + rule("r_o", "{finding: g}, {recorded: f, on: other}", "o"),
    )
    kb = hipkb.load_kb(tmp_path)
    result = both_engines(kb, {"findings": {"f": {"left": 30}, "g": "right"}})
    assert (result.sides_of("s"), result.sides_of("o")) == (("left",), ("right",))
    result = both_engines(kb, {"findings": {"g": "left"}})  # g recorded, f nowhere
    assert (result.sides_of("s"), result.sides_of("o")) == ((), ())
    result = both_engines(kb, {"findings": {"f": {"left": 30}, "g": "left"}})  # f on this side, not the other
    assert (result.sides_of("s"), result.sides_of("o")) == (("left",), ())


def test_each_comparison_reads_its_own_threshold(tmp_path) -> None:
    # kb-format.md: thresholds are "keyed by the id they decide"; ir_asymmetry-like lower_side reads its own
    # threshold (10) even when another threshold (2) would let a 5-degree difference through.
    from test_resolver_rules import rule
    from test_semantics import QUOTE, both_engines, write_kb

    write_kb(
        tmp_path,
        states="- {id: asym, label: A}\n- {id: low, label: L}\n",
        findings="- {id: f, label: f, type: degrees, range: [0, 90], sided: true, group: measurement}\n"
                 "- {id: h, label: h, type: degrees, range: [0, 90], sided: true, group: measurement}\n",
        thresholds=f"- {{id: asym, value: 10, label: t, evidence: clinical-norm, source: {QUOTE}}}\n"
                   f"- {{id: h, value: 2, label: t, evidence: clinical-norm, source: {QUOTE}}}\n"
                   f"- {{id: f, value: 40, label: t, evidence: clinical-norm, source: {QUOTE}}}\n",
        rules=rule("r_a", "{lower_side: f, by_more_than: asym}", "asym") + rule("r_l", "{finding: f, below: f}", "low"),
    )
    kb = hipkb.load_kb(tmp_path)
    result = both_engines(kb, {"findings": {"f": {"left": 30, "right": 35}, "h": {"left": 1}}})
    assert (result.sides_of("asym"), result.sides_of("low")) == ((), ("left", "right"))
    result = both_engines(kb, {"findings": {"f": {"left": 41, "right": 55}}})
    assert (result.sides_of("asym"), result.sides_of("low")) == (("left",), ())


def test_each_kind_of_condition_names_the_first_fact_in_its_way() -> None:
    # why-not reads "the first condition in the way" and the fact that blocks it (DESIGN "why-not"); the
    # reasons are the model's documented words (hipkb.model.Failure): not recorded, recorded false, observed,
    # recorded, not below, not at least, not more than, does not hold, no such side. Each row: a condition,
    # the facts, the context, and the literal (key, reason, value, threshold) a student is shown.
    from hipkb.model import Condition, Facts

    ir, slr = "supine_hip_ir", "straight_leg_raise"
    facts = Facts(
        {(ir, "left"): 30.0, (ir, "right"): 24.0, ("hip_hike", "left"): False, ("pelvis_forward", "right"): True,
         (slr, "left"): 70.0, ("hip_shift_in_squat", "right"): True},
        frozenset({("ir_limited", "right")}),
        {ir: 25.0, slr: 50.0, "ir_asymmetry": 10.0},
    )
    rows = [
        (Condition("state", "ir_limited"), "left", (("ir_limited", "left"), "does not hold", None, None)),
        (Condition("recorded", ir), None, None),  # holds nowhere: a sided reading never has no side
        (Condition("recorded", slr), "right", ((slr, "right"), "not recorded", None, None)),
        (Condition("absent", ir), "right", ((ir, "right"), "recorded", 24.0, None)),
        (Condition("not", "pelvis_forward"), "right", (("pelvis_forward", "right"), "observed", True, None)),
        (Condition("finding", "hip_hike"), "left", (("hip_hike", "left"), "recorded false", False, None)),
        (Condition("finding", "hip_hike"), "right", (("hip_hike", "right"), "not recorded", None, None)),
        (Condition("finding", ir, threshold=ir, compare="below"), "left", ((ir, "left"), "not below", 30.0, 25.0)),
        (Condition("finding", slr, threshold=slr, compare="at_least"), "right", ((slr, "right"), "not recorded", None, None)),
        (Condition("finding", ir, threshold=ir, compare="at_least"), "right", ((ir, "right"), "not at least", 24.0, 25.0)),
        (Condition("lower_side", slr, threshold="ir_asymmetry"), "left", ((slr, "right"), "not recorded", None, None)),
        (Condition("lower_side", ir, threshold="ir_asymmetry"), "right", ((ir, "right"), "not more than", 6.0, 10.0)),
        (Condition("unassessed", "assess_squat", findings=(("hip_shift_in_squat", True),)), "right",
         (("hip_shift_in_squat", "right"), "recorded", True, None)),
        (Condition("finding", "hip_hike", on="other"), None, (None, "no such side", None, None)),
    ]
    for condition, context, expected in rows:
        failure = condition.failure(facts, context)
        if expected is None:
            assert failure is not None and failure.reason == "no such side", condition
            continue
        assert failure is not None, condition
        assert failure.condition is condition
        assert (failure.key, failure.reason, failure.value, failure.threshold) == expected, (condition.kind, context)
    # and a condition that holds has nothing in its way
    assert Condition("finding", ir, threshold=ir, compare="below").failure(facts, "right") is None
