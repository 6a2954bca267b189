"""The committed diagrams/ are up to date with the KB, the examples and the renderer, and show the slide defaults.

Only the DOT and Mermaid text is compared (SVG bytes depend on the Graphviz
version). After changing the KB, an example or the drawing code, run
``python scripts/make_diagrams.py`` and commit diagrams/.
"""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET

import pytest

from conftest import REPO

SCRIPT = REPO / "scripts" / "make_diagrams.py"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def make_diagrams():
    spec = importlib.util.spec_from_file_location("make_diagrams", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_diagram_sources_are_not_stale(make_diagrams):
    stale = make_diagrams.stale(REPO)
    assert not stale, f"stale diagrams: {', '.join(stale)}; run python scripts/make_diagrams.py and commit diagrams/"


def test_the_committed_set_is_the_kb_demo_its_chain_and_one_path(make_diagrams):
    names = set(make_diagrams.sources(REPO))
    assert {"kb-model", "demo-01", "demo-01-chain", "demo-01-arm_bar-left"} <= names
    for name in names:
        for suffix in (".dot", ".mmd", ".svg"):
            assert (REPO / "diagrams" / (name + suffix)).is_file(), name + suffix
        root = ET.parse(REPO / "diagrams" / (name + ".svg")).getroot()
        assert root.tag == f"{SVG}svg"


def test_committed_diagrams_show_the_slide_defaults():
    demo = (REPO / "diagrams" / "demo-01.dot").read_text(encoding="utf-8")
    assert "Left hip" in demo and "Right hip" in demo and demo.index("cluster_left") < demo.index("cluster_right")
    assert "legend" in demo
    assert not re.search(r"\blabel=<[^>]*ir_measured_limited", demo)  # no rule ids on the arrows
    for name in ("demo-01-chain", "demo-01-arm_bar-left", "kb-model"):
        assert "legend" in (REPO / "diagrams" / f"{name}.dot").read_text(encoding="utf-8"), name
    chain = (REPO / "diagrams" / "demo-01-chain.dot").read_text(encoding="utf-8")
    assert "the pelvic chain, pelvis → inlet → outlet → socket → femur glide → IR" in chain


def test_the_check_fails_on_a_stale_missing_or_left_over_file(make_diagrams, tmp_path):
    fake = tmp_path / "repo"
    (fake / "examples").mkdir(parents=True)
    for case in (REPO / "examples").glob("*.y*ml"):
        (fake / "examples" / case.name).write_bytes(case.read_bytes())
    (fake / "diagrams").mkdir()
    for file, text in make_diagrams.expected_text(fake).items():
        (fake / "diagrams" / file).write_text(text, encoding="utf-8")
    assert make_diagrams.stale(fake) == []
    (fake / "diagrams" / "kb-model.dot").write_text("digraph old {}\n", encoding="utf-8")
    (fake / "diagrams" / "kb-model.mmd").unlink()
    (fake / "diagrams" / "gone.dot").write_text("digraph gone {}\n", encoding="utf-8")
    assert make_diagrams.stale(fake) == ["kb-model.dot", "kb-model.mmd", "gone.dot"]
