"""``result.cards()``: CDS Hooks cards, checked against the card fields of the CDS Hooks specification.

What was checked (through the search tool, the specification's own text:
cds-hooks/docs, docs/specification/current.md, "Card Attributes", "Source"
and "Coding"):
- ``summary`` REQUIRED string: "One-sentence, <140-character summary message";
- ``indicator`` REQUIRED string, one of ``info``, ``warning``, ``critical``
  ("in order of increasing urgency");
- ``source`` REQUIRED object; ``source.label`` REQUIRED string; ``source.url``
  OPTIONAL absolute URL (left out here: the article is a blog post and the
  KB has no page of its own); ``source.topic`` OPTIONAL Coding, whose
  ``code`` and ``system`` are REQUIRED strings and ``display`` optional;
- ``uuid`` OPTIONAL string, ``detail`` OPTIONAL string in (GitHub-flavoured) Markdown;
- ``extension``: a name the specification reserves; "The value of an
  extension element MUST be a pre-coordinated JSON object".
DESIGN: one card per recommendation with its sides merged; a referral is
``critical``, a caution ``warning``; ``extension: {"hipkb": {"id", "side",
"kind", "status", "evidence"}}``.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest

import hipkb

from conftest import REPO

DEMO = str(REPO / "examples" / "demo-01.yaml")
PINCH = {"subject": "pinch", "findings": {
    "supine_hip_ir": {"left": 18, "right": 38}, "pinch_in_flexion_ir": "left", "pinch_in_extension_abduction": "right"}}
BOTH = {"subject": "both", "findings": {"supine_hip_ir": {"left": 15, "right": 18}}}
SUSPECTED = {"findings": {"hip_hike": "left", "lumbar_arch": True}}
PREDICTED = {"findings": {"straight_leg_raise": {"left": 40}}}
CASES: dict[str, Any] = {"demo-01": DEMO, "pinch": PINCH, "both": BOTH, "suspected": SUSPECTED, "predicted": PREDICTED}

STATUSES = {"measured", "given", "indicated", "inferred", "predicted"}
EVIDENCE = {"clinical-norm", "coaching-model", "interpretation", "assessor"}
KINDS = {"strategy", "principle", "exercise", "caution", "assessment"}


def deck(name: str) -> list[dict[str, Any]]:
    return hipkb.assess(CASES[name]).cards()


def by_id(cards: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {card["extension"]["hipkb"]["id"]: card for card in cards}


@pytest.mark.parametrize("name", CASES)
def test_every_card_has_the_required_fields_with_their_types(name: str) -> None:
    cards = deck(name)
    assert cards
    for card in cards:
        assert isinstance(card["summary"], str) and card["summary"]
        assert len(card["summary"]) < 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert isinstance(card["source"], dict) and isinstance(card["source"]["label"], str) and card["source"]["label"]
        assert isinstance(card["uuid"], str) and isinstance(card["detail"], str)
        topic = card["source"]["topic"]
        assert isinstance(topic["system"], str) and topic["system"] and isinstance(topic["code"], str) and topic["code"]
        assert isinstance(card["extension"], dict)
        assert set(card) <= {"uuid", "summary", "detail", "indicator", "source", "suggestions",
                             "selectionBehavior", "overrideReasons", "links", "extension"}


@pytest.mark.parametrize("name", CASES)
def test_cards_are_plain_json(name: str) -> None:
    cards = deck(name)
    assert json.loads(json.dumps(cards)) == cards


@pytest.mark.parametrize("name", CASES)
def test_one_card_per_recommendation_with_its_sides_merged(name: str) -> None:
    result = hipkb.assess(CASES[name])
    cards = result.cards()
    ids = list(dict.fromkeys(r.id for r in result.recommendations))
    assert sorted(c["extension"]["hipkb"]["id"] for c in cards) == sorted(ids)
    for card in cards:
        ext = card["extension"]["hipkb"]
        assert ext["side"] == [r.side for r in result.recommendations if r.id == ext["id"]]
        assert ext["kind"] in KINDS and ext["status"] in STATUSES and ext["evidence"] in EVIDENCE


def test_sides_merged_in_the_summary() -> None:
    cards = by_id(deck("both"))
    assert cards["arm_bar"]["summary"] == "Exercise 1: Arm bar (left, right)."
    assert cards["arm_bar"]["extension"]["hipkb"]["side"] == ["left", "right"]
    assert cards["cable_crossover_step_up"]["summary"] == "Exercise 3: Cable crossover step-up (left, right)."


def test_a_recommendation_with_no_side_says_so() -> None:
    cards = by_id(deck("suspected"))
    assert None in cards["assess_supine_hip_ir"]["extension"]["hipkb"]["side"]
    assert cards["assess_supine_hip_ir"]["summary"].endswith("(left, no side).")


def test_a_referral_is_critical_a_caution_a_warning_the_rest_info() -> None:
    cards = by_id(deck("pinch"))
    assert cards["refer_for_fai_evaluation"]["indicator"] == "critical"
    assert cards["hold_loaded_ir_with_pinch"]["indicator"] == "warning"
    assert cards["avoid_stretching_in_isolation"]["indicator"] == "warning"
    assert cards["arm_bar"]["indicator"] == "info"
    assert cards["influence_pelvic_position"]["indicator"] == "info"
    assert deck("pinch")[0]["extension"]["hipkb"]["id"] == "refer_for_fai_evaluation"


def test_source_names_the_knowledge_base_and_no_unverified_url() -> None:
    for card in deck("demo-01"):
        assert card["source"]["label"] == "hipkb knowledge base 2.0.0"
        assert "url" not in card["source"] and "icon" not in card["source"]


def test_uuid_is_deterministic_and_depends_on_the_case_and_the_recommendation() -> None:
    first, again = deck("demo-01"), deck("demo-01")
    assert first == again
    uuids = [c["uuid"] for c in first]
    assert len(set(uuids)) == len(uuids)
    assert all(uuid.UUID(u).version == 5 for u in uuids)
    # the same case given as a mapping: the same cards
    same = hipkb.assess({"subject": "demo-01", "findings": {
        "supine_hip_ir": {"left": 12, "right": 40}, "straight_leg_raise": {"left": 45, "right": 85},
        "hip_hike": "left", "rib_cage_side_bend": True}}).cards()
    assert [c["uuid"] for c in same] == uuids
    # another reading: other uuids
    other = hipkb.assess({"subject": "demo-01", "findings": {
        "supine_hip_ir": {"left": 13, "right": 40}, "straight_leg_raise": {"left": 45, "right": 85},
        "hip_hike": "left", "rib_cage_side_bend": True}}).cards()
    assert not set(c["uuid"] for c in other) & set(uuids)


def test_detail_is_markdown_with_status_evidence_and_the_articles_words() -> None:
    cards = by_id(deck("demo-01"))
    detail = cards["arm_bar"]["detail"]
    assert "- **Left**: number 1 in this person's list; measured; evidence: interpretation" in detail
    # the article's sentence, word for word, as a Markdown quote
    assert ("> \u201cBy rolling over the pelvis, we get the help of the ground and body weight to laterally "
            "compress the pelvis creating the shape of the pelvis we're looking for.\u201d") in detail
    assert "  - acts on: hip internal rotation limited" in detail


def test_pending_cards_say_so() -> None:
    cards = by_id(deck("predicted"))
    assert cards["arm_bar"]["summary"] == "Exercise 1: Arm bar (left), pending a supine IR measurement."
    assert cards["arm_bar"]["extension"]["hipkb"]["status"] == "predicted"


def test_a_long_label_is_cut_under_140_characters(tmp_path: Any) -> None:
    import shutil

    import yaml

    kb_dir = tmp_path / "kb"
    shutil.copytree(REPO / "kb", kb_dir)
    recs = kb_dir / "recommendations.yaml"
    data = recs.read_text().replace("label: Arm bar", "label: Arm bar " + "with a very long name " * 10, 1)
    recs.write_text(data)
    assert yaml.safe_load(data)
    kb = hipkb.load_kb(kb_dir)
    card = by_id(kb.assess(BOTH).cards())["arm_bar"]
    assert len(card["summary"]) < 140 and card["summary"].startswith("Exercise 1: Arm bar with a very long name")
    assert card["summary"].endswith("… (left, right).")


def test_changing_a_card_changes_nothing_else() -> None:
    result = hipkb.assess(DEMO)
    cards = result.cards()
    before = copy.deepcopy(cards)
    cards[0]["extension"]["hipkb"]["side"].append("right")
    cards[0]["source"]["label"] = "changed"
    assert result.cards() == before
