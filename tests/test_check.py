"""``hipkb kb check``: broken copies of the KB give located messages and the right exit code.

Each test copies kb/ to a temporary directory, breaks it in one way by
editing its text, and asserts the exact ``FILE:LINE:COL: message (hint)``
line a KB author sees.
"""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import ARTICLE, REPO
from hipkb.check import check_kb
from hipkb.cli import main

needs_article = pytest.mark.usefixtures("article")  # skipped outside CI without it; a failure in CI


@pytest.fixture
def kbdir(tmp_path):
    target = tmp_path / "kb"
    shutil.copytree(REPO / "kb", target)
    return target


def edit(file, old, new, count=1):
    """Replace ``old`` by ``new`` in ``file``; ``old`` must occur ``count`` times (all replaced)."""
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times in {file}"
    file.write_text(text.replace(old, new), encoding="utf-8")


def at(file, needle, nth=0):
    """``FILE:LINE:COL`` of the ``nth`` occurrence of ``needle`` in ``file``."""
    text = file.read_text(encoding="utf-8")
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"{file}:{line}:{column}"


def check(capsys, *args):
    code = main(["kb", "check", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


# -- the shipped KB ----------------------------------------------------------


def test_shipped_kb_has_no_errors_and_no_warnings(capsys):
    code, lines, _ = check(capsys, "--strict")
    assert code == 0, "\n".join(lines)
    assert lines == ["kb: 0 errors, 0 warnings"]


@needs_article
def test_shipped_kb_quotes_are_all_in_the_article(capsys):
    code, lines, _ = check(capsys, "--strict", "--source", ARTICLE)
    assert code == 0, "\n".join(lines)
    assert len(lines) == 1 and lines[0].startswith("kb: 0 errors, 0 warnings; ")
    report = check_kb(article=ARTICLE)
    assert report.quotes_checked >= 80  # every rule, link and recommendation of the article is quoted


def test_a_copy_of_the_kb_checks_clean_and_problems_name_its_files(kbdir, capsys):
    code, lines, _ = check(capsys, kbdir, "--strict")
    assert (code, lines) == (0, [f"{kbdir}: 0 errors, 0 warnings"])


# -- dangling references, with did-you-mean ----------------------------------


def test_unknown_state_in_a_causal_link(kbdir, capsys):
    file = kbdir / "causal.yaml"
    edit(file, "    cause: inlet_not_closing\n", "    cause: inlet_not_closng\n")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert lines == [
        f"{at(file, 'inlet_not_closng')}: unknown state or finding 'inlet_not_closng' (did you mean 'inlet_not_closing'?)",
        f"{kbdir}: 1 error, 0 warnings; unused ids are looked for once the errors are fixed",
    ]


def test_unknown_state_in_a_rule_condition(kbdir, capsys):
    file = kbdir / "recommendations.yaml"
    edit(file, "{state: fai_extension_abduction}", "{state: fai_extension_abduct}", count=2)
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    expected = "unknown state 'fai_extension_abduct' (did you mean 'fai_extension_abduction'?)"
    assert f"{at(file, 'fai_extension_abduct}')}: {expected}" in lines
    assert f"{at(file, 'fai_extension_abduct}', nth=1)}: {expected}" in lines


def test_unknown_finding_in_a_rule_condition(kbdir, capsys):
    file = kbdir / "rules.yaml"
    edit(file, "{finding: pinch_in_flexion_ir}", "{finding: pinch_in_flexion}")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert f"{at(file, 'pinch_in_flexion}')}: unknown finding 'pinch_in_flexion' (did you mean 'pinch_in_flexion_ir'?)" in lines


def test_unknown_recommendation(kbdir, capsys):
    file = kbdir / "findings.yaml"
    edit(file, "assessment: assess_straight_leg_raise\n", "assessment: assess_straight_leg_rise\n")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert f"{at(file, 'assess_straight_leg_rise')}: unknown recommendation 'assess_straight_leg_rise' (did you mean 'assess_straight_leg_raise'?)" in lines


def test_unknown_source(kbdir, capsys):
    file = kbdir / "rules.yaml"
    edit(file, "      ref: ellison1990\n", "      ref: elison1990\n")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert f"{at(file, 'elison1990')}: unknown source 'elison1990' (did you mean 'ellison1990'?)" in lines


def test_unknown_threshold(kbdir, capsys):
    file = kbdir / "rules.yaml"
    edit(file, "below: supine_hip_flexion}", "below: supine_hip_flex}")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert f"{at(file, 'supine_hip_flex}')}: unknown threshold 'supine_hip_flex' (did you mean 'supine_hip_flexion'?)" in lines


# -- ids ---------------------------------------------------------------------


def test_duplicate_id_across_files_names_the_first_declaration(kbdir, capsys):
    file = kbdir / "recommendations.yaml"
    edit(file, "- id: refer_for_fai_evaluation_for_pinch\n", "- id: slr_space_lacking\n")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    first = at(kbdir / "rules.yaml", "slr_space_lacking")
    assert f"{at(file, 'slr_space_lacking')}: duplicate id 'slr_space_lacking' (first declared at {first})" in lines


def test_id_must_be_lower_snake_case(kbdir, capsys):
    file = kbdir / "entities.yaml"
    edit(file, "{id: knee, label: Knee}", "{id: Knee, label: Knee}")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert (
        f"{at(file, 'Knee,')}: id 'Knee' is not lower_snake_case "
        "(use lowercase letters, digits and underscores, starting with a letter)"
    ) in lines


# -- structure ---------------------------------------------------------------


def test_cycle_in_concluding_links(kbdir, capsys):
    file = kbdir / "causal.yaml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text + (
        "\n  - id: glide_space_closes_pelvis\n"
        "    label: A loop\n"
        "    cause: femur_glide_space_lacking\n"
        "    effect: pelvis_not_internally_rotating\n"
        "    use: conclude\n"
        "    evidence: interpretation\n"
        "    source: {interpretation: \"made up for the test\"}\n"
    ), encoding="utf-8")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    cycle = [line for line in lines if "causal links form a cycle" in line]
    assert len(cycle) == 1, lines
    assert cycle[0] == (
        f"{at(file, 'id: glide_space_closes_pelvis')}: causal links form a cycle: femur_glide_space_lacking → "
        "pelvis_not_internally_rotating → inlet_not_closing → outlet_not_opening → acetabulum_not_anteverted → "
        "femur_glide_space_lacking (remove a link of the cycle, or mark it 'use: explain')"
    )


