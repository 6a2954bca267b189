"""The committed diagrams/ are up to date with the KB, the examples and the renderer.

Only the DOT and Mermaid text is compared (SVG bytes depend on the Graphviz
version). After changing the KB, an example or the drawing code, run
``python scripts/make_diagrams.py`` and commit diagrams/.
"""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET

import pytest

from conftest import REPO

SCRIPT = REPO / "scripts" / "make_diagrams.py"


@pytest.fixture(scope="module")
def make_diagrams():
    spec = importlib.util.spec_from_file_location("make_diagrams", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_diagram_sources_are_not_stale(make_diagrams):
    stale = make_diagrams.stale(REPO)
    assert not stale, f"stale diagrams: {', '.join(stale)}; run python scripts/make_diagrams.py and commit diagrams/"


def test_every_example_and_the_kb_model_are_drawn_in_three_formats(make_diagrams):
    names = set(make_diagrams.sources(REPO))
    assert "kb-model" in names
    assert {case.stem for case in (REPO / "examples").glob("*.y*ml")} <= names
    for name in names:
        for suffix in (".dot", ".mmd", ".svg"):
            assert (REPO / "diagrams" / (name + suffix)).is_file(), name + suffix
        root = ET.parse(REPO / "diagrams" / (name + ".svg")).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_the_check_fails_on_a_stale_file(make_diagrams, tmp_path):
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
    assert make_diagrams.stale(fake) == ["kb-model.dot", "kb-model.mmd"]
