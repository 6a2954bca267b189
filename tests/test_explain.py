"""how and why, and the CLI questions: DESIGN.md "Answers" and the issue "Answers a student can use".

- how: the derivation down to the entered findings, a step already shown is
  "(shown above)", never repeated; s(CASP)'s connectives;
- why: the differential for limited IR, the causes of any other state (those
  that hold, then those that do not, each once), what called for a
  recommendation and what it addresses (the article's words);
- plain language by default (labels, sides in words, no raw ids), rule ids and
  quotes with --detail full; bad ids exit 2 with one line and a did-you-mean;
- no recursion over KB-sized structures (a 700-link chain).
"""

from __future__ import annotations

import inspect
import json
import shutil
import sys

import pytest
from click.testing import CliRunner

import hipkb
from conftest import REPO
from hipkb.cli import main
from hipkb.cli.common import cli
from hipkb.errors import ExplainError, UnknownId

DEMO = REPO / "examples" / "demo-01.yaml"


@pytest.fixture(scope="module")
def demo():
    return hipkb.assess(DEMO)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# -- how --------------------------------------------------------------------------------------


def test_golden_how_capsule_left(demo):
    assert demo.explain("posterior_capsule_closed", side="left").text() == (
        "How: posterior hip capsule closed, on the left\n"
        "Posterior hip capsule closed (left) — indicated, coaching-model\n"
        "  because hip internal rotation limited (left) — measured, clinical-norm\n"
        "    because supine hip internal rotation at 90° hip flexion is 12° on the left, below the 25° threshold\n"
        "  and supine hip internal rotation at 90° hip flexion on the left (shown above)\n"
        "  and there is no evidence that pelvis forward on the tested side during the supine IR test (left): not recorded, assumed\n"
        "  and there is no evidence that pelvis turned away from the tested side during the supine IR test (left): not recorded, assumed\n"
    )


def test_how_never_repeats_a_step(demo):
    for item in ("influence_pelvic_position", "open_posterior_pelvis_and_hip", "ir_limited", "avoid_stretching_in_isolation"):
        e = demo.explain(item, side="left")
        (answer,) = e.answers
        keys = [(s.key, s.kind) for s in answer.steps]
        assert len(keys) == len(set(keys)), item
        headers = [line for line in e.text().splitlines() if " — " in line]
        assert len(headers) == len(set(h.strip() for h in headers)), item
    text = demo.explain("influence_pelvic_position", side="left").text()
    assert "pelvis not internally rotating on the left (shown above)" in text


def test_how_reaches_the_entered_findings_and_names_rules_with_full_detail(demo):
    e = demo.explain("front_foot_elevated_split_squat", side="left")
    steps = {s.key: s for s in e.answers[0].steps}
    assert steps[("supine_hip_ir", "left")].status == "entered"
    assert steps[("front_foot_elevated_split_squat", "left")].status == "measured"
    full = e.text(detail="full")
    assert "rule front_foot_elevated_split_squat_for_programme" in full
    assert "rule ir_measured_limited" in full
    assert "according to the article: “Split Squats in general help improve hip internal rotation" in full
    brief = e.text()
    assert "rule " not in brief and "according to" not in brief


def test_how_of_a_given_state_and_of_findings(demo):
    result = hipkb.assess({"findings": {"deep_external_rotators_stiff": "right", "hip_hike": "left"}})
    text = result.explain("posterior_hip_space_lacking", side="right").text()
    assert "because deep external rotators stiff (right) — given, assessor" in text
    assert "because it was stated in the case (given)" in text
    assert result.explain("hip_hike", side="left").text() == "How: hip hike, on the left\nHip hike on the left was observed: entered in the case\n"
    missing = result.explain("supine_hip_ir", side="left").text()
    assert "Supine hip internal rotation at 90° hip flexion on the left was not recorded." in missing
    assert "To record it: measure supine hip internal rotation." in missing


