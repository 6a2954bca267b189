"""JSON Schemas: generated from the model, committed under schemas/, shipped, and agreeing with the loaders.

Editors validate KB, case and scenario files with these schemas, so a schema
that accepts what hipkb rejects (or the reverse) misleads the people who
edit the KB. These tests compare the two on the shipped files and on
mutations of them.
"""

from __future__ import annotations

import copy
import json
import shutil

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from hipkb.case import parse_case
from hipkb.cli import main
from hipkb.errors import CaseError
from hipkb.kb import FILES, MANIFEST, read_kb
from hipkb.schema import bundled_schema_path, dumps, generate, stale_schemas
from hipkb.source import read_document

Validator = jsonschema.Draft202012Validator


@pytest.fixture(scope="module")
def schemas(kb):
    return generate(kb)


def schema_name(file):
    return f"kb-{file.removesuffix('.yaml')}.schema.json"


def is_valid(schema, data):
    return Validator(schema).is_valid(data)


# -- generated, committed, shipped --------------------------------------------


def test_repo_schemas_are_up_to_date(kb):
    stale = stale_schemas(REPO / "schemas", kb)
    assert stale == [], f"stale schemas {stale}: regenerate with 'hipkb kb schema -o schemas'"


def test_schemas_ship_with_the_package(kb, schemas):
    shipped = bundled_schema_path()
    assert sorted(p.name for p in shipped.glob("*.schema.json")) == sorted(schemas)
    for name, schema in schemas.items():
        assert (shipped / name).read_text(encoding="utf-8") == dumps(schema), name


def test_every_schema_is_a_valid_draft_2020_12_schema(schemas):
    for name, schema in schemas.items():
        Validator.check_schema(schema)
        assert schema["$id"] == name


def test_generation_is_deterministic_across_processes(kb):
    """The same KB gives the same schema bytes in a fresh process (hash seeds differ)."""
    import subprocess
    import sys

    code = "from hipkb.schema import generate, dumps; from hipkb.kb import load_model; print(dumps(generate(load_model())))"
    runs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
        for seed in ("1", "2")
    }
    assert runs == {dumps(generate(kb)) + "\n"}


