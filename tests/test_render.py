"""Diagrams: the derivation graph, focus paths, the KB model, and their DOT/Mermaid/JSON/SVG.

Golden files under tests/golden/ pin the exact DOT and Mermaid text of small
fixed graphs; regenerate them with HIPKB_UPDATE_GOLDEN=1 after a deliberate
change (and review the diff). SVG is parsed, never compared as text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

import hipkb
from conftest import REPO
from hipkb.derivation import derivation_graph, focus_graph, model_graph, node_id
from hipkb.errors import ExplainError, GraphvizNotFound, RenderError
from hipkb.render import dot_quote, mermaid_text, render

GOLDEN = REPO / "tests" / "golden"
SVG = "{http://www.w3.org/2000/svg}"
DEMO = REPO / "examples" / "demo-01.yaml"

CONFOUNDED = {"subject": "golden-confounded", "findings": {"supine_hip_ir": {"left": 12}, "pelvis_turned_away": "left"}}
DISAGREEMENT = {"subject": "golden-disagreement", "findings": {"supine_hip_ir": {"left": 35}, "straight_leg_raise": {"left": 40}}}


def golden(name, text):
    path = GOLDEN / name
    if os.environ.get("HIPKB_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}: run with HIPKB_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file (HIPKB_UPDATE_GOLDEN=1 to accept)"


def svg_nodes(svg: bytes) -> dict[str, str]:
    """Node name (its <title>) → all its text, from an SVG made by dot."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            title = g.find(f"{SVG}title").text
            out[title] = " ".join(t.text or "" for t in g.iter(f"{SVG}text"))
    return out


@pytest.fixture(scope="module")
def demo(kb):
    return kb.assess(DEMO)


# -- the derivation graph ----------------------------------------------------------


def test_derivation_graph_nodes_edges_and_attributes(demo):
    g = derivation_graph(demo)
    limited = g.nodes["state:ir_limited/left"]
    assert (limited["kind"], limited["id"], limited["side"], limited["status"], limited["evidence"]) == (
        "state", "ir_limited", "left", "measured", "clinical-norm",
    )
    ir = g.nodes["finding:supine_hip_ir/left"]
    assert (ir["kind"], ir["value"], ir["status"]) == ("finding", 12.0, "entered")
    rec = g.nodes["rec:arm_bar/left"]
    assert (rec["kind"], rec["group"], rec["order"]) == ("recommendation", "exercise", 1)
    assert g.nodes["finding:rib_cage_side_bend"]["side"] is None
    edge = g.edges["finding:supine_hip_ir/left", "state:ir_limited/left"]
    assert (edge["rule"], edge["evidence"], edge["kind"]) == ("ir_measured_limited", "clinical-norm", "supports")
    assert g.edges["state:femur_glide_space_lacking/left", "state:ir_limited/left"]["rule"] == "femur_glide_space_enables_ir"
    # hip_hike was entered but no justification rests on it (IR was measured on the left)
    assert "finding:hip_hike/left" not in g
    # findings first, then states, then recommendations
    kinds = [d["kind"] for _, d in g.nodes(data=True)]
    assert kinds == sorted(kinds, key=["finding", "state", "recommendation"].index)
    assert nx.is_directed_acyclic_graph(g)
    # every conclusion and recommendation is a node; every edge is one premise of one justification
    assert {(d["id"], d["side"]) for _, d in g.nodes(data=True) if d["kind"] != "finding"} == {
        c.key for c in demo.conclusions
    } | {r.key for r in demo.recommendations}


def test_an_edge_lists_every_rule_that_made_the_step(kb):
    result = kb.assess({"findings": {"supine_hip_ir": {"left": 12}, "supine_hip_flexion": {"left": 90}}})
    edge = result.graph().edges["state:ir_limited/left", "state:posterior_capsule_closed/left"]
    assert edge["rules"] == ("capsule_closed_from_ir_drop", "capsule_closed_from_ir_and_flexion_drop")
    assert edge["rule"] == "capsule_closed_from_ir_drop"


def test_a_dropped_state_is_drawn_with_the_state_that_outweighed_it(kb):
    g = kb.assess(DISAGREEMENT).graph()
    dropped = g.nodes["state:ir_limited/left"]
    assert (dropped["status"], dropped["dropped_status"]) == ("dropped", "predicted")
    edge = g.edges["state:ir_within_range/left", "state:ir_limited/left"]
    assert (edge["kind"], edge["reason"]) == ("opposes", "measured outweighs predicted")
    assert g.edges["state:femur_glide_space_lacking/left", "state:ir_limited/left"]["rule"] == "femur_glide_space_enables_ir"
    assert "rec:cable_crossover_step_up/left" not in g  # it rested on the dropped prediction
    assert nx.is_directed_acyclic_graph(g)