def test_how_without_side_answers_where_it_holds(demo):
    assert [a.side for a in demo.explain("ir_limited").answers] == ["left"]
    assert [a.side for a in demo.explain("ir_within_range").answers] == ["right"]
    # holding nowhere: why not, on both sides
    nowhere = demo.explain("fai_flexion_ir")
    assert [(a.side, a.holds) for a in nowhere.answers] == [("left", False), ("right", False)]


def test_how_on_something_that_does_not_hold_says_why_not(demo):
    text = demo.explain("ir_limited", side="right").text()
    assert text.startswith("How: hip internal rotation limited, on the right\nIt does not hold on the right.")
    assert "40° on the right, not below the 25° threshold" in text


def test_recorded_false_reads_it_is_not_the_case():
    result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}, "pelvis_forward": [], "pelvis_turned_away": False}})
    text = result.explain("posterior_capsule_closed", side="left").text()
    assert "and it is not the case that pelvis forward on the tested side during the supine IR test (left): recorded" in text
    assert "there is no evidence that" not in text


# -- why --------------------------------------------------------------------------------------


def test_golden_why_ir_limited_left(demo):
    text = demo.explain("ir_limited", side="left", question="why").text()
    assert text == (
        "Why is hip internal rotation limited on the left?\n"
        "Hip internal rotation limited (left) — measured, clinical-norm: supine hip internal rotation at 90° hip flexion is 12° on the left, below the 25° threshold.\n"
        "Contributors the article names, on the left (holding: posterior hip capsule closed, pelvic chain, ribcage, knee and foot):\n"
        "  ✓ Posterior hip capsule closed — supported\n"
        "      because supine hip internal rotation at 90° hip flexion is 12° on the left, below the 25° threshold (read from this drop: it explains the drop, it is not further evidence for it)\n"
        "      and there is no evidence that pelvis forward on the tested side during the supine IR test (left): not recorded, assumed\n"
        "      and there is no evidence that pelvis turned away from the tested side during the supine IR test (left): not recorded, assumed\n"
        "      next: record the pelvic position during the supine IR test\n"
        "  ✓ Pelvic chain: pelvis → inlet → outlet → hip socket → femur glide — supported\n"
        "      because straight leg raise angle is 45° on the left, below the 50° threshold: read as pelvis not internally rotating (within the 6° measurement error: borderline)\n"
        "  ? Deep external rotators stiff — not assessed\n"
        "  ? Pelvic position: forward or turned away from the tested side — not recorded\n"
        "      next: record the pelvic position during the supine IR test\n"
        "  ✓ Ribcage, knee and foot — present (interpretation)\n"
        "      because rib cage side-bend (no side): observed\n"
        "It shows as: hip hike (left), rib cage side-bend.\n"
    )
    assert len(text.splitlines()) <= 25


def test_why_ir_limited_with_the_pelvis_forward_is_short_and_right():
    result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 18, "right": 35}, "pelvis_forward": "left",
                                        "straight_leg_raise": {"left": 40}, "knee_valgus": "left"}})
    e = result.explain("ir_limited", question="why")
    assert [a.side for a in e.answers] == ["left"]
    text = e.text()
    lines = text.splitlines()
    assert len(lines) <= 25
    said = [line for line in lines if "next:" not in line]  # two rows may share their next assessment
    assert len(said) == len(set(said))  # nothing else repeated
    assert "(holding: pelvic chain, pelvic position, ribcage, knee and foot)" in text
    assert "  ! Posterior hip capsule closed — confounded" in lines
    assert "  ✓ Pelvic position: forward or turned away from the tested side — present" in lines
    assert "      next: retest supine IR with the pelvis neutral" in lines


def test_why_ir_limited_on_a_side_where_it_does_not_hold_still_shows_the_differential(demo):
    e = demo.explain("ir_limited", side="right", question="why")
    assert not e.holds
    text = e.text()
    assert text.startswith("Why is hip internal rotation not limited on the right?\n"
                           "Hip internal rotation is not limited on the right: supine hip internal rotation at 90° hip flexion is 40° on the right")
    assert "  ✗ Posterior hip capsule closed — argued against" in text
    data = e.to_dict()
    assert (data["id"], data["side"], data["holds"]) == ("ir_limited", "right", False)
    assert [r["standing"] for r in data["differential"]][:3] == ["argued against"] * 3


