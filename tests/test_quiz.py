"""hipkb quiz: questions generated from the KB, each answer re-derived here with the engine or the KB model.

The generator reads the KB model (links, rule conditions, tests, addresses,
calls); these tests check every answer and every distractor another way:
by assessing the case the question implies with the engine, or by reading
the KB's tables directly. Quotes are checked against the article with the
normalisation of the project's quote checker (check_quotes.py beside the article, outside this repository).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import hipkb
from hipkb.cli import main
from hipkb.errors import InputError
from hipkb.teach import KINDS, all_questions
from hipkb.teach.quiz import quiz

from conftest import ARTICLE, REPO, require

CHECK_QUOTES = REPO.parent / "shared" / "tools" / "check_quotes.py"


@pytest.fixture(scope="module")
def questions(kb):
    """Every question, with the distractors three seeds pick (so most candidates get checked)."""
    return tuple(q for seed in (0, 1, 2) for q in all_questions(kb, seed=seed).questions)


def by_kind(questions, kind):
    found = [q for q in questions if q.kind == kind]
    assert found, f"the shipped KB yields no {kind} question"
    return found


def run(*args, input=None):
    """The CLI in-process (CliRunner's isolation around hipkb.cli.main): exit code, stdout, stderr."""
    runner = CliRunner()
    with runner.isolation(input=input) as (out, err, _):
        code = main([str(a) for a in args])
    return code, out.getvalue().decode(), err.getvalue().decode()


def distractors(q):
    return [i for i, c in zip(q.choice_ids, q.choices) if c != q.answer]


# -- shape -------------------------------------------------------------------------------------


def test_every_kind_of_the_issue_is_generated(kb):
    questions = all_questions(kb).questions
    assert {q.kind for q in questions} == {
        "chain", "test", "reading", "exercise", "compensation", "distinguish", "withheld"}
    assert set(KINDS) == {q.kind for q in questions}


def test_each_question_has_one_right_choice_among_three_or_four(questions):
    for q in questions:
        assert 3 <= len(q.choices) <= 4, q.id
        assert len(set(q.choices)) == len(q.choices), q.id
        assert q.choices.count(q.answer) == 1, q.id
        assert len(q.choice_ids) == len(q.choices)


def test_json_has_exactly_the_issue_fields(kb):
    data = quiz(kb, count=8, seed=3).to_dict()
    assert list(data) == ["questions"]
    for q in data["questions"]:
        assert list(q) == ["id", "kind", "prompt", "choices", "answer", "explanation", "source"]
        assert list(q["source"]) == ["ref", "quote"]
        assert q["answer"] in q["choices"]


def test_question_ids_are_unique_and_stable_across_seeds(kb):
    a = [q.id for q in all_questions(kb, seed=1).questions]
    b = [q.id for q in all_questions(kb, seed=2).questions]
    assert len(set(a)) == len(a)
    assert a == b


def test_prompts_choices_and_explanations_show_no_raw_ids(kb, questions):
    ids = {i for table in (kb.states, kb.findings, kb.recommendations, kb.links, kb.rules) for i in table if "_" in i}
    ids |= {"posterior_capsule_closed", "pelvic_chain", "ribcage_knee_foot", "ir_limited"}
    for q in questions:
        words = set(re.findall(r"[a-z0-9]+(?:_[a-z0-9]+)+", " ".join([q.prompt, q.explanation, *q.choices])))
        assert not words & ids, (q.id, words & ids)


# -- seeds, counts, kinds -------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_json():
    first = run("quiz", "--count", "12", "--seed", "42", "--format", "json")
    again = run("quiz", "--count", "12", "--seed", "42", "--format", "json")
    assert first[0] == 0 and first == again
    other = run("quiz", "--count", "12", "--seed", "43", "--format", "json")
    assert other[1] != first[1]


def test_count_and_kinds(kb):
    assert len(quiz(kb, count=7, seed=0).questions) == 7
    only = quiz(kb, count=20, seed=0, kinds=["chain", "reading"]).questions
    assert {q.kind for q in only} == {"chain", "reading"}
    everything = all_questions(kb).questions
    assert len(quiz(kb, count=10_000, seed=0).questions) <= len(everything)


def test_kinds_take_turns(kb):
    first = quiz(kb, count=len(KINDS), seed=5).questions
    assert len({q.kind for q in first}) == len(KINDS)


def test_bad_kind_and_count_are_input_errors(kb):
    with pytest.raises(InputError, match=r"unknown question kind 'chian' \(did you mean 'chain'\?\)"):
        quiz(kb, kinds=["chian"])
    with pytest.raises(InputError, match="at least 1"):
        quiz(kb, count=0)


@pytest.mark.parametrize("seed", range(5))
def test_at_least_three_quarters_quote_the_article(kb, seed):
    for count in (1, 3, 4, 7, 10, 200):
        made = quiz(kb, count=count, seed=seed).questions
        quoted = sum(1 for q in made if q.source.ref == "article" and q.source.quote)
        assert quoted >= 0.75 * len(made), (seed, count)


def test_questions_without_a_quote_cite_an_outside_reference(kb, questions):
    outside = [q for q in questions if not q.source.quote]
    assert outside, "the shipped KB has readings cited to outside references (e.g. AAOS 1965)"
    for q in questions:
        assert q.source.ref in kb.sources
        if not q.source.quote:
            assert kb.sources[q.source.ref].kind != "article"


def test_every_quote_is_the_articles_text(questions):
    require(ARTICLE.is_file(), f"the article is not at {ARTICLE}: quiz quotes not checked")
    require(CHECK_QUOTES.is_file(), f"the quote checker is not at {CHECK_QUOTES}: quiz quotes not checked")
    spec = importlib.util.spec_from_file_location("check_quotes", CHECK_QUOTES)
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    article = checker.normalize(ARTICLE.read_text(encoding="utf-8"))
    quoted = [q for q in questions if q.source.quote]
    assert quoted
    for q in quoted:
        assert checker.found(q.source.quote, article), (q.id, q.source.quote)


# -- each kind, re-derived ---------------------------------------------------------------------


def holds(result, item, side="left"):
    return result.holds(item, side)


def test_chain_answers_are_the_links_and_distractors_are_not(kb, questions):
    for q in by_kind(questions, "chain"):
        subject, link_id = q.subject
        link = kb.links[link_id]
        forward = q.id.startswith("chain-next-")
        assert (link.cause, link.effect) == ((subject, q.answer_id) if forward else (q.answer_id, subject))
        for d in distractors(q):
            pairs = {(l.cause, l.effect) for l in kb.links.values()}
            assert ((subject, d) if forward else (d, subject)) not in pairs, (q.id, d)
        if link.use != "conclude":
            continue
        # the engine: the cause, stated by an assessor, brings the effect
        cause_case = {"findings": {(subject if forward else q.answer_id): {"left": True}}}
        result = kb.assess(cause_case)
        assert holds(result, q.answer_id if forward else subject), q.id
        for d in distractors(q):
            if forward:
                assert not holds(result, d), (q.id, d)
            else:
                assert not holds(kb.assess({"findings": {d: {"left": True}}}), subject), (q.id, d)


def test_the_pelvic_chain_runs_in_the_articles_order(questions):
    nexts = {q.subject[0]: q.answer_id for q in questions if q.id.startswith("chain-next-")
             and q.subject[0] in ("pelvis_not_internally_rotating", "inlet_not_closing", "acetabulum_not_anteverted")}
    assert nexts == {
        "pelvis_not_internally_rotating": "inlet_not_closing",
        "inlet_not_closing": "outlet_not_opening",
        "acetabulum_not_anteverted": "femur_glide_space_lacking",
    }


def _readings(kb, finding):
    """Values that record a finding on the left: below and above its threshold, or observed / not."""
    item = kb.findings[finding]
    if item.type == "degrees":
        limit = kb.thresholds[finding].value
        return [limit - 10, limit + 10]
    return [True, False]


def test_test_answers_measure_or_indicate_the_state(kb, questions):
    for q in by_kind(questions, "test"):
        state = q.subject[0]
        if state == "ir_asymmetry":  # read from both sides
            cases = [{"supine_hip_ir": {"left": 10, "right": 40}}]
        else:
            cases = [{f.id: {"left": v}} for f in kb.findings.values() if f.assessment == q.answer_id
                     for v in _readings(kb, f.id)]
        shown = [kb.assess({"findings": c}).conclusion(state, "left") for c in cases]
        assert any(c is not None and c.status in ("measured", "indicated") for c in shown), q.id
        for d in distractors(q):
            for f in (f.id for f in kb.findings.values() if f.assessment == d):
                for v in _readings(kb, f):
                    c = kb.assess({"findings": {f: {"left": v}}}).conclusion(state, "left")
                    assert c is None or c.status not in ("measured", "indicated"), (q.id, d, f, v)


def test_test_questions_name_the_articles_two_measurements(questions):
    answers = {q.subject[0]: q.answer_id for q in questions if q.kind == "test"}
    assert answers["posterior_capsule_closed"] == "assess_supine_hip_ir"
    assert answers["ir_limited"] == "assess_supine_hip_ir"
    assert answers["pelvis_internally_rotating"] == "assess_straight_leg_raise"
    assert answers["sacrum_not_nutating"] == "assess_straight_leg_raise"
    assert answers["posterior_hip_allows_ir"] == "assess_straight_leg_raise"


def test_reading_answers_follow_from_the_reading_with_the_engine(kb, questions):
    for q in by_kind(questions, "reading"):
        result = kb.assess(q.case_dict())
        c = result.conclusion(q.answer_id, "left")
        assert c is not None and c.status in ("measured", "indicated"), q.id
        for d in distractors(q):
            assert not any(result.holds(d, s) for s in ("left", "right", None)), (q.id, d)


def test_reading_of_a_low_supine_ir_includes_the_capsule(questions):
    low = [q for q in questions if q.kind == "reading" and q.subject == ("supine_hip_ir", "posterior_capsule_closed")]
    assert len(low) == 3  # one per seed of the fixture
    assert low[0].case_dict()["findings"]["supine_hip_ir"]["left"] < 25
    assert "pelvis" in low[0].explanation.lower()  # the assumption is said


def test_exercise_which_answers_address_the_item_with_the_engine(kb, questions):
    for q in (q for q in by_kind(questions, "exercise") if q.id.startswith("exercise-which-")):
        target = q.subject[1]
        result = kb.assess({"findings": {"supine_hip_ir": {"left": 12}, target: {"left": True}}})
        rec = result.recommendation(q.answer_id, "left")
        assert rec is not None and (target, "left") in rec.addresses, q.id
        for d in distractors(q):
            other = result.recommendation(d, "left")
            assert other is not None and (target, "left") not in other.addresses, (q.id, d)


def test_exercise_how_answers_are_the_addresses_labels(kb, questions):
    for q in (q for q in by_kind(questions, "exercise") if q.id.startswith("exercise-how-")):
        exercise, target = q.subject
        own = {a.target: a.label for a in kb.recommendations[exercise].addresses}
        assert own[target] == q.answer, q.id
        on_target = {a.label for r in kb.recommendations.values() for a in r.addresses if a.target == target}
        for choice in q.choices:
            if choice != q.answer:
                assert choice not in on_target and choice not in own.values(), (q.id, choice)


def test_arm_bar_shapes_the_pelvis(questions):
    q = next(q for q in questions if q.id == "exercise-how-arm_bar-pelvis_not_internally_rotating")
    assert q.answer == "shapes the pelvis (lateral compression)"
    assert "laterally compress the pelvis" in q.source.quote


def test_compensation_answers_follow_with_the_engine(kb, questions):
    for q in by_kind(questions, "compensation"):
        side = "left" if "on the left" in q.prompt.split("?")[0].split(". ")[-1] else None
        result = kb.assess(q.case_dict())
        assert result.holds(q.answer_id, side), q.id
        for d in distractors(q):
            assert not any(result.holds(d, s) for s in ("left", "right", None)), (q.id, d)
    # a compensation suggests a limitation to measure, never a measured one
    assert all(q.answer_id == "ir_limitation_suspected" for q in questions if q.kind == "compensation")


def _pattern(result, states):
    return tuple(result.holds(s, "left") for s in states)


def test_distinguish_answers_tell_the_two_apart_with_the_engine(kb, questions):
    for q in by_kind(questions, "distinguish"):
        a, b, _ = q.subject
        group_a = [a] + ([kb.states[a].opposite] if kb.states[a].opposite else [])
        group_b = [b] + ([kb.states[b].opposite] if kb.states[b].opposite else [])
        base = q.case_dict()["findings"]

        def outcomes(assessment):
            found = []
            for f in (f.id for f in kb.findings.values() if f.assessment == assessment) or ():
                for v in _readings(kb, f):
                    result = kb.assess({"findings": {**base, f: {"left": v}}})
                    found.append((_pattern(result, group_a), _pattern(result, group_b)))
            for call in kb.recommendations[assessment].calls:  # findings its calls wait for
                for branch in call.branches():
                    for c in branch.conditions:
                        if c.kind == "absent" and c.ref in kb.findings:
                            for v in _readings(kb, c.ref):
                                result = kb.assess({"findings": {**base, c.ref: {"left": v}}})
                                found.append((_pattern(result, group_a), _pattern(result, group_b)))
            return found

        seen = outcomes(q.answer_id)
        assert len({pa for pa, _ in seen}) + len({pb for _, pb in seen}) > 2, q.id  # some outcome changes one
        assert len(set(seen)) > 1 and any(
            (x[0] != y[0]) != (x[1] != y[1]) or (x[0] != y[0] and x[1] != y[1]) for x in seen for y in seen), q.id
        for d in distractors(q):
            assert len(set(outcomes(d))) <= 1, (q.id, d)


def test_capsule_and_pelvic_position_are_told_apart_by_recording_the_pelvis(questions):
    q = [q for q in questions if q.kind == "distinguish"
         and set(q.subject[:2]) == {"posterior_capsule_closed", "ir_test_confounded_by_pelvis"}]
    assert {x.answer_id for x in q} == {"record_pelvic_position"}


def test_withheld_answers_go_with_the_finding_and_come_back_without(kb, questions):
    for q in by_kind(questions, "withheld"):
        rec, finding = q.subject
        case = q.case_dict()
        result = kb.assess(case)
        assert not result.holds(rec, "left"), q.id
        without = {k: v for k, v in case["findings"].items() if k != finding}
        assert kb.assess({"findings": without}).holds(rec, "left"), q.id
        for d in distractors(q):
            assert result.holds(d, "left"), (q.id, d)


def test_the_step_up_is_withheld_on_a_pinching_side(questions):
    q = next(q for q in questions if q.id == "withheld-cable_crossover_step_up-pinch_in_flexion_ir")
    assert q.answer == "Cable crossover step-up"
    assert "pinch" in q.explanation and "load" in q.explanation


# -- the command ------------------------------------------------------------------------------


def test_text_quiz_lists_questions_then_answers():
    code, out, err = run("quiz", "--count", "3", "--seed", "9")
    assert (code, err) == (0, "")
    head, answers = out.split("\nAnswers\n")
    assert head.startswith("Quiz: 3 questions from the hipkb knowledge base (seed 9)")
    assert re.findall(r"^\d\. ", head, re.M) == ["1. ", "2. ", "3. "]
    assert answers.count("According to") + answers.count("Source:") == 3


def test_markdown_quiz_has_an_answer_key_and_inert_text():
    code, out, _ = run("quiz", "--count", "4", "--seed", "2", "--format", "markdown")
    assert code == 0
    assert out.startswith("# Quiz: hip internal rotation\n")
    assert "## Answer key" in out
    assert "<" not in out.replace("\\<", "")


def test_output_file_takes_its_format_from_the_suffix(tmp_path):
    target = tmp_path / "quiz.json"
    code, out, err = run("quiz", "--count", "5", "-o", target)
    assert code == 0 and out == ""
    assert "wrote 5 questions" in err
    assert len(json.loads(target.read_text(encoding="utf-8"))["questions"]) == 5


def test_unknown_kind_is_a_usage_error():
    code, _, err = run("quiz", "--kind", "chian")
    assert code == 2
    assert "chian" in err


def test_anki_needs_an_output_file():
    code, out, err = run("quiz", "--format", "anki")
    assert code == 2 and out == ""
    assert err == "hipkb: error: an Anki deck is a binary file: write it with -o FILE.apkg\n"


def _notes(apkg: Path):
    """The notes, cards and decks of an .apkg (a zip holding an SQLite collection)."""
    with zipfile.ZipFile(apkg) as archive:
        assert sorted(archive.namelist()) == ["collection.anki2", "media"]
        raw = archive.read("collection.anki2")
    path = apkg.with_suffix(".anki2")
    path.write_bytes(raw)
    db = sqlite3.connect(path)
    try:
        notes = db.execute("SELECT id, guid, sfld, tags FROM notes ORDER BY sfld").fetchall()
        cards = db.execute("SELECT nid, did FROM cards").fetchall()
        decks = json.loads(db.execute("SELECT decks FROM col").fetchone()[0])
    finally:
        db.close()
    return notes, cards, decks


def needs_genanki():
    require(importlib.util.find_spec("genanki") is not None, "genanki is not installed: Anki export not checked")


def test_anki_deck_has_stable_note_and_deck_ids(tmp_path):
    needs_genanki()
    first, second = tmp_path / "a.apkg", tmp_path / "b.apkg"
    assert run("quiz", "--count", "6", "--seed", "1", "-o", first)[0] == 0
    assert run("quiz", "--count", "200", "--seed", "2", "--format", "anki", "-o", second)[0] == 0
    notes_a, cards_a, decks_a = _notes(first)
    notes_b, _, decks_b = _notes(second)
    assert len(notes_a) == 6 and len(cards_a) == 6
    assert {nid for nid, _ in cards_a} == {n[0] for n in notes_a}
    # one deck, the same id in every export
    ours = [d for d in decks_a if d != "1"]
    assert len(ours) == 1 and ours == [d for d in decks_b if d != "1"]
    assert {did for _, did in cards_a} == {int(ours[0])}
    # the same question keeps its note id and GUID whatever the seed: a re-import updates it
    ids_b = {sfld: (nid, guid) for nid, guid, sfld, _ in notes_b}
    for nid, guid, sfld, tags in notes_a:
        assert ids_b[sfld] == (nid, guid)
        assert "hipkb" in tags.split()


def test_anki_bytes_repeat_with_a_fixed_time(tmp_path):
    needs_genanki()
    outputs = []
    for name in ("x.apkg", "y.apkg"):
        with CliRunner().isolation(env={"SOURCE_DATE_EPOCH": "1700000000"}):
            assert main(["quiz", "--count", "4", "-o", str(tmp_path / name)]) == 0
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]


def test_anki_without_genanki_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "genanki", None)  # import genanki now raises ImportError
    code, out, err = run("quiz", "-o", tmp_path / "deck.apkg")
    assert (code, out) == (2, "")
    assert err == "hipkb: error: an Anki deck needs the genanki package, which is not installed (pip install genanki)\n"
    assert not (tmp_path / "deck.apkg").exists()


def test_quiz_never_writes_over_its_kb(tmp_path):
    import shutil

    kb_copy = tmp_path / "kb"
    shutil.copytree(REPO / "kb", kb_copy)
    before = (kb_copy / "rules.yaml").read_bytes()
    code, out, err = run("quiz", "--kb", kb_copy, "-o", kb_copy / "rules.yaml", "--format", "json")
    assert (code, out) == (2, "")
    assert "refusing to overwrite an input file" in err
    assert (kb_copy / "rules.yaml").read_bytes() == before