def test_focus_keeps_the_whole_path_and_nothing_else(demo):
    g = focus_graph(demo.graph(), "rec:cable_crossover_step_up/left")
    assert set(g) == {
        "finding:supine_hip_ir/left", "finding:straight_leg_raise/left", "state:ir_limited/left",
        "state:pelvis_not_internally_rotating/left", "state:inlet_not_closing/left", "state:outlet_not_opening/left",
        "state:acetabulum_not_anteverted/left", "state:femur_glide_space_lacking/left", "rec:cable_crossover_step_up/left",
    }
    assert all(nx.has_path(g, n, "rec:cable_crossover_step_up/left") for n in g)
    # and the drawing shows exactly those nodes, no legend
    svg = render(demo, format="svg", focus="cable_crossover_step_up", side="left")
    assert set(svg_nodes(svg)) == set(g)


def test_focus_without_side_takes_every_side_where_it_holds(kb):
    result = kb.assess({"findings": {"supine_hip_ir": {"left": 12, "right": 14}}})
    g = render(result, format="json", focus="cable_crossover_step_up")
    ids = {n["id"] for n in json.loads(g)["nodes"]}
    assert {"rec:cable_crossover_step_up/left", "rec:cable_crossover_step_up/right"} <= ids


def test_model_graph_has_the_chain_the_branches_and_the_calls(kb):
    g = model_graph(kb)
    chain = ["pelvis_not_internally_rotating", "inlet_not_closing", "outlet_not_opening",
             "acetabulum_not_anteverted", "femur_glide_space_lacking", "ir_limited"]
    for cause, effect in zip(chain, chain[1:]):
        assert g.edges[node_id("state", cause), node_id("state", effect)]["kind"] == "conclude"
    for cause in ("posterior_capsule_closed", "deep_external_rotators_stiff"):
        assert g.has_edge(node_id("state", cause), "state:posterior_hip_space_lacking")
    assert g.edges["finding:pelvis_forward", "state:ir_limited"]["kind"] == "explain"
    assert g.edges["finding:pelvis_turned_away", "state:posterior_capsule_closed"]["kind"] == "unless"
    assert g.edges["finding:supine_hip_ir", "state:ir_limitation_suspected"]["kind"] == "absent"
    assert g.edges["state:pelvis_not_internally_rotating", "rec:arm_bar"]["kind"] == "call"
    assert g.edges["finding:straight_leg_raise", "state:pelvis_not_internally_rotating"]["rule"] == "slr_space_lacking"
    assert all(d["side"] is None for _, d in g.nodes(data=True))


# -- golden DOT and Mermaid ------------------------------------------------------------


@pytest.mark.parametrize("fmt,suffix", [("dot", "dot"), ("mermaid", "mmd")])
def test_golden_case_diagram(kb, fmt, suffix):
    golden(f"confounded.{suffix}", render(kb.assess(CONFOUNDED), format=fmt))


@pytest.mark.parametrize("fmt,suffix", [("dot", "dot"), ("mermaid", "mmd")])
def test_golden_focus_on_a_dropped_state(kb, fmt, suffix):
    golden(f"disagreement-ir_limited-left.{suffix}", render(kb.assess(DISAGREEMENT), format=fmt, focus="ir_limited", side="left"))


@pytest.mark.parametrize("fmt,suffix", [("dot", "dot"), ("mermaid", "mmd")])
def test_golden_model_focus(kb, fmt, suffix):
    golden(f"model-outlet_not_opening.{suffix}", render(kb, format=fmt, focus="outlet_not_opening"))


# -- SVG, JSON, determinism ----------------------------------------------------------------


def test_svg_is_valid_and_shows_every_node_with_its_side_and_status(demo):
    svg = render(demo, format="svg")
    assert isinstance(svg, bytes)
    nodes = svg_nodes(svg)
    assert set(nodes) == set(demo.graph()) | {"legend"}
    assert "ir_limited · left · measured" in nodes["state:ir_limited/left"]
    assert "supine_hip_ir · left = 12°" in nodes["finding:supine_hip_ir/left"]
    assert "Exercise 1: Arm bar" in nodes["rec:arm_bar/left"]
    root = ET.fromstring(svg)
    titles = {t.text for g in root.iter(f"{SVG}g") if g.get("class") == "cluster" for t in g.iter(f"{SVG}title")}
    assert {"cluster_left", "cluster_right"} <= titles
    edge_text = " ".join(t.text or "" for g in root.iter(f"{SVG}g") if g.get("class") == "edge" for t in g.iter(f"{SVG}text"))
    assert "ir_measured_limited" in edge_text


def test_kb_model_svg_and_png_and_pdf(kb):
    nodes = svg_nodes(render(kb, format="svg"))
    assert {"state:ir_limited", "state:inlet_not_closing", "rec:arm_bar", "finding:supine_hip_ir"} <= set(nodes)
    assert render(kb, format="png").startswith(b"\x89PNG")
    assert render(kb, format="pdf").startswith(b"%PDF")


