"""The embedding API a developer relies on (issue "Embedding API", DESIGN "Interfaces")."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hipkb
from hipkb.errors import CaseError, HipkbError, InputError, UnknownId

DEMO = {"findings": {"supine_hip_ir": {"left": 12, "right": 40}, "straight_leg_raise": {"left": 45, "right": 85},
                     "hip_hike": "left", "rib_cage_side_bend": True}}


def test_public_names() -> None:
    result = hipkb.assess(DEMO)
    assert isinstance(result, hipkb.Result)
    assert isinstance(result.conclusions[0], hipkb.Conclusion)
    assert isinstance(result.recommendations[0], hipkb.RecommendationResult)
    assert isinstance(hipkb.load_kb(), hipkb.KnowledgeBase)
    assert issubclass(UnknownId, HipkbError) and issubclass(CaseError, InputError)
    assert hipkb.__version__ == "0.2.0"
    assert hipkb.load_kb().version == "2.0.0"  # the KB has its own version, named as such


def test_assess_takes_a_mapping_a_path_and_both_engines(repo: Path) -> None:
    by_path = hipkb.assess(repo / "examples" / "demo-01.yaml")
    by_text_path = hipkb.assess(str(repo / "examples" / "demo-01.yaml"), engine="experta")
    assert by_path.to_dict() == by_text_path.to_dict()
    assert by_path.to_dict()["subject"] == "demo-01"


def test_an_unknown_id_is_an_error_never_a_silent_false() -> None:
    result = hipkb.assess(DEMO)
    with pytest.raises(UnknownId) as err:
        result.holds("ir_limitd", "left")
    assert str(err.value) == "unknown id 'ir_limitd' (did you mean 'ir_limited'?)"
    with pytest.raises(UnknownId):
        result.conclusion("arm_bar", "left")  # a recommendation, not a state
    assert result.holds("ir_limited", "right") is False  # a known id that does not hold
    with pytest.raises(UnknownId) as err:
        result.holds("ir_limited", "lft")  # type: ignore[arg-type]
    assert str(err.value) == "unknown side 'lft' (did you mean 'left'?)"


def test_library_errors_never_name_cli_flags() -> None:
    with pytest.raises(CaseError) as err:
        hipkb.assess(DEMO, thresholds={"supine_ir": 30})
    assert str(err.value) == "unknown threshold 'supine_ir' (did you mean 'supine_hip_ir'?)"
    with pytest.raises(CaseError) as err:
        hipkb.assess(DEMO, mdc={"supine_hip_ir": -1})
    assert "--" not in str(err.value)
    with pytest.raises(InputError) as err:
        hipkb.assess(DEMO, engine="rete")  # type: ignore[arg-type]
    assert str(err.value) == "unknown engine 'rete' (did you mean 'experta'?)" or "--engine" not in str(err.value)


def test_thresholds_and_mdc_override_kb_then_case_file_then_call(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text("findings:\n  supine_hip_ir: {left: 28}\nthresholds: {supine_hip_ir: 30}\nmdc: {supine_hip_ir: 1}\n")
    from_file = hipkb.assess(case)
    assert from_file.holds("ir_limited", "left") and from_file.conclusion("ir_limited", "left").measurement.mdc == 1
    assert not from_file.conclusion("ir_limited", "left").measurement.borderline  # |28 - 30| = 2, not < 1
    called = hipkb.assess(case, thresholds={"supine_hip_ir": 25}, mdc={"supine_hip_ir": 4})
    assert called.holds("ir_within_range", "left")
    assert called.conclusion("ir_within_range", "left").measurement.borderline  # |28 - 25| = 3 < 4
    assert dict(called.thresholds)["supine_hip_ir"] == 25 and dict(called.mdc)["supine_hip_ir"] == 4


def test_results_are_immutable_all_the_way_down() -> None:
    kb = hipkb.load_kb()
    result = kb.assess(DEMO)
    with pytest.raises(TypeError):
        result.thresholds["supine_hip_ir"] = 0  # type: ignore[index]
    with pytest.raises(TypeError):
        result.case.findings[("hip_hike", "left")] = False  # type: ignore[index]
    with pytest.raises(AttributeError):
        kb.states.clear()  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        kb.thresholds["supine_hip_ir"] = None  # type: ignore[index]
    with pytest.raises(AttributeError):
        result.conclusions[0].status = "given"  # type: ignore[misc]
    assert isinstance(result.conclusions, tuple) and isinstance(result.conclusions[0].justifications, tuple)
    data = result.to_dict()
    data["conclusions"].clear()
    data["thresholds"]["supine_hip_ir"] = 99
    assert result.to_dict()["conclusions"] and result.thresholds["supine_hip_ir"] == 25
    assert hipkb.assess(DEMO).to_dict() == result.to_dict()  # nothing reached the shared KB


def test_json_carries_the_entered_findings_thresholds_and_sources() -> None:
    data = hipkb.assess(DEMO).to_dict()
    assert data["schema_version"] == 2
    assert data["findings"] == {"supine_hip_ir": {"left": 12, "right": 40}, "straight_leg_raise": {"left": 45, "right": 85},
                                "hip_hike": {"left": True, "right": False}, "rib_cage_side_bend": True}
    assert data["thresholds"] == {"ir_asymmetry": 10, "straight_leg_raise": 50, "supine_hip_flexion": 100, "supine_hip_ir": 25}
    assert data["mdc"]["supine_hip_ir"] == 6.1
    assert data["sources"]["article"].startswith("Resilient Movement (2025)")
    capsule = next(c for c in data["conclusions"] if c["id"] == "posterior_capsule_closed")
    # DESIGN's own example of the shape
    assert (capsule["side"], capsule["status"], capsule["evidence"]) == ("left", "indicated", "coaching-model")
    assert capsule["assumptions"] == [{"id": "pelvis_forward", "side": "left"}, {"id": "pelvis_turned_away", "side": "left"}]
    assert capsule["justifications"][0]["because"] == ["ir_limited/left", "supine_hip_ir/left"]
    assert capsule["justifications"][0]["source"]["quote"].startswith("By bringing the leg to 90 degrees")
    limited = next(c for c in data["conclusions"] if c["id"] == "ir_limited")
    assert limited["measurement"] == {"finding": "supine_hip_ir", "side": "left", "value": 12, "threshold": 25,
                                      "margin": -13, "mdc": 6.1, "borderline": False}
    arm_bar = next(r for r in data["recommendations"] if r["id"] == "arm_bar")
    assert (arm_bar["side"], arm_bar["kind"], arm_bar["order"], arm_bar["status"]) == ("left", "exercise", 1, "measured")
    assert "ir_limited/left" in arm_bar["addresses"]


def test_same_input_same_json_every_run() -> None:
    first = json.dumps(hipkb.assess(DEMO).to_dict())
    assert all(json.dumps(hipkb.assess(DEMO).to_dict()) == first for _ in range(3))
    reordered = {"findings": dict(reversed(list(DEMO["findings"].items())))}
    assert json.dumps(hipkb.assess(reordered).to_dict()) == first


def test_library_does_not_touch_logging_print_or_exit(capfd: pytest.CaptureFixture[str]) -> None:
    import logging

    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    for engine in ("compiled", "experta"):
        hipkb.assess(DEMO, engine=engine)  # type: ignore[arg-type]
    with pytest.raises(CaseError):
        hipkb.assess({"findings": {"nope": 1}})
    assert (list(root.handlers), root.level) == before
    assert capfd.readouterr() == ("", "")


def test_render_stays_the_function_after_importing_its_module() -> None:
    code = textwrap.dedent("""
        import hipkb
        r = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}}})
        first = hipkb.render(r, format="mermaid")
        import hipkb.render
        from hipkb import render as again
        assert callable(hipkb.render) and again is hipkb.render
        assert hipkb.render(r, format="mermaid") == first
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stdout.strip()) == (0, "ok"), proc.stderr


