"""how / why / why-not / what-if, for the cases of DESIGN.md "Explanations and diagrams".

The tests read both the structure (node kinds, ids, sides, rules, the
assessment named for a missing finding) and the words a student sees.
"""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from hipkb.errors import ExplainError, InputError
from hipkb.explain import explain, parse_change, what_if

DEMO = REPO / "examples" / "demo-01.yaml"


def run(kb, findings):
    return kb.assess({"findings": findings})


def nodes(explanation, kind=None):
    """Every node of every answer, depth first (optionally of one kind)."""
    out = [n for a in explanation.answers for top in a.nodes for n in top.walk()]
    return [n for n in out if kind is None or n.kind == kind]


@pytest.fixture(scope="module")
def demo(kb):
    return kb.assess(DEMO)


# -- how ---------------------------------------------------------------------------------------


def test_how_goes_down_to_the_entered_findings_naming_rule_source_and_evidence(demo):
    e = demo.explain("posterior_capsule_closed", side="left", question="how")
    (answer,) = e.answers
    assert answer.holds and answer.side == "left"
    (top,) = answer.nodes
    assert (top.id, top.side, top.status) == ("posterior_capsule_closed", "left", "inferred")
    (step,) = top.children
    assert step.rule == "capsule_closed_from_ir_drop" and step.evidence == "coaching-model"
    assert "we will see a drop off in internal rotation" in step.source
    premises = {(n.kind, n.id, n.side) for n in step.children}
    assert premises == {
        ("item", "ir_limited", "left"), ("item", "supine_hip_ir", "left"),
        ("check", "pelvis_forward", "left"), ("check", "pelvis_turned_away", "left"),
    }
    # every rule step in the tree cites its source and evidence level
    for rule in nodes(e, "rule"):
        assert rule.source and rule.evidence in ("clinical-norm", "coaching-model", "interpretation")
    # every leaf is an entered finding (or a step shown above)
    leaves = [n for n in nodes(e, "item") if not n.children]
    assert all(n.status == "entered" or "shown above" in n.text for n in leaves)
    assert {n.id for n in leaves if n.status == "entered"} == {"supine_hip_ir", "straight_leg_raise"}
    text = e.text()
    assert "Supine hip internal rotation at 90° hip flexion (supine_hip_ir, left) = 12°, below its threshold of 25° (entered)" in text
    assert "← rule capsule_closed_from_ir_drop (coaching-model)" in text
    assert "← link femur_glide_space_enables_ir (interpretation)" in text


def test_how_without_side_answers_where_it_holds(demo):
    assert [a.side for a in demo.explain("ir_limited").answers] == ["left"]
    assert [a.side for a in demo.explain("ir_within_range").answers] == ["right"]


def test_how_on_something_that_does_not_hold_says_why_not(demo):
    e = demo.explain("ir_limited", side="right", question="how")
    assert not e.holds
    assert e.answers[0].headline.startswith("It does not hold on the right, so there is nothing to explain how. Why not:")
    assert any("= 40°, not below its threshold of 25°" in n.text for n in nodes(e, "blocker"))


def test_how_of_a_given_state_and_of_a_finding(kb):
    result = run(kb, {"deep_external_rotators_stiff": "right", "hip_hike": "left"})
    e = result.explain("posterior_hip_space_lacking", side="right")
    assert [n.kind for n in nodes(e) if n.kind == "given"] == ["given"]
    assert "stated in the case (given)" in e.text()
    assert result.explain("hip_hike", side="left").answers[0].headline == "Entered in the case: Hip hike (hip_hike, left): observed."
    missing = result.explain("supine_hip_ir", side="left").answers[0]
    assert not missing.holds and "To obtain it: Measure supine hip internal rotation (assess_supine_hip_ir)." in missing.headline


# -- why -----------------------------------------------------------------------------------------


