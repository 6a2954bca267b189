"""The KB loader through the Python API and ``hipkb assess --kb``: the first error, located, with a hint.

``hipkb kb check`` lists every problem (tests/test_check.py); ``load_kb``
raises the first as one KBError line, and says how many more there are.
"""

from __future__ import annotations

import shutil

import pytest

import hipkb
from conftest import REPO
from hipkb.cli import main
from hipkb.kb import read_kb


@pytest.fixture
def kbdir(tmp_path):
    target = tmp_path / "kb"
    shutil.copytree(REPO / "kb", target)
    return target


def edit(file, old, new):
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    file.write_text(text.replace(old, new), encoding="utf-8")


def at(file, needle):
    text = file.read_text(encoding="utf-8")
    index = text.index(needle)
    return f"{file}:{text.count(chr(10), 0, index) + 1}:{index - text.rfind(chr(10), 0, index)}"


def load_error(path):
    with pytest.raises(hipkb.KBError) as err:
        hipkb.load_kb(path)
    return str(err.value)


def test_the_bundled_kb_loads_without_problems():
    kb, problems = read_kb()
    assert kb is not None and problems == []
    assert kb.name == "hipkb"


def test_unknown_state_with_did_you_mean(kbdir):
    file = kbdir / "causal.yaml"
    edit(file, "    effect: outlet_not_opening\n", "    effect: outlet_opned\n")
    assert load_error(kbdir) == (
        f"{at(file, 'outlet_opned')}: unknown state or finding 'outlet_opned' (did you mean 'outlet_not_opening'?)"
    )


def test_the_first_error_says_how_many_more_there_are(kbdir):
    edit(kbdir / "causal.yaml", "    effect: outlet_not_opening\n", "    effect: outlet_opned\n")
    edit(kbdir / "rules.yaml", "{finding: pinch_in_flexion_ir}", "{finding: pinch_in_flexion}")
    message = load_error(kbdir)
    assert message.startswith(f"{at(kbdir / 'causal.yaml', 'outlet_opned')}: unknown state or finding 'outlet_opned' ")
    assert message.endswith("(did you mean 'outlet_not_opening'?; 1 more error(s): run 'hipkb kb check')")


def test_duplicate_yaml_key(kbdir):
    file = kbdir / "rules.yaml"
    edit(file, "    then: [fai_flexion_ir]\n", "    then: [fai_flexion_ir]\n    then: [fai_extension_abduction]\n")
    assert load_error(kbdir) == f"{at(file, 'then: [fai_extension_abduction]')}: duplicate key 'then'"


def test_cycle(kbdir):
    file = kbdir / "causal.yaml"
    file.write_text(file.read_text(encoding="utf-8") + (
        "\n  - id: loop\n    label: Loop\n    cause: outlet_not_opening\n    effect: outlet_not_opening\n"
        "    use: conclude\n    evidence: interpretation\n    source: {interpretation: \"test\"}\n"
    ), encoding="utf-8")
    assert load_error(kbdir) == (
        f"{at(file, 'id: loop')}: causal links form a cycle: outlet_not_opening → outlet_not_opening "
        "(remove a link of the cycle, or mark it 'use: explain')"
    )


def test_missing_citation(kbdir):
    file = kbdir / "recommendations.yaml"
    edit(file, '    source: {ref: article, quote: "Influencing Pelvic Position/Shape"}\n', "")
    assert load_error(kbdir) == (
        f"{at(file, 'id: influence_pelvic_position')}: missing field 'source' "
        "(a quote, an outside reference or an interpretation)"
    )


def test_assess_with_a_broken_kb_exits_2_with_one_located_line(kbdir, capsys):
    file = kbdir / "causal.yaml"
    edit(file, "    effect: outlet_not_opening\n", "    effect: outlet_opned\n")
    code = main(["assess", str(REPO / "examples" / "demo-01.yaml"), "--kb", str(kbdir)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        f"hipkb: error: {at(file, 'outlet_opned')}: unknown state or finding 'outlet_opned' "
        "(did you mean 'outlet_not_opening'?)\n"
    )