def test_a_cycle_through_explain_links_is_allowed(kbdir, capsys):
    file = kbdir / "causal.yaml"
    file.write_text(file.read_text(encoding="utf-8") + (
        "\n  - id: glide_space_explains_pelvis\n"
        "    label: Drawn only\n"
        "    cause: femur_glide_space_lacking\n"
        "    effect: pelvis_not_internally_rotating\n"
        "    use: explain\n"
        "    evidence: interpretation\n"
        "    source: {interpretation: \"made up for the test\"}\n"
    ), encoding="utf-8")
    code, lines, _ = check(capsys, kbdir, "--strict")
    assert code == 0, lines


def test_opposite_states_must_be_declared_both_ways(kbdir, capsys):
    file = kbdir / "states.yaml"
    edit(file, "    opposite: ir_limited\n", "")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert (
        f"{at(file, 'id: ir_limited')}: opposite states must be declared both ways: 'ir_within_range' does not "
        "name 'ir_limited' as its opposite (add 'opposite: ir_limited' to state 'ir_within_range')"
    ) in lines


def test_a_state_cannot_be_its_own_opposite(kbdir, capsys):
    file = kbdir / "states.yaml"
    edit(file, "    opposite: ir_limited\n", "    opposite: ir_within_range\n")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert f"{at(file, 'id: ir_within_range')}: state 'ir_within_range' cannot be its own opposite" in lines


def test_threshold_outside_its_findings_range(kbdir, capsys):
    file = kbdir / "thresholds.yaml"
    edit(file, "  - id: supine_hip_ir\n    value: 25\n", "  - id: supine_hip_ir\n    value: 95\n")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert (
        f"{at(file, 'id: supine_hip_ir')}: threshold 95 for 'supine_hip_ir' is outside the finding's valid range "
        "[0, 90] (give a value inside the range, or correct the finding's 'range')"
    ) in lines


def test_schema_violation_with_did_you_mean(kbdir, capsys):
    file = kbdir / "causal.yaml"
    edit(file, "    evidence: coaching-model\n    # The article states the deficit", "    evidence: coaching\n    # The article states the deficit")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert (
        f"{at(file, 'coaching' + chr(10))}: field 'evidence' must be one of clinical-norm, coaching-model, interpretation, "
        "not 'coaching' (did you mean 'coaching-model'?)"
    ) in lines