def test_why_ir_limited_names_the_disagreement():
    result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 35}, "straight_leg_raise": {"left": 40}}})
    text = result.explain("ir_limited", side="left", question="why").text()
    assert ("It was dropped: hip internal rotation within range was measured (35°), which outweighs the pelvic chain's "
            "prediction of hip internal rotation limited.") in text


def test_why_a_state_lists_causes_that_hold_then_those_that_do_not_each_once(demo):
    text = demo.explain("posterior_hip_space_lacking", side="left", question="why").text()
    assert text == (
        "Why: lacking space at the back of the hip, on the left?\n"
        "Lacking space at the back of the hip (left) — inferred, interpretation: because posterior hip capsule closed (left)\n"
        "Causes in the model that hold:\n"
        "  because posterior hip capsule closed (left) — indicated: supine hip internal rotation at 90° hip flexion is 12° on the left, below the 25° threshold\n"
        "Causes in the model that do not hold:\n"
        "  there is no evidence that deep external rotators stiff (left)\n"
    )
    causes = demo.explain("femur_glide_space_lacking", side="left", question="why").answers[0].causes
    assert [c.key for c in causes] == [
        ("acetabulum_not_anteverted", "left"), ("outlet_not_opening", "left"),
        ("inlet_not_closing", "left"), ("pelvis_not_internally_rotating", "left"),
    ]
    assert all(c.holds for c in causes)


def test_why_an_opposite_is_named_as_not_the_case(demo):
    text = demo.explain("hip_hike", side="right", question="why").text()
    assert ("it is not the case that hip internal rotation limited (right): hip internal rotation within range (right) "
            "holds (measured)") in text


def test_why_a_recommendation_shows_what_called_for_it_and_what_it_addresses(demo):
    e = demo.explain("arm_bar", side="left", question="why")
    text = e.text()
    assert "Called for by:\n  because hip internal rotation limited (left) — measured\n" in text
    assert "What it addresses on the left:" in text
    assert ("  shapes the pelvis (lateral compression): pelvis not internally rotating (left), "
            "pelvic inlet not closing (left) (interpretation)\n"
            "    according to the article: “to laterally compress the pelvis creating the shape of the pelvis we're looking for.”") in text
    assert "a decompression effect throughout the body which removes the barrier of muscle tension." in text
    data = e.to_dict()
    assert {"id": "pelvis_not_internally_rotating", "side": "left"} in data["addresses"]
    assert data["called_for_by"] == [[{"id": "ir_limited", "side": "left"}]]


def test_why_a_strategy_factors_what_its_calls_share(demo):
    text = demo.explain("influence_pelvic_position", side="left", question="why").text()
    assert "  because hip internal rotation limited (left) — measured\n  and any of these:\n" in text
    assert text.count("hip internal rotation limited (left)") == 1


def test_why_the_split_squat_addresses_the_pelvis_forward():
    result = hipkb.assess({"findings": {"supine_hip_ir": {"right": 18}, "pelvis_forward": "right"}})
    text = result.explain("front_foot_elevated_split_squat", side="right", question="why").text()
    assert "tilts the pelvis back: pelvis forward on the tested side during the supine IR test (right) (interpretation)" in text
    assert "according to the article: “tilting the pelvis back”" in text


# -- plain language ---------------------------------------------------------------------------


