"""How a case's values are read: each accepted form, normalised per side."""

from __future__ import annotations

from pathlib import Path

import pytest

import hipkb
from hipkb.case import MAX_SUBJECT, load_case, parse_case
from hipkb.errors import CaseError

FORMS = [
    # (finding id, value as written, expected {(id, side): value})
    ("hip_hike", True, {("hip_hike", "left"): True, ("hip_hike", "right"): True}),
    ("hip_hike", False, {("hip_hike", "left"): False, ("hip_hike", "right"): False}),
    ("hip_hike", "left", {("hip_hike", "left"): True, ("hip_hike", "right"): False}),
    ("hip_hike", ["right"], {("hip_hike", "left"): False, ("hip_hike", "right"): True}),
    ("hip_hike", ["left", "right"], {("hip_hike", "left"): True, ("hip_hike", "right"): True}),
    ("hip_hike", {"right": True}, {("hip_hike", "right"): True}),
    ("hip_hike", {"left": False, "right": None}, {("hip_hike", "left"): False}),
    ("rib_cage_side_bend", True, {("rib_cage_side_bend", None): True}),
    ("rib_cage_side_bend", False, {("rib_cage_side_bend", None): False}),
    ("supine_hip_ir", {"left": 12, "right": 40.5}, {("supine_hip_ir", "left"): 12.0, ("supine_hip_ir", "right"): 40.5}),
    ("supine_hip_ir", {"left": 0, "right": 90}, {("supine_hip_ir", "left"): 0.0, ("supine_hip_ir", "right"): 90.0}),
    ("supine_hip_ir", {"right": None}, {}),
    ("supine_hip_ir", {}, {}),
    # a blank entry (a template not filled in) means "not assessed", for every kind of finding
    ("supine_hip_ir", None, {}),
    ("hip_hike", None, {}),
    ("rib_cage_side_bend", None, {}),
]


@pytest.mark.parametrize("finding,value,expected", FORMS, ids=[f"{f}={v!r}" for f, v, _ in FORMS])
def test_accepted_forms(finding: str, value: object, expected: dict, kb: hipkb.KnowledgeBase) -> None:
    case = parse_case({"findings": {finding: value}}, kb)
    assert dict(case.findings) == expected
    assert all(type(v) is (bool if isinstance(v, bool) else float) for v in case.findings.values())


def test_a_template_with_blank_entries_reads_as_not_assessed(tmp_path: Path, kb: hipkb.KnowledgeBase) -> None:
    import jsonschema
    import yaml

    from hipkb.schema import case_schema

    template = tmp_path / "template.yaml"
    template.write_text("findings:\n  supine_hip_ir:\n  hip_hike:\n  rib_cage_side_bend:\n  pelvis_not_internally_rotating:\n"
                        "  straight_leg_raise: {left: 45}\n")
    case = load_case(template, kb)
    assert dict(case.findings) == {("straight_leg_raise", "left"): 45.0} and case.given == ()
    jsonschema.validate(yaml.safe_load(template.read_text()), case_schema(kb))


def test_given_states(kb: hipkb.KnowledgeBase) -> None:
    case = parse_case({"findings": {"pelvis_not_internally_rotating": "left", "sacrum_nutating": {"right": True, "left": False}}}, kb)
    assert sorted(case.given) == [("pelvis_not_internally_rotating", "left"), ("sacrum_nutating", "right")]
    assert dict(case.findings) == {}


@pytest.mark.parametrize("subject,shown", [(7, "7"), ("demo-01", "demo-01"), ("Jürgen 😀", "Jürgen 😀"), ("x" * MAX_SUBJECT, "x" * MAX_SUBJECT)])
def test_subjects(subject: object, shown: str, kb: hipkb.KnowledgeBase) -> None:
    assert parse_case({"subject": subject, "findings": {}}, kb).subject == shown


