"""Diagrams: the graphs behind them, the views for slides, DOT/Mermaid/JSON/SVG/PNG, errors and the CLI.

Golden files under tests/golden/ pin the exact DOT and Mermaid text of three
small fixed drawings. They change only on purpose: regenerate them with
``UPDATE_GOLDEN=1 pytest tests/test_render.py``, then read the diff
(``git diff tests/golden``) before committing. SVG is parsed, never
compared as text (its bytes depend on the Graphviz version).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

import hipkb
from conftest import REPO, assert_golden
from hipkb.derivation import chain_graph, chain_states, derivation_graph, focus_graph, model_graph, node_id
from hipkb.errors import ExplainError, GraphvizNotFound, RenderError
from hipkb.render import render
from hipkb.render.mermaid import mermaid_text
from hipkb.sanitize import clean

SVG = "{http://www.w3.org/2000/svg}"
DEMO = REPO / "examples" / "demo-01.yaml"

CONFOUNDED = {"subject": "golden-confounded", "findings": {"supine_hip_ir": {"left": 12}, "pelvis_turned_away": "left"}}
DISAGREEMENT = {"subject": "golden-disagreement", "findings": {"supine_hip_ir": {"left": 35}, "straight_leg_raise": {"left": 40}}}
CHAIN = ["pelvis_not_internally_rotating", "inlet_not_closing", "outlet_not_opening",
         "acetabulum_not_anteverted", "femur_glide_space_lacking", "ir_limited"]


def golden(name: str, text: str) -> None:
    assert_golden(name, text, test_file="tests/test_render.py")


def svg_nodes(svg: bytes) -> dict[str, str]:
    """DOT node name (its <title>) → all its text, from an SVG made by dot."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            title = g.find(f"{SVG}title").text
            out[title] = " ".join(t.text or "" for t in g.iter(f"{SVG}text"))
    return out


def svg_positions(svg: bytes) -> dict[str, tuple[float, float]]:
    """DOT node or cluster name → the mean (x, y) of its text."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") in ("node", "cluster"):
            xs = [float(t.get("x")) for t in g.iter(f"{SVG}text")]
            ys = [float(t.get("y")) for t in g.iter(f"{SVG}text")]
            if xs:
                out[g.find(f"{SVG}title").text] = (sum(xs) / len(xs), sum(ys) / len(ys))
    return out


def graph_label(svg: bytes) -> str:
    """The drawing's title: the text outside every node, cluster and edge."""
    root = ET.fromstring(svg)
    inside = {id(t) for g in root.iter(f"{SVG}g") if g.get("class") in ("node", "cluster", "edge") for t in g.iter(f"{SVG}text")}
    return " ".join(t.text or "" for t in root.iter(f"{SVG}text") if id(t) not in inside)


def edge_text(svg: bytes) -> str:
    root = ET.fromstring(svg)
    return " ".join(t.text or "" for g in root.iter(f"{SVG}g") if g.get("class") == "edge" for t in g.iter(f"{SVG}text"))


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", png[16:24])


def words(text: str) -> str:
    """Text with every run of whitespace removed (labels are wrapped onto several lines)."""
    return "".join(text.split())


@pytest.fixture(scope="module")
def demo(kb):
    return kb.assess(DEMO)


@pytest.fixture(scope="module")
def demo_svg(demo):
    return render(demo, format="svg")


