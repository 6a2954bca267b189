"""hipkb practice: a student's reading of a case, graded against the engine.

Expected answers are written from DESIGN.md (the differential's standings,
the programme of rule 6, the pinch of rule 8) and the KB's declared order
of assessments; the grades from the issue: correct / partly / incorrect,
partly counting half, 1.0 exactly when every graded item matches.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hipkb.cli import main
from hipkb.errors import InputError
from hipkb.teach import grade, parse_answers, read_answers

from conftest import REPO

DEMO = REPO / "examples" / "demo-01.yaml"
DEMO_ANSWERS = REPO / "examples" / "demo-01-answers.yaml"

#: demo-01 read by DESIGN: left IR 12° (capsule from the drop, SLR 45° short → pelvic chain,
#: rib cage side-bend observed with no side → ribcage, knee and foot); right IR 40° within range.
DEMO_RIGHT_ANSWERS = {
    "contributors": {
        "left": ["posterior_capsule_closed", "pelvic_chain", "ribcage_knee_foot"],
        "right": ["ribcage_knee_foot"],
    },
    "programme": {
        "left": ["arm_bar", "front_foot_elevated_split_squat", "cable_crossover_step_up"],
        "right": [],
    },
    "next_assessment": {"left": "record_pelvic_position", "right": "none"},
}


@pytest.fixture(scope="module")
def demo(kb):
    return kb.assess(DEMO)


def graded(result, answers):
    return grade(result, parse_answers(answers, result.kb))


def run(*args, input=None):
    """The CLI in-process (CliRunner's isolation around hipkb.cli.main): exit code, stdout, stderr."""
    with CliRunner().isolation(input=input) as (out, err, _):
        code = main([str(a) for a in args])
    return code, out.getvalue().decode(), err.getvalue().decode()


# -- grading ---------------------------------------------------------------------------------


def test_matching_every_item_scores_exactly_one(demo):
    g = graded(demo, DEMO_RIGHT_ANSWERS)
    assert [(i.section, i.side, i.grade) for i in g.items] == [
        ("contributors", "left", "correct"), ("contributors", "right", "correct"),
        ("programme", "left", "correct"), ("programme", "right", "correct"),
        ("next_assessment", "left", "correct"), ("next_assessment", "right", "correct"),
    ]
    assert g.score == 1.0


def test_the_example_answers_file(demo):
    g = grade(demo, read_answers(DEMO_ANSWERS, demo.kb))
    assert [i.grade for i in g.items] == ["partly", "incorrect", "correct", "correct", "correct", "correct"]
    assert g.score == 0.75  # (1 + 0 + 2 + 2 + 2 + 2) / 12
    left, right = g.items[0], g.items[1]
    assert left.expected == ("posterior_capsule_closed", "pelvic_chain", "ribcage_knee_foot")
    assert "left out Ribcage, knee and foot" in left.explanation
    assert "rib cage side-bend" in right.explanation  # the unsided compensation counts on the right too


def test_only_the_sections_and_sides_given_are_graded(demo):
    g = graded(demo, {"programme": {"right": []}})
    assert [(i.section, i.side) for i in g.items] == [("programme", "right")]
    assert g.score == 1.0
    blank = graded(demo, {"programme": {"left": None, "right": []}, "contributors": None})
    assert [(i.section, i.side) for i in blank.items] == [("programme", "right")]


def test_partly_counts_half(demo):
    g = graded(demo, {"contributors": {"left": ["pelvic_chain"]}, "next_assessment": {"left": "record_pelvic_position"}})
    assert [i.grade for i in g.items] == ["partly", "correct"]
    assert g.score == 0.75


@pytest.mark.parametrize(("steps", "expected"), [
    (["arm_bar", "front_foot_elevated_split_squat", "cable_crossover_step_up"], "correct"),
    (["front_foot_elevated_split_squat", "arm_bar", "cable_crossover_step_up"], "partly"),  # same steps, wrong order
    (["arm_bar"], "partly"),  # the right first step
    (["front_foot_elevated_split_squat", "cable_crossover_step_up"], "partly"),  # right steps, right order, one missing
    (["cable_crossover_step_up", "arm_bar"], "incorrect"),
    ([], "incorrect"),
])
def test_programme_grades(demo, steps, expected):
    item = graded(demo, {"programme": {"left": steps}}).items[0]
    assert item.grade == expected
    assert item.expected == ("arm_bar", "front_foot_elevated_split_squat", "cable_crossover_step_up")


def test_programme_explanation_cites_the_progression(demo):
    item = graded(demo, {"programme": {"left": ["arm_bar"]}}).items[0]
    assert "12° on the left, below the 25° threshold" in item.explanation
    assert "missing: Front foot elevated split squat; Cable crossover step-up" in item.explanation
    assert any("really start loading the body" in (s.quote or "") for s in item.sources)


def test_no_programme_where_ir_is_within_range(demo):
    item = graded(demo, {"programme": {"right": ["arm_bar"]}}).items[0]
    assert (item.grade, item.expected) == ("incorrect", ())
    assert "not limited on the right" in item.explanation and "40°" in item.explanation


def test_a_predicted_limitation_measures_supine_ir_first(kb):
    result = kb.assess({"findings": {"straight_leg_raise": {"left": 40}}})
    steps = ["assess_supine_hip_ir", "arm_bar", "front_foot_elevated_split_squat", "cable_crossover_step_up"]
    g = graded(result, {"programme": {"left": steps}, "next_assessment": {"left": "assess_supine_hip_ir"}})
    assert [i.grade for i in g.items] == ["correct", "correct"]
    assert "measure supine IR first" in g.items[0].explanation
    without = graded(result, {"programme": {"left": steps[1:]}}).items[0]
    assert without.grade == "partly"


def test_a_pinch_holds_the_step_up_back_and_refers_first(kb):
    result = kb.assess({"findings": {"supine_hip_ir": {"left": 12}, "pinch_in_flexion_ir": {"left": True}}})
    item = graded(result, {"programme": {"left": ["arm_bar", "front_foot_elevated_split_squat",
                                                   "cable_crossover_step_up"]}}).items[0]
    assert item.grade == "partly"
    assert item.expected == ("arm_bar", "front_foot_elevated_split_squat")
    assert "not in this programme: Cable crossover step-up" in item.explanation
    assert "Hold the loaded step-up" in item.explanation
    assert "Refer for clinical evaluation of possible FAI" in item.explanation


def test_next_assessment_grades(demo):
    g = graded(demo, {"next_assessment": {"left": "assess_toe_touch"}})
    assert g.items[0].grade == "partly"  # recommended there, but not first
    assert g.items[0].expected == "record_pelvic_position"
    wrong = graded(demo, {"next_assessment": {"left": "assess_straight_leg_raise"}}).items[0]
    assert wrong.grade == "incorrect"
    assert "straight leg raise angle is already recorded" in wrong.explanation
    none_left = graded(demo, {"next_assessment": {"left": "none"}}).items[0]
    assert none_left.grade == "incorrect"
    assert graded(demo, {"next_assessment": {"right": "assess_squat"}}).items[0].grade == "incorrect"


def test_contributor_that_does_not_hold_is_explained(demo):
    item = graded(demo, {"contributors": {"left": ["posterior_capsule_closed", "pelvic_chain", "ribcage_knee_foot",
                                                    "pelvic_position"]}}).items[0]
    assert item.grade == "partly"
    assert "Pelvic position: forward or turned away from the tested side does not hold on the left: it is not recorded" \
        in item.explanation


def test_json_shape(demo):
    data = graded(demo, DEMO_RIGHT_ANSWERS).to_dict()
    assert list(data) == ["score", "items"]
    assert list(data["items"][0]) == ["section", "side", "answer", "expected", "grade", "explanation", "sources"]
    assert data["items"][4]["expected"] == "record_pelvic_position"
    assert data["items"][5]["answer"] is None


# -- answers files ----------------------------------------------------------------------------


def errors_of(tmp_path, kb, text):
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_answers(path, kb)
    return str(info.value), [str(p) for p in getattr(info.value, "problems", (info.value,))]


def test_bad_answers_files_are_located_with_did_you_mean(tmp_path, kb):
    line, problems = errors_of(tmp_path, kb, (
        "contributor:\n"
        "  left: [pelvic_chain]\n"
        "programme:\n"
        "  lfet: [arm_bar]\n"
        "  right: [arm_barr]\n"
        "next_assessment:\n"
        "  left: arm_bar\n"
    ))
    where = str(tmp_path / "answers.yaml")
    assert problems == [
        f"{where}:1:1: unknown section 'contributor' (did you mean 'contributors'?)",
        f"{where}:4:3: unknown side 'lfet' in 'programme' (did you mean 'left'?)",
        f"{where}:5:11: unknown recommendation 'arm_barr' (did you mean 'arm_bar'?)",
        f"{where}:7:9: 'arm_bar' is an exercise, not an assessment",
    ]
    assert line == problems[0] + " (and 3 more errors)"


def test_contributor_hints_point_from_a_state_to_its_contributor(tmp_path, kb):
    _, problems = errors_of(tmp_path, kb, "contributors:\n  left: [inlet_not_closing, capsule]\n")
    assert problems[0].endswith("unknown contributor 'inlet_not_closing' (did you mean 'pelvic_chain'?)")
    assert problems[1].endswith("unknown contributor 'capsule' (did you mean 'posterior_capsule_closed'?)")


@pytest.mark.parametrize(("text", "message"), [
    ("- left\n", "an answers file is a mapping with contributors, programme, next_assessment, not a list"),
    ("programme: [arm_bar]\n", "'programme' needs answers per side ({left: …, right: …}), not a list"),
    ("contributors:\n  left: {a: 1}\n", "give a list of contributor ids, not a mapping"),
    ("contributors:\n  left: [pelvic_chain, pelvic_chain]\n", "'pelvic_chain' is listed twice"),
    ("next_assessment:\n  left: [a, b]\n", "give one assessment id (or 'none'), not a list"),
    ("programme:\n  left:\n", "nothing to grade: give contributors, programme or next_assessment for a side"),
])
def test_other_answers_file_errors(tmp_path, kb, text, message):
    line, _ = errors_of(tmp_path, kb, text)
    assert message in line


def test_answers_files_are_read_safely(tmp_path, kb):
    line, _ = errors_of(tmp_path, kb, "programme: !!python/object/apply:os.system [ls]\n")
    assert "unsupported YAML tag" in line


def test_json_answers_file(tmp_path, demo):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"programme": {"right": []}}), encoding="utf-8")
    assert grade(demo, read_answers(path, demo.kb)).score == 1.0