def test_why_ir_limited_names_the_closed_capsule_and_the_pelvic_chain(demo):
    e = demo.explain("ir_limited", side="left", question="why")
    causes = {n.id for n in nodes(e, "cause")}
    assert causes == {
        "femur_glide_space_lacking", "acetabulum_not_anteverted", "outlet_not_opening", "inlet_not_closing",
        "pelvis_not_internally_rotating", "posterior_hip_space_lacking", "posterior_capsule_closed",
    }
    # the chain is nested cause by cause, from IR back to the pelvis, and the root says how it was measured
    chain = [n for n in nodes(e, "cause") if n.id in ("femur_glide_space_lacking", "acetabulum_not_anteverted",
                                                   "outlet_not_opening", "inlet_not_closing", "pelvis_not_internally_rotating")]
    assert [n.id for n in chain] == ["femur_glide_space_lacking", "acetabulum_not_anteverted", "outlet_not_opening",
                                     "inlet_not_closing", "pelvis_not_internally_rotating"]
    root = chain[-1]
    assert any(c.rule == "slr_space_lacking" for c in root.children)
    # stiff rotators are a cause in the model, not in this case
    absent = {(n.id, n.side) for n in nodes(e, "absent")}
    assert ("deep_external_rotators_stiff", "left") in absent
    assert {("pelvis_forward", "left"), ("pelvis_turned_away", "left")} <= absent  # confounders checked, not seen
    text = e.text()
    assert "How it was established:" in text and "= 12°, below its threshold of 25°" in text
    assert "Causes in the KB's model that hold in this case:" in text
    assert "Pelvic inlet not closing (inlet_not_closing, left)" in text
    assert "Posterior hip capsule closed (posterior_capsule_closed, left)" in text
    assert "Confounders of its test:" in text


def test_why_a_compensation_traces_it_to_limited_ir_and_how_that_was_measured(demo):
    e = demo.explain("hip_hike", side="left", question="why")
    assert e.answers[0].headline == "Entered in the case: Hip hike (hip_hike, left): observed."
    limited = nodes(e, "cause")[0]
    assert (limited.id, limited.rule) == ("ir_limited", "limited_ir_shows_as_hip_hike")
    steps = [c.rule for c in limited.children if c.kind == "rule"]
    assert steps == ["ir_measured_limited"]  # the chain's link is shown as a cause, not repeated as a step
    assert "femur_glide_space_lacking" in {c.id for c in limited.children if c.kind == "cause"}


def test_why_names_an_observed_confounder_and_what_follows_from_it(kb):
    result = run(kb, {"supine_hip_ir": {"left": 12}, "pelvis_turned_away": "left"})
    e = result.explain("ir_limited", side="left", question="why")
    (confounder,) = nodes(e, "confounder")
    assert (confounder.id, confounder.side, confounder.rule) == ("pelvis_turned_away", "left", "pelvis_turned_away_limits_ir")
    below = {n.id for n in confounder.walk()}
    assert {"ir_test_confounded_by_pelvis", "retest_supine_ir_pelvis_neutral"} <= below
    assert "None of the causes in the KB's model holds in this case." in e.text()


def test_why_shows_a_disagreement(kb):
    result = run(kb, {"supine_hip_ir": {"left": 35}, "straight_leg_raise": {"left": 40}})
    e = result.explain("ir_within_range", side="left", question="why")
    (d,) = nodes(e, "disagreement")
    assert "dropped Hip internal rotation limited (ir_limited, left) (predicted): measured outweighs predicted" in d.text


def test_why_a_recommendation_names_what_called_for_it_and_its_causes(demo):
    e = demo.explain("arm_bar", side="left", question="why")
    (call,) = nodes(e, "rule")[:1]
    assert call.rule == "arm_bar_for_pelvis_not_internally_rotating"
    assert "The Arm Bar is one of my favourite exercises" in call.source
    (premise,) = call.children
    assert (premise.id, premise.side, premise.status) == ("pelvis_not_internally_rotating", "left", "measured")
    assert premise.children[0].rule == "slr_space_lacking"
    assert "Straight leg raise angle (straight_leg_raise, left) = 45°, below its threshold of 60°" in e.text()
    cable = demo.explain("cable_crossover_step_up", side="left", question="why")
    assert "femur_glide_space_lacking" in {n.id for n in nodes(cable, "cause")}  # the caller's causes follow


# -- why-not -------------------------------------------------------------------------------------


