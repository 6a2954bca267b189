"""The result's JSON (schema_version 2) and lookups, field by field, as DESIGN "Interfaces" shows them.

Each expected value is a literal taken from DESIGN.md ("Interfaces": the
``assess --format json`` example; "Case files") and docs/reasoning.md
(the rules and their statuses and evidence), never produced by hipkb
itself. Mutation testing showed that a renamed key in a disagreement, a
justification or a recommendation went unnoticed; these tests pin them.
"""

from __future__ import annotations

import json

import pytest

import hipkb
from hipkb.errors import UnknownId

#: reasoning.md rule 5 (and tests/cases/r5-ir-within-range-overrules-chain.yaml): the short SLR predicts
#: limited IR on the left through the pelvic chain, but IR is measured within range there.
OVERRULED = {"findings": {"supine_hip_ir": {"left": 35}, "straight_leg_raise": {"left": 40}}}
DEMO = "examples/demo-01.yaml"


def test_a_disagreement_lists_kept_dropped_withdrawn_and_why() -> None:
    (d,) = hipkb.assess(OVERRULED).to_dict()["disagreements"]
    assert d == {
        "side": "left",
        "kept": {"id": "ir_within_range", "status": "measured"},
        "dropped": [{"id": "ir_limited", "status": "predicted"}],
        # DESIGN rule 5: "only the predicted ir_limited and what rested on it go": the programme it called
        # (rule 6), the assessments it asked for (rule 7) and the retest.
        "withdrawn": [
            "influence_pelvic_position/left",
            "open_posterior_pelvis_and_hip/left",
            "shift_centre_of_gravity/left",
            "start_on_ground/left",
            "arm_bar/left",
            "front_foot_elevated_split_squat/left",
            "cable_crossover_step_up/left",
            "avoid_stretching_in_isolation/left",
            "check_pinch_in_flexion_ir/left",
            "assess_squat/left",
            "assess_toe_touch/left",
            "assess_foot_presentation/left",
            "retest_after_programme/left",
        ],
        "reason": "measured outweighs predicted",
    }


def test_a_disagreement_with_no_winner_has_kept_null(tmp_path) -> None:
    # reasoning.md: "on equal status ... when that ties too, both go"; DESIGN: kept is null then.
    from test_semantics import write_kb

    write_kb(tmp_path, states="- {id: a, label: A, opposite: b}\n- {id: b, label: B, opposite: a}\n")
    (d,) = hipkb.load_kb(tmp_path).assess({"findings": {"a": "left", "b": "left"}}).to_dict()["disagreements"]
    assert d["kept"] is None
    assert d["dropped"] == [{"id": "a", "status": "given"}, {"id": "b", "status": "given"}]


def test_a_justification_names_facts_assumptions_and_its_source() -> None:
    # reasoning.md rules 2-3: the capsule from the IR drop, pelvis_forward recorded false (a fact),
    # pelvis_turned_away not recorded (an assumption).
    case = {"findings": {"supine_hip_ir": {"left": 12}, "pelvis_forward": {"left": False}}}
    conclusion = next(c for c in hipkb.assess(case).to_dict()["conclusions"] if c["id"] == "posterior_capsule_closed")
    j = conclusion["justifications"][0]
    assert {k: v for k, v in j.items() if k != "source"} == {
        "rule": "capsule_closed_from_ir_drop",
        "status": "indicated",
        "evidence": "coaching-model",
        "because": ["ir_limited/left", "supine_hip_ir/left"],
        "recorded_false": ["pelvis_forward/left"],
        "not_recorded": [],
        "assumptions": [{"id": "pelvis_turned_away", "side": "left"}],
    }
    assert set(j["source"]) == {"ref", "quote", "note", "interpretation"}
    assert j["source"]["ref"] == "article"
    assert conclusion["assumptions"] == [{"id": "pelvis_turned_away", "side": "left"}]


