"""Property-based tests: generated cases, checked against the engine's promises.

Strategies are built from the KB itself (its findings' types, ranges and
sides, its states, its thresholds), so they follow the KB as it grows.
Each property is a sentence of DESIGN.md:

- a valid case always gives a result, never an exception;
- opposite states never both hold on one side;
- a state with a test of its own is never *predicted* where its test was done;
- every justification rests on entered findings, given states or
  conclusions present in the result (the derivation closes down to the input),
  and the derivation graph is acyclic;
- statuses: a conclusion takes its strongest justification's status (listed
  first); measured means its own test was read;
- sides: a justification's premises lie on its side or on none (except the
  side-to-side comparison and conditions on the other side); a side-less
  recommendation rests only on side-less premises;
- the order of keys in the case does not change the result;
- any text or bytes as a case file give a result or an InputError, nothing else.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import hipkb
from hipkb.case import Key, key_str
from hipkb.errors import CaseError, InputError
from hipkb.result import Result
from hipkb.model import SIDES
from hipkb.source import MAX_DEPTH, parse_text

from conftest import REPO

KB = hipkb.load_kb()
SETTINGS = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------
# Strategies from the KB

SIDE = st.sampled_from(SIDES)
SIDE_LISTS = st.lists(SIDE, min_size=1, max_size=2, unique=True)
SIDED_FLAG = st.one_of(
    st.booleans(), SIDE, SIDE_LISTS,
    st.dictionaries(SIDE, st.one_of(st.booleans(), st.none())),
)


def degrees(low: float, high: float) -> st.SearchStrategy[float | int]:
    return st.one_of(
        st.integers(math.ceil(low), math.floor(high)),
        st.floats(low, high, allow_nan=False, allow_infinity=False),
    )


def finding_value(finding: Any) -> st.SearchStrategy[Any]:
    if finding.type == "degrees":
        low, high = finding.range or (0, 180)
        value = degrees(low, high)
        return st.dictionaries(SIDE, st.one_of(value, st.none())) if finding.sided else value
    return SIDED_FLAG if finding.sided else st.booleans()


def state_value(state: Any) -> st.SearchStrategy[Any]:
    return SIDED_FLAG if state.sided else st.booleans()


def threshold_range(threshold_id: str) -> tuple[float, float]:
    finding = KB.findings.get(threshold_id)
    return finding.range if finding is not None and finding.range else (0.0, 180.0)


FINDINGS = st.fixed_dictionaries({}, optional={f.id: finding_value(f) for f in KB.findings.values()})
THRESHOLDS = st.fixed_dictionaries({}, optional={t: degrees(*threshold_range(t)) for t in KB.thresholds})


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    findings = draw(FINDINGS)
    for state_id in draw(st.lists(st.sampled_from(sorted(KB.states)), max_size=3, unique=True)):
        findings[state_id] = draw(state_value(KB.states[state_id]))
    case: dict[str, Any] = {"findings": findings}
    if draw(st.booleans()):
        case["thresholds"] = draw(THRESHOLDS)
    if draw(st.booleans()):
        case["subject"] = draw(st.text(st.characters(categories=["L", "N", "P", "Zs"]), max_size=20))
    return case


# --------------------------------------------------------------------------
# Helpers


def premises_of(result: Result) -> dict[Key, list[tuple[str | None, tuple[Key, ...]]]]:
    items = list(result.conclusions) + list(result.recommendations)
    return {item.key: [(j.rule, j.because) for j in item.justifications] for item in items}


def entered(result: Result) -> set[Key]:
    """Findings that can be premises: entered and not false."""
    return {k for k, v in result.case.findings.items() if v is not False}


def reads_other_side(rule_id: str) -> bool:
    rule = KB.rule(rule_id)
    flat = [o for c in rule.when for o in (c.options if c.kind == "any" else (c,))]
    return any(c.kind == "lower_side" or c.on != "this" for c in flat)


#: DESIGN: "status of a conclusion, strongest first" (a literal, not the code's constant)
STATUS_ORDER = ["measured", "given", "indicated", "inferred", "predicted"]
STRENGTH = {status: len(STATUS_ORDER) - i for i, status in enumerate(STATUS_ORDER)}


def check_invariants(result: Result) -> None:
    conclusions = {c.key: c for c in result.conclusions}
    recommendations = {r.key: r for r in result.recommendations}
    base = entered(result)
    given = set(result.case.given)

    # Opposite states never both hold on one side.
    for (state_id, side), c in conclusions.items():
        opposite = KB.states[state_id].opposite
        if opposite:
            assert (opposite, side) not in conclusions, f"{state_id} and {opposite} both hold on {side}"

    # A state with its own test is never predicted where the test was done.
    for (state_id, side), c in conclusions.items():
        test = KB.states[state_id].tested_by
        if test is None:
            continue
        test_key = (test, side if KB.findings[test].sided else None)
        if test_key in result.case.findings:
            assert c.status != "predicted", f"{key_str(c.key)} predicted although {key_str(test_key)} was measured"
        if c.status == "measured":
            assert any(test_key in j.because for j in c.justifications if j.status == "measured")

    # Statuses: the strongest justification's; 'given' exactly for stated states.
    for c in result.conclusions:
        assert c.justifications
        assert c.status == c.justifications[0].status
        assert STRENGTH[c.status] == max(STRENGTH[j.status] for j in c.justifications)
        assert any(j.rule is None for j in c.justifications) == (c.key in given)

    # The derivation closes down to the input.
    present = set(conclusions)
    for key, entries in premises_of(result).items():
        for rule_id, because in entries:
            if rule_id is None:
                assert because == () and key in given
                continue
            rule = KB.rule(rule_id)
            for premise in because:
                assert premise in base or premise in present or premise in given, (
                    f"{key_str(key)} rests on {key_str(premise)}, which is neither entered nor concluded"
                )
            if key[0] in KB.states:
                assert key[0] in rule.then
            else:
                assert rule_id in {call.id for call in KB.recommendations[key[0]].calls}
            # Sides: premises lie on the item's side or on none.
            if not reads_other_side(rule_id):
                sides = {p[1] for p in because}
                assert sides <= {key[1], None}, f"{key_str(key)} rests on {sorted(map(key_str, because))}"

    # A side-less recommendation rests only on side-less premises.
    for (rec_id, side), rec in recommendations.items():
        if side is None:
            for j in rec.justifications:
                assert all(p[1] is None for p in j.because), f"{rec_id} is side-less but rests on {j.because}"

    # Acyclic: along each item's strongest justification, no item is reachable from itself.
    graph = {key: set(entries[0][1]) for key, entries in premises_of(result).items()}
    state: dict[Key, int] = {}

    def visit(node: Key) -> None:
        stack = [(node, iter(graph.get(node, ())))]
        state[node] = 1
        while stack:
            current, children = stack[-1]
            for child in children:
                mark = state.get(child, 0)
                assert mark != 1, f"cycle through {key_str(child)}"
                if mark == 0:
                    state[child] = 1
                    stack.append((child, iter(graph.get(child, ()))))
                    break
            else:
                state[current] = 2
                stack.pop()

    for node in graph:
        if state.get(node, 0) == 0:
            visit(node)

    # Disagreements: the kept one stays, the dropped ones go.
    for d in result.disagreements:
        if d.kept is not None:
            assert d.kept.key in conclusions
        for dropped in d.dropped:
            assert dropped.key not in conclusions

    # The JSON is plain, finite data.
    json.dumps(result.to_dict(), allow_nan=False)


def reorder(value: Any, rng: Any) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: reorder(v, rng) for k, v in items}
    if isinstance(value, list):
        items = list(value)
        rng.shuffle(items)
        return items
    return value


# --------------------------------------------------------------------------
# Properties of generated valid cases


@SETTINGS
@given(case=cases())
def test_generated_cases_keep_every_promise(case: dict[str, Any]) -> None:
    result = KB.assess(case)
    assert isinstance(result, Result)
    check_invariants(result)


@SETTINGS
@given(case=cases(), overrides=THRESHOLDS)
def test_threshold_overrides_are_applied_and_keep_the_promises(case: dict[str, Any], overrides: dict[str, float]) -> None:
    result = KB.assess(case, thresholds=overrides)
    check_invariants(result)
    expected = KB.default_thresholds() | {k: float(v) for k, v in case.get("thresholds", {}).items()} | {k: float(v) for k, v in overrides.items()}
    assert result.thresholds == expected


@SETTINGS
@given(case=cases(), rng=st.randoms(use_true_random=False))
def test_key_order_does_not_change_the_result(case: dict[str, Any], rng: Any) -> None:
    assert KB.assess(reorder(case, rng)).to_dict() == KB.assess(case).to_dict()


@SETTINGS
@given(case=cases())
def test_measured_ir_is_never_overridden(case: dict[str, Any]) -> None:
    """IR measured within range on a side: ir_limited never holds there, whatever else the case says."""
    result = KB.assess(case)
    for side in SIDES:
        value = result.case.findings.get(("supine_hip_ir", side))
        if value is None:
            continue
        limited = value < result.thresholds["supine_hip_ir"]
        assert result.holds("ir_limited", side) is limited
        assert result.holds("ir_within_range", side) is (not limited)


@SETTINGS
@given(case=cases())
def test_files_agree_with_mappings(case: dict[str, Any]) -> None:
    """The same case as a YAML file, a JSON file and a mapping gives one result."""
    expected = KB.assess(case).to_dict()
    with tempfile.TemporaryDirectory() as folder:
        as_json = Path(folder) / "case.json"
        as_json.write_text(json.dumps(case), encoding="utf-8")
        as_yaml = Path(folder) / "case.yaml"
        as_yaml.write_text(yaml.safe_dump(case, allow_unicode=True), encoding="utf-8")
        assert KB.assess(as_json).to_dict() == expected
        assert KB.assess(as_yaml).to_dict() == expected


# --------------------------------------------------------------------------
# Anything at all as input: a result or an InputError, nothing else


def assess_file(content: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"case{suffix}"
        path.write_bytes(content)
        try:
            result = KB.assess(path)
        except InputError as exc:
            message = str(exc)
            assert message.startswith(str(path)), message
            assert "\n" not in message and "\r" not in message, message
        else:
            check_invariants(result)
        assert path.read_bytes() == content
        assert [p.name for p in Path(folder).iterdir()] == [path.name]


@SETTINGS
@given(content=st.binary(max_size=2000), suffix=st.sampled_from([".yaml", ".json", ".yml", ""]))
def test_random_bytes_as_a_case_file(content: bytes, suffix: str) -> None:
    assess_file(content, suffix)


@SETTINGS
@given(content=st.text(max_size=500), suffix=st.sampled_from([".yaml", ".json"]))
def test_random_text_as_a_case_file(content: str, suffix: str) -> None:
    assess_file(content.encode("utf-8", errors="surrogatepass"), suffix)


DEMO = (REPO / "examples" / "demo-01.yaml").read_bytes()
YAML_PIECES = [b"{", b"}", b"[", b"]", b":", b",", b"-", b" ", b"\n", b"\t", b"'", b'"', b"&a", b"*a", b"!!", b"!!python/name:x",
               b"<<", b"#", b"---", b"...", b"%YAML 1.1", b"~", b".nan", b"1e999", b"012", b"0x1", b"?", b"|", b">", b"\\", b"\x00", b"\xff"]


@st.composite
def mutated_case(draw: st.DrawFn) -> bytes:
    """The example case with a few bytes deleted, replaced or inserted: nearly valid YAML."""
    data = bytearray(DEMO)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = draw(st.one_of(st.sampled_from(YAML_PIECES), st.binary(min_size=1, max_size=3)))
        if action == "delete":
            del data[at:at + draw(st.integers(1, 8))]
        elif action == "insert":
            data[at:at] = piece
        else:
            data[at:at + len(piece)] = piece
    return bytes(data)


@SETTINGS
@given(content=mutated_case())
def test_mutated_example_case(content: bytes) -> None:
    assess_file(content, ".yaml")


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15), st.floats(allow_nan=False), st.text(max_size=12))
ANY_DATA = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20,
)
CASE_KEYS = st.sampled_from(["findings", "subject", "thresholds", "findigns"])
FINDING_KEYS = st.one_of(st.sampled_from(sorted(KB.findings) + sorted(KB.states)), st.text(max_size=12))


@SETTINGS
@given(data=st.dictionaries(CASE_KEYS, st.one_of(ANY_DATA, st.dictionaries(FINDING_KEYS, ANY_DATA, max_size=6)), max_size=3))
def test_random_mappings_give_a_result_or_a_case_error(data: dict[str, Any]) -> None:
    try:
        result = KB.assess(data)
    except CaseError as exc:
        assert "\n" not in str(exc)
    else:
        check_invariants(result)
    for suffix, text in ((".json", json.dumps(data)), (".yaml", yaml.safe_dump(data))):
        assess_file(text.encode("utf-8", errors="surrogatepass"), suffix)


# --------------------------------------------------------------------------
# The readers: JSON exactly as the json module reads it; YAML plain data round trips

PLAIN_TEXT = st.text(max_size=12).filter(lambda s: not re.fullmatch(r"\s*[-+.0-9][-+.0-9eE]*\s*", s))


@SETTINGS
@given(data=ANY_DATA)
def test_json_reader_matches_the_json_module(data: Any) -> None:
    text = json.dumps(data)
    assert parse_text(text, "x.json", as_json=True).data == json.loads(text)
    pretty = json.dumps(data, indent="\t")
    assert parse_text(pretty, "x.json", as_json=True).data == json.loads(pretty)


@SETTINGS
@given(data=st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15), st.floats(allow_nan=False), PLAIN_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(PLAIN_TEXT, inner, max_size=4)),
    max_leaves=20,
))
def test_yaml_reader_reads_plain_data_as_pyyaml_does(data: Any) -> None:
    """Where YAML 1.1 and hipkb's number rule agree, hipkb reads what PyYAML's safe loader reads."""
    for style in (None, True, False):
        text = yaml.safe_dump(data, default_flow_style=style, allow_unicode=True)
        assert parse_text(text, "x.yaml").data == yaml.safe_load(text)


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "yaml"])
def test_nesting_up_to_the_limit_is_read(as_json: bool) -> None:
    deepest = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    data = parse_text(deepest, "x", as_json=as_json).data
    for _ in range(MAX_DEPTH - 1):
        data = data[0]
    assert data == []
    with pytest.raises(InputError, match=f"x:1:{MAX_DEPTH + 1}: document is nested more than {MAX_DEPTH} levels deep"):
        parse_text("[" + deepest + "]", "x", as_json=as_json)