def test_cli_writes_and_checks_schemas(tmp_path, capsys, schemas):
    out = tmp_path / "schemas"
    assert main(["kb", "schema", "-o", str(out), "--check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert f"{out / 'case.schema.json'}: stale or missing (regenerate with 'hipkb kb schema -o {out}')" in lines
    assert len(lines) == len(schemas)
    assert main(["kb", "schema", "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {len(schemas)} schemas to {out}\n"
    assert main(["kb", "schema", "-o", str(out), "--check"]) == 0
    (out / "kb-rules.schema.json").write_text("{}", encoding="utf-8")
    assert main(["kb", "schema", "-o", str(out), "--check"]) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"{out / 'kb-rules.schema.json'}: stale")


def test_cli_prints_all_schemas_without_output_dir(capsys, schemas):
    assert main(["kb", "schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schemas


def test_cli_check_needs_output_dir(capsys):
    assert main(["kb", "schema", "--check"]) == 2
    assert capsys.readouterr().err == "hipkb: error: --check needs -o DIR, the directory of schemas to compare\n"


def test_case_schema_follows_the_kb(tmp_path, kb):
    """The case schema is generated from the KB: a changed range shows in it."""
    copy_dir = tmp_path / "kb"
    shutil.copytree(REPO / "kb", copy_dir)
    findings = copy_dir / "findings.yaml"
    text = findings.read_text(encoding="utf-8")
    assert text.count("range: [0, 90]") == 1
    findings.write_text(text.replace("range: [0, 90]", "range: [0, 80]"), encoding="utf-8")
    other, problems = read_kb(copy_dir)
    assert other is not None, problems
    case = {"findings": {"supine_hip_ir": {"left": 85}}}
    assert is_valid(generate(kb)["case.schema.json"], case)
    assert not is_valid(generate(other)["case.schema.json"], case)


# -- shipped files validate ---------------------------------------------------


@pytest.mark.parametrize("file", [*FILES, MANIFEST])
def test_shipped_kb_file_validates(schemas, file):
    data = read_document(REPO / "kb" / file).data
    name = "kb-manifest.schema.json" if file == MANIFEST else schema_name(file)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Validator(schemas[name]).iter_errors(data)]
    assert errors == []


@pytest.mark.parametrize("path", sorted(p for p in (REPO / "examples").glob("*.y*ml") if not p.stem.endswith("-answers")), ids=lambda p: p.name)
def test_examples_validate_against_the_case_schema(schemas, kb, path):
    data = read_document(path).data
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Validator(schemas["case.schema.json"]).iter_errors(data)]
    assert errors == []
    parse_case(data, kb)


@pytest.mark.parametrize("path", sorted((REPO / "tests" / "cases").glob("*.yaml")), ids=lambda p: p.name)
def test_scenarios_validate_against_the_scenario_schema(schemas, path):
    data = read_document(path).data
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Validator(schemas["scenario.schema.json"]).iter_errors(data)]
    assert errors == []


# -- KB schemas agree with the loader -----------------------------------------


def _kb_data():
    return {file: read_document(REPO / "kb" / file).data for file in FILES}


def _loader_errors(tmp_path, data):
    target = tmp_path / "kb"
    shutil.copytree(REPO / "kb", target)
    for file, content in data.items():
        (target / file).write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _, problems = read_kb(target)
    return [p for p in problems if p.severity == "error"]


def _required_cases():
    out = []
    data = _kb_data()
    for file, top in FILES.items():
        schema = generate_kb_schema(top)
        for field in schema["properties"][top]["items"]["required"]:
            out.append(pytest.param(file, top, field, id=f"{top}.{field}"))
        if top == "recommendations":
            for field in schema["$defs"]["call"]["required"]:
                out.append(pytest.param(file, top, f"called_for_by.{field}", id=f"called_for_by.{field}"))
    assert data  # the shipped KB is readable
    return out


def generate_kb_schema(top):
    from hipkb.schema import kb_file_schema

    return kb_file_schema(top)


@pytest.mark.parametrize("file,top,field", _required_cases())
def test_a_field_the_schema_requires_is_required_by_the_loader(tmp_path, schemas, file, top, field):
    data = _kb_data()
    broken = copy.deepcopy(data)
    items = broken[file][top]
    if field.startswith("called_for_by."):
        name = field.split(".", 1)[1]
        call = next(c for item in items for c in item.get("called_for_by", []) if name in c)
        del call[name]
    else:
        item = next(i for i in items if field in i)
        del item[field]
    assert not is_valid(schemas[schema_name(file)], broken[file])
    assert _loader_errors(tmp_path, {file: broken[file]}), f"the loader accepts a {top} item without {field!r}"


MUTATIONS = {
    "unknown field": ("states.yaml", lambda d: d["states"][0].update(mood="grumpy")),
    "bad evidence": ("rules.yaml", lambda d: d["rules"][0].update(evidence="anecdote")),
    "id not snake case": ("states.yaml", lambda d: d["states"][0].update(id="IR-limited")),
    "degrees without range": ("findings.yaml", lambda d: d["findings"][0].pop("range")),
    "boolean with range": ("findings.yaml", lambda d: next(f for f in d["findings"] if f["type"] == "boolean").update(range=[0, 1])),
    "exercise without order": ("recommendations.yaml", lambda d: next(r for r in d["recommendations"] if r["kind"] == "exercise").pop("order")),
    "order on a strategy": ("recommendations.yaml", lambda d: d["recommendations"][0].update(order=1)),
    "order zero": ("recommendations.yaml", lambda d: next(r for r in d["recommendations"] if r["kind"] == "exercise").update(order=0)),
    "quote without ref": ("recommendations.yaml", lambda d: d["recommendations"][0]["source"].pop("ref")),
    "empty source": ("rules.yaml", lambda d: d["rules"][0].update(source={})),
    "empty when": ("rules.yaml", lambda d: d["rules"][0].update(when=[])),
    "nested any": ("rules.yaml", lambda d: d["rules"][0]["when"].append({"any": [{"any": [{"state": "ir_limited"}]}]})),
    "below and at_least": ("rules.yaml", lambda d: d["rules"][0]["when"][0].update(at_least="supine_hip_ir")),
    "stray key beside finding": ("rules.yaml", lambda d: d["rules"][0]["when"][0].update(by_more_than="ir_asymmetry")),
    "lower_side without threshold": ("rules.yaml", lambda d: d["rules"][0]["when"].append({"lower_side": "supine_hip_ir"})),
    "condition with two kinds": ("rules.yaml", lambda d: d["rules"][0]["when"].append({"state": "ir_limited", "absent": "hip_hike"})),
    "unknown top key": ("causal.yaml", lambda d: d.update(extra=[])),
    "threshold value text": ("thresholds.yaml", lambda d: d["thresholds"][0].update(value="25")),
    "sided not bool": ("states.yaml", lambda d: d["states"][0].update(sided="yes")),
    "bad use": ("causal.yaml", lambda d: d["links"][0].update(use="maybe")),
    "bad source kind": ("sources.yaml", lambda d: d["sources"][0].update(kind="blog")),
    "blank label": ("entities.yaml", lambda d: d["entities"][0].update(label="  ")),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_what_the_schema_rejects_the_loader_rejects(tmp_path, schemas, name):
    file, mutate = MUTATIONS[name]
    data = _kb_data()
    broken = copy.deepcopy(data[file])
    mutate(broken)
    assert not is_valid(schemas[schema_name(file)], broken), f"the schema accepts: {name}"
    assert _loader_errors(tmp_path, {file: broken}), f"the loader accepts: {name}"


# -- the case schema agrees with the case reader ------------------------------

values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-20, 200), st.floats(-20, 200, allow_nan=False),
        st.sampled_from(["left", "right", "both", "Left", ""]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["left", "right", "middle"]), inner, max_size=3),
    ),
    max_leaves=5,
)