def test_json_is_networkx_node_link_with_edges_key(demo):
    text = render(demo, format="json")
    data = json.loads(text)
    assert set(data) >= {"nodes", "edges", "directed", "graph"}
    g = nx.node_link_graph(data, edges="edges")
    assert set(g) == set(demo.graph())
    assert g.edges["finding:supine_hip_ir/left", "state:ir_limited/left"]["rule"] == "ir_measured_limited"
    assert text == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_same_input_gives_byte_identical_text_across_hash_seeds(tmp_path):
    script = (
        "import sys, hipkb\n"
        "from hipkb.render import render\n"
        "r = hipkb.assess(sys.argv[1])\n"
        "kb = hipkb.load_kb()\n"
        "sys.stdout.write(render(r) + render(r, format='mermaid') + render(r, format='json') + render(kb))\n"
        "sys.stdout.write(r.explain('ir_limited', question='why').text())\n"
    )
    outputs = set()
    for seed in ("0", "1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-c", script, str(DEMO)], capture_output=True, env=env, check=True)
        outputs.add(proc.stdout)
    assert len(outputs) == 1


# -- escaping: hostile labels stay literal text -------------------------------------------

HOSTILE = 'Evil "quoted" \\ back\\slash \\N <b>bold</b> {brace} | pipe & amp; #35; `tick` [x] (y)\nsecond line'


@pytest.fixture(scope="module")
def hostile_kb(tmp_path_factory):
    target = tmp_path_factory.mktemp("hostile") / "kb"
    shutil.copytree(REPO / "kb", target)
    for file, old in (
        ("states.yaml", "label: Hip internal rotation limited\n"),
        ("findings.yaml", "label: Supine hip internal rotation at 90° hip flexion\n"),
        ("recommendations.yaml", "label: Cable crossover step-up\n"),
    ):
        path = target / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{file}: expected one {old!r}"
        path.write_text(text.replace(old, f"label: {json.dumps(HOSTILE)}\n"), encoding="utf-8")
    return hipkb.load_kb(target)


def _words(text):
    return " ".join(text.split())


def test_hostile_labels_render_literally_in_svg(hostile_kb):
    result = hostile_kb.assess({"subject": 'case "x" \\ <y>', "findings": {"supine_hip_ir": {"left": 12}}})
    svg = render(result, format="svg")  # dot must accept the DOT text
    nodes = svg_nodes(svg)
    expected = _words(HOSTILE)
    assert _words(nodes["state:ir_limited/left"]).startswith(expected)
    assert _words(nodes["finding:supine_hip_ir/left"]).startswith(expected)
    assert _words(nodes["rec:cable_crossover_step_up/left"]).startswith("Exercise 3: " + expected)
    root = ET.fromstring(svg)
    graph_title = " ".join(t.text or "" for t in root.find(f"{SVG}g").findall(f"{SVG}text"))
    assert 'case "x" \\ <y>' in graph_title
    model_nodes = svg_nodes(render(hostile_kb, format="svg"))
    assert _words(model_nodes["state:ir_limited"]).startswith(expected)


def test_hostile_labels_cannot_break_mermaid(hostile_kb):
    result = hostile_kb.assess({"findings": {"supine_hip_ir": {"left": 12}}})
    text = render(result, format="mermaid")
    node_line = re.compile(r'^\s+n\d+(\[/"[^"]*"/\]|\("[^"]*"\)|\["[^"]*"\]|\{\{"[^"]*"\}\}):::\w+$')
    edge_line = re.compile(r'^\s+n\d+ -\.?->(\|"[^"|]*"\| | )n\d+$')
    for line in text.splitlines():
        if re.match(r"^\s+n\d+[\[({]", line):
            assert node_line.match(line), line
        elif re.match(r"^\s+n\d+ ", line):
            assert edge_line.match(line), line
    assert "<b>" not in text and "{brace}" not in text and "| pipe" not in text
    assert "#34;quoted#34;" in text and "#60;b#62;" in text and "#35;35#59;" in text


def test_dot_and_mermaid_escapers():
    assert dot_quote('a"b\\c\nd') == '"a\\"b\\\\c d"'
    assert mermaid_text('"<>#&{}|;`\\') == "#34;#60;#62;#35;#38;#123;#125;#124;#59;#96;#92;"


# -- Graphviz missing --------------------------------------------------------------------------


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no 'dot' anywhere