def test_a_justification_lists_what_was_not_recorded() -> None:
    # reasoning.md rule 7: a compensation on a side where supine IR is absent -> suspected (inferred, int.).
    case = {"findings": {"hip_hike": "left"}}
    conclusion = next(c for c in hipkb.assess(case).to_dict()["conclusions"] if c["id"] == "ir_limitation_suspected")
    j = conclusion["justifications"][0]
    assert (j["rule"], j["status"], j["evidence"]) == ("compensation_suggests_ir_limitation", "inferred", "interpretation")
    assert (j["because"], j["not_recorded"], j["recorded_false"]) == (["hip_hike/left"], ["supine_hip_ir/left"], [])


def test_a_recommendation_in_json() -> None:
    # DESIGN's example: {"id": "arm_bar", "side": "left", "kind": "exercise", "order": 1, "status": "measured",
    # ..., "assumptions": [], "addresses": ["ir_limited/left", ...], "justifications": [{"rule": ..., "because":
    # ["ir_limited/left"]}]}; reasoning.md: arm_bar addresses ir_limited, the pelvic shape and muscle tension.
    arm_bar = next(r for r in hipkb.assess(DEMO).to_dict()["recommendations"] if r["id"] == "arm_bar")
    assert set(arm_bar) == {"id", "side", "kind", "order", "label", "summary", "status", "evidence", "assumptions",
                            "borderline", "addresses", "justifications"}
    assert (arm_bar["side"], arm_bar["kind"], arm_bar["order"], arm_bar["status"]) == ("left", "exercise", 1, "measured")
    assert arm_bar["evidence"] == "interpretation"  # reasoning.md: arm_bar_for_programme is int.
    assert arm_bar["label"] == "Arm bar" and arm_bar["summary"].startswith("Rolling over the pelvis")
    assert (arm_bar["assumptions"], arm_bar["borderline"]) == ([], [])
    assert arm_bar["addresses"] == ["ir_limited/left", "pelvis_not_internally_rotating/left", "inlet_not_closing/left",
                                    "posterior_hip_space_lacking/left"]
    (j,) = arm_bar["justifications"]
    assert (j["rule"], j["because"]) == ("arm_bar_for_programme", ["ir_limited/left"])


def test_whole_degrees_are_written_as_integers() -> None:
    # DESIGN's example: "measurement": {"finding": "supine_hip_ir", "value": 12, "threshold": 25, "margin": -13, ...}
    data = hipkb.assess(DEMO).to_dict()
    limited = next(c for c in data["conclusions"] if (c["id"], c["side"]) == ("ir_limited", "left"))
    assert json.dumps(limited["measurement"]) == (
        '{"finding": "supine_hip_ir", "side": "left", "value": 12, "threshold": 25, "margin": -13, "mdc": 6.1, '
        '"borderline": false}'
    )
    assert json.dumps(data["findings"]["supine_hip_ir"]) == '{"left": 12, "right": 40}'


# -- lookups: an id of the wrong kind is an UnknownId, never a silent None or False ---------------

def test_lookups_accept_only_their_own_kind_of_id() -> None:
    result = hipkb.assess(DEMO)
    assert result.sides_of("arm_bar") == ("left",)  # a recommendation has sides too
    assert result.sides_of("ir_limited") == ("left",)
    assert result.finding("supine_hip_ir", "left") == 12
    with pytest.raises(UnknownId):
        result.finding("ir_limited", "left")  # a state is not an entered finding
    with pytest.raises(UnknownId):
        result.recommendation("ir_limited", "left")  # a state is not a recommendation
    with pytest.raises(UnknownId):
        result.holds("hip_hike", "left")  # a finding is entered, not concluded: holds() is about states and recommendations
    with pytest.raises(UnknownId):
        result.sides_of("supine_hip_ir")


# -- the convenience methods answer about this result (DESIGN "Interfaces") --------------------

