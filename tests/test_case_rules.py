"""Reading a case: what each entry means, and what a person is told when an entry is wrong.

DESIGN "Case files": a mapping with ``findings`` (required) and optional
``subject``, ``mdc`` and ``thresholds``; a sided finding takes true (both
sides), a side, a list of sides or ``{left: …, right: …}``; an unsided
one takes true or false; a blank value means "not assessed"; unknown keys
are errors; "every error in a case file is reported, one line each
(FILE:LINE:COL: message (did you mean …?)), up to 20". Thresholds and mdc
overrides are checked against the KB (a reading's threshold within the
finding's valid range). Mutation testing of ``hipkb/case.py`` showed these
unstated: the valid ranges' ends, what an unsided degrees finding or a
side-less given state reads as, the JSON's findings for given states, a
what-if copy of a case, and the words and places of the errors. The
messages below are the wording users see, reviewed by eye; each names the
entry (``findings.hip_hike.lft``) when the case is a mapping, and
``FILE:LINE:COL`` when it is a file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import hipkb
from hipkb.case import check_mdc, check_threshold, load_case, parse_case
from hipkb.errors import CaseError, InputError

# -- what entries mean ----------------------------------------------------------------------------


def test_a_threshold_or_mdc_at_either_end_of_its_range_is_accepted(kb: hipkb.KnowledgeBase) -> None:
    # A threshold on a reading lies within the finding's valid range (supine IR [0, 90]); one deciding a state
    # (ir_asymmetry, "sides differ by more than") within [0, 180] degrees; an mdc within [0, 90].
    assert [check_threshold(kb, "supine_hip_ir", v) for v in (0, 90)] == [0.0, 90.0]
    assert [check_threshold(kb, "ir_asymmetry", v) for v in (0, 180)] == [0.0, 180.0]
    assert [check_mdc(kb, "supine_hip_ir", v) for v in (0, 90)] == [0.0, 90.0]


def test_a_reading_at_either_end_of_its_valid_range_is_accepted(kb: hipkb.KnowledgeBase) -> None:
    case = parse_case({"findings": {"supine_hip_ir": {"left": 0, "right": 90}}}, kb)
    assert dict(case.findings) == {("supine_hip_ir", "left"): 0.0, ("supine_hip_ir", "right"): 90.0}


def test_a_blank_findings_section_is_a_case_with_nothing_assessed(kb: hipkb.KnowledgeBase) -> None:
    # DESIGN: "A blank value means 'not assessed'" (a template's findings: with nothing filled in).
    case = parse_case({"findings": None}, kb)
    assert (dict(case.findings), case.given) == ({}, ())


def test_side_less_degrees_and_side_less_given_states(tmp_path: Path) -> None:
    # DESIGN: a finding's value is "a number, a bool, ..."; "an unsided finding ... takes part in rules for
    # either side"; "Any state id may be given as a finding"; "false means assessed and not observed" (so a
    # state given false is not given).
    from test_semantics import write_kb

    write_kb(
        tmp_path,
        states="- {id: trunk_stiff, label: Trunk stiff, sided: false}\n",
        findings="- {id: trunk_angle, label: Trunk angle, type: degrees, range: [0, 90], sided: false, group: measurement}\n",
    )
    kb = hipkb.load_kb(tmp_path)
    case = parse_case({"findings": {"trunk_angle": 12, "trunk_stiff": True}}, kb)
    assert (dict(case.findings), case.given) == ({("trunk_angle", None): 12.0}, (("trunk_stiff", None),))
    assert parse_case({"findings": {"trunk_stiff": False, "trunk_angle": None}}, kb).given == ()
    with pytest.raises(CaseError, match=r"'trunk_angle' = 91° is outside its valid range \[0, 90\]"):
        parse_case({"findings": {"trunk_angle": 91}}, kb)


def test_the_json_lists_entered_findings_then_given_states_in_kb_order() -> None:
    # DESIGN "Interfaces": "findings": {"supine_hip_ir": {"left": 12}} - the case as entered, findings in the
    # KB's order (findings.yaml), then the states given in the case (states.yaml order), each true.
    case = {"findings": {"sacrum_nutating": "right", "hip_hike": "left", "deep_external_rotators_stiff": {"left": True},
                         "supine_hip_ir": {"left": 12.5, "right": 40}}}
    findings = hipkb.assess(case).to_dict()["findings"]
    assert list(findings.items()) == [
        ("supine_hip_ir", {"left": 12.5, "right": 40}),
        ("hip_hike", {"left": True, "right": False}),
        ("deep_external_rotators_stiff", {"left": True}),
        ("sacrum_nutating", {"right": True}),
    ]


def test_a_changed_copy_of_a_case_keeps_everything_else(kb: hipkb.KnowledgeBase) -> None:
    # what-if and sensitivity rerun a case with some findings changed; None removes one ("Result.what_if":
    # "None removes one"); the subject, thresholds and mdc of the case stay.
    case = parse_case({"subject": "s1", "findings": {"supine_hip_ir": {"left": 12}, "hip_hike": "left"},
                       "thresholds": {"supine_hip_ir": 30}, "mdc": {"supine_hip_ir": 5}}, kb)
    moved = case.with_findings({("supine_hip_ir", "left"): None, ("hip_hike", "right"): True})
    assert dict(moved.findings) == {("hip_hike", "left"): True, ("hip_hike", "right"): True}
    assert (moved.subject, moved.path, dict(moved.thresholds), dict(moved.mdc)) == (
        "s1", "<case>", {"supine_hip_ir": 30.0}, {"supine_hip_ir": 5.0})
    assert dict(case.findings)[("supine_hip_ir", "left")] == 12.0  # the original is unchanged
    changed = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}}}).what_if({("supine_hip_ir", "left"): None})
    assert ("ir_limited", "left") in [d.key for d in changed.goes]


def test_a_subject_of_a_thousand_million_is_still_a_name(kb: hipkb.KnowledgeBase) -> None:
    # numbers are accepted as subject names up to 10^9 (larger ones are refused as too long a number)
    assert parse_case({"subject": 10**9, "findings": {}}, kb).subject == "1000000000"


# -- what a person is told ------------------------------------------------------------------------

ERRORS = [
    ([1, 2], "a case must be a mapping with 'findings', not a list"),
    ({"subject": "x"}, "a case needs 'findings'"),
    ({"findings": [1]}, "findings: 'findings' must be a mapping of finding id to value, not a list"),
    ({"findings": {}, "threshold": {}}, "threshold: unknown key 'threshold' (did you mean 'thresholds'?)"),
    ({"findings": {}, "zzz": 1}, "zzz: unknown key 'zzz' (expected subject, findings, thresholds or mdc)"),
    # an alias only makes the did-you-mean right (DESIGN: "an alias is never accepted as input")
    ({"findings": {"hip_ir": {"left": 3}}}, "findings.hip_ir: unknown finding 'hip_ir' (did you mean 'supine_hip_ir'?)"),
    ({"findings": {"sacrum_nutatin": True}},
     "findings.sacrum_nutatin: unknown finding 'sacrum_nutatin' (did you mean 'sacrum_nutating'?)"),
    ({"findings": {"x" * 70: 1}}, f"findings.{'x' * 70}: unknown finding '{'x' * 59}…'"),
    ({"findings": {3: True}}, "findings.3: finding ids are text, not 3"),
    ({"findings": {"hip_hike": {"lft": True}}}, "findings.hip_hike.lft: unknown side 'lft' for 'hip_hike' (did you mean 'left'?)"),
    ({"findings": {"hip_hike": ["left", "up"]}}, "findings.hip_hike.1: unknown side 'up' for 'hip_hike' (sides are left and right)"),
    ({"findings": {"hip_hike": 3}}, "findings.hip_hike: 'hip_hike' is sided: give true, false, a side, a list of sides or "
                                    "{left: …, right: …}, not the number 3"),
    ({"findings": {"hip_hike": {"left": 3}}}, "findings.hip_hike.left: 'hip_hike' needs true or false, not the number 3"),
    ({"findings": {"supine_hip_ir": 12}}, "findings.supine_hip_ir: 'supine_hip_ir' is sided: give degrees per side as "
                                          "{left: …, right: …}, not the number 12 (e.g. supine_hip_ir: {left: 12})"),
    ({"findings": {"supine_hip_ir": True}}, "findings.supine_hip_ir: 'supine_hip_ir' is sided: give degrees per side as "
                                            "{left: …, right: …}, not true"),
    ({"findings": {"supine_hip_ir": {"left": 91}}}, "findings.supine_hip_ir.left: 'supine_hip_ir' = 91° is outside its valid range [0, 90]"),
    ({"findings": {"supine_hip_ir": {"left": -1}}}, "findings.supine_hip_ir.left: 'supine_hip_ir' = -1° is outside its valid range [0, 90]"),
    ({"findings": {"supine_hip_ir": {"left": 10**10}}},
     "findings.supine_hip_ir.left: 'supine_hip_ir' = a number of 11 digits is outside its valid range"),
    ({"findings": {"supine_hip_ir": {"left": float("nan")}}},
     "findings.supine_hip_ir.left: 'supine_hip_ir' needs a finite number of degrees, not nan"),
    ({"findings": {"supine_hip_ir": {"left": "012"}}}, "findings.supine_hip_ir.left: 'supine_hip_ir' needs a number of degrees, "
                                                       "not the text '012' (write it without the leading zero: 12)"),
    ({"findings": {"supine_hip_ir": {"right": "x" * 50}}},
     "findings.supine_hip_ir.right: 'supine_hip_ir' needs a number of degrees, not a text"),
    ({"findings": {"rib_cage_side_bend": "left"}},
     "findings.rib_cage_side_bend: 'rib_cage_side_bend' belongs to no side: give true or false, not the text 'left'"),
    ({"findings": {"rib_cage_side_bend": 1}}, "findings.rib_cage_side_bend: 'rib_cage_side_bend' needs true or false, not the number 1"),
    ({"findings": {"deep_external_rotators_stiff": {"left": 1}}},
     "findings.deep_external_rotators_stiff.left: 'deep_external_rotators_stiff' needs true or false, not the number 1"),
    ({"findings": {"deep_external_rotators_stiff": 1}},
     "findings.deep_external_rotators_stiff: 'deep_external_rotators_stiff' is sided: give true, false, a side, a list of sides "
     "or {left: …, right: …}, not the number 1"),
    ({"findings": {}, "thresholds": [1]}, "thresholds: 'thresholds' must be a mapping of id to degrees, not a list"),
    ({"findings": {}, "thresholds": {"supine_ir": 30}},
     "thresholds.supine_ir: unknown threshold 'supine_ir' (did you mean 'supine_hip_ir'?)"),
    ({"findings": {}, "thresholds": {"zzz": 30}},
     "thresholds.zzz: unknown threshold 'zzz' (thresholds: supine_hip_ir, straight_leg_raise, supine_hip_flexion, ir_asymmetry)"),
    ({"findings": {}, "thresholds": {"supine_hip_ir": 90.5}}, "thresholds.supine_hip_ir: threshold 'supine_hip_ir' = 90.5 is outside [0, 90]"),
    ({"findings": {}, "thresholds": {"supine_hip_ir": -0.5}}, "thresholds.supine_hip_ir: threshold 'supine_hip_ir' = -0.5 is outside [0, 90]"),
    ({"findings": {}, "thresholds": {"ir_asymmetry": 180.5}}, "thresholds.ir_asymmetry: threshold 'ir_asymmetry' = 180.5 is outside [0, 180]"),
    ({"findings": {}, "thresholds": {"supine_hip_ir": True}},
     "thresholds.supine_hip_ir: threshold 'supine_hip_ir' needs a finite number of degrees, not true"),
    ({"findings": {}, "thresholds": {"supine_hip_ir": "abc"}},
     "thresholds.supine_hip_ir: threshold 'supine_hip_ir' needs a finite number of degrees, not the text 'abc'"),
    ({"findings": {}, "thresholds": {"supine_hip_ir": 10**10}},
     "thresholds.supine_hip_ir: threshold 'supine_hip_ir' = a number of 11 digits is out of range"),
    ({"findings": {}, "mdc": "x"}, "mdc: 'mdc' must be a mapping of id to degrees, not the text 'x'"),
    ({"findings": {}, "mdc": {"supine_ir": 3}}, "mdc.supine_ir: unknown mdc 'supine_ir' (did you mean 'supine_hip_ir'?)"),
    ({"findings": {}, "mdc": {"zzz": 3}}, "mdc.zzz: unknown mdc 'zzz' (mdc: supine_hip_ir, straight_leg_raise, supine_hip_flexion)"),
    ({"findings": {}, "mdc": {"supine_hip_ir": 90.5}}, "mdc.supine_hip_ir: mdc 'supine_hip_ir' = 90.5 is outside [0, 90]"),
    ({"findings": {}, "mdc": {"supine_hip_ir": -1}}, "mdc.supine_hip_ir: mdc 'supine_hip_ir' = -1 is outside [0, 90]"),
    # "one line of printable text": the Unicode line and paragraph separators end a line too
    ({"findings": {}, "subject": "a\u2028b"}, "subject: 'subject' must be one line of printable text, not contain '\\u2028'"),
    ({"findings": {}, "subject": "a\u2029b"}, "subject: 'subject' must be one line of printable text, not contain '\\u2029'"),
    ({"findings": {}, "subject": 10**9 + 1}, "subject: 'subject' must be text, not a number of 10 digits"),
]


@pytest.mark.parametrize("case,message", ERRORS, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in enumerate(ERRORS)])
def test_an_error_names_the_entry_and_says_what_is_wrong(case: object, message: str, kb: hipkb.KnowledgeBase) -> None:
    with pytest.raises(CaseError) as caught:
        parse_case(case, kb)  # type: ignore[arg-type]
    assert str(caught.value) == f"<case>: {message}"


BAD_FILE = """\
subject: demo
findings:
  hip_ir: {left: 3}
  hip_hike: {lft: true}
  knee_valgus: [left, up]
  supine_hip_ir: {left: 91}
  rib_cage_side_bend: left
  pelvis_forward: {left: 3}
  sacrum_nutating: {right: 2}
