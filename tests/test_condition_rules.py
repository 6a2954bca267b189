"""Readings against thresholds and side-less facts, as docs/reasoning.md states them.

Mutation testing showed two readings no other test stated with a value
between whole degrees: an asymmetry of 10.4° against a 10° threshold
("lower than the other side by more than T", reasoning.md rule 1), and a
side-less fact named with no side in the JSON (DESIGN: "side is ... null
for something that belongs to no side").
"""

from __future__ import annotations

import hipkb


def test_an_asymmetry_a_fraction_of_a_degree_over_the_threshold_counts() -> None:
    # reasoning.md rule 1: ir_asymmetry when supine IR is lower than on the other side by more than
    # ir_asymmetry; "Measurement uncertainty": for ir_asymmetry the value is the side-to-side difference
    # and the mdc the supine IR one (6.1), borderline when |margin| < mdc.
    result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 20, "right": 30.4}}}, thresholds={"ir_asymmetry": 10})
    c = result.conclusion("ir_asymmetry", "left")
    assert c is not None and (c.status, c.evidence) == ("measured", "interpretation")
    m = c.measurement.to_dict()
    assert m == {"finding": "supine_hip_ir", "side": "left", "value": 10.4, "threshold": 10, "margin": 0.4,
                 "mdc": 6.1, "borderline": True}
    assert result.conclusion("ir_asymmetry", "right") is None  # only on the lower side


def test_an_asymmetry_a_fraction_of_a_degree_under_the_threshold_does_not() -> None:
    result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 20, "right": 29.6}}}, thresholds={"ir_asymmetry": 10})
    assert result.sides_of("ir_asymmetry") == ()


def test_a_side_less_fact_is_named_without_a_side() -> None:
    # demo-01: rib_cage_side_bend: true (no side) with IR limited on the left calls integrate_foot_and_ribcage
    # there (reasoning.md, Recommendations); the JSON names the unsided premise by its bare id.
    data = hipkb.assess("examples/demo-01.yaml").to_dict()
    rec = next(r for r in data["recommendations"] if (r["id"], r["side"]) == ("integrate_foot_and_ribcage", "left"))
    assert rec["justifications"][0]["because"] == ["ir_limited/left", "rib_cage_side_bend"]
    assert data["findings"]["rib_cage_side_bend"] is True