def test_missing_dot_is_one_clear_error_and_text_formats_still_work(demo, kb, no_dot):
    with pytest.raises(GraphvizNotFound) as info:
        render(demo, format="svg")
    assert str(info.value) == (
        "Graphviz's 'dot' program was not found (install Graphviz: apt-get install graphviz / brew install graphviz)"
    )
    with pytest.raises(GraphvizNotFound):
        render(kb, format="png")
    assert render(demo, format="dot").startswith("digraph hipkb {")
    assert render(demo, format="mermaid").startswith("flowchart LR")
    assert json.loads(render(demo, format="json"))["nodes"]
    assert demo._repr_svg_() is None  # Jupyter falls back to the Markdown report
    assert demo._repr_markdown_().startswith("**hipkb")


def test_missing_dot_in_the_cli_leaves_an_existing_file_untouched(tmp_path, no_dot, capsys):
    from hipkb.cli import main

    out = tmp_path / "case.svg"
    out.write_text("old")
    assert main(["diagram", str(DEMO), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "hipkb: error: Graphviz's 'dot' program was not found (install Graphviz: apt-get install graphviz / brew install graphviz)\n"
    assert out.read_text() == "old"
    assert main(["diagram", str(DEMO), "-o", str(tmp_path / "case.mmd")]) == 0


# -- errors ------------------------------------------------------------------------------------------


def test_render_errors(demo, kb):
    with pytest.raises(RenderError, match="unknown format 'svgz'"):
        render(demo, format="svgz")
    with pytest.raises(ExplainError, match=r"unknown id 'arm_barr' \(did you mean 'arm_bar'\?\)"):
        render(demo, focus="arm_barr")
    with pytest.raises(ExplainError, match="'arm_bar' does not hold on the right in this case"):
        render(demo, focus="arm_bar", side="right")
    with pytest.raises(ExplainError, match="unknown side 'middle'"):
        render(demo, focus="arm_bar", side="middle")
    with pytest.raises(ExplainError, match="no sides"):
        render(kb, focus="ir_limited", side="left")
    with pytest.raises(RenderError, match="cannot draw a dict"):
        render({"findings": {}})


# -- CLI ------------------------------------------------------------------------------------------------


def run_cli(capsys, *args):
    from hipkb.cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_diagram_format_follows_the_suffix(tmp_path, capsys):
    for suffix, check in (
        ("svg", lambda b: ET.fromstring(b).tag == f"{SVG}svg"),
        ("png", lambda b: b.startswith(b"\x89PNG")),
        ("pdf", lambda b: b.startswith(b"%PDF")),
        ("dot", lambda b: b.startswith(b"digraph hipkb {")),
        ("mmd", lambda b: b.startswith(b"flowchart LR")),
        ("json", lambda b: "nodes" in json.loads(b)),
    ):
        out = tmp_path / f"case.{suffix}"
        code, stdout, err = run_cli(capsys, "diagram", DEMO, "-o", out)
        assert (code, stdout, err) == (0, "", ""), suffix
        assert check(out.read_bytes()), suffix


def test_cli_diagram_to_stdout_is_dot_and_matches_the_library(demo, capsys):
    code, out, _ = run_cli(capsys, "diagram", DEMO)
    assert code == 0 and out == render(demo)
    code, out, _ = run_cli(capsys, "diagram", DEMO, "--format", "mermaid", "--focus", "arm_bar", "--side", "left")
    assert code == 0 and out == render(demo, format="mermaid", focus="arm_bar", side="left")


@pytest.mark.parametrize("args,message", [
    (["--format", "png"], "png is binary: write it to a file with -o FILE.png"),
    (["-o", "{tmp}/case.txt"], "cannot tell the format from the file name 'case.txt'"),
    (["-o", "{tmp}/case.svg", "--format", "dot"], "--format dot does not match the file suffix '.svg'"),
    (["--side", "left"], "--side needs --focus ID"),
    (["--focus", "arm_bar", "--side", "right", "-o", "{tmp}/old.svg"], "'arm_bar' does not hold on the right in this case"),
])
def test_cli_diagram_bad_input_exits_2_and_leaves_files_alone(tmp_path, capsys, args, message):
    old = tmp_path / "old.svg"
    old.write_text("old")
    code, out, err = run_cli(capsys, "diagram", DEMO, *[a.format(tmp=tmp_path) for a in args])
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert old.read_text() == "old"


def test_cli_kb_diagram(tmp_path, kb, capsys):
    out = tmp_path / "model.svg"
    assert run_cli(capsys, "kb", "diagram", "-o", out)[0] == 0
    assert "state:ir_limited" in svg_nodes(out.read_bytes())
    code, text, _ = run_cli(capsys, "kb", "diagram", "--format", "mermaid", "--focus", "outlet_not_opening")
    assert code == 0 and text == render(kb, format="mermaid", focus="outlet_not_opening")
    code, _, err = run_cli(capsys, "kb", "diagram", "--focus", "outlet_opned")
    assert code == 2 and "did you mean 'outlet_not_opening'?" in err