@pytest.fixture(scope="module")
def ids(kb):
    return sorted([*kb.findings, *kb.states, "not_a_finding"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_case_schema_accepts_exactly_what_the_case_reader_accepts(kb, schemas, ids, data):
    findings = data.draw(st.dictionaries(st.sampled_from(ids), values, max_size=3), label="findings")
    thresholds = data.draw(st.one_of(
        st.none(), st.dictionaries(st.sampled_from([*kb.thresholds, "nope"]), values, max_size=2),
    ), label="thresholds")
    case = {"findings": findings}
    if thresholds is not None:
        case["thresholds"] = thresholds
    try:
        parse_case(case, kb)
        accepted = True
    except CaseError:
        accepted = False
    assert is_valid(schemas["case.schema.json"], case) == accepted


# -- the result schema (hipkb assess --format json) -----------------------------------

result_findings = st.fixed_dictionaries({}, optional={
    "supine_hip_ir": st.dictionaries(st.sampled_from(["left", "right"]), st.integers(0, 60), max_size=2),
    "straight_leg_raise": st.dictionaries(st.sampled_from(["left", "right"]), st.integers(20, 100), max_size=2),
    "supine_hip_flexion": st.dictionaries(st.sampled_from(["left", "right"]), st.integers(60, 140), max_size=2),
    "pelvis_forward": st.sampled_from([True, False, "left", "right", []]),
    "hip_hike": st.sampled_from([True, "left", "right"]),
    "foot_pronation": st.sampled_from([True, "left", "right"]),
    "rib_cage_side_bend": st.booleans(),
    "lumbar_arch": st.booleans(),
    "pinch_in_flexion_ir": st.sampled_from(["left", "right", False]),
    "pinch_in_extension_abduction": st.sampled_from(["left", "right"]),
    "deep_external_rotators_stiff": st.sampled_from(["left", "right"]),
    "ir_limited": st.sampled_from(["left", "right"]),
})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(findings=result_findings, subject=st.one_of(st.none(), st.text(st.characters(categories=["L", "N"]), max_size=8)))
def test_every_result_validates_against_the_shipped_result_schema(kb, findings, subject):
    shipped = json.loads((bundled_schema_path() / "result.schema.json").read_text(encoding="utf-8"))
    case = {"findings": findings, **({"subject": subject} if subject else {})}
    data = kb.assess(case).to_dict()
    errors = [e.message for e in Validator(shipped).iter_errors(data)]
    assert errors == []


def _demo(kb):
    return kb.assess(REPO / "examples" / "demo-01.yaml").to_dict()


@pytest.mark.parametrize("name,breakage", [
    ("unknown top-level key", lambda d: d.update(engine="compiled")),
    ("schema version 1", lambda d: d.update(schema_version=1)),
    ("status outside the closed enum", lambda d: d["conclusions"][0].update(status="probable")),
    ("evidence outside the closed enum", lambda d: d["conclusions"][0].update(evidence="expert-opinion")),
    ("kind outside the closed enum", lambda d: d["recommendations"][0].update(kind="drill")),
    ("a side that is not left, right or null", lambda d: d["conclusions"][0].update(side="both")),
    ("a conclusion without justifications", lambda d: d["conclusions"][0].update(justifications=[])),
    ("an unknown key in a conclusion", lambda d: d["conclusions"][0].update(confidence=0.9)),
    ("a missing field", lambda d: d["recommendations"][0].pop("assumptions")),
    ("an assumption without its side", lambda d: d["conclusions"][3]["assumptions"][0].pop("side")),
    ("a key that is not ID/SIDE", lambda d: d["recommendations"][0]["justifications"][0].update(because=["Left IR"])),
    ("a measurement with text for a number", lambda d: d["conclusions"][0]["measurement"].update(margin="-13")),
    ("a disagreement keeping a status outside the enum", lambda d: d.update(disagreements=[
        {"side": "left", "kept": {"id": "ir_within_range", "status": "sure"}, "dropped": [{"id": "ir_limited", "status": "predicted"}],
         "withdrawn": [], "reason": "x"}])),
])
def test_the_result_schema_rejects_broken_results(kb, schemas, name, breakage):
    data = _demo(kb)
    assert is_valid(schemas["result.schema.json"], data)
    broken = copy.deepcopy(data)
    breakage(broken)
    assert not is_valid(schemas["result.schema.json"], broken), name


def test_the_result_schema_describes_the_differential_standings(schemas):
    """DESIGN's standings are a closed vocabulary (why ir_limited --format json)."""
    contributor = schemas["result.schema.json"]["$defs"]["contributor"]
    assert set(contributor["properties"]["standing"]["enum"]) == {
        "supported", "confounded", "argued against", "not assessed", "present", "absent", "not recorded"}