# -- the graphs ------------------------------------------------------------------------------


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
    # the capsule read from the IR drop assumes the pelvis was neither forward nor turned away (not recorded)
    assumption = g.nodes["assumption:pelvis_forward/left"]
    assert (assumption["kind"], assumption["status"]) == ("assumption", "assumed")
    assert g.edges["assumption:pelvis_forward/left", "state:posterior_capsule_closed/left"]["kind"] == "assumes"
    assert g.nodes["state:posterior_capsule_closed/left"]["assumptions"] == ("pelvis_forward/left", "pelvis_turned_away/left")
    # hip_hike was entered but no justification rests on it (IR was measured on the left)
    assert "finding:hip_hike/left" not in g
    kinds = [d["kind"] for _, d in g.nodes(data=True)]
    assert kinds == sorted(kinds, key=["finding", "assumption", "state", "recommendation"].index)
    assert nx.is_directed_acyclic_graph(g)
    assert {(d["id"], d["side"]) for _, d in g.nodes(data=True) if d["kind"] in ("state", "recommendation")} == {
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
    assert "rec:cable_crossover_step_up/left" not in g  # it rested on the dropped prediction
    assert nx.is_directed_acyclic_graph(g)


def test_focus_keeps_the_whole_path_and_nothing_else(demo):
    g = focus_graph(demo.graph(), "rec:arm_bar/left")
    assert set(g) == {
        "finding:supine_hip_ir/left", "finding:straight_leg_raise/left", "state:ir_limited/left",
        "state:pelvis_not_internally_rotating/left", "state:inlet_not_closing/left", "state:outlet_not_opening/left",
        "state:acetabulum_not_anteverted/left", "state:femur_glide_space_lacking/left", "rec:arm_bar/left",
    }
    assert all(nx.has_path(g, n, "rec:arm_bar/left") for n in g)


def test_the_chain_is_the_articles_and_each_side_stands_somewhere(kb, demo):
    assert list(chain_states(kb)) == CHAIN
    g = chain_graph(demo)
    standing = {(d["id"], d["side"]): d["standing"] for _, d in g.nodes(data=True) if d["kind"] == "chain"}
    # left: SLR 45° < 50° → every step fails, and IR is measured limited (12°)
    assert all(standing[(s, "left")] == "holds" for s in CHAIN)
    # right: SLR 85° → the pelvis rotates; the middle steps are not established; IR within range (40°)
    assert standing[("pelvis_not_internally_rotating", "right")] == "opposite"
    assert [standing[(s, "right")] for s in CHAIN[1:5]] == ["open"] * 4
    assert g.nodes["chain:ir_limited/right"]["shown"] == "ir_within_range"
    assert g.has_edge("finding:straight_leg_raise/left", "chain:pelvis_not_internally_rotating/left")
    assert g.has_edge("finding:supine_hip_ir/right", "chain:ir_limited/right")


def test_the_chain_marks_a_disagreement(kb):
    g = chain_graph(kb.assess(DISAGREEMENT))
    ir = g.nodes["chain:ir_limited/left"]
    assert (ir["standing"], ir["shown"], ir["disagreement"]) == ("opposite", "ir_within_range", "measured outweighs predicted")
    assert g.nodes["chain:femur_glide_space_lacking/left"]["standing"] == "holds"
    assert [d["side"] for _, d in g.nodes(data=True) if d["kind"] == "chain"] == ["left"] * 6  # nothing on the right


def test_model_graph_has_the_chain_the_branches_and_the_calls(kb):
    g = model_graph(kb)
    for cause, effect in zip(CHAIN, CHAIN[1:]):
        assert g.edges[node_id("state", cause), node_id("state", effect)]["kind"] == "conclude"
    for cause in ("posterior_capsule_closed", "deep_external_rotators_stiff"):
        assert g.has_edge(node_id("state", cause), "state:posterior_hip_space_lacking")
    assert g.edges["finding:pelvis_forward", "state:ir_limited"]["kind"] == "explain"
    assert g.edges["finding:pelvis_turned_away", "state:posterior_capsule_closed"]["kind"] == "unless"
    assert g.edges["finding:supine_hip_ir", "state:ir_limitation_suspected"]["kind"] == "absent"
    assert g.edges["state:pelvis_not_internally_rotating", "rec:influence_pelvic_position"]["kind"] == "call"
    assert g.edges["finding:straight_leg_raise", "state:pelvis_not_internally_rotating"]["rule"] == "slr_space_lacking"
    assert all(d["side"] is None for _, d in g.nodes(data=True))
    assert not any(a == b for a, b in g.edges)


# -- golden DOT and Mermaid (read the diff before accepting one) ----------------------------


@pytest.mark.parametrize("fmt,suffix", [("dot", "dot"), ("mermaid", "mmd")])
def test_golden_case_diagram(kb, fmt, suffix):
    golden(f"confounded.{suffix}", render(kb.assess(CONFOUNDED), format=fmt))


@pytest.mark.parametrize("fmt,suffix", [("dot", "dot"), ("mermaid", "mmd")])
def test_golden_chain_with_a_disagreement(kb, fmt, suffix):
    golden(f"disagreement-chain.{suffix}", render(kb.assess(DISAGREEMENT), format=fmt, chain=True))


@pytest.mark.parametrize("fmt,suffix", [("dot", "dot"), ("mermaid", "mmd")])
def test_golden_model_focus(kb, fmt, suffix):
    golden(f"model-outlet_not_opening.{suffix}", render(kb, format=fmt, focus="outlet_not_opening"))


# -- slide defaults -------------------------------------------------------------------------------


def test_demo_png_fits_a_slide_at_the_default_dpi(demo):
    width, height = png_size(render(demo, format="png"))
    assert width / height <= 2.0, (width, height)
    assert width >= 1200, (width, height)


def test_dpi_sets_the_png_resolution(kb):
    result = kb.assess(CONFOUNDED)
    w96, h96 = png_size(render(result, format="png"))
    w192, h192 = png_size(render(result, format="png", dpi=192))
    assert abs(w192 - 2 * w96) <= 4 and abs(h192 - 2 * h96) <= 4


def test_brief_labels_are_plain_words_without_ids(demo, demo_svg):
    nodes = svg_nodes(demo_svg)
    text = " ".join(nodes.values()) + " " + edge_text(demo_svg)
    ids = {*demo.kb.states, *demo.kb.findings, *demo.kb.recommendations, *demo.kb.rule_index}
    assert not [i for i in ids if re.search(rf"\b{re.escape(i)}\b", text)]
    assert edge_text(demo_svg).strip() == ""  # no rule ids on the arrows
    assert "measured: 12°, below 25°" in nodes["state.ir_limited/left"]
    assert "Supine hip internal rotation at 90° hip flexion 12°" in nodes["finding.supine_hip_ir/left"]


def test_brief_view_lists_the_programme_in_order_and_boxes_the_chain(demo_svg):
    nodes = svg_nodes(demo_svg)
    exercises = nodes["recs.exercise/left"]
    assert exercises.index("Start on the ground") < exercises.index("1. Arm bar") < exercises.index(
        "2. Front foot elevated split squat") < exercises.index("3. Cable crossover step-up")
    chain = words(nodes["chain.left"])
    positions = [chain.index(words(label)) for label in (
        "Pelvis not internally rotating", "Pelvic inlet not closing", "Pelvic outlet not opening",
        "Hip socket not facing forward", "Lacking space for the femur to glide in the socket")]
    assert positions == sorted(positions)
    assert "borderline" in nodes["chain.left"]  # SLR 45° is within the 6° measurement error of 50°
    assumed = words(next(t for n, t in nodes.items() if n.startswith("missing.left")
                         and "Pelvisforward" in words(t)))
    assert words("Pelvis turned away from the tested side") in assumed and "notrecorded" in assumed.lower()


@pytest.mark.parametrize("findings,options", [
    (None, {}),  # demo-01
    ({"supine_hip_ir": {"left": 12, "right": 14}, "pelvis_forward": False, "pelvis_turned_away": False,
      "straight_leg_raise": {"left": 70, "right": 70}, "pinch_in_flexion_ir": False}, {}),
    ({"supine_hip_ir": {"left": 12, "right": 14}, "pelvis_forward": False, "pelvis_turned_away": False,
      "straight_leg_raise": {"left": 70, "right": 70}, "pinch_in_flexion_ir": False}, {"detail": "full"}),
    ({"straight_leg_raise": {"left": 50, "right": 49}}, {}),
    ({"supine_hip_ir": {"left": 12, "right": 12}, "pinch_in_flexion_ir": "left"}, {}),
    ({"supine_hip_ir": {"left": 25, "right": 35}, "supine_hip_flexion": {"left": 100}}, {"detail": "full"}),
    ({"supine_hip_ir": {"left": 12, "right": 14}, "straight_leg_raise": {"left": 40, "right": 70}}, {"chain": True}),
])
def test_left_hip_is_drawn_before_the_right(kb, demo, findings, options):
    # these cases once drew the right hip first: Graphviz orders unconnected clusters as it likes
    result = demo if findings is None else kb.assess({"findings": findings})
    rankdir = re.search(r"rankdir=(\w+)", render(result, **options)).group(1)
    positions = svg_positions(render(result, format="svg", **options))
    left, right = positions["cluster_left"], positions["cluster_right"]
    if rankdir == "LR":  # clusters stack: left above right (SVG y grows downwards)
        assert left[1] < right[1]
    else:
        assert left[0] < right[0]


@pytest.mark.parametrize("options", [
    {}, {"focus": "arm_bar", "side": "left"}, {"chain": True}, {"detail": "full"},
])
def test_every_view_has_a_legend_unless_asked_not_to(demo, options):
    assert "legend" in svg_nodes(render(demo, format="svg", **options))
    assert "legend" not in svg_nodes(render(demo, format="svg", legend=False, **options))


def test_rule_ids_and_full_detail(demo):
    with_ids = render(demo, format="svg", rule_ids=True)
    assert "ir_measured_limited" in edge_text(with_ids)
    full = render(demo, format="svg", detail="full")
    nodes = svg_nodes(full)
    assert {"rec.arm_bar/left", "rec.front_foot_elevated_split_squat/left", "state.inlet_not_closing/left",
            "assumption.pelvis_forward/left"} <= set(nodes)
    assert "ir_limited · left · measured · clinical-norm" in nodes["state.ir_limited/left"]
    assert "femur_glide_space_enables_ir" in edge_text(full)
    # full detail draws every step: more arrows than the brief view
    assert len(re.findall(r" -> ", render(demo, detail="full"))) > len(re.findall(r" -> ", render(demo)))


def test_focus_view_is_the_path_alone(demo):
    svg = render(demo, format="svg", focus="arm_bar", side="left")
    names = set(svg_nodes(svg)) - {"legend"}
    assert names == {
        "finding.supine_hip_ir/left", "finding.straight_leg_raise/left", "state.ir_limited/left",
        "state.pelvis_not_internally_rotating/left", "state.inlet_not_closing/left", "state.outlet_not_opening/left",
        "state.acetabulum_not_anteverted/left", "state.femur_glide_space_lacking/left", "rec.arm_bar/left",
    }
    assert "Exercise 1: Arm bar" in svg_nodes(svg)["rec.arm_bar/left"]


def test_focus_without_side_takes_every_side_where_it_holds(kb):
    result = kb.assess({"findings": {"supine_hip_ir": {"left": 12, "right": 14}}})
    ids = {n["id"] for n in json.loads(render(result, format="json", focus="arm_bar"))["nodes"]}
    assert {"rec:arm_bar/left", "rec:arm_bar/right"} <= ids


def test_chain_view_highlights_each_side(demo):
    svg = render(demo, format="svg", chain=True)
    nodes = svg_nodes(svg)
    assert set(nodes) - {"legend"} >= {f"chain.{s}/left" for s in CHAIN} | {f"chain.{s}/right" for s in CHAIN}
    assert "Pelvis internally rotating" in nodes["chain.pelvis_not_internally_rotating/right"]
    assert "not established in this case" in nodes["chain.inlet_not_closing/right"]
    assert "Hip internal rotation within range" in words(nodes["chain.ir_limited/right"]) or \
        words("Hip internal rotation within range") in words(nodes["chain.ir_limited/right"])
    root = ET.fromstring(svg)
    fills = {g.find(f"{SVG}title").text: [p.get("fill") for p in g.iter() if p.get("fill") not in (None, "none")]
             for g in root.iter(f"{SVG}g") if g.get("class") == "node"}
    # a failing step and a working step are told apart by colour
    assert fills["chain.inlet_not_closing/left"][0] != fills["chain.pelvis_not_internally_rotating/right"][0]
    assert fills["chain.inlet_not_closing/left"][0] != fills["chain.inlet_not_closing/right"][0]


def test_chain_view_marks_disagreements_and_assumptions(kb):
    text = render(kb.assess(DISAGREEMENT), format="mermaid", chain=True)
    assert "outweighs the chain#39;s prediction" in text or "outweighs the chain's prediction" in text
    given = kb.assess({"findings": {"supine_hip_ir": {"left": 12}, "deep_external_rotators_stiff": "left"}})
    assert "Pelvic chain" not in render(given)  # one step alone is not boxed
    with pytest.raises(ExplainError, match="chain"):
        render(kb, chain=True)


def test_kb_model_is_drawn_in_layers(kb):
    source = render(kb)
    rankdir = re.search(r"rankdir=(\w+)", source).group(1)
    axis = 0 if rankdir == "LR" else 1
    positions = svg_positions(render(kb, format="svg"))
    layer = {"finding": [], "state": [], "rec": []}
    for name, pos in positions.items():
        kind = name.split(".")[0].rstrip("s")
        if kind in ("finding", "state", "rec", "recommendation"):
            layer["rec" if kind.startswith("rec") else kind].append(pos[axis])
    assert layer["finding"] and layer["state"] and layer["rec"]
    assert max(layer["finding"]) < min(layer["state"])
    assert max(layer["state"]) < min(layer["rec"])


def test_kb_model_leaves_out_what_the_picture_already_says(kb):
    brief, full = render(kb), render(kb, detail="full")
    # the chain's last step calls for influencing the pelvis; its earlier steps lead there
    assert '"state.femur_glide_space_lacking" -> "rec.influence_pelvic_position"' in brief
    assert '"state.pelvis_not_internally_rotating" -> "rec.influence_pelvic_position"' not in brief
    assert '"state.pelvis_not_internally_rotating" -> "rec.influence_pelvic_position"' in full
    # limited IR is a condition of every call of the posterior strategy: drawn once, from the causes
    assert '"state.ir_limited" -> "rec.open_posterior_pelvis_and_hip"' not in brief
    assert len(re.findall(r" -> ", brief)) < 0.7 * len(re.findall(r" -> ", full))


def test_kb_focus_narrows_the_model(kb):
    names = set(svg_nodes(render(kb, format="svg", focus="outlet_not_opening"))) - {"legend"}
    assert names == {
        "finding.straight_leg_raise", "state.pelvis_not_internally_rotating", "state.inlet_not_closing",
        "state.outlet_not_opening", "state.acetabulum_not_anteverted", "state.pelvic_floor_not_ascending",
        "rec.influence_pelvic_position",
    }


def test_svg_png_pdf(kb, demo, demo_svg):
    assert ET.fromstring(demo_svg).tag == f"{SVG}svg"
    assert render(kb, format="png").startswith(b"\x89PNG")
    assert render(demo, format="pdf", chain=True).startswith(b"%PDF")


def test_json_is_node_link_with_edges_key_and_ascii(demo):
    text = render(demo, format="json")
    data = json.loads(text)
    g = nx.node_link_graph(data, edges="edges")
    assert set(g) == set(demo.graph())
    assert g.edges["finding:supine_hip_ir/left", "state:ir_limited/left"]["rule"] == "ir_measured_limited"
    assert text.isascii()
    chain = json.loads(render(demo, format="json", chain=True))
    assert {n["id"] for n in chain["nodes"]} >= {"chain:ir_limited/left", "chain:ir_limited/right"}


def test_same_input_gives_byte_identical_output_across_hash_seeds():
    script = (
        "import sys, hipkb\n"
        "r = hipkb.assess(sys.argv[1])\n"
        "kb = hipkb.load_kb()\n"
        "out = [hipkb.render(r), hipkb.render(r, format='mermaid'), hipkb.render(r, format='json'),\n"
        "       hipkb.render(r, chain=True), hipkb.render(r, focus='arm_bar', side='left'), hipkb.render(kb),\n"
        "       hipkb.render(kb, format='mermaid', focus='ir_limited'), hipkb.render(r, format='html')]\n"
        "sys.stdout.write('\\n=====\\n'.join(out))\n"
    )
    outputs = set()
    for seed in ("0", "1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-c", script, str(DEMO)], capture_output=True, env=env, check=True)
        outputs.add(proc.stdout)
    assert len(outputs) == 1


