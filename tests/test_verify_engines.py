"""``hipkb kb check --verify-engines``: both engines on the scenario cases and on generated ones.

DESIGN (Engines): "A test suite runs both engines on every scenario and on
generated cases and requires identical JSON; `hipkb kb check` can run that
comparison for any KB (`--verify-engines`)." The check prints each case
the engines differ on, naming the items (id/side) and what differs, or
"both engines agree on N cases"; a difference exits 1.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import hipkb
from conftest import REPO
from hipkb.cli import main
from hipkb.engines.compiled import CompiledEvaluator

SCENARIO_FILES = sorted(p for p in (REPO / "tests" / "cases").iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def run(*args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        code = main(list(args))
    return code, out.getvalue().decode(), err.getvalue().decode()


@pytest.fixture
def broken_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled evaluator loses every firing of rule ir_measured_limited (supine IR below its threshold)."""
    kb = hipkb.load_kb()
    real = CompiledEvaluator.run

    def run_without(self: CompiledEvaluator, findings: Any, given: Any, thresholds: Any) -> list[Any]:
        return [f for f in real(self, findings, given, thresholds) if kb.branches[f[0]].rule.id != "ir_measured_limited"]

    monkeypatch.setattr(CompiledEvaluator, "run", run_without)


def test_the_shipped_kb_agrees_on_the_scenarios_and_generated_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, out, err = run("kb", "check", "--verify-engines", "--cases", "20")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "kb: 0 errors, 0 warnings"
    found = re.fullmatch(r"both engines agree on (\d+) cases \((\d+) from the scenarios in tests/cases, "
                         r"20 generated with seed 0\)", lines[1])
    assert found is not None and len(lines) == 2, out
    total, scenarios = int(found[1]), int(found[2])
    # every scenario file once, and again mirrored when it says so
    mirrored = sum("\nmirror: true\n" in f"\n{p.read_text()}" for p in SCENARIO_FILES)
    assert (total, scenarios) == (len(SCENARIO_FILES) + mirrored + 20, len(SCENARIO_FILES) + mirrored)


def test_without_scenarios_it_runs_the_generated_cases_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no tests/cases here
    code, out, _ = run("kb", "check", "--verify-engines", "--cases", "40")
    assert code == 0
    assert out.splitlines()[-1] == "both engines agree on 40 cases (40 generated with seed 0)"


def test_the_default_is_200_generated_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --cases, 200 generated cases are asked for (the comparison itself is tested above, on fewer)."""
    import hipkb.cli.kbtools as kbtools

    real = kbtools.compare_engines
    asked: list[int] = []

    def counting(kb: object, count: int, **kwargs: object) -> object:
        asked.append(count)
        return real(kb, 0, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kbtools, "compare_engines", counting)
    monkeypatch.chdir(tmp_path)
    run("kb", "check", "--verify-engines")
    assert asked == [200]


def test_an_engine_that_drops_a_firing_is_caught_and_named(broken_compiled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, out, err = run("kb", "check", "--verify-engines", "--cases", "0")
    assert (code, err) == (1, "")
    lines = out.splitlines()
    # r1: supine IR 12° on the left, 40° on the right (mirrored: the other way round)
    assert any(line.startswith("tests/cases/r1-ir-measured.yaml: the engines differ on ir_limited/left: "
                               "only the experta engine concludes it") for line in lines), out
    assert any(line.startswith("tests/cases/r1-ir-measured.yaml [mirrored]: the engines differ on ir_limited/right: "
                               "only the experta engine concludes it") for line in lines), out
    assert re.fullmatch(r"the engines differ on \d+ of \d+ cases \(\d+ from the scenarios in tests/cases, "
                        r"0 generated with seed 0\)", lines[-1]), lines[-1]


def test_the_json_lists_every_item_that_differs(broken_compiled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, out, _ = run("kb", "check", "--verify-engines", "--cases", "0", "--format", "json")
    assert code == 1
    engines = json.loads(out)["engines"]
    assert engines["agree"] is False and engines["generated"] == 0 and engines["scenarios_not_used"] == []
    assert engines["cases"] == engines["scenario_cases"] and len(engines["mismatches"]) < engines["cases"]
    (r1,) = [m for m in engines["mismatches"] if m["case"] == "tests/cases/r1-ir-measured.yaml"]
    assert r1["items"][0] == {"id": "ir_limited", "side": "left", "difference": "only the experta engine concludes it"}
    assert {"id": "ir_within_range", "side": "left"} not in [{"id": i["id"], "side": i["side"]} for i in r1["items"]]


def test_a_generated_case_that_differs_is_named_by_its_number(broken_compiled: None, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("kb", "check", "--verify-engines", "--cases", "30")
    assert code == 1
    assert re.search(r"^generated case \d+ \(seed 0\): the engines differ on ", out, re.MULTILINE), out
    assert re.fullmatch(r"the engines differ on \d+ of 30 cases \(30 generated with seed 0\)", out.splitlines()[-1])


def test_scenarios_written_for_another_kb_are_set_aside_and_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = tmp_path / "tests" / "cases"
    cases.mkdir(parents=True)
    shutil.copy(REPO / "tests" / "cases" / "r1-ir-measured.yaml", cases)
    (cases / "other.yaml").write_text("title: another KB\ncase:\n  findings: {hip_flexion_angle: 3}\nexpect: {}\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("kb", "check", "--verify-engines", "--cases", "5")
    assert code == 0
    assert out.splitlines()[1:] == [
        "scenario not used (it does not load with this knowledge base): "
        "tests/cases/other.yaml:3:14: unknown finding 'hip_flexion_angle' (did you mean 'supine_hip_flexion'?)",
        "both engines agree on 7 cases (2 from the scenarios in tests/cases, 5 generated with seed 0)",
    ]


def test_a_kb_with_errors_is_not_compared(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(REPO / "kb", kb)
    causal = kb / "causal.yaml"
    causal.write_text(causal.read_text().replace("    cause: inlet_not_closing\n", "    cause: inlet_not_closng\n", 1))
    code, out, _ = run("kb", "check", str(kb), "--verify-engines")
    assert code == 1
    assert out.splitlines()[-1] == "engines not compared: the knowledge base has errors"


def test_cases_needs_verify_engines() -> None:
    code, out, err = run("kb", "check", "--cases", "10")
    assert (code, out) == (2, "")
    assert err == "hipkb: error: --cases is the number of generated cases for --verify-engines: give both\n"


def test_without_the_flag_the_check_is_unchanged() -> None:
    code, out, _ = run("kb", "check")
    assert (code, out) == (0, "kb: 0 errors, 0 warnings\n")
    code, out, _ = run("kb", "check", "--format", "json")
    assert "engines" not in json.loads(out)