def test_why_not_capsule_when_the_pelvis_is_turned_away_names_the_confounder(kb):
    result = run(kb, {"supine_hip_ir": {"left": 12}, "pelvis_turned_away": "left"})
    e = result.explain("posterior_capsule_closed", side="left", question="why-not")
    rules = nodes(e, "rule")
    assert [r.rule for r in rules] == ["capsule_closed_from_ir_drop", "capsule_closed_from_ir_and_flexion_drop"]
    for rule in rules:
        (blocker,) = rule.children
        assert (blocker.id, blocker.side, blocker.condition) == ("pelvis_turned_away", "left", "pelvis_turned_away not observed")
        assert blocker.text.endswith("was observed: a confounder of the test")


def test_why_not_when_ir_was_not_measured_names_the_assessment(kb):
    result = run(kb, {"hip_hike": "left"})
    e = result.explain("ir_limited", side="left", question="why-not")
    first = nodes(e, "rule")[0]
    assert first.rule == "ir_measured_limited"
    (blocker,) = first.children
    assert blocker.assessment == "assess_supine_hip_ir"
    assert blocker.text == (
        "Supine hip internal rotation at 90° hip flexion (supine_hip_ir, left) was not measured; "
        "to obtain it: Measure supine hip internal rotation (assess_supine_hip_ir)"
    )
    # the chain is followed to its own missing measurement
    assert "assess_straight_leg_raise" in {n.assessment for n in nodes(e, "blocker")}


def test_why_not_with_ir_30_gives_both_numbers(kb):
    e = run(kb, {"supine_hip_ir": {"left": 30}}).explain("ir_limited", side="left", question="why-not")
    assert "Supine hip internal rotation at 90° hip flexion (supine_hip_ir, left) = 30°, not below its threshold of 25°" in e.text()


def test_why_not_uses_overridden_thresholds(kb):
    result = kb.assess({"findings": {"supine_hip_ir": {"left": 30}}}, thresholds={"supine_hip_ir": 28})
    assert "= 30°, not below its threshold of 28°" in result.explain("ir_limited", side="left", question="why-not").text()


def test_why_not_at_least_and_lower_side_conditions(kb):
    result = run(kb, {"straight_leg_raise": {"left": 45}, "supine_hip_ir": {"left": 30, "right": 35}})
    allows = result.explain("posterior_hip_allows_ir", side="left", question="why-not").text()
    assert "(straight_leg_raise, left) = 45°, below its threshold of 60° (the rule needs at least that)" in allows
    asym = result.explain("ir_asymmetry", side="left", question="why-not").text()
    assert "(supine_hip_ir, left) = 30° is 5° lower than the right side (35°), not lower by more than the threshold of 10°" in asym
    one_side = run(kb, {"supine_hip_ir": {"left": 30}}).explain("ir_asymmetry", side="left", question="why-not")
    assert nodes(one_side, "blocker")[0].id == "supine_hip_ir" and nodes(one_side, "blocker")[0].side == "right"


def test_why_not_a_compensation_rule_lists_the_compensations_not_seen(kb):
    result = run(kb, {"supine_hip_ir": {"left": 12}})
    e = result.explain("integrate_foot_and_ribcage", side="left", question="why-not")
    (blocker,) = nodes(e, "blocker")
    assert blocker.text.startswith("none of these was observed: Rib cage side-bend (rib_cage_side_bend)")
    assert "Knee varus (knee bowing out) (knee_varus, left)" in blocker.text


def test_why_not_a_dropped_prediction_says_what_outweighed_it(kb):
    result = run(kb, {"supine_hip_ir": {"left": 35}, "straight_leg_raise": {"left": 40}})
    e = result.explain("ir_limited", side="left", question="why-not")
    assert e.answers[0].headline == "It was concluded on the left, then dropped in a disagreement:"
    (d,) = nodes(e, "disagreement")
    assert "Hip internal rotation within range (ir_within_range, left) is measured, and measured outweighs predicted" in d.text
    assert d.children[0].rule == "femur_glide_space_enables_ir"
    # and what rested on it says so
    cable = result.explain("cable_crossover_step_up", side="left", question="why-not")
    assert "Hip internal rotation limited (ir_limited, left) was dropped in a disagreement" in cable.text()


def test_why_not_a_state_no_rule_concludes(kb):
    e = run(kb, {"supine_hip_ir": {"left": 12}}).explain("deep_external_rotators_stiff", side="left", question="why-not")
    assert e.answers[0].headline.startswith("It does not hold on the left, and no rule can conclude it.")
    assert "deep_external_rotators_stiff: left" in e.answers[0].headline