@pytest.mark.parametrize("question, item, side", [
    ("why", "ir_limited", "left"), ("why", "ir_limited", "right"), ("how", "influence_pelvic_position", "left"),
    ("why", "arm_bar", "left"), ("why-not", "ir_limited", "right"), ("why-not", "ir_limitation_suspected", "left"),
    ("why", "posterior_hip_space_lacking", "left"),
])
def test_brief_text_has_no_raw_ids(demo, question, item, side):
    text = demo.explain(item, side=side, question=question).text()
    kb = demo.kb
    ids = [*kb.states, *kb.findings, *kb.recommendations, *kb.rule_index]
    assert [i for i in ids if "_" in i and i in text] == []
    full = demo.explain(item, side=side, question=question).text(detail="full")
    assert any("_" in i and i in full for i in ids)


def test_kb_text_is_sanitized(tmp_path):
    kb_dir = tmp_path / "kb"
    shutil.copytree(REPO / "kb", kb_dir)
    states = kb_dir / "states.yaml"
    text = states.read_text(encoding="utf-8")
    states.write_text(text.replace("label: Posterior hip capsule closed", 'label: "Posterior hip capsule \\e[31mclosed\\u202e"', 1),
                      encoding="utf-8")
    result = hipkb.load_kb(kb_dir).assess(DEMO)
    for question in ("why", "how"):
        out = result.explain("ir_limited", side="left", question=question).text(detail="full")
        assert "\x1b" not in out and "\u202e" not in out
    assert "Posterior hip capsule \\x1b[31mclosed\\u202e" in result.explain("ir_limited", side="left", question="why").text()


def test_same_question_same_bytes(demo):
    again = hipkb.assess(DEMO)
    for question in ("how", "why", "why-not"):
        for item in ("ir_limited", "arm_bar", "posterior_capsule_closed"):
            a, b = demo.explain(item, question=question), again.explain(item, question=question)
            assert a.text(detail="full") == b.text(detail="full")
            assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())


def test_library_errors(demo):
    with pytest.raises(UnknownId, match="did you mean 'ir_limited'"):
        demo.explain("ir_limitd")
    with pytest.raises(ExplainError):
        demo.explain("ir_limited", question="when")
    with pytest.raises(ExplainError):
        demo.explain("ir_limited", side="middle")
    with pytest.raises(ExplainError):
        demo.explain("ir_limited").text(detail="everything")


def test_to_dict_is_json_with_one_answer_lifted(demo):
    data = demo.explain("posterior_capsule_closed", side="left").to_dict()
    assert (data["question"], data["id"], data["side"], data["holds"], data["kind"]) == (
        "how", "posterior_capsule_closed", "left", True, "state")
    assert [s["id"] for s in data["steps"]][:3] == ["posterior_capsule_closed", "ir_limited", "supine_hip_ir"]
    assert data["steps"][0]["justifications"][0]["assumptions"] == [
        {"id": "pelvis_forward", "side": "left"}, {"id": "pelvis_turned_away", "side": "left"}]
    both = demo.explain("ir_limited", question="why-not").to_dict()
    assert [a["side"] for a in both["answers"]] == ["left", "right"] and "rules" not in both


# -- no recursion over KB-sized structures -----------------------------------------------------


