"""The YAML subset reader gives what PyYAML gives: the same data, marks and errors, or steps aside.

The specification is PyYAML's own reading through hipkb's loader (the path
every file took before the subset existed, and still takes when the subset
says None). Generated documents mix the subset's shapes with everything it
must refuse: YAML 1.1 words and numbers, quotes with escapes, tabs,
anchors, tags, multi-line scalars, indentless lists, trailing commas.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipkb import source, yaml_subset
from hipkb.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
HYPOTHESIS = settings(
    max_examples=400,
    deadline=None,
    derandomize=os.environ.get("HIPKB_SPEC_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow],
)


def outcome(parse: Any, text: str) -> tuple[str, Any]:
    """('ok', (data, marks, found)) or ('error', (message, line, column)) — what a user of the loader sees."""
    try:
        return "ok", parse(text)
    except source._Fail as problem:  # noqa: SLF001  (the loader's own error, before it is located)
        return "error", (problem.message, problem.line, problem.column)


def subset_reading(text: str) -> tuple[str, Any] | None:
    found = yaml_subset.events(text)
    return None if found is None else outcome(lambda _: source._parse_subset(found), text)


def pyyaml_reading(text: str) -> tuple[str, Any]:
    return outcome(source._parse_with_pyyaml, text)


def assert_same(text: str) -> bool:
    """The subset's reading equals PyYAML's; True when the subset read it at all."""
    mine = subset_reading(text)
    if mine is None:
        return False
    theirs = pyyaml_reading(text)
    assert mine == theirs, f"subset and PyYAML differ on {text!r}"
    if mine[0] == "ok":  # equal data can still differ in type: 1 == 1.0 == True
        assert repr(mine[1][0]) == repr(theirs[1][0])
    return True


# --------------------------------------------------------------------------
# Documents a user writes


CASE = """\
# A left hip with limited internal rotation.
subject: demo-01
findings:
  supine_hip_ir: {left: 12, right: 40}   # degrees
  straight_leg_raise: {left: 45.5, right: 85}
  hip_hike: left
  rib_cage_side_bend: true
  knee_valgus: [left, right]
  deep_external_rotators_stiff: left   # a state given by the assessor