def test_unknown_field_with_did_you_mean(kbdir, capsys):
    file = kbdir / "states.yaml"
    edit(file, "    tested_by: supine_hip_ir\n", "    tested_bye: supine_hip_ir\n", count=3)
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert f"{at(file, 'tested_bye')}: unknown field 'tested_bye' (did you mean 'tested_by'?)" in lines


# -- citations ---------------------------------------------------------------

SOURCE_LINES = {
    "rule": ("rules.yaml", "ir_measured_limited",
             '    source: {ref: aaos1965, note: "Normal IR at 90° flexion is about 30–45°'),
    "call": ("recommendations.yaml", "refer_for_fai_evaluation_for_pinch",
             '        source: {ref: griffin2016, note: "A pinch in one position'),
    "recommendation": ("recommendations.yaml", "influence_pelvic_position",
                       '    source: {ref: article, quote: "Influencing Pelvic Position/Shape"}'),
}


@pytest.mark.parametrize("what", sorted(SOURCE_LINES))
def test_missing_citation(kbdir, capsys, what):
    name, item, line_start = SOURCE_LINES[what]
    file = kbdir / name
    text = file.read_text(encoding="utf-8")
    start = text.index(line_start)
    end = text.index("\n", start) + 1
    file.write_text(text[:start] + text[end:], encoding="utf-8")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert (
        f"{at(file, f'id: {item}' + chr(10))}: missing field 'source' "
        "(a quote, an outside reference or an interpretation)"
    ) in lines


@pytest.mark.parametrize("name,item", [("causal.yaml", "posterior_space_enables_ir"), ("thresholds.yaml", "straight_leg_raise")])
def test_missing_citation_of_a_link_or_threshold(kbdir, capsys, name, item):
    file = kbdir / name
    text = file.read_text(encoding="utf-8")
    start = text.index(f"  - id: {item}\n")
    source = text.index("    source:", start)
    file.write_text(text[:source] + "    sauce:" + text[source + len("    source:"):], encoding="utf-8")
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert f"{at(file, f'id: {item}')}: missing field 'source' (a quote, an outside reference or an interpretation)" in lines
    assert f"{at(file, 'sauce')}: unknown field 'sauce' (did you mean 'source'?)" in lines


def test_a_quote_needs_a_ref(kbdir, capsys):
    file = kbdir / "recommendations.yaml"
    edit(file, '{ref: article, quote: "Influencing Pelvic Position/Shape"}', '{quote: "Influencing Pelvic Position/Shape"}')
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert f"{at(file, '{quote: ')}: a quote needs 'ref' naming its source" in lines


# -- quotes against the article -----------------------------------------------


@needs_article
def test_quote_not_in_the_article_points_at_the_quote_and_the_closest_passage(kbdir, capsys):
    file = kbdir / "causal.yaml"
    edit(file, "deep external rotators- piriformins,", "deep external rotators- piriformis,")
    code, lines, _ = check(capsys, kbdir)
    assert code == 0, "quotes are only checked with --source"
    code, lines, _ = check(capsys, kbdir, "--source", ARTICLE)
    assert code == 1
    quote_at = at(file, '"If muscles in the posterior part of the hip')
    bad = [line for line in lines if line.startswith(quote_at + ": ")]
    assert len(bad) == 1, lines
    assert bad[0].startswith(f"{quote_at}: quote not found in the article: 'if muscles in the posterior part of the hip")
    assert " (closest passage: 'if muscles in the posterior part of the hip (deep external rotators- piriformins," in bad[0]
    assert bad[0].endswith("; the quote has 'piriformis,' where the article has 'piriformins,')")


@needs_article
def test_quote_pieces_around_an_ellipsis_must_be_long_and_in_order(kbdir, capsys):
    file = kbdir / "rules.yaml"
    edit(file, '"From my perspective, there are two primary types based on an objective assessment ... Hip flexion with internal rotation"',
         '"Hip flexion with internal rotation ... This usually feels like a pinch in the inside or outside part of the hip"')
    edit(file, '"From my perspective, there are two primary types based on an objective assessment ... Hip extension with abduction"',
         '"This usually feels like a pinch ... the hip"')
    code, lines, _ = check(capsys, kbdir, "--source", ARTICLE)
    assert code == 1
    swapped = at(file, '"Hip flexion with internal rotation ...')
    short = at(file, '"This usually feels like a pinch ... the hip"')
    assert (
        f"{swapped}: quote piece 'this usually feels like a pinch in the inside "
        "or outside part of the hip' comes before the previous piece in the article "
        "(the pieces around an ellipsis must follow the article's order)"
    ) in lines
    assert (
        f"{short}: quote piece 'the hip' is shorter than 12 characters "
        "(quote at least a full clause on each side of an ellipsis)"
    ) in lines


