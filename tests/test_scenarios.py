"""Scenario files under tests/cases/: what the KB must conclude, as data (DESIGN.md v2 rules 1–8).

Every file runs here (and its mirror image, with left and right swapped,
when it says ``mirror: true``); ``hipkb kb coverage`` runs the same files
and must find every inference rule and every ``any`` option fired. The rest
of this module pins the scenario format and the coverage report.
"""

from __future__ import annotations

from hipkb.record import replace
import json
import re
import shutil
import textwrap

import pytest

import hipkb
from conftest import REPO
from hipkb.case import CaseError
from hipkb.cli import main
from hipkb.coverage import measure
from hipkb.errors import InputError
from hipkb.scenario import load_scenario, load_scenarios, parse_scenario, run_scenario
from hipkb.source import read_document

CASES = REPO / "tests" / "cases"
KB = hipkb.load_kb()
SCENARIOS = load_scenarios(CASES, KB)


def _params():
    for scenario in SCENARIOS:
        variants = [scenario, scenario.mirrored()] if scenario.mirror else [scenario]
        for variant in variants:
            marks = [pytest.mark.xfail(reason=scenario.xfail, strict=True)] if scenario.xfail else []
            yield pytest.param(variant, id=variant.name, marks=marks)


@pytest.mark.parametrize("scenario", list(_params()))
def test_scenario(scenario):
    (run,) = run_scenario(replace(scenario, mirror=False), KB)
    assert not run.failures, f"{scenario.title}\n" + "\n".join(run.failures)


@pytest.mark.parametrize("scenario", list(_params()))
def test_both_engines_give_identical_json(scenario):
    """The compiled evaluator and stock experta agree to the byte on every scenario (DESIGN: both engines)."""
    compiled = KB.assess(scenario.case).to_dict()
    experta = KB.assess(scenario.case, engine="experta").to_dict()
    assert json.dumps(compiled, sort_keys=True) == json.dumps(experta, sort_keys=True)


def test_scenarios_fire_every_rule_and_every_any_option():
    runs = [run for scenario in SCENARIOS for run in run_scenario(scenario, KB)]
    cov = measure(KB, runs)
    missed = [f"{r.rule.location}: {r.rule.id}" for r in cov.rules if not r.covered]
    missed += [f"{b.rule.id}: {b.describe}" for b in cov.branches if not b.covered]
    assert missed == [], "no scenario fires:\n" + "\n".join(missed)


def test_scenarios_fire_every_rule_on_both_sides():
    """Every rule that reads a side is exercised on the left and on the right; a side-less one with no side."""
    runs = [run for scenario in SCENARIOS for run in run_scenario(scenario, KB)]
    wrong = []
    for r in measure(KB, runs).rules:
        sided = any(b.depends_on_context() for b in r.rule.branches())
        if sided and not {"left", "right"} <= set(r.sides) or not sided and set(r.sides) != {None}:
            wrong.append((r.rule.id, r.sides))
    assert wrong == []


def test_every_design_rule_has_scenarios_on_both_sides():
    """Each scenario's ``about`` names the DESIGN.md v2 rules it covers; all eight are covered, mirrored."""
    named: set[str] = set()
    mirrored: set[str] = set()
    for path in CASES.glob("*.yaml"):
        data = read_document(path).data
        about = data.get("about", "")
        numbers = {n for group in re.findall(r"\brules? ([\d, and]+)", about) for n in re.findall(r"\d", group)}
        named |= numbers
        if data.get("mirror"):
            mirrored |= numbers
    assert named == {"1", "2", "3", "4", "5", "6", "7", "8"}
    assert mirrored == named


# -- the scenario format ------------------------------------------------------


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_a_failing_expectation_says_where_and_what_holds_instead(tmp_path):
    path = write(tmp_path, """
        title: wrong on purpose
        mirror: true
        case:
          findings:
            supine_hip_ir: {left: 12}
            pelvis_turned_away: left
        expect:
          conclusions:
            - posterior_capsule_closed/left
            - {id: ir_limited, side: left, status: predicted}
          absent:
            - ir_test_confounded_by_pelvis/left
    """)
    plain, mirrored = run_scenario(load_scenario(path, KB), KB)
    assert plain.name == "s" and mirrored.name == "s[mirrored]"
    assert plain.failures[0].startswith(
        f"{path}:9:7: expected conclusion posterior_capsule_closed/left, but it is not concluded "
        "(left: conclusions ir_limited [measured], ir_test_confounded_by_pelvis [inferred]; recommendations "
    )
    assert plain.failures[1] == f"{path}:10:7: ir_limited/left has status 'measured', expected 'predicted'"
    assert plain.failures[2] == (
        f"{path}:12:7: expected no ir_test_confounded_by_pelvis/left, but it is there (inferred), "
        "by ir_test_confounded_by_pelvic_position"
    )
    assert len(plain.failures) == 3
    assert mirrored.failures[1] == f"{path}:10:7: [mirrored] ir_limited/right has status 'measured', expected 'predicted'"