thresholds:
  supine_ir: 30
mdc:
  supine_hip_ir: 99
threshold: {}
"""


def test_every_error_of_a_case_file_is_reported_at_its_line_and_column(tmp_path: Path, kb: hipkb.KnowledgeBase) -> None:
    # DESIGN: "Every error in a case file is reported, one line each (FILE:LINE:COL: message (did you mean …?))":
    # an unknown name at the name, a wrong value at the value.
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_FILE, encoding="utf-8")
    with pytest.raises(CaseError) as caught:
        load_case(path, kb)
    assert sorted((str(p) for p in caught.value.problems), key=lambda s: int(s.split(":")[1])) == [f"{path}:{p}" for p in [
        "3:3: unknown finding 'hip_ir' (did you mean 'supine_hip_ir'?)",
        "4:14: unknown side 'lft' for 'hip_hike' (did you mean 'left'?)",
        "5:23: unknown side 'up' for 'knee_valgus' (sides are left and right)",
        "6:25: 'supine_hip_ir' = 91° is outside its valid range [0, 90]",
        "7:23: 'rib_cage_side_bend' belongs to no side: give true or false, not the text 'left'",
        "8:26: 'pelvis_forward' needs true or false, not the number 3",
        "9:28: 'sacrum_nutating' needs true or false, not the number 2",
        "11:3: unknown threshold 'supine_ir' (did you mean 'supine_hip_ir'?)",  # at the id, as an unknown finding is
        "13:18: mdc 'supine_hip_ir' = 99 is outside [0, 90]",
        "14:1: unknown key 'threshold' (did you mean 'thresholds'?)",
    ]]
    assert str(caught.value).endswith(" (and 9 more errors)")


def test_the_errors_of_a_case_file_come_in_file_order(tmp_path: Path, kb: hipkb.KnowledgeBase) -> None:
    # hipkb.errors.CaseError: "``problems`` holds every one ..., each one line, in file order".
    path = tmp_path / "bad.yaml"
    path.write_text("findings:\n  hip_ir: {left: 3}\nthreshold: {}\n", encoding="utf-8")
    with pytest.raises(CaseError) as caught:
        load_case(path, kb)
    assert [str(p).split(":")[1] for p in caught.value.problems] == ["2", "3"]


def test_an_unknown_threshold_id_is_reported_at_the_id(tmp_path: Path, kb: hipkb.KnowledgeBase) -> None:
    # as an unknown finding or key is ("an unknown name at the name", above)
    path = tmp_path / "bad.yaml"
    path.write_text("findings: {}\nthresholds:\n  supine_ir: 30\n", encoding="utf-8")
    with pytest.raises(CaseError) as caught:
        load_case(path, kb)
    assert str(caught.value) == f"{path}:3:3: unknown threshold 'supine_ir' (did you mean 'supine_hip_ir'?)"


def test_an_unknown_single_side_names_the_entry_itself(kb: hipkb.KnowledgeBase) -> None:
    # DESIGN: "a side name or list means true on those sides": `hip_hike: up` is one value, not a list.
    with pytest.raises(CaseError) as caught:
        parse_case({"findings": {"hip_hike": "up"}}, kb)
    assert str(caught.value) == "<case>: findings.hip_hike: unknown side 'up' for 'hip_hike' (sides are left and right)"


def test_a_case_file_that_is_not_there_is_a_case_error(tmp_path: Path, kb: hipkb.KnowledgeBase) -> None:
    with pytest.raises(CaseError) as caught:
        load_case(tmp_path / "missing.yaml", kb)
    assert str(caught.value) == f"{tmp_path / 'missing.yaml'}: no such file"


# -- what an assessment is given (hipkb.infer.prepare and the engines) -----------------------------

def test_a_case_must_be_a_mapping_or_a_path(kb: hipkb.KnowledgeBase) -> None:
    with pytest.raises(InputError) as caught:
        kb.assess(42)  # type: ignore[arg-type]
    assert str(caught.value) == "a case must be a mapping or a path to a YAML/JSON file, not int"


def test_an_unknown_engine_is_refused_with_the_engines_there_are(kb: hipkb.KnowledgeBase) -> None:
    # DESIGN "Interfaces": --engine compiled|experta; did-you-mean via hipkb.errors.suggest.
    with pytest.raises(InputError) as caught:
        kb.assess({"findings": {}}, engine="expert")  # type: ignore[arg-type]
    assert str(caught.value) == "unknown engine 'expert' (did you mean 'experta'?)"
    with pytest.raises(InputError) as caught:
        kb.assess({"findings": {}}, engine="rete")  # type: ignore[arg-type]
    assert str(caught.value) == "unknown engine 'rete' (engines: compiled, experta)"


def test_the_default_engine_is_the_compiled_evaluator(kb: hipkb.KnowledgeBase) -> None:
    # DESIGN "Engine": "The default engine is a compiled evaluator".
    from hipkb.engines.compiled import CompiledEvaluator
    from hipkb.infer import assess

    assert isinstance(kb.engine(), CompiledEvaluator)
    assert assess(kb, {"findings": {"supine_hip_ir": {"left": 12}}}).conclusion("ir_limited", "left").status == "measured"