@needs_article
def test_normalized_quotes_are_found(kbdir, capsys):
    """Curly quotes, dashes, case and line breaks do not matter, as in shared/tools/check_quotes.py."""
    file = kbdir / "causal.yaml"
    edit(file, '"When the femur glides back into the socket, it requires there to be space in the back of the hip."',
         '"WHEN the femur glides back\n        into the socket, it requires there to be space in the back of the hip."')
    code, lines, _ = check(capsys, kbdir, "--strict", "--source", ARTICLE)
    assert code == 0, lines


def test_quotes_citing_a_paper_are_not_checked_against_the_article(kbdir, tmp_path, capsys):
    article = tmp_path / "article.txt"
    article.write_text("Nothing the KB quotes is in here at all.", encoding="utf-8")
    file = kbdir / "rules.yaml"
    edit(file, '      note: "Ellison et al. 1990 classify left and right', '      quote: "Ellison et al. 1990 classify left and right')
    report = check_kb(kbdir, article=article)
    quoted = [p for p in report.errors if p.code == "quote"]
    assert quoted and all("ellison" not in str(p) and "left and right" not in str(p).lower() for p in quoted)
    assert not any(p.location.path.endswith("rules.yaml") and "left and right hip rotation" in p.message.lower() for p in quoted)


# -- warnings ----------------------------------------------------------------


def test_unused_ids_are_warnings_and_fail_only_with_strict(kbdir, capsys):
    states = kbdir / "states.yaml"
    states.write_text(states.read_text(encoding="utf-8") + "\n  - id: hip_feels_odd\n    label: Unused\n", encoding="utf-8")
    findings = kbdir / "findings.yaml"
    findings.write_text(findings.read_text(encoding="utf-8") + (
        "\n  - id: hip_clunk\n    label: Unused\n    type: boolean\n    group: symptom\n"
    ), encoding="utf-8")
    recs = kbdir / "recommendations.yaml"
    recs.write_text(recs.read_text(encoding="utf-8") + (
        "\n  - id: walk_more\n    kind: principle\n    label: Walk\n    summary: Walk.\n"
        "    evidence: interpretation\n    source: {interpretation: \"for the test\"}\n"
    ), encoding="utf-8")
    code, lines, _ = check(capsys, kbdir)
    assert code == 0
    assert lines == [
        f"{at(states, 'id: hip_feels_odd')}: warning: state 'hip_feels_odd' is concluded by no rule, read by no rule "
        "and in no causal link (use it in a rule or link, or remove it)",
        f"{at(findings, 'id: hip_clunk')}: warning: finding 'hip_clunk' is read by no rule, so the engine ignores it "
        "(use it in a rule's 'when', or remove it)",
        f"{at(recs, 'id: walk_more')}: warning: recommendation 'walk_more' is called for by no rule "
        "(add 'called_for_by' with the states that call for it)",
        f"{kbdir}: 0 errors, 3 warnings",
    ]
    code, _, _ = check(capsys, kbdir, "--strict")
    assert code == 1


def test_entities_and_sources_nothing_uses_are_warnings(kbdir, capsys):
    entities = kbdir / "entities.yaml"
    edit(entities, "  - {id: knee, ", "  - {id: elbow, label: Elbow}\n  - {id: knee, ")
    thresholds = kbdir / "thresholds.yaml"
    edit(thresholds, "      - ref: roach2013\n", "      - ref: gajdosik1993\n")
    sources = kbdir / "sources.yaml"
    code, lines, _ = check(capsys, kbdir)
    assert code == 0
    assert lines == [
        f"{at(sources, 'id: roach2013')}: warning: source 'roach2013' is cited by nothing "
        "(cite it as some item's source 'ref', or remove it)",
        f"{at(entities, '{id: elbow')}: warning: entity 'elbow' is tied to no state or finding "
        "(name it (or a part or whole of it) as a state's or finding's 'entity', or remove it)",
        f"{kbdir}: 0 errors, 2 warnings",
    ]