def test_rules_and_not_rules(tmp_path):
    path = write(tmp_path, """
        title: justifications
        case: {findings: {supine_hip_ir: {left: 12}}}
        expect:
          conclusions:
            - {id: ir_limited, side: left, rules: [femur_glide_space_enables_ir], not_rules: [ir_measured_limited]}
    """)
    (run,) = run_scenario(load_scenario(path, KB), KB)
    assert run.failures == (
        f"{path}:5:7: ir_limited/left is not justified by rule 'femur_glide_space_enables_ir' (its justifications: ir_measured_limited)",
        f"{path}:5:7: ir_limited/left must not be justified by rule 'ir_measured_limited' (its justifications: ir_measured_limited)",
    )


def test_disagreements_are_matched_exactly(tmp_path):
    path = write(tmp_path, """
        title: disagreements
        case: {findings: {supine_hip_ir: {left: 40}, straight_leg_raise: {left: 45, right: 45}}}
        expect:
          disagreements:
            - {kept: ir_within_range/right, dropped: [ir_limited/right]}
    """)
    (run,) = run_scenario(load_scenario(path, KB), KB)
    assert run.failures == (
        f"{path}:5:7: expected disagreement ir_within_range/right kept over ir_limited/right, but it did not happen "
        "(disagreements: ir_within_range/left kept over ir_limited/left)",
        f"{path}: unexpected disagreement ir_within_range/left kept over ir_limited/left",
    )


def test_a_dropped_conclusion_is_explained(tmp_path):
    path = write(tmp_path, """
        title: dropped
        case: {findings: {supine_hip_ir: {left: 40}, straight_leg_raise: {left: 45}}}
        expect:
          conclusions: [ir_limited/left]
    """)
    (run,) = run_scenario(load_scenario(path, KB), KB)
    assert run.failures == (
        f"{path}:4:17: expected conclusion ir_limited/left, but it is not concluded (dropped in a disagreement, "
        "ir_within_range/left kept: measured outweighs predicted)",
    )


@pytest.mark.parametrize("entry,message", [
    ("ir_limted/left", "5:7: unknown state 'ir_limted' (did you mean 'ir_limited'?)"),
    ("ir_limited/lft", "5:7: unknown side 'lft' in 'ir_limited/lft' (did you mean 'left'?)"),
    ("{id: ir_limited, side: left, rules: [slr_space_lacking]}",
     "5:44: rule 'slr_space_lacking' does not conclude 'ir_limited' (rules that do: ir_measured_limited, "
     "femur_glide_space_enables_ir, posterior_space_enables_ir)"),
    ("{id: ir_limited, side: left, rules: [ir_measured_limits]}",
     "5:44: unknown rule 'ir_measured_limits' (did you mean 'ir_measured_limited'?)"),
    ("{id: ir_limited, side: left, staus: measured}", "5:36: unknown key 'staus' (did you mean 'status'?)"),
    ("{id: ir_limited, side: left, status: measure}", "5:44: unknown status 'measure' (did you mean 'measured'?)"),
    ("arm_bar/left", "5:7: unknown state 'arm_bar'"),
])
def test_scenario_errors_are_located(tmp_path, entry, message):
    path = tmp_path / "s.yaml"
    path.write_text(f"title: bad\ncase: {{findings: {{hip_hike: left}}}}\nexpect:\n  conclusions:\n    - {entry}\n")
    with pytest.raises(InputError) as err:
        load_scenario(path, KB)
    assert str(err.value) == f"{path}:{message}"


def test_unknown_expect_key(tmp_path):
    path = write(tmp_path, """
        title: bad
        case: {findings: {hip_hike: left}}
        expect:
          absnt: [ir_limited/left]
    """)
    with pytest.raises(InputError) as err:
        load_scenario(path, KB)
    assert str(err.value) == f"{path}:4:3: unknown key 'absnt' in 'expect' (did you mean 'absent'?)"


def test_case_errors_point_into_the_scenario_file(tmp_path):
    path = write(tmp_path, """
        title: bad case
        case:
          findings:
            supine_hip_ir: 12
        expect: {}
    """)
    with pytest.raises(CaseError) as err:
        load_scenario(path, KB)
    assert str(err.value).startswith(f"{path}:4:20: 'supine_hip_ir' is sided")


def test_mirror_swaps_case_and_expectations():
    scenario = parse_scenario({
        "title": "t", "mirror": True,
        "case": {"findings": {"supine_hip_ir": {"left": 12}, "rib_cage_side_bend": True, "sacrum_nutating": "right"}},
        "expect": {"conclusions": ["ir_limited/left"], "absent": ["ir_limited/right"],
                   "disagreements": [{"kept": None, "dropped": ["sacrum_nutating/right"]}]},
    }, KB)
    mirrored = scenario.mirrored()
    assert dict(mirrored.case.findings) == {("supine_hip_ir", "right"): 12.0, ("rib_cage_side_bend", None): True}
    assert mirrored.case.given == (("sacrum_nutating", "left"),)
    assert [e.key for e in mirrored.conclusions] == [("ir_limited", "right")]
    assert [e.key for e in mirrored.absent] == [("ir_limited", "left")]
    assert mirrored.disagreements[0].dropped == (("sacrum_nutating", "left"),)


