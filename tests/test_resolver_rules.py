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


def test_what_rested_on_a_dropped_state_two_steps_away_is_withdrawn_too(tmp_path: Path) -> None:
    # DESIGN: "everything that rested only on it is withdrawn too": a state derived from a state derived
    # from the dropped one rested on it as well, however many steps away.
    write_kb(
        tmp_path,
        states=("- {id: a, label: A, opposite: b}\n- {id: b, label: B, opposite: a}\n- {id: c, label: C}\n"
                "- {id: e, label: E}\n- {id: g, label: G}\n"),
        rules=rule("rc", "{state: a}", "c") + rule("re", "{state: c}", "e") + rule("rg", "{state: e}", "g"),
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"a": "left", "b": "left"}})
    (d,) = result.disagreements
    assert d.withdrawn == (("c", "left"), ("e", "left"), ("g", "left"))
    assert not any(result.holds(x, "left") for x in "ceg")


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


# -- which justification is the strongest, and how near a measurement (docs/reasoning.md "Statuses") ------

def test_one_step_from_a_given_state_is_as_near_as_one_step_from_a_finding(tmp_path: Path) -> None:
    # reasoning.md: "Facts are established in stages (stage 0: entered findings and given states ...)"; on
    # equal status "the one nearer a measurement (fewer rule steps from the case's entries ...) stays; when
    # that ties too, both go". a is one rule from the given g, b one rule from the finding fb: both go.
    write_kb(
        tmp_path,
        states="- {id: a, label: A, opposite: b}\n- {id: b, label: B, opposite: a}\n- {id: g, label: G}\n",
        findings=flag("fb"),
        rules=rule("ra", "{state: g}", "a") + rule("rb", "{finding: fb}", "b"),
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"g": "left", "fb": "left"}})
    (d,) = result.disagreements
    assert d.kept is None and [c.id for c in d.dropped] == ["a", "b"]
    assert d.reason == "both are inferred and equally near a measurement: neither can be preferred"


def test_the_strongest_justification_has_the_fewest_assumptions_then_comes_first_in_the_kb(tmp_path: Path) -> None:
    # reasoning.md: "An item's status, evidence and assumptions are those of its strongest justification:
    # highest status, then strongest evidence, then fewest assumptions, then the KB's declaration order."
    write_kb(
        tmp_path,
        states="- {id: s, label: S}\n- {id: t, label: T}\n",
        findings=flag("f1") + flag("f2") + flag("g"),
        rules=rule("r_assuming", "{finding: f1}, {not: g}", "s") + rule("r_plain", "{finding: f2}", "s")
        + rule("t_first", "{finding: f1}", "t") + rule("t_second", "{finding: f2}", "t"),
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"f1": "left", "f2": "left"}})
    s = result.conclusion("s", "left")
    assert (s.assumptions, [j.rule for j in s.justifications]) == ((), ["r_plain", "r_assuming"])
    assert [j.rule for j in result.conclusion("t", "left").justifications] == ["t_first", "t_second"]


def test_a_side_less_state_reached_from_both_sides_lists_the_left_first(tmp_path: Path) -> None:
    # reasoning.md: the same rule runs on the left and on the right and concludes the side-less u twice;
    # the two justifications tie on everything but their side, and sides go "in a fixed order (left, then
    # right)" (DESIGN).
    write_kb(
        tmp_path,
        states="- {id: u, label: U, sided: false}\n",
        findings=flag("k"),
        rules=rule("r_ku", "{finding: k}", "u"),
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"k": True}})
    u = result.conclusion("u", None)
    assert [j.because for j in u.justifications] == [(("k", "left"),), (("k", "right"),)]


def test_justifications_are_listed_strongest_first() -> None:
    # DESIGN "Statuses": measured > given > indicated > inferred > predicted; then evidence (coaching-model >
    # interpretation). ir_limited on the left is measured (12 < 25), given, predicted through the back of the
    # hip (stiff rotators, given: coaching-model links) and predicted through the pelvic chain (short SLR:
    # interpretation links, reasoning.md rule 5).
    case = {"findings": {"supine_hip_ir": {"left": 12}, "straight_leg_raise": {"left": 40},
                         "ir_limited": "left", "deep_external_rotators_stiff": "left"}}
    limited = hipkb.assess(case).conclusion("ir_limited", "left")
    assert [(j.rule, j.status, j.evidence) for j in limited.justifications] == [
        ("ir_measured_limited", "measured", "clinical-norm"),
        (None, "given", "assessor"),
        ("posterior_space_enables_ir", "predicted", "coaching-model"),
        ("femur_glide_space_enables_ir", "predicted", "interpretation"),
    ]