def test_the_result_answers_questions_about_itself() -> None:
    result = hipkb.assess(DEMO)
    # DESIGN "The differential": every contributor the article names, in the table's order.
    assert [c.id for c in result.differential("left")] == [
        "posterior_capsule_closed", "pelvic_chain", "deep_external_rotators_stiff", "pelvic_position", "ribcage_knee_foot",
    ]
    # DESIGN rule 1: 30 is at or above the 25 threshold: limited IR goes on the left, within range appears.
    changed = result.what_if({("supine_hip_ir", "left"): 30})
    assert ("ir_limited", "left") in [d.key for d in changed.goes]
    assert ("ir_within_range", "left") in [d.key for d in changed.appears]
    explained = result.explain("ir_limited", side="left").to_dict()
    assert (explained["id"], explained["side"], explained["question"], explained["holds"]) == ("ir_limited", "left", "how", True)
    assert "finding:supine_hip_ir/left" in result.graph()
    assert "Bottom line" in result._repr_html_()  # DESIGN: the HTML report starts with the bottom line


def test_a_knowledge_base_built_from_a_loaded_model_assesses() -> None:
    from hipkb.kb import load_model

    kb = hipkb.KnowledgeBase.from_model(load_model())
    assert kb.assess(DEMO).conclusion("ir_limited", "left").status == "measured"  # DESIGN rule 1: 12 < 25


def test_a_conclusion_names_its_label_borderline_readings_and_how_it_shows_up() -> None:
    # DESIGN "Interfaces": {"schema_version": 2, "kb": {"name": "hipkb", "version": "..."}, ...}; rule 7: "Where IR
    # is limited, the compensations observed on that side are listed with it as how it shows up" (demo-01:
    # hip hike on the left, the unsided rib cage side-bend); "Measurement uncertainty": every conclusion lists
    # the borderline readings it rests on (demo-01's SLR 45° is within its 6° MDC of the 50° threshold).
    data = hipkb.assess(DEMO).to_dict()
    assert data["kb"] == {"name": "hipkb", "version": "2.0.0"}
    by_key = {(c["id"], c["side"]): c for c in data["conclusions"]}
    limited = by_key[("ir_limited", "left")]
    assert (limited["label"], limited["shows_as"], limited["borderline"]) == (
        "Hip internal rotation limited", ["hip_hike/left", "rib_cage_side_bend"], [])
    inlet = by_key[("inlet_not_closing", "left")]
    assert (inlet["label"], inlet["borderline"], inlet["shows_as"]) == (
        "Pelvic inlet not closing", [{"finding": "straight_leg_raise", "side": "left"}], [])


def test_a_given_state_is_justified_by_the_case() -> None:
    # DESIGN: a state given in the case "appears among the conclusions with status given"; "a given state's
    # own evidence is assessor"; its justification names no rule.
    c = next(c for c in hipkb.assess({"findings": {"deep_external_rotators_stiff": "left"}}).to_dict()["conclusions"]
             if c["id"] == "deep_external_rotators_stiff")
    assert (c["side"], c["status"], c["evidence"], c["assumptions"], c["measurement"]) == ("left", "given", "assessor", [], None)
    assert c["justifications"] == [{"rule": None, "status": "given", "evidence": "assessor", "because": [],
                                    "recorded_false": [], "not_recorded": [], "assumptions": [], "source": None}]


def test_a_step_through_a_causal_link_cites_the_link() -> None:
    # DESIGN "The knowledge base": "Every rule and link carries id, label, and a source: ... an exact quote from
    # the article ... or interpretation"; rule 5: the closed capsule takes the space at the back of the hip,
    # interpretation of "a major player in limiting internal rotation is the posterior capsule".
    data = hipkb.assess(DEMO).to_dict()
    space = next(c for c in data["conclusions"] if (c["id"], c["side"]) == ("posterior_hip_space_lacking", "left"))
    (j,) = space["justifications"]
    assert (j["rule"], j["status"], j["evidence"], j["because"]) == (
        "closed_capsule_takes_posterior_space", "inferred", "interpretation", ["posterior_capsule_closed/left"])
    assert (j["source"]["ref"], j["source"]["quote"]) == ("article", "a major player in limiting internal rotation is the posterior capsule.")
    assert j["source"]["interpretation"].startswith("The article names the posterior capsule as a major limiter")