@pytest.mark.parametrize("subject,message", [
    (True, "subject: 'subject' must be text, not true"),
    (1.5, "subject: 'subject' must be text, not the number 1.5"),
    (["a"], "subject: 'subject' must be text, not a list"),
    ("x" * (MAX_SUBJECT + 1), f"subject: 'subject' is longer than {MAX_SUBJECT} characters"),
    ("two\nlines", "subject: 'subject' must be one line of printable text, not contain '\\n'"),
    ("bell\a", "subject: 'subject' must be one line of printable text, not contain '\\x07'"),
    ("rtl\u202eoverride", "subject: 'subject' must be one line of printable text, not contain '\\u202e'"),
])
def test_bad_subjects(subject: object, message: str, kb: hipkb.KnowledgeBase) -> None:
    with pytest.raises(CaseError) as caught:
        parse_case({"subject": subject, "findings": {}}, kb)
    assert str(caught.value) == f"<case>: {message}"


def test_mapping_errors_name_the_path_when_there_is_no_file(kb: hipkb.KnowledgeBase) -> None:
    with pytest.raises(CaseError) as caught:
        parse_case({"findings": {"supine_hip_ir": {"left": "12"}}}, kb)
    assert str(caught.value) == "<case>: findings.supine_hip_ir.left: 'supine_hip_ir' needs a number of degrees, not the text '12' (write 12 without quotes)"


def test_non_text_finding_ids_through_the_api(kb: hipkb.KnowledgeBase) -> None:
    with pytest.raises(CaseError, match=r"finding ids are text, not 3"):
        parse_case({"findings": {3: True}}, kb)


def test_a_case_file_and_its_thresholds(tmp_path: Path, kb: hipkb.KnowledgeBase) -> None:
    file = tmp_path / "case.yaml"
    file.write_text("subject: 007\nfindings:\n  supine_hip_ir: {left: 27}\nthresholds:\n  supine_hip_ir: 30\n", encoding="utf-8")
    case = load_case(file, kb)
    assert case.subject == "007"  # text: a leading zero is not a number here
    assert dict(case.thresholds) == {"supine_hip_ir": 30.0}
    assert case.path == str(file)
    assert kb.assess(file).holds("ir_limited", "left")


def test_numbers_yaml_would_misread_stay_text(tmp_path: Path, kb: hipkb.KnowledgeBase) -> None:
    """YAML 1.1 reads 012 as 10 and 1:30 as 90; hipkb refuses them where degrees are due."""
    for written in ("012", "1:30", "0x1e", "1_5"):
        file = tmp_path / "case.yaml"
        file.write_text(f"findings:\n  supine_hip_ir: {{left: {written}}}\n", encoding="utf-8")
        with pytest.raises(CaseError, match=rf"needs a number of degrees, not the text '{written}'"):
            load_case(file, kb)


def test_exponents_and_bare_fractions_are_numbers(tmp_path: Path, kb: hipkb.KnowledgeBase) -> None:
    """YAML 1.1 leaves 1.2e1 and .5 as text; they are plain decimals and read as numbers."""
    file = tmp_path / "case.yaml"
    file.write_text("findings:\n  supine_hip_ir: {left: 1.2e1, right: .5}\n", encoding="utf-8")
    assert dict(load_case(file, kb).findings) == {("supine_hip_ir", "left"): 12.0, ("supine_hip_ir", "right"): 0.5}



def test_an_empty_side_list_means_assessed_and_observed_on_no_side() -> None:
    """DESIGN "Interfaces": a sided boolean given as [] is recorded false on both sides (generated code produces it)."""
    import hipkb

    result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}, "pelvis_forward": [], "pelvis_turned_away": []}})
    assert result.finding("pelvis_forward", "left") is False and result.finding("pelvis_forward", "right") is False
    capsule = result.conclusion("posterior_capsule_closed", "left")
    assert capsule is not None and capsule.assumptions == ()  # recorded false: facts, not assumptions