def test_a_state_that_only_reads_a_test_carries_no_measurement() -> None:
    # DESIGN "Measurement uncertainty": every *measured* conclusion carries its measurement, and so does each
    # state read directly from an SLR reading; ir_test_confounded_by_pelvis reads the IR drop too but is
    # inferred (reasoning.md rule 3), so it has none.
    result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}, "pelvis_forward": "left"}})
    confounded = result.conclusion("ir_test_confounded_by_pelvis", "left")
    assert (confounded.status, confounded.measurement) == ("inferred", None)
    assert result.conclusion("ir_limited", "left").measurement is not None


def test_a_recommendation_called_by_findings_alone_is_given_or_measured(tmp_path: Path) -> None:
    # reasoning.md: "A justification of a recommendation takes the weakest status among the states in its
    # premises (when it has none: measured if it compares a reading, else given)."
    def call(rid: str, when: str) -> str:
        return (f"- {{id: {rid}, kind: strategy, label: {rid}, summary: s., evidence: coaching-model, source: {QUOTE}, "
                f"called_for_by: [{{id: {rid}_call, label: r, when: [{when}], evidence: coaching-model, source: {QUOTE}}}]}}\n")

    write_kb(
        tmp_path,
        states="- {id: s, label: S}\n",
        findings=flag("f") + "- {id: d, label: d, type: degrees, range: [0, 90], sided: true, group: measurement}\n",
        thresholds=f"- {{id: d, value: 10, label: t, evidence: clinical-norm, source: {QUOTE}}}\n",
        recommendations=call("from_flag", "{finding: f}") + call("from_reading", "{finding: d, below: d}"),
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"f": "left", "d": {"left": 5}}})
    assert result.recommendation("from_flag", "left").status == "given"
    assert result.recommendation("from_reading", "left").status == "measured"


def test_exercises_follow_their_progression_order_not_the_order_they_are_declared_in(tmp_path: Path) -> None:
    # DESIGN: "exercise (order = progression ...)"; "Exercise numbers in output are positions in this
    # person's list (1, 2, 3…), the article's order kept". Here the exercise of order 2 is declared first.
    def exercise(rid: str, order: int) -> str:
        return (f"- {{id: {rid}, kind: exercise, order: {order}, label: {rid}, summary: s., evidence: coaching-model, "
                f"source: {QUOTE}, called_for_by: [{{id: {rid}_call, label: r, when: [{{state: s}}], "
                f"evidence: coaching-model, source: {QUOTE}}}]}}\n")

    write_kb(tmp_path, states="- {id: s, label: S}\n", recommendations=exercise("loaded", 2) + exercise("ground", 1))
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"s": "left"}})
    assert [(r.id, r.order) for r in result.recommendations] == [("ground", 1), ("loaded", 2)]


def test_an_exercise_addressing_a_side_less_item_names_it_without_a_side(tmp_path: Path) -> None:
    # reasoning.md: "A result lists, per recommendation, the addressed items that hold on its side (states
    # that hold, findings observed)"; an item with no side holds with no side (DESIGN: side null "for
    # something that belongs to no side"), so an exercise on the left names it bare.
    write_kb(
        tmp_path,
        states="- {id: s, label: S}\n- {id: u, label: U, sided: false}\n",
        findings=flag("f") + "- {id: g, label: g, type: boolean, sided: false, group: compensation}\n",
        rules=rule("r_fs", "{finding: f}", "s") + rule("r_gu", "{finding: g}", "u"),
        recommendations=(
            f"- {{id: ex, kind: exercise, order: 1, label: Ex, summary: s., evidence: coaching-model, source: {QUOTE}, "
            f"addresses: [{{target: s, label: a, evidence: coaching-model, source: {QUOTE}}}, "
            f"{{target: u, label: a, evidence: coaching-model, source: {QUOTE}}}, "
            f"{{target: g, label: a, evidence: coaching-model, source: {QUOTE}}}], "
            f"called_for_by: [{{id: ex_call, label: r, when: [{{state: s}}], evidence: coaching-model, source: {QUOTE}}}]}}\n"
        ),
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"f": "left", "g": True}})
    assert result.recommendation("ex", "left").addresses == (("s", "left"), ("u", None), ("g", None))
    assert result.to_dict()["recommendations"][0]["addresses"] == ["s/left", "u", "g"]


# -- results listed in their fixed order (DESIGN: "sides in a fixed order (left, then right)") -----------

def test_a_state_on_both_sides_is_listed_left_then_right_however_far_each_is_from_the_entries() -> None:
    # ir_limited measured on the right (12 < 25, one step) and predicted on the left through the pelvic chain
    # (short SLR, six steps): listed left first all the same.
    result = hipkb.assess({"findings": {"supine_hip_ir": {"right": 12}, "straight_leg_raise": {"left": 40}}})
    assert [(c.side, c.status) for c in result.conclusions if c.id == "ir_limited"] == [("left", "predicted"), ("right", "measured")]
    assert [r.side for r in result.recommendations if r.id == "arm_bar"] == ["left", "right"]


