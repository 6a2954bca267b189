"""How the resolver settles opposite states and reports what went (docs/reasoning.md, "Support, cycles and opposites").

Tiny fixture KBs (tests/test_semantics.py's ``write_kb``), each run through
both engines. Every expectation is a literal from DESIGN.md rule 5 and
docs/reasoning.md; mutation testing showed these cases unstated elsewhere:
the nearer state wins whichever of the pair it is, what went is listed
states first, and a kept state that rests on another state keeps its
justification.
"""

from __future__ import annotations

from pathlib import Path

import hipkb
from test_semantics import QUOTE, both_engines, write_kb


def rule(rid: str, when: str, then: str, evidence: str = "coaching-model") -> str:
    return f"- {{id: {rid}, label: r, when: [{when}], then: [{then}], evidence: {evidence}, source: {QUOTE}}}\n"


def flag(fid: str) -> str:
    return f"- {{id: {fid}, label: {fid}, type: boolean, sided: true, group: symptom}}\n"


def test_the_state_nearer_a_measurement_stays_whichever_of_the_pair_it_is(tmp_path: Path) -> None:
    # DESIGN rule 5: "ties go to the state nearer a measurement". Here b (second of the pair a/b) is one
    # rule from the entries and a two: b stays, a goes.
    write_kb(
        tmp_path,
        states="- {id: a, label: A, opposite: b}\n- {id: b, label: B, opposite: a}\n- {id: m, label: M}\n",
        findings=flag("fb") + flag("fm"),
        rules=rule("rb", "{finding: fb}", "b") + rule("rm", "{finding: fm}", "m") + rule("ra", "{state: m}", "a"),
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"fb": "left", "fm": "left"}})
    (d,) = result.disagreements
    assert (d.side, d.kept.id, [c.id for c in d.dropped]) == ("left", "b", ["a"])
    assert "b is nearer a measurement" in d.reason
    assert result.holds("b", "left") and not result.holds("a", "left") and result.holds("m", "left")


def test_what_went_with_a_dropped_state_lists_states_before_recommendations(tmp_path: Path) -> None:
    # DESIGN: "everything that rested only on it is withdrawn too, and the disagreement lists what went";
    # listed in the result's own order: conclusions (states) first, then recommendations.
    write_kb(
        tmp_path,
        states="- {id: a, label: A, opposite: b}\n- {id: b, label: B, opposite: a}\n- {id: c, label: C}\n",
        rules=rule("rc", "{state: a}", "c"),
        recommendations=(
            "- {id: rest, kind: strategy, label: Rest, summary: Rest., evidence: coaching-model, "
            f"source: {QUOTE}, called_for_by: [{{id: rest_for_a, label: r, when: [{{state: a}}], "
            f"evidence: coaching-model, source: {QUOTE}}}]}}\n"
        ),
    )
    # a and b given on the left: equal status, equally near: both go (reasoning.md), and with a what rested on it.
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"a": "left", "b": "left"}})
    (d,) = result.disagreements
    assert d.kept is None
    assert d.withdrawn == (("c", "left"), ("rest", "left"))
    assert not result.holds("c", "left") and not result.holds("rest", "left")


def test_a_kept_state_that_rests_on_another_state_keeps_its_justification(tmp_path: Path) -> None:
    # a is inferred from m (reasoning.md: a state without a test of its own is inferred); b has a test of
    # its own and is concluded without it, so it is predicted. "The one with the stronger status stays."
    write_kb(
        tmp_path,
        states="- {id: a, label: A, opposite: b}\n- {id: b, label: B, opposite: a, tested_by: db}\n- {id: m, label: M}\n",
        findings=flag("fb") + flag("fm")
        + "- {id: db, label: db, type: degrees, range: [0, 90], sided: true, group: measurement}\n",
        thresholds=f"- {{id: db, value: 10, label: t, evidence: clinical-norm, source: {QUOTE}}}\n",
        rules=rule("rb", "{finding: fb}", "b") + rule("rm", "{finding: fm}", "m") + rule("ra", "{state: m}", "a"),
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"fb": "right", "fm": "right"}})
    (d,) = result.disagreements
    assert (d.side, d.kept.id, d.kept.status, [c.id for c in d.dropped]) == ("right", "a", "inferred", ["b"])
    assert d.reason == "inferred outweighs predicted"
    assert d.kept.justifications[0].rule == "ra"
    assert d.kept.justifications[0].because == (("m", "right"),)