# -- the command ------------------------------------------------------------------------------


def test_cli_text_and_json():
    code, out, err = run("practice", DEMO, "--answers", DEMO_ANSWERS)
    assert (code, err) == (0, "")
    assert out.startswith("Practice for demo-01: graded against the engine\nScore: 0.75 ")
    assert "_" not in out.split("According to")[0]  # no raw ids in the words
    code, out, _ = run("practice", DEMO, "--answers", DEMO_ANSWERS, "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["score"] == 0.75 and len(data["items"]) == 6


def test_cli_bad_answers_file_exits_2_with_one_line(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("programme:\n  left: [arm_barr]\n", encoding="utf-8")
    code, out, err = run("practice", DEMO, "--answers", path)
    assert (code, out) == (2, "")
    assert err == f"hipkb: error: {path}:2:10: unknown recommendation 'arm_barr' (did you mean 'arm_bar'?)\n"


def test_cli_without_answers_and_without_a_terminal_says_what_to_pass():
    code, out, err = run("practice", DEMO)
    assert (code, out) == (2, "")
    assert "pass --answers FILE" in err and err.count("\n") == 1


ANSWERS_TYPED = "\n".join([
    "1, 2, 5",       # left contributors by number
    "arm_bar, 2, 3",  # left programme: ids or numbers
    "recrod",        # a typo: asked again
    "record_pelvic_position",
    "5",             # right contributors
    "",              # right programme: none
    "",              # right next assessment: none
]) + "\n"


def test_interactive_session_asks_one_question_at_a_time():
    code, out, err = run("practice", DEMO, "--interactive", "--format", "json", input=ANSWERS_TYPED)
    assert code == 0
    data = json.loads(out)  # prompts went to stderr: stdout is the JSON alone
    assert data["score"] == 1.0
    assert [i["grade"] for i in data["items"]] == ["correct"] * 6
    assert "Which contributors to limited IR hold on the left?" in err
    assert "'recrod' is not one of the numbers or ids above" in err


def test_interactive_on_a_terminal_without_the_flag(monkeypatch):
    from hipkb.cli import teach

    monkeypatch.setattr(teach, "_stdin_is_terminal", lambda: True)
    code, out, _ = run("practice", DEMO, input=ANSWERS_TYPED)
    assert code == 0
    assert "Score: 1.00 (6 correct, 0 partly, 0 incorrect, of 6)" in out
