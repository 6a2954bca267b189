"""The reasoning semantics of DESIGN v2, pinned on tiny fixture KBs (not the shipped one).

Every order and rule here is written as a literal from DESIGN.md
("Statuses, evidence, assumptions", rule 5's opposites, "Case files") and
docs/reasoning.md (contexts, support), never read from hipkb's own
constants. Each fixture KB is run through both engines, which must agree.
"""

from __future__ import annotations

import itertools
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

import hipkb

#: DESIGN: "status of a conclusion, strongest first"
STATUS_ORDER = ["measured", "given", "indicated", "inferred", "predicted"]
#: DESIGN: "clinical-norm = assessor > coaching-model > interpretation"
EVIDENCE_ORDER = [{"clinical-norm", "assessor"}, {"coaching-model"}, {"interpretation"}]

QUOTE = '{ref: article, quote: "One of the most important movements our can hips express is Hip Internal Rotation."}'


def write_kb(folder: Path, *, states: str, findings: str = "", rules: str = "", links: str = "",
             recommendations: str = "", thresholds: str = "") -> Path:
    """A minimal valid KB directory: the given YAML bodies plus the boilerplate every KB needs."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "manifest.yaml": "name: fixture\nversion: '1'\n",
        "sources.yaml": "sources:\n  - {id: article, kind: article, citation: The article}\n",
        "entities.yaml": "entities:\n  - {id: hip, label: Hip}\n",
        "states.yaml": "states:\n" + textwrap.indent(textwrap.dedent(states), "  "),
        "findings.yaml": "findings:\n" + textwrap.indent(textwrap.dedent(findings), "  ") if findings else "findings: []\n",
        "thresholds.yaml": "thresholds:\n" + textwrap.indent(textwrap.dedent(thresholds), "  ") if thresholds else "thresholds: []\n",
        "causal.yaml": "links:\n" + textwrap.indent(textwrap.dedent(links), "  ") if links else "links: []\n",
        "rules.yaml": "rules:\n" + textwrap.indent(textwrap.dedent(rules), "  ") if rules else "rules: []\n",
        "recommendations.yaml": "recommendations:\n" + textwrap.indent(textwrap.dedent(recommendations), "  ") if recommendations else "recommendations: []\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def both_engines(kb: hipkb.KnowledgeBase, case: dict[str, Any]) -> hipkb.Result:
    """Assess with the compiled evaluator and with experta; they must agree to the byte."""
    compiled = kb.assess(case)
    reference = kb.assess(case, engine="experta")
    assert json.dumps(compiled.to_dict(), sort_keys=True) == json.dumps(reference.to_dict(), sort_keys=True)
    return compiled


# -- statuses ---------------------------------------------------------------------------

def _producer(name: str, status: str) -> tuple[str, str, str, dict[str, Any]]:
    """States/findings/rules YAML making state ``name`` hold on the left with ``status``, and the case entries."""
    test = f"d_{name}"
    degrees = f"- {{id: {test}, label: {test}, type: degrees, range: [0, 90], sided: true, group: measurement}}\n"
    flag = f"- {{id: b_{name}, label: b_{name}, type: boolean, sided: true, group: compensation}}\n"
    threshold = f"- {{id: {test}, value: 10, label: t, evidence: clinical-norm, source: {QUOTE}}}\n"
    compare = f"- {{id: r_{name}, label: r, when: [{{finding: {test}, below: {test}}}], then: [{name}], evidence: coaching-model, source: {QUOTE}}}\n"
    from_flag = f"- {{id: r_{name}, label: r, when: [{{finding: b_{name}}}], then: [{name}], evidence: coaching-model, source: {QUOTE}}}\n"
    if status == "measured":
        return f"tested_by: {test}", degrees + threshold, compare, {test: {"left": 1}}
    if status == "indicated":
        return f"indicated_by: [{test}]", degrees + threshold, compare, {test: {"left": 1}}
    if status == "predicted":
        return f"tested_by: {test}", degrees + flag + threshold, from_flag, {f"b_{name}": "left"}
    if status == "inferred":
        return "", flag, from_flag, {f"b_{name}": "left"}
    assert status == "given"
    return "", "", "", {name: "left"}


def opposites_kb(folder: Path, status_a: str, status_b: str) -> tuple[hipkb.KnowledgeBase, dict[str, Any]]:
    test_a, findings_a, rules_a, case_a = _producer("a", status_a)
    test_b, findings_b, rules_b, case_b = _producer("b", status_b)
    findings = "".join(line for line in (findings_a + findings_b).splitlines(keepends=True) if "type:" in line)
    thresholds = "".join(line for line in (findings_a + findings_b).splitlines(keepends=True) if "value:" in line)
    states = (
        f"- {{id: a, label: A, opposite: b{', ' + test_a if test_a else ''}}}\n"
        f"- {{id: b, label: B, opposite: a{', ' + test_b if test_b else ''}}}\n"
    )
    write_kb(folder, states=states, findings=findings, thresholds=thresholds, rules=rules_a + rules_b)
    return hipkb.load_kb(folder), {"findings": {**case_a, **case_b}}


@pytest.mark.parametrize("stronger,weaker", list(itertools.combinations(STATUS_ORDER, 2)))
def test_the_stronger_status_stays(tmp_path: Path, stronger: str, weaker: str) -> None:
    for first, second in ((stronger, weaker), (weaker, stronger)):  # whichever of the pair has it
        kb, case = opposites_kb(tmp_path / f"{first}-{second}", first, second)
        result = both_engines(kb, case)
        winner, loser = ("a", "b") if first == stronger else ("b", "a")
        assert result.conclusion(winner, "left").status == stronger
        assert result.conclusion(loser, "left") is None
        (d,) = result.disagreements
        assert (d.kept.id, [c.id for c in d.dropped]) == (winner, [loser])
        assert d.reason == f"{stronger} outweighs {weaker}"


def test_equal_status_goes_to_the_state_nearer_a_measurement(tmp_path: Path) -> None:
    """Both inferred; a is one rule from the entries, b two: a stays (DESIGN: "ties go to the state nearer a measurement")."""
    write_kb(
        tmp_path,
        states="- {id: a, label: A, opposite: b}\n- {id: b, label: B, opposite: a}\n- {id: m, label: M}\n",
        findings="- {id: fa, label: fa, type: boolean, sided: true, group: symptom}\n"
                 "- {id: fm, label: fm, type: boolean, sided: true, group: symptom}\n",
        rules=f"- {{id: ra, label: r, when: [{{finding: fa}}], then: [a], evidence: coaching-model, source: {QUOTE}}}\n"
              f"- {{id: rm, label: r, when: [{{finding: fm}}], then: [m], evidence: coaching-model, source: {QUOTE}}}\n"
              f"- {{id: rb, label: r, when: [{{state: m}}], then: [b], evidence: coaching-model, source: {QUOTE}}}\n",
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"fa": "right", "fm": "right"}})
    (d,) = result.disagreements
    assert (d.side, d.kept.id, [c.id for c in d.dropped]) == ("right", "a", ["b"])
    assert result.holds("m", "right")  # only b went, not what b rested on


def test_equal_status_and_distance_drops_both_and_what_rested_only_on_them(tmp_path: Path) -> None:
    write_kb(
        tmp_path,
        states="- {id: a, label: A, opposite: b}\n- {id: b, label: B, opposite: a}\n- {id: c, label: C}\n",
        rules=f"- {{id: rc, label: r, when: [{{state: a}}], then: [c], evidence: coaching-model, source: {QUOTE}}}\n",
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"a": "left", "b": "left"}})
    (d,) = result.disagreements
    assert d.kept is None and sorted(c.id for c in d.dropped) == ["a", "b"]
    assert d.withdrawn == (("c", "left"),)
    assert not result.holds("c", "left")


# -- evidence ---------------------------------------------------------------------------

@pytest.mark.parametrize("rule_level,premise_level,expected", [
    ("clinical-norm", "interpretation", "interpretation"),
    ("interpretation", "clinical-norm", "interpretation"),
    ("coaching-model", "clinical-norm", "coaching-model"),
    ("clinical-norm", "coaching-model", "coaching-model"),
    ("clinical-norm", "clinical-norm", "clinical-norm"),
])
def test_evidence_is_the_weakest_link_of_the_chain(tmp_path: Path, rule_level: str, premise_level: str, expected: str) -> None:
    write_kb(
        tmp_path,
        states="- {id: p, label: P}\n- {id: q, label: Q}\n",
        findings="- {id: f, label: f, type: boolean, sided: true, group: symptom}\n",
        rules=f"- {{id: rp, label: r, when: [{{finding: f}}], then: [p], evidence: {premise_level}, source: {QUOTE}}}\n"
              f"- {{id: rq, label: r, when: [{{state: p}}], then: [q], evidence: {rule_level}, source: {QUOTE}}}\n",
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"f": "left"}})
    assert result.conclusion("p", "left").evidence == premise_level  # an entered finding (assessor) never weakens
    assert result.conclusion("q", "left").evidence == expected
    assert result.conclusion("q", "left").justifications[0].evidence == expected


def test_a_given_state_brings_assessor_evidence_and_never_weakens_a_chain(tmp_path: Path) -> None:
    write_kb(
        tmp_path,
        states="- {id: p, label: P}\n- {id: q, label: Q}\n",
        rules=f"- {{id: rq, label: r, when: [{{state: p}}], then: [q], evidence: clinical-norm, source: {QUOTE}}}\n",
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"p": "left"}})
    assert (result.conclusion("p", "left").status, result.conclusion("p", "left").evidence) == ("given", "assessor")
    assert result.conclusion("q", "left").evidence == "clinical-norm"  # a tie keeps the rule's own label
    ranks = {level: i for i, group in enumerate(EVIDENCE_ORDER) for level in group}
    assert ranks["assessor"] == ranks["clinical-norm"]


# -- assumptions ------------------------------------------------------------------------

def test_assumptions_are_explicit_and_transitive(tmp_path: Path) -> None:
    write_kb(
        tmp_path,
        states="- {id: p, label: P}\n- {id: q, label: Q}\n",
        findings="- {id: f, label: f, type: boolean, sided: true, group: symptom}\n"
                 "- {id: n, label: n, type: boolean, sided: true, group: confounder}\n",
        rules=f"- {{id: rp, label: r, when: [{{finding: f}}, {{not: n}}], then: [p], evidence: coaching-model, source: {QUOTE}}}\n"
              f"- {{id: rq, label: r, when: [{{state: p}}], then: [q], evidence: coaching-model, source: {QUOTE}}}\n",
    )
    kb = hipkb.load_kb(tmp_path)
    unrecorded = both_engines(kb, {"findings": {"f": "left"}})
    assert unrecorded.conclusion("q", "left").assumptions == (("n", "left"),)  # "there is no evidence that" n
    assert unrecorded.conclusion("p", "left").justifications[0].assumptions == (("n", "left"),)
    recorded = both_engines(kb, {"findings": {"f": "left", "n": False}})
    assert recorded.conclusion("q", "left").assumptions == ()  # "it is not the case that" n: a fact
    assert recorded.conclusion("p", "left").justifications[0].recorded_false == (("n", "left"),)
    observed = both_engines(kb, {"findings": {"f": "left", "n": "left"}})
    assert not observed.holds("p", "left")


# -- support and cycles -----------------------------------------------------------------

def cycle_kb(folder: Path) -> hipkb.KnowledgeBase:
    """x -> y -> z -> x, with entries into x (finding fx) and into z (given w)."""
    write_kb(
        folder,
        states="- {id: x, label: X}\n- {id: y, label: Y}\n- {id: z, label: Z}\n- {id: w, label: W}\n",
        findings="- {id: fx, label: fx, type: boolean, sided: true, group: symptom}\n",
        rules=f"- {{id: r_fx, label: r, when: [{{finding: fx}}], then: [x], evidence: coaching-model, source: {QUOTE}}}\n"
              f"- {{id: r_xy, label: r, when: [{{state: x}}], then: [y], evidence: coaching-model, source: {QUOTE}}}\n"
              f"- {{id: r_yz, label: r, when: [{{state: y}}], then: [z], evidence: coaching-model, source: {QUOTE}}}\n"
              f"- {{id: r_zx, label: r, when: [{{state: z}}], then: [x], evidence: coaching-model, source: {QUOTE}}}\n"
              f"- {{id: r_wz, label: r, when: [{{state: w}}], then: [z], evidence: coaching-model, source: {QUOTE}}}\n",
    )
    return hipkb.load_kb(folder)


def rules_of(result: hipkb.Result, state: str) -> set[str | None]:
    return {j.rule for j in result.conclusion(state, "left").justifications}


def test_a_fact_never_rests_on_itself(tmp_path: Path) -> None:
    result = both_engines(cycle_kb(tmp_path), {"findings": {"fx": "left"}})
    assert rules_of(result, "x") == {"r_fx"}  # z -> x would rest on x itself
    assert rules_of(result, "y") == {"r_xy"} and rules_of(result, "z") == {"r_yz"}


def test_a_premise_derivable_without_the_conclusion_justifies_it_inside_a_cycle(tmp_path: Path) -> None:
    result = both_engines(cycle_kb(tmp_path), {"findings": {"fx": "left", "w": "left"}})
    assert rules_of(result, "x") == {"r_fx", "r_zx"}  # z also follows from w, without x
    assert rules_of(result, "z") == {"r_wz", "r_yz"}  # y follows from fx without z
    assert rules_of(result, "y") == {"r_xy"}


def test_a_cycle_entered_only_through_a_given_state_holds_without_circularity(tmp_path: Path) -> None:
    result = both_engines(cycle_kb(tmp_path), {"findings": {"w": "left"}})
    assert rules_of(result, "z") == {"r_wz"} and rules_of(result, "x") == {"r_zx"} and rules_of(result, "y") == {"r_xy"}
    assert [result.conclusion(s, "left").status for s in ("w", "z", "x", "y")] == ["given", "inferred", "inferred", "inferred"]


# -- contexts: sides and no side --------------------------------------------------------

def context_kb(folder: Path) -> hipkb.KnowledgeBase:
    write_kb(
        folder,
        states="- {id: s, label: S}\n- {id: t, label: T}\n- {id: u, label: U}\n",
        findings="- {id: m, label: m, type: degrees, range: [0, 90], sided: true, group: measurement}\n"
                 "- {id: trunk, label: trunk, type: boolean, sided: false, group: compensation}\n"
                 "- {id: k, label: k, type: boolean, sided: true, group: compensation}\n",
        rules=f"- {{id: r_one, label: r, when: [{{finding: trunk}}, {{absent: m, on: both}}], then: [s], evidence: coaching-model, source: {QUOTE}}}\n"
              f"- {{id: r_other, label: r, when: [{{finding: trunk}}, {{absent: m}}, {{recorded: m, on: other}}], then: [s], evidence: coaching-model, source: {QUOTE}}}\n"
              f"- {{id: r_neg, label: r, when: [{{not: k}}], then: [t], evidence: coaching-model, source: {QUOTE}}}\n"
              f"- {{id: r_follow, label: r, when: [{{state: s}}], then: [u], evidence: coaching-model, source: {QUOTE}}}\n",
    )
    return hipkb.load_kb(folder)


def test_a_rule_that_reads_no_side_concludes_once_with_no_side(tmp_path: Path) -> None:
    result = both_engines(context_kb(tmp_path), {"findings": {"trunk": True}})
    assert result.sides_of("s") == (None,)  # not once per hip
    assert result.sides_of("u") == (None,)  # a side-less state flows on with no side


def test_on_other_points_a_side_less_sign_at_the_unmeasured_side(tmp_path: Path) -> None:
    result = both_engines(context_kb(tmp_path), {"findings": {"trunk": True, "m": {"right": 40}}})
    assert result.sides_of("s") == ("left",)


def test_a_negative_on_a_sided_finding_holds_with_no_side_only_when_it_holds_on_both(tmp_path: Path) -> None:
    kb = context_kb(tmp_path)
    assert both_engines(kb, {"findings": {}}).sides_of("t") == ("left", "right", None)
    assert both_engines(kb, {"findings": {"k": "left"}}).sides_of("t") == ("right",)
    none = both_engines(kb, {"findings": {}}).conclusion("t", None)
    assert none.assumptions == (("k", "left"), ("k", "right"))


# -- cycles and depth in any KB: both engines terminate and agree ----------------------

def test_a_long_chain_with_a_cycle_terminates_and_agrees(tmp_path: Path) -> None:
    n = 300
    states = "".join(f"- {{id: s{i}, label: S{i}}}\n" for i in range(n))
    findings = "- {id: f, label: f, type: boolean, sided: true, group: symptom}\n"
    rules = f"- {{id: r_in, label: r, when: [{{finding: f}}], then: [s0], evidence: coaching-model, source: {QUOTE}}}\n"
    rules += "".join(
        f"- {{id: r{i}, label: r, when: [{{state: s{i}}}], then: [s{(i + 1) % n}], evidence: coaching-model, source: {QUOTE}}}\n"
        for i in range(n)
    )
    write_kb(tmp_path, states=states, findings=findings, rules=rules)
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"f": "left"}})
    assert len(result.conclusions) == n
    assert rules_of(result, "s0") == {"r_in"}  # the way back round the cycle rests on s0 itself