def test_why_not_on_something_that_holds_says_so_and_sides_default_to_both(demo):
    e = demo.explain("ir_limited", question="why-not")
    assert [(a.side, a.holds) for a in e.answers] == [("left", True), ("right", False)]
    assert e.answers[0].headline == "It holds on the left (measured · clinical-norm); ask how for its derivation."


def test_why_not_stops_at_the_capsule_ir_cycle_and_at_repeats(demo):
    # space at the back ← capsule ← IR limited ← space at the back: the walk stops where it started
    e = demo.explain("posterior_hip_space_lacking", side="right", question="why-not")
    text = e.text()
    assert "✗ needs Lacking space at the back of the hip (posterior_hip_space_lacking, right), the item in question" in text
    # the capsule's second rule needs IR limited too: followed once, then referred to
    assert text.count("✗ Hip internal rotation limited (ir_limited, right) does not hold:") == 1
    assert "✗ Hip internal rotation limited (ir_limited, right) does not hold (see above)" in text


# -- errors and JSON ------------------------------------------------------------------------------


def test_unknown_id_side_and_question(demo):
    with pytest.raises(ExplainError, match=r"^unknown id 'ir_limted' \(did you mean 'ir_limited'\?\)$"):
        demo.explain("ir_limted")
    with pytest.raises(ExplainError, match=r"^unknown side 'lefty' \(did you mean 'left'\?\)$"):
        demo.explain("ir_limited", side="lefty")
    with pytest.raises(ExplainError, match="unknown question 'when'"):
        demo.explain("ir_limited", question="when")
    assert explain(demo, "ir_limited", question="why_not").question == "why-not"


def test_explanation_to_dict_is_json(demo):
    data = json.loads(json.dumps(demo.explain("ir_limited", side="left", question="why").to_dict()))
    assert (data["question"], data["id"], data["kind"], data["side"]) == ("why", "ir_limited", "state", "left")
    (answer,) = data["answers"]
    assert answer["holds"] is True
    sections = [n["text"] for n in answer["nodes"] if n["kind"] == "section"]
    assert sections[0] == "How it was established:"


# -- what-if ---------------------------------------------------------------------------------------


def test_what_if_slr_normal_on_the_left(kb):
    diff = what_if(kb, DEMO, parse_change(kb, "straight_leg_raise.left=85"))
    gone = {(d.id, d.side) for d in diff.gone}
    appeared = {(d.id, d.side) for d in diff.appeared}
    assert {("pelvis_not_internally_rotating", "left"), ("inlet_not_closing", "left"), ("arm_bar", "left")} <= gone
    assert {("pelvis_internally_rotating", "left"), ("sacrum_nutating", "left")} <= appeared
    (changed,) = [d for d in diff.changed if d.id == "ir_limited"]
    assert (changed.before, changed.after, changed.rules_lost) == ("measured", "measured", ("femur_glide_space_enables_ir",))
    text = diff.text()
    assert text.startswith("What if straight_leg_raise/left: 45° → 85°?")
    assert "- Exercise: Arm bar (arm_bar, left)" in text
    assert "+ Pelvis internally rotating (pelvis_internally_rotating, left): measured" in text
    assert not any(d.side == "right" for d in diff.appeared + diff.gone + diff.changed)


def test_what_if_removing_a_measurement_and_stating_a_state(kb):
    diff = what_if(kb, DEMO, parse_change(kb, "supine_hip_ir.left=none"))
    (limited,) = [d for d in diff.changed if d.id == "ir_limited"]
    assert (limited.before, limited.after) == ("measured", "predicted")
    assert ("assess_supine_hip_ir", "left") in {(d.id, d.side) for d in diff.appeared}
    stated = what_if(kb, DEMO, parse_change(kb, "deep_external_rotators_stiff.right=true"))
    assert {("deep_external_rotators_stiff", "right"), ("posterior_hip_space_lacking", "right")} <= {
        (d.id, d.side) for d in stated.appeared
    }
    nothing = what_if(kb, DEMO, parse_change(kb, "supine_hip_ir.left=13"))
    assert nothing.text().endswith("Nothing changes: the same conclusions and recommendations, with the same statuses.\n")
    assert json.loads(json.dumps(nothing.to_dict()))["changes"] == [
        {"id": "supine_hip_ir", "side": "left", "before": 12.0, "after": 13.0},
    ]