def test_heavy_modules_load_only_when_needed(tmp_path: Path) -> None:
    # The cold-start work of issue 17: besides the engines and renderers, a case needs neither PyYAML
    # (a mapping, or a file in the common YAML shapes: test_yaml_subset; the KB comes from the cache,
    # filled first) nor dataclasses and inspect (records), nor difflib (suggestions) and traceback
    # (--debug) unless something goes wrong.
    env = dict(os.environ, HIPKB_CACHE_DIR=str(tmp_path / "cache"))
    subprocess.run([sys.executable, "-c", "import hipkb; hipkb.load_kb()"], env=env, timeout=60, check=True)
    code = textwrap.dedent("""
        import sys, hipkb
        hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}}}).to_dict()
        print(sorted(m for m in ("experta", "networkx", "graphviz", "multiprocessing", "concurrent.futures",
                                 "yaml", "dataclasses", "inspect", "difflib", "traceback") if m in sys.modules))
    """)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stdout.strip()) == (0, "[]"), proc.stderr


TYPED_USES = [  # (line, whether a type checker accepts it)
    ('hipkb.render(r, format="svg").decode()', True),
    ('hipkb.render(r, format="mermaid").splitlines()', True),
    ('hipkb.render(r, format="svgg")', False),
    ('hipkb.render(r, format="svg").splitlines("x")', False),
    ('r.holds("ir_limited", side="lft")', False),
    ('hipkb.assess({}, engine="rete")', False),
    ('c = r.conclusion("ir_limited", "left"); print(c.status if c else None)', True),
]


def test_a_type_checker_understands_the_api(tmp_path: Path) -> None:
    """mypy --strict accepts the right uses and rejects a misspelt format, side or engine (one run, line by line)."""
    from conftest import require

    require(importlib.util.find_spec("mypy") is not None, "mypy is not installed (it is in the test extra)")
    import mypy.api as mypy
    source = tmp_path / "use.py"
    head = "import hipkb\nr = hipkb.assess({})\n"
    source.write_text(head + "".join(f"{line}\n" for line, _ in TYPED_USES))
    out, err, _ = mypy.run(["--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"), str(source)])
    flagged = {int(line.split(":")[1]) - 2 for line in out.splitlines() if ": error:" in line}
    assert flagged == {i + 1 for i, (_, ok) in enumerate(TYPED_USES) if not ok}, out + err