def test_importing_hipkb_loads_neither_networkx_nor_graphviz():
    script = (
        "import sys, hipkb\n"
        "hipkb.assess({'findings': {'supine_hip_ir': {'left': 12}}})\n"
        "print('networkx' in sys.modules, 'graphviz' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["False", "False"]


def test_render_stays_the_function_after_importing_the_submodules(demo):
    script = (
        "import hipkb, hipkb.render, hipkb.render.html, hipkb.render.dot\n"
        "import hipkb.render as again\n"
        "r = hipkb.assess({'findings': {'supine_hip_ir': {'left': 12}}})\n"
        "a = hipkb.render(r)\n"
        "b = hipkb.render(r)\n"
        "print(callable(hipkb.render), a == b, a.startswith('digraph hipkb {'), callable(again))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["True", "True", "True", "True"]
    import hipkb.render.views  # noqa: F401  (in this process too)

    assert callable(hipkb.render) and hipkb.render(demo) == hipkb.render(demo)


# -- escaping: hostile labels stay literal text ---------------------------------------------------

HOSTILE = ('Evil "quoted" \\ back\\slash \\N \\l <b>bold</b> <script>x</script> {brace} | pipe & amp; #35; '
           '`tick` [x] (y)\nsecond\u2028line\u2029end')


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


def test_hostile_labels_render_literally_in_svg(hostile_kb):
    result = hostile_kb.assess({"subject": 'case "x" \\ <y>', "findings": {"supine_hip_ir": {"left": 12}}})
    expected = words(clean(HOSTILE))
    # the newline and the separators are spelled out, not obeyed
    assert "\\n" in clean(HOSTILE) and "\\u2028" in clean(HOSTILE) and "\\u2029" in clean(HOSTILE)
    for options, node in (
        ({"detail": "full"}, "state.ir_limited/left"),
        ({"detail": "full"}, "finding.supine_hip_ir/left"),
        ({"detail": "full"}, "rec.cable_crossover_step_up/left"),
        ({"focus": "cable_crossover_step_up", "side": "left"}, "rec.cable_crossover_step_up/left"),
        ({"chain": True}, "chain.ir_limited/left"),
    ):
        svg = render(result, format="svg", **options)  # dot must accept the DOT text
        assert expected in words(svg_nodes(svg)[node]), (options, node)
    assert 'case "x" \\ <y>' in graph_label(render(result, format="svg"))
    exercises = words(svg_nodes(render(result, format="svg"))["recs.exercise/left"])
    assert "3." + expected in exercises
    assert expected in words(svg_nodes(render(hostile_kb, format="svg", detail="full"))["state.ir_limited"])


def test_hostile_labels_cannot_break_mermaid(hostile_kb):
    result = hostile_kb.assess({"findings": {"supine_hip_ir": {"left": 12}}})
    text = render(result, format="mermaid", detail="full")
    quoted = r'"(?:[^"])*"'
    node_line = re.compile(rf'^\s+n\d+(\[/{quoted}/\]|\({quoted}\)|\[{quoted}\]|\[\[{quoted}\]\]|\{{\{{{quoted}\}}\}}):::\w+$')
    edge_line = re.compile(r'^\s+n\d+ (-\.?->|==>)(\|"[^"|]*"\| | )n\d+$')
    for line in text.splitlines():
        if re.match(r"^\s+n\d+[\[({]", line):
            assert node_line.match(line), line
        elif re.match(r"^\s+n\d+ ", line):
            assert edge_line.match(line), line
    assert "<script>" not in text and "{brace}" not in text and "| pipe" not in text and "\u2028" not in text
    assert "#34;quoted#34;" in text and "#60;script#62;" in text and "#35;35#59;" in text
    assert mermaid_text('"<>#&{}|;`\\[]()') == "#34;#60;#62;#35;#38;#123;#125;#124;#59;#96;#92;#91;#93;#40;#41;"


def test_dot_text_quotes_through_graphviz(hostile_kb):
    from hipkb.render.dot import label_text, plain

    assert plain('a "b" \\N <c>') == 'a "b" \\\\N <c>'  # graphviz.escape: backslashes doubled, not HTML
    assert label_text('<b>"&\\N\n') == "&lt;b&gt;&quot;&amp;\\\\N\\\\n"
    source = render(hostile_kb.assess({"findings": {"supine_hip_ir": {"left": 12}}}), detail="full")
    assert "<script>" not in source and "\u2028" not in source and "\n second" not in source


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
    assert render(demo, format="mermaid").startswith("flowchart ")
    assert json.loads(render(demo, format="json"))["nodes"]


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
    with pytest.raises(RenderError, match=r"unknown format 'svgg' \(did you mean 'svg'\?\)"):
        render(demo, format="svgg")  # type: ignore[call-overload]
    with pytest.raises(ExplainError, match=r"unknown id 'arm_barr' \(did you mean 'arm_bar'\?\)"):
        render(demo, focus="arm_barr")
    with pytest.raises(ExplainError, match="'arm_bar' does not hold on the right in this case"):
        render(demo, focus="arm_bar", side="right")
    with pytest.raises(ExplainError, match="unknown side 'middle'"):
        render(demo, focus="arm_bar", side="middle")
    with pytest.raises(ExplainError, match="no sides"):
        render(kb, focus="ir_limited", side="left")
    with pytest.raises(ExplainError, match="a side only applies with a focus"):
        render(demo, side="left")
    with pytest.raises(ExplainError, match="leave out the focus"):
        render(demo, chain=True, focus="arm_bar")
    with pytest.raises(RenderError, match="cannot draw a dict"):
        render({"findings": {}})  # type: ignore[call-overload]
    with pytest.raises(RenderError, match="png only, not svg"):
        render(demo, format="svg", dpi=150)
    with pytest.raises(RenderError, match="from 10 to 1200"):
        render(demo, format="png", dpi=0)
    with pytest.raises(RenderError, match="unknown detail 'fulll'"):
        render(demo, detail="fulll")  # type: ignore[arg-type]
    with pytest.raises(RenderError, match="give a result, not a knowledge base"):
        render(kb, format="html")
    for err in (RenderError, ExplainError):
        assert issubclass(err, hipkb.HipkbError)


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
        ("mmd", lambda b: b.startswith(b"flowchart ")),
        ("json", lambda b: "nodes" in json.loads(b)),
    ):
        out = tmp_path / f"case.{suffix}"
        code, stdout, err = run_cli(capsys, "diagram", DEMO, "-o", out)
        assert (code, stdout, err) == (0, "", ""), suffix
        assert check(out.read_bytes()), suffix


def test_cli_diagram_to_stdout_matches_the_library(demo, capsys):
    code, out, _ = run_cli(capsys, "diagram", DEMO)
    assert code == 0 and out == render(demo)
    code, out, _ = run_cli(capsys, "diagram", DEMO, "--format", "mermaid", "--focus", "arm_bar", "--side", "left")
    assert code == 0 and out == render(demo, format="mermaid", focus="arm_bar", side="left")
    code, out, _ = run_cli(capsys, "diagram", DEMO, "--chain", "--rule-ids", "--detail", "full", "--no-legend")
    assert code == 0 and out == render(demo, chain=True, rule_ids=True, detail="full", legend=False)


def test_cli_diagram_dpi(tmp_path, capsys):
    small, large = tmp_path / "a.png", tmp_path / "b.png"
    assert run_cli(capsys, "diagram", DEMO, "--chain", "-o", small)[0] == 0
    assert run_cli(capsys, "diagram", DEMO, "--chain", "--dpi", "192", "-o", large)[0] == 0
    assert png_size(large.read_bytes())[0] > 1.9 * png_size(small.read_bytes())[0]


@pytest.mark.parametrize("args,message", [
    (["--format", "png"], "png is binary: write it to a file with -o FILE.png"),
    (["-o", "{tmp}/case.txt"], "cannot tell the format from the file name 'case.txt'"),
    (["-o", "{tmp}/case.svg", "--format", "dot"], "--format dot does not match the file suffix '.svg'"),
    (["-o", "{tmp}/case.html"], "hipkb report CASE -o FILE.html"),
    (["--side", "left"], "--side needs --focus ID"),
    (["--chain", "--focus", "arm_bar"], "--chain draws the whole chain: leave out --focus"),
    (["--dpi", "150", "-o", "{tmp}/old.svg"], "--dpi applies to png only, not svg"),
    (["--focus", "arm_bar", "--side", "right", "-o", "{tmp}/old.svg"], "'arm_bar' does not hold on the right in this case"),
    (["-o", str(DEMO), "--format", "svg"], "refusing to overwrite an input file"),
])
def test_cli_diagram_bad_input_exits_2_and_leaves_files_alone(tmp_path, capsys, args, message):
    old = tmp_path / "old.svg"
    old.write_text("old")
    before = DEMO.read_bytes()
    code, out, err = run_cli(capsys, "diagram", DEMO, *[a.format(tmp=tmp_path) for a in args])
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert old.read_text() == "old" and DEMO.read_bytes() == before


def test_cli_kb_diagram(tmp_path, kb, capsys):
    out = tmp_path / "model.svg"
    assert run_cli(capsys, "kb", "diagram", "-o", out)[0] == 0
    assert "state.ir_limited" in svg_nodes(out.read_bytes())
    code, text, _ = run_cli(capsys, "kb", "diagram", "--format", "mermaid", "--focus", "outlet_not_opening")
    assert code == 0 and text == render(kb, format="mermaid", focus="outlet_not_opening")
    code, _, err = run_cli(capsys, "kb", "diagram", "--focus", "outlet_opned")
    assert code == 2 and "did you mean 'outlet_not_opening'?" in err