def test_what_if_refuses_a_change_without_its_side(kb):
    with pytest.raises(InputError, match="hip_hike: 'hip_hike' is sided: give a side"):
        what_if(kb, DEMO, {("hip_hike", None): True})
    with pytest.raises(InputError, match="belongs to no side"):
        what_if(kb, DEMO, {("rib_cage_side_bend", "left"): True})


def test_control_characters_from_a_kb_never_reach_the_terminal(kb):
    from hipkb.explain import Answer, Node

    answer = Answer("left", True, "head\x1b[2J", (Node("item", "a\x1b]0;title\x07b", source="q\rx"),))
    assert "\x1b" not in answer.text() and "\x07" not in answer.text() and "\r" not in answer.text()


def test_parse_change(kb):
    assert parse_change(kb, "rib_cage_side_bend=true") == {("rib_cage_side_bend", None): True}
    assert parse_change(kb, "hip_hike=false") == {("hip_hike", "left"): False, ("hip_hike", "right"): False}
    assert parse_change(kb, "supine_hip_ir.right=None") == {("supine_hip_ir", "right"): None}


@pytest.mark.parametrize("text,message", [
    ("supine_hip_rI.left=3", "unknown finding 'supine_hip_rI'"),
    ("supine_hip_ir.middle=3", "unknown side 'middle'"),
    ("supine_hip_ir.left=abc", "'abc' is not a number, true, false or none"),
    ("supine_hip_ir.left=200", "200° is outside the valid range [0, 90]"),
    ("supine_hip_ir=20", "'supine_hip_ir' is sided; give a side, e.g. supine_hip_ir.left=20"),
    ("supine_hip_ir.left=true", "needs a number of degrees"),
    ("hip_hike.left=12", "takes true, false or none"),
    ("rib_cage_side_bend.left=true", "belongs to no side"),
    ("straight_leg_raise.left", "expected ID.SIDE=VALUE"),
    ("supine_hip_ir.left=nan", "needs a finite number"),
])
def test_parse_change_errors(kb, text, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        parse_change(kb, text)


# -- CLI -----------------------------------------------------------------------------------------------


def run_cli(capsys, *args):
    from hipkb.cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("question", ["how", "why", "why-not"])
def test_cli_questions_print_the_library_text(capsys, demo, question):
    code, out, err = run_cli(capsys, question, "ir_limited", DEMO, "--side", "left")
    assert (code, err) == (0, "")
    assert out == demo.explain("ir_limited", side="left", question=question).text()
    code, out, _ = run_cli(capsys, question, "ir_limited", DEMO, "--format", "json")
    assert code == 0 and json.loads(out)["question"] == question


def test_cli_threshold_reaches_the_explanation(capsys):
    code, out, _ = run_cli(capsys, "why-not", "ir_limited", DEMO, "--side", "right", "--threshold", "supine_hip_ir=30")
    assert code == 0 and "= 40°, not below its threshold of 30°" in out


@pytest.mark.parametrize("args,message", [
    (["how", "ir_limted", DEMO], "hipkb: error: unknown id 'ir_limted' (did you mean 'ir_limited'?)\n"),
    (["why", "ir_limited", REPO / "no-such-case.yaml"], "no such file"),
    (["what-if", DEMO, "--set", "supine_hip_ir.left=abc"], "'abc' is not a number, true, false or none"),
    (["why-not", "ir_limited", DEMO, "--side", "middle"], "Invalid value for '--side'"),
])
def test_cli_bad_input_exits_2_with_one_line(capsys, args, message):
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_cli_what_if(capsys, kb):
    code, out, _ = run_cli(capsys, "what-if", DEMO, "--set", "straight_leg_raise.left=85", "--set", "rib_cage_side_bend=false")
    assert code == 0
    changes = {**parse_change(kb, "straight_leg_raise.left=85"), **parse_change(kb, "rib_cage_side_bend=false")}
    assert out == what_if(kb, DEMO, changes).text()
    assert "- Strategy: Integrate the foot and ribcage (integrate_foot_and_ribcage, left)" in out
    code, out, _ = run_cli(capsys, "what-if", DEMO, "--set", "straight_leg_raise.left=85", "--format", "json")
    assert code == 0 and json.loads(out)["changes"][0]["after"] == 85.0