def test_an_entity_is_in_use_through_its_parts_and_wholes(kbdir, capsys):
    """piriformis is named by nothing itself, but it is part of the deep rotators a state names."""
    code, lines, _ = check(capsys, kbdir, "--strict")
    assert code == 0 and not any("piriformis" in line or "'pelvis'" in line for line in lines)


def test_a_state_only_given_and_read_is_not_unused(kbdir, capsys):
    """deep_external_rotators_stiff is never concluded, only given; rules read it, so no warning."""
    code, lines, _ = check(capsys, kbdir, "--strict")
    assert code == 0 and not any("deep_external_rotators_stiff" in line for line in lines)


# -- unreadable KBs: exit 2 ---------------------------------------------------


def test_duplicate_yaml_key_makes_the_kb_unreadable(kbdir, capsys):
    file = kbdir / "states.yaml"
    edit(file, "    label: Sacrum nutating\n", "    label: Sacrum nutating\n    label: Again\n")
    code, out, err = check(capsys, kbdir)
    assert code == 2 and out == []
    assert err == f"hipkb: error: {at(file, 'label: Again')}: duplicate key 'label'\n"


def test_malformed_yaml_exits_2_with_the_place(kbdir, capsys):
    file = kbdir / "rules.yaml"
    edit(file, "    then: [ir_limited]\n", "    then: [ir_limited\n")
    code, out, err = check(capsys, kbdir)
    assert code == 2 and out == []
    assert err.startswith(f"hipkb: error: {file}:") and "invalid YAML" in err
    assert "Traceback" not in err


def test_missing_directory_exits_2(tmp_path, capsys):
    code, out, err = check(capsys, tmp_path / "nope")
    assert code == 2
    assert err == f"hipkb: error: {tmp_path / 'nope'}: not a knowledge base directory\n"


def test_missing_article_exits_2(kbdir, tmp_path, capsys):
    code, _, err = check(capsys, kbdir, "--source", tmp_path / "missing.txt")
    assert code == 2
    assert err == f"hipkb: error: {tmp_path / 'missing.txt'}: no such file (--source names the article's text file)\n"


def test_a_missing_kb_file_is_an_error(kbdir, capsys):
    (kbdir / "thresholds.yaml").unlink()
    code, lines, _ = check(capsys, kbdir)
    assert code == 1
    assert f"{kbdir / 'thresholds.yaml'}: missing KB file" in lines


# -- JSON for tools ----------------------------------------------------------


def test_json_format(kbdir, capsys):
    file = kbdir / "causal.yaml"
    edit(file, "    cause: inlet_not_closing\n", "    cause: inlet_not_closng\n")
    code, lines, _ = check(capsys, kbdir, "--format", "json")
    assert code == 1
    data = json.loads("\n".join(lines))
    assert data["errors"] == 1 and data["warnings"] == 0 and data["quotes_checked"] is None
    assert data["unused_checked"] is False
    line, column = map(int, at(file, "inlet_not_closng").rsplit(":", 2)[1:])
    assert data["problems"] == [{
        "severity": "error", "code": "unknown-id", "file": str(file), "line": line, "column": column,
        "message": "unknown state or finding 'inlet_not_closng'", "hint": "did you mean 'inlet_not_closing'?",
    }]


def test_output_is_deterministic_and_sorted_by_place(kbdir, capsys):
    edit(kbdir / "rules.yaml", "{finding: pinch_in_flexion_ir}", "{finding: pinch_in_flexion}")
    edit(kbdir / "causal.yaml", "    cause: inlet_not_closing\n", "    cause: inlet_not_closng\n")
    edit(kbdir / "states.yaml", "    opposite: ir_limited\n", "    opposite: ir_limted\n")
    _, first, _ = check(capsys, kbdir)
    _, second, _ = check(capsys, kbdir)
    assert first == second
    files = [line.split(":", 1)[0].rsplit("/", 1)[-1] for line in first[:-1]]
    assert files == ["states.yaml", "causal.yaml", "rules.yaml"]


@needs_article
def test_quotes_are_checked_even_when_the_kb_has_other_errors(kbdir, capsys):
    edit(kbdir / "causal.yaml", "    cause: inlet_not_closing\n", "    cause: inlet_not_closng\n")
    edit(kbdir / "causal.yaml", "deep external rotators- piriformins,", "deep external rotators- piriformis,")
    code, lines, _ = check(capsys, kbdir, "--source", ARTICLE)
    assert code == 1
    assert sum("unknown state or finding 'inlet_not_closng'" in line for line in lines) == 1
    assert sum("quote not found in the article" in line for line in lines) == 1