thresholds: {supine_hip_ir: 25}
note: 'seen: twice # not a comment'
other: "quoted #1"
empty:
"""


def test_a_typical_case_file_is_read_by_the_subset_exactly_as_pyyaml_reads_it() -> None:
    assert assert_same(CASE)
    data = source.parse_text(CASE, "case.yaml").data
    assert data["findings"]["supine_hip_ir"] == {"left": 12, "right": 40}
    assert data["note"] == "seen: twice # not a comment" and data["empty"] is None


@pytest.mark.parametrize("path", ["examples/demo-01.yaml", "examples/demo-01-answers.yaml"])
def test_the_bundled_examples_are_in_the_subset(path: str) -> None:
    assert assert_same((ROOT / path).read_text(encoding="utf-8")), f"{path} would need PyYAML"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("12", 12), ("-0.5", -0.5), ("1e5", 100000.0), ("+3", 3), (".5", 0.5), ("1.", 1.0),
        ("012", "012"), ("00", "00"),  # octal in YAML 1.1: text here, as the PyYAML reading says
        ("yes", True), ("No", False), ("ON", True), ("off", False), ("True", True), ("FALSE", False),
        ("yEs", "yEs"), ("y", "y"), ("n", "n"),  # not booleans to PyYAML
        ("null", None), ("Null", None), ("NULL", None), ("nULL", "nULL"),
        ("left", "left"), ("Xray", "Xray"), ("a b", "a b"), ("demo-01", "demo-01"), ("e5", "e5"), ("_x", "_x"),
        ("'12'", "12"), ('"yes"', "yes"), ("'a: b # c'", "a: b # c"), ("{}", {}), ("[]", []),
        ("[1, [2, {a: b}]]", [1, [2, {"a": "b"}]]), ("[{}, [], {a: []}]  # c", [{}, [], {"a": []}]),
        ("[1,2]", [1, 2]), ("{a: 1,b: 2}", {"a": 1, "b": 2}), ("{ a: 1 , b: [ x ] }", {"a": 1, "b": ["x"]}),
    ],
)
def test_scalars_read_as_pyyaml_reads_them(value: str, expected: Any) -> None:
    text = f"key: {value}\n"
    assert assert_same(text), f"{value!r} should be in the subset"
    assert source.parse_text(text, "c.yaml").data == {"key": expected}
    assert type(source.parse_text(text, "c.yaml").data["key"]) is type(expected)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1:30\n", "a: 0x10\n", "a: 1_000\n", "a: 2001-12-14\n", "a: ~\n", "a: .inf\n", "a: -.5x\n",
        "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: !!python/object:os.system 1\n",
        "a:\tb\n", "a: 1\r\n", "a: é\n", "a: |\n  text\n", "a: >\n  text\n",
        "a: one\n  two\n",  # a multi-line plain scalar
        "a:\n- x\n",  # an indentless sequence
        "- a\n", "12\n", "---\na: 1\n", "a: 1\n...\n", "%YAML 1.1\n---\na: 1\n",
        "a: [1,]\n", "a: {b: 1,}\n", "a: {b:1}\n", "a: [1,\n  2]\n", "a: \"tab\\tx\"\n", "a: 'it''s'\n",
        "a: x#y\n", "a: b: c\n", "a:b\n", "? a\n: b\n", "a: -\n", "a:\n  - b: 1\n", "'a': 1\n", "1: a\n",
        "a: 1\nb:\n    c: 1\n   d: 2\n", "<<: {a: 1}\n", "a: b  c\n",
        "a: {{b: 1}: 2}\n", "a: {[b]: 1}\n", "a: {{b: 1}}\n", "a: {[b]}\n", "a: {1: b}\n", "a: {'q': 1}\n", "a  b\n", "k  v: 1\n",  # keys that are not names
    ],
)
def test_anything_else_is_left_to_pyyaml(text: str) -> None:
    assert yaml_subset.events(text) is None


def test_block_lists_are_in_the_subset() -> None:
    text = "a:\n  - x\n  - 'y z'   # c\n  - {left: 1}\nXb:\n    - 2\n"
    assert assert_same(text)
    assert source.parse_text(text, "c.yaml").data == {"a": ["x", "y z", {"left": 1}], "Xb": [2]}


@pytest.mark.parametrize(
    "text",
    ["a: [[[[[[[[[1]]]]]]]]]\n", "a: {b: {c: {d: {e: {f: {g: {h: {i: 1}}}}}}}}\n", "a:\n  - # c\n    b: 1\n", "a:\n  -\n  - x\n"],
)
def test_deep_flows_and_empty_list_items_read_as_pyyaml_reads_them(text: str) -> None:
    assert_same(text)  # whichever path reads them


def test_errors_from_the_subset_name_the_same_place_as_pyyaml() -> None:
    duplicate = "findings:\n  hip_hike: left\n  hip_hike: right\n"
    assert assert_same(duplicate)
    with pytest.raises(InputError, match=r"^case\.yaml:3:3: duplicate key 'hip_hike'$"):
        source.parse_text(duplicate, "case.yaml")
    long_number = "a: " + "1" * 70 + "\n"
    assert assert_same(long_number)
    with pytest.raises(InputError, match=r"^case\.yaml:1:4: number has too many digits"):
        source.parse_text(long_number, "case.yaml")


def test_a_case_in_the_subset_is_assessed_without_importing_pyyaml(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(CASE.split("note:")[0], encoding="utf-8")
    script = (
        "import sys, hipkb; result = hipkb.assess(sys.argv[1], kb=hipkb.load_kb()); "
        "print(result.holds('ir_limited', 'left'), 'yaml' in sys.modules)"
    )
    env = dict(os.environ, HIPKB_CACHE_DIR=str(tmp_path / "cache"))
    subprocess.run([sys.executable, "-c", "import hipkb; hipkb.load_kb()"], env=env, check=True)  # fill the KB cache
    shown = subprocess.run([sys.executable, "-c", script, str(case)], env=env, capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["True", "False"]


# --------------------------------------------------------------------------
# Generated documents


SCALARS = [
    "12", "-0.5", "1e5", "012", "00", "+3", ".5", "1.", "1:30", "0x10", "1_000", "2001-12-14", "yes", "Yes", "YES",
    "yEs", "no", "on", "Off", "true", "False", "null", "Null", "NULL", "~", "left", "right", "a b", "a  b", "demo-01",
    "x#y", "x # y", "-", "-x", "- x", ".inf", "-.inf", ".NaN", "e5", "_x", "'quoted'", "'it''s'", '"dq"', '"a\\tb"',
    "'a: b'", '"#"', "&a x", "*a", "!!str 1", "[1, 2]", "{a: 1}", "[]", "{}", "[1, [2, 3]]", "{a: [1, {b: 2}]}",
    "[1,]", "{a: 1,}", "{a:1}", "|", ">", "%x", "@x", "`x", "1" * 70, "[a, b c]", "{left: 12, right: 40}",
]
#: What case files hold; most generated values come from here, so most documents stay in the subset.
COMMON = ["12", "40", "-0.5", "25.5", "left", "right", "true", "false", "no", "'x y'", '"z"', "{left: 12, right: 40}",
          "[left, right]", "a/left", "{a: 1}", "[]"]
KEYS = ["a", "b", "left", "right", "yes", "null", "1", "a-b", "_k", "a b", "'q'", "on", "k" * 30]
alphabet = st.sampled_from(list(" abyesnoYN0123456789.-+:#'\"[]{},_&*!|>~/"))
scalars = st.integers(0, 5).flatmap(
    lambda pick: st.sampled_from(COMMON) if pick < 4 else st.sampled_from(SCALARS) if pick == 4
    else st.text(alphabet, min_size=1, max_size=8)
)
keys = st.integers(0, 3).flatmap(lambda pick: st.sampled_from(KEYS) if pick == 0 else st.sampled_from(["a", "b", "c", "left", "right"]))


@st.composite
def documents(draw: Any, depth: int = 0, indent: int = 0) -> list[str]:
    """Lines of a block mapping at ``indent``, with nested blocks, flows, comments and near misses."""
    lines: list[str] = []
    pad = " " * indent
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["", "# note", pad + "# indented note", "  "])))
        key = draw(keys)
        shape = draw(st.integers(0, 9 if depth < 3 else 5))
        comment = draw(st.sampled_from(["", "", "", "  # c", " #c", "#c", "   "]))
        if shape <= 5:
            lines.append(f"{pad}{key}: {draw(scalars)}{comment}")
        elif shape == 6:
            lines.append(f"{pad}{key}:{comment}")
        elif shape in (7, 8):
            lines.append(f"{pad}{key}:{comment}")
            lines += draw(documents(depth + 1, indent + draw(st.sampled_from([1, 2, 2, 4]))))
        else:
            lines.append(f"{pad}{key}:")
            item_pad = pad + draw(st.sampled_from(["", "  ", "  ", "    "]))
            for _ in range(draw(st.integers(1, 3))):
                lines.append(f"{item_pad}- {draw(scalars)}{draw(st.sampled_from(['', ' # c']))}")
    if draw(st.integers(0, 14)) == 0:  # a stray tab, carriage return or odd indent
        at = draw(st.integers(0, len(lines) - 1))
        lines[at] = draw(st.sampled_from(["\t", " ", "\r", "x"])) + lines[at]
    return lines


@HYPOTHESIS
@given(documents())
def test_generated_documents_read_the_same_through_the_subset_and_pyyaml(lines: list[str]) -> None:
    assert_same("\n".join(lines) + "\n")


def test_the_generated_documents_mostly_stay_in_the_subset() -> None:
    """The property above means something only if the subset reads a fair share of what it is fed."""
    read = total = 0

    @settings(max_examples=300, derandomize=True, deadline=None, database=None)
    @given(documents())
    def count(lines: list[str]) -> None:
        nonlocal read, total
        total += 1
        read += yaml_subset.events("\n".join(lines) + "\n") is not None

    count()
    assert read >= total // 5, f"the subset read only {read} of {total} generated documents"