def test_a_conflict_that_only_existed_because_of_a_dropped_state_never_happens(tmp_path: Path) -> None:
    # reasoning.md: "Conflicts are settled one at a time, the most upstream first ..., and the support is
    # recomputed after each: a conflict that only existed because of a state already dropped never happens."
    # c (inferred) loses to d (given); a rested only on c, so a goes with it and never meets b: b stays.
    write_kb(
        tmp_path,
        states="- {id: a, label: A, opposite: b}\n- {id: b, label: B, opposite: a, tested_by: db}\n"
               "- {id: c, label: C, opposite: d}\n- {id: d, label: D, opposite: c}\n",
        findings=flag("fb") + flag("fc")
        + "- {id: db, label: db, type: degrees, range: [0, 90], sided: true, group: measurement}\n",
        thresholds=f"- {{id: db, value: 10, label: t, evidence: clinical-norm, source: {QUOTE}}}\n",
        rules=rule("rb", "{finding: fb}", "b") + rule("rc", "{finding: fc}", "c") + rule("ra", "{state: c}", "a"),
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"fb": "left", "fc": "left", "d": "left"}})
    (d,) = result.disagreements
    assert (d.kept.id, [c.id for c in d.dropped], d.withdrawn) == ("d", ["c"], (("a", "left"),))
    assert d.reason == "given outweighs inferred"
    assert result.conclusion("b", "left").status == "predicted"  # b is concluded without its own test
    assert not result.holds("a", "left")


def test_conflicts_on_both_sides_are_each_settled() -> None:
    # DESIGN rule 5 on each side: the short SLR predicts limited IR through the pelvic chain; IR measured
    # within range (35 >= 25) overrules it, left and right alike.
    result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 35, "right": 40}, "straight_leg_raise": {"left": 40, "right": 40}}})
    assert [(d.side, d.kept.id, [c.id for c in d.dropped]) for d in result.disagreements] == [
        ("left", "ir_within_range", ["ir_limited"]),
        ("right", "ir_within_range", ["ir_limited"]),
    ]
    assert result.sides_of("ir_limited") == () and result.sides_of("arm_bar") == ()
    assert result.sides_of("pelvis_not_internally_rotating") == ("left", "right")  # the chain's states stay


def test_a_state_kept_in_one_conflict_can_go_in_a_later_one(tmp_path: Path) -> None:
    # reasoning.md: "the most upstream first (the pair whose later state was established earliest)". a/b's
    # later state (a, two rules from the entries) is established before c/d's (d, three): a/b is settled
    # first and a (inferred) outweighs b (predicted); then d (measured) outweighs c, and a, which rested only
    # on c, goes with it. The first disagreement still says a was kept, as it was.
    write_kb(
        tmp_path,
        states="- {id: a, label: A, opposite: b}\n- {id: b, label: B, opposite: a, tested_by: db}\n"
               "- {id: c, label: C, opposite: d}\n- {id: d, label: D, opposite: c, tested_by: dd}\n"
               "- {id: x, label: X}\n- {id: y, label: Y}\n",
        findings=flag("fb") + flag("fc") + flag("fx")
        + "- {id: db, label: db, type: degrees, range: [0, 90], sided: true, group: measurement}\n"
        + "- {id: dd, label: dd, type: degrees, range: [0, 90], sided: true, group: measurement}\n",
        thresholds=f"- {{id: db, value: 10, label: t, evidence: clinical-norm, source: {QUOTE}}}\n"
                   f"- {{id: dd, value: 10, label: t, evidence: clinical-norm, source: {QUOTE}}}\n",
        rules=rule("rb", "{finding: fb}", "b") + rule("rc", "{finding: fc}", "c") + rule("ra", "{state: c}", "a")
        + rule("rx", "{finding: fx}", "x") + rule("ry", "{state: x}", "y")
        + rule("rd", "{state: y}, {finding: dd, below: dd}", "d"),
    )
    case = {"findings": {"fb": "left", "fc": "left", "fx": "left", "dd": {"left": 5}}}
    result = both_engines(hipkb.load_kb(tmp_path), case)
    first, second = result.disagreements
    assert (first.kept.id, first.kept.status, [c.id for c in first.dropped]) == ("a", "inferred", ["b"])
    assert (second.kept.id, second.kept.status, [c.id for c in second.dropped]) == ("d", "measured", ["c"])
    assert second.withdrawn == (("a", "left"),)
    assert [c.id for c in result.conclusions] == ["d", "x", "y"]