# -- hipkb kb coverage --------------------------------------------------------


def coverage(capsys, *args):
    code = main(["kb", "coverage", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_coverage_of_the_shipped_kb_is_complete(capsys):
    code, out, _ = coverage(capsys, "--cases", CASES, "--strict")
    assert code == 0, out
    total = len(KB.inference_rules)
    assert re.fullmatch(
        rf"\d+ scenario runs, 0 failed; rules {total}/{total} \(100\.0%\), any-options (\d+)/\1 \(100\.0%\)\n", out,
    ), out


def test_coverage_lists_what_no_scenario_fires(tmp_path, capsys):
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copy(CASES / "r3-pelvis-forward.yaml", cases)
    code, out, _ = coverage(capsys, "--cases", cases)
    assert code == 0, "without --strict or --fail-under, low coverage is reported, not failed"
    lines = out.splitlines()
    slr = KB.rule("slr_space_lacking")
    assert f"{slr.location}: rule 'slr_space_lacking' is fired by no scenario" in lines
    assert f"{KB.rule('posterior_space_enables_ir').location}: link 'posterior_space_enables_ir' is fired by no scenario" in lines
    assert f"{KB.rule('hold_loaded_ir_with_pinch_for_programme').location}: call 'hold_loaded_ir_with_pinch_for_programme' is fired by no scenario" in lines
    confounded = KB.rule("ir_test_confounded_by_pelvic_position")
    turned_away = next(o for c in confounded.when if c.kind == "any" for o in c.options if o.ref == "pelvis_turned_away")
    assert f"{turned_away.location}: option 'pelvis_turned_away observed' of 'ir_test_confounded_by_pelvic_position' is fired by no scenario" in lines
    assert not any("'pelvis_forward observed'" in line for line in lines)
    assert lines[-1].startswith("2 scenario runs, 0 failed; rules ")
    assert coverage(capsys, "--cases", cases, "--strict")[0] == 1
    assert coverage(capsys, "--cases", cases, "--fail-under", "5")[0] == 0
    assert coverage(capsys, "--cases", cases, "--fail-under", "99")[0] == 1


def test_coverage_counts_justifications_withdrawn_in_a_disagreement():
    (scenario,) = [s for s in SCENARIOS if s.name == "r5-ir-within-range-overrules-chain"]
    cov = measure(KB, run_scenario(scenario, KB))
    fired = {r.rule.id for r in cov.rules if r.covered}
    assert "femur_glide_space_enables_ir" in fired  # it predicted ir_limited, which the measurement overrode
    assert "shift_centre_of_gravity_for_programme" in fired  # it fired on the prediction, then went with it
    assert "capsule_closed_from_ir_drop" not in fired


def test_coverage_fails_on_failing_scenarios_and_on_passing_xfails(tmp_path, capsys):
    cases = tmp_path / "cases"
    cases.mkdir()
    write(cases, """
        title: fails
        case: {findings: {hip_hike: left}}
        expect: {conclusions: [ir_limited/left]}
    """, "a.yaml")
    code, out, _ = coverage(capsys, "--cases", cases)
    assert code == 1
    assert out.splitlines()[:2] == [
        "scenario a failed:",
        f"  {cases / 'a.yaml'}:3:24: expected conclusion ir_limited/left, but it is not concluded "
        "(left: conclusions ir_limitation_suspected [inferred]; recommendations assess_supine_hip_ir, "
        "assess_straight_leg_raise, assess_squat, assess_toe_touch, assess_foot_presentation)",
    ]
    (cases / "a.yaml").write_text((cases / "a.yaml").read_text() + "xfail: the engine does not predict IR from a hip hike\n")
    assert coverage(capsys, "--cases", cases)[0] == 0
    write(cases, """
        title: passes
        xfail: claimed broken
        case: {findings: {hip_hike: left}}
        expect: {conclusions: [ir_limitation_suspected/left]}
    """, "b.yaml")
    code, out, _ = coverage(capsys, "--cases", cases)
    assert code == 1
    assert f"{cases / 'b.yaml'}: scenario b is marked xfail but passes (remove 'xfail')" in out.splitlines()


def test_coverage_json(capsys):
    code, out, _ = coverage(capsys, "--cases", CASES, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["failed"] == [] and data["unexpected_passes"] == []
    assert data["rules"]["percent"] == 100.0 and data["rules"]["total"] == len(KB.inference_rules)
    item = next(i for i in data["rules"]["items"] if i["id"] == "capsule_closed_from_ir_drop")
    assert item["origin"] == "rule" and item["sides"] == ["left", "right"]
    assert "r2-capsule-closed" in item["runs"] and "r2-capsule-closed[mirrored]" in item["runs"]


def test_coverage_of_a_missing_directory_exits_2(tmp_path, capsys):
    code, out, err = coverage(capsys, "--cases", tmp_path / "nope")
    assert (code, out) == (2, "")
    assert err == f"hipkb: error: {tmp_path / 'nope'}: not a directory of scenario files\n"