def test_disagreements_are_listed_left_then_right_whichever_was_settled_first() -> None:
    # On the right the given sacrum_nutating outweighs the SLR's indicated sacrum_not_nutating (settled first:
    # both stand after one step); on the left IR measured within range outweighs the chain's prediction (six
    # steps). DESIGN rule 5.
    case = {"findings": {"supine_hip_ir": {"left": 35}, "straight_leg_raise": {"left": 40, "right": 40},
                         "sacrum_nutating": "right"}}
    result = hipkb.assess(case)
    assert [(d.side, d.kept.id, [c.id for c in d.dropped]) for d in result.disagreements] == [
        ("left", "ir_within_range", ["ir_limited"]),
        ("right", "sacrum_nutating", ["sacrum_not_nutating"]),
    ]


def test_a_strategy_a_pinch_calls_for_stays_when_the_limitation_is_overruled() -> None:
    # DESIGN rule 8: a pinch -> influence_pelvic_position "whatever IR shows". Rule 5: IR measured within range
    # overrules the chain's predicted limitation, and what rested *only* on it goes; the strategy also rests on
    # the pinch, so it stays, justified by the pinch alone.
    case = {"findings": {"supine_hip_ir": {"left": 35}, "straight_leg_raise": {"left": 40}, "pinch_in_flexion_ir": "left"}}
    result = hipkb.assess(case)
    strategy = result.recommendation("influence_pelvic_position", "left")
    assert [j.rule for j in strategy.justifications] == ["influence_pelvic_position_for_fai"]
    assert result.holds("refer_for_fai_evaluation", "left")
    (d,) = result.disagreements
    assert ("influence_pelvic_position", "left") not in d.withdrawn and ("arm_bar", "left") in d.withdrawn


def test_on_a_full_tie_the_first_declared_justification_decides_how_near_a_measurement_a_state_is(tmp_path: Path) -> None:
    # reasoning.md: the strongest justification is chosen by status, evidence, assumptions, "then the KB's
    # declaration order"; opposites on equal status: "the one nearer a measurement (fewer rule steps from
    # the case's entries along its strongest justification) stays; when that ties too, both go".
    # a's first-declared rule is two steps from the entries (fm -> m -> a), its second one step (fa -> a);
    # b is one step (fb -> b). So a is two steps away along its strongest justification and b stays.
    write_kb(
        tmp_path,
        states="- {id: a, label: A, opposite: b}\n- {id: b, label: B, opposite: a}\n- {id: m, label: M}\n",
        findings=flag("fa") + flag("fb") + flag("fm"),
        rules=rule("ra_far", "{state: m}", "a") + rule("ra_near", "{finding: fa}", "a")
        + rule("rm", "{finding: fm}", "m") + rule("rb", "{finding: fb}", "b"),
    )
    result = both_engines(hipkb.load_kb(tmp_path), {"findings": {"fa": "left", "fb": "left", "fm": "left"}})
    (d,) = result.disagreements
    assert (d.kept.id if d.kept else None, [c.id for c in d.dropped]) == ("b", ["a"])


def test_justifications_are_listed_strongest_first_then_by_evidence_and_kb_order(tmp_path: Path) -> None:
    # reasoning.md "Status": an item's justifications are listed strongest first (its strongest justification,
    # then the others by status, evidence and the KB's declaration order).
    write_kb(
        tmp_path,
        states="- {id: s, label: S}\n",
        findings=flag("f1") + flag("f2") + flag("f3") + flag("f4"),
        rules=rule("r1", "{finding: f1}", "s", "interpretation") + rule("r2", "{finding: f2}", "s")
        + rule("r3", "{finding: f3}", "s") + rule("r4", "{finding: f4}", "s", "interpretation"),
    )
    case = {"findings": {"f1": "left", "f2": "left", "f3": "left", "f4": "left"}}
    s = both_engines(hipkb.load_kb(tmp_path), case).conclusion("s", "left")
    assert s is not None and [j.rule for j in s.justifications] == ["r2", "r3", "r1", "r4"]


def test_on_a_full_tie_the_first_any_option_gives_the_assumptions(tmp_path: Path) -> None:
    # reasoning.md: the strongest justification is chosen by status, evidence, fewest assumptions, "then the
    # KB's declaration order" -- of rules and, within a rule, of its `any` options. Both options hold here,
    # each by one assumption (a and b not recorded): the first declared option's assumption is the state's.
    write_kb(
        tmp_path,
        states="- {id: s, label: S}\n",
        findings=flag("f") + flag("a") + flag("b"),
        rules=rule("r", "{finding: f}, {any: [{not: a}, {not: b}]}", "s"),
    )
    s = both_engines(hipkb.load_kb(tmp_path), {"findings": {"f": "left"}}).conclusion("s", "left")
    assert s is not None and list(s.assumptions) == [("a", "left")]
    assert [list(j.assumptions) for j in s.justifications] == [[("a", "left")], [("b", "left")]]