def test_a_700_link_chain_needs_no_recursion(tmp_path):
    kb_dir = tmp_path / "kb"
    shutil.copytree(REPO / "kb", kb_dir)
    n = 700
    with open(kb_dir / "states.yaml", "a", encoding="utf-8") as f:
        for i in range(n):
            f.write(f"\n  - id: chain_{i}\n    label: Chain step {i}\n    sided: true\n")
    with open(kb_dir / "causal.yaml", "a", encoding="utf-8") as f:
        for i in range(n - 1):
            f.write(f"\n  - id: chain_link_{i}\n    label: Step {i} leads to step {i + 1}\n    cause: chain_{i}\n"
                    f"    effect: chain_{i + 1}\n    use: conclude\n    evidence: interpretation\n"
                    f"    source: {{interpretation: \"a generated test chain\"}}\n")
    with open(kb_dir / "rules.yaml", "a", encoding="utf-8") as f:
        f.write("\n  - id: chain_start\n    label: A hip hike starts the chain\n    when:\n      - {finding: hip_hike}\n"
                "    then: [chain_0]\n    evidence: interpretation\n    source: {interpretation: \"a generated test chain\"}\n")
    result = hipkb.load_kb(kb_dir).assess({"findings": {"hip_hike": "left"}})
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 150)  # far less than the chain is long
    try:
        how = result.explain("chain_699", side="left")
        why = result.explain("chain_699", side="left", question="why")
        why_not = result.explain("chain_699", side="right", question="why-not")
        texts = [e.text(detail="full") for e in (how, why, why_not)]
        for e in (how, why, why_not):
            json.dumps(e.to_dict(), indent=2)
    finally:
        sys.setrecursionlimit(limit)
    assert len(how.answers[0].steps) == n + 1  # every step once, down to the hip hike
    assert max(len(line) for line in texts[0].splitlines()) < 200  # indentation is capped
    assert len(why.answers[0].causes) == n - 1
    assert [[c.to_dict() for c in alt] for alt in why_not.answers[0].would_hold_if] == [
        [{"finding": "hip_hike", "side": "right", "op": "observed", "value": None}]]


# -- CLI --------------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["how", "why", "why-not"])
def test_cli_prints_the_library_text(demo, question):
    out = invoke(question, "ir_limited", DEMO, "--side", "left")
    assert out.exit_code == 0
    assert out.output == demo.explain("ir_limited", side="left", question=question).text()
    full = invoke(question, "ir_limited", DEMO, "--side", "left", "--detail", "full")
    assert full.output == demo.explain("ir_limited", side="left", question=question).text(detail="full")
    data = json.loads(invoke(question, "ir_limited", DEMO, "--format", "json").output)
    assert data["question"] == question and data["id"] == "ir_limited"


def test_cli_case_options_reach_the_answer():
    out = invoke("why-not", "ir_limited", DEMO, "--side", "right", "--threshold", "supine_hip_ir=45")
    assert "It holds on the right" in out.output
    out = invoke("why", "ir_limited", DEMO, "--side", "left", "--mdc", "straight_leg_raise=2")
    assert "borderline" not in out.output
    out = invoke("why", "ir_limited", DEMO, "--side", "left", "--engine", "experta")
    assert out.exit_code == 0 and "— supported" in out.output


@pytest.mark.parametrize("args, message", [
    (["how", "ir_limted", DEMO], "hipkb: error: unknown id 'ir_limted' (did you mean 'ir_limited'?)\n"),
    (["why", "ir_limited", REPO / "no-such-case.yaml"], "no such file"),
    (["why-not", "hip_hike", DEMO], "is a finding"),
    (["what-if", DEMO, "--set", "supine_hip_ir.left=abc"], "'abc' is not a number, true, false or none"),
    (["what-if", DEMO, "--set", "hip_ir.left=20"], "did you mean 'supine_hip_ir'?"),
    (["why-not", "ir_limited", DEMO, "--side", "middle"], "Invalid value for '--side'"),
])
def test_cli_bad_input_exits_2_with_one_line(capsys, args, message):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err
    if "Invalid value" not in message:
        assert err.count("\n") == 1


def test_why_a_suspicion_names_every_sign_that_raised_it():
    # DESIGN v2: hip hike and knee valgus each suggest limited IR (one rule, any of its signs). Both were seen,
    # so the answer names both, as the report's bottom line does, not the first sign only.
    result = hipkb.assess({"findings": {"hip_hike": "right", "knee_valgus": "right"}})
    first = result.explain("ir_limitation_suspected", side="right", question="why").text().splitlines()[1]
    assert first == ("Hip internal rotation limitation suspected (right) — inferred, interpretation: because hip hike "
                     "on the right was observed and knee valgus (knee caving in) on the right was observed")
    only_one = hipkb.assess({"findings": {"hip_hike": "right"}})
    assert only_one.explain("ir_limitation_suspected", side="right", question="why").text().splitlines()[1].endswith(
        "because hip hike on the right was observed")
