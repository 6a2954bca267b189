"""Same input, same output: across runs, processes, hash seeds and key order.

Python randomises str hashing per process (PYTHONHASHSEED), so any set or
dict iteration that leaks into output shows up as a difference between
processes started with different seeds.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import hipkb
from hipkb.cli import main

from conftest import REPO

SEEDS = ["0", "1", "12345", str(random.SystemRandom().randrange(1, 2**32 - 1))]

#: Every finding, confounders on one side, compensations on the other, a
#: given state, and a threshold: enough to exercise every rule family.
RICH_CASE = {
    "subject": "determinism",
    "findings": {
        "supine_hip_ir": {"left": 12, "right": 31},
        "supine_hip_flexion": {"left": 95, "right": 120},
        "straight_leg_raise": {"left": 45, "right": 85},
        "pelvis_forward": {"right": True},
        "pelvis_turned_away": "right",
        "hip_hike": "left",
        "hip_shift_in_squat": ["left", "right"],
        "knee_hyperextension": False,
        "knee_valgus": {"left": True, "right": False},
        "knee_varus": "right",
        "foot_pronation": True,
        "rib_cage_side_bend": True,
        "lumbar_arch": True,
        "pinch_in_flexion_ir": "left",
        "pinch_in_extension_abduction": "right",
        "deep_external_rotators_stiff": "right",
    },
    "thresholds": {"supine_hip_ir": 30, "ir_asymmetry": 12},
}
#: No IR measured anywhere: the chain predicts, compensations suggest.
PREDICTED_CASE = {
    "findings": {
        "straight_leg_raise": {"left": 40},
        "rib_cage_side_bend": True,
        "knee_valgus": "right",
        "pelvis_internally_rotating": "right",
    },
}


@pytest.fixture(scope="module")
def case_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("determinism")
    files = {"demo": REPO / "examples" / "demo-01.yaml"}
    for name, case in (("rich", RICH_CASE), ("predicted", PREDICTED_CASE)):
        files[name] = folder / f"{name}.yaml"
        files[name].write_text(yaml.safe_dump(case, sort_keys=False), encoding="utf-8")
    return files


def hipkb_run(args: list[str], seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    proc = subprocess.run([sys.executable, "-m", "hipkb", *args], capture_output=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    return proc.stdout.decode("utf-8")


COMMANDS = [
    ("assess-json", ["assess", "{case}", "--format", "json"]),
    ("assess-text", ["assess", "{case}"]),
    ("how", ["how", "ir_limited", "--side", "left", "{case}"]),
    ("why", ["why", "ir_limited", "--side", "left", "{case}"]),
    ("diagram-dot", ["diagram", "{case}", "--format", "dot"]),
    ("diagram-mermaid", ["diagram", "{case}", "--format", "mermaid"]),
    ("diagram-json", ["diagram", "{case}", "--format", "json"]),
]


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_identical_across_processes_and_hash_seeds(command: tuple[str, list[str]], case_files: dict[str, Path]) -> None:
    _, template = command
    args = [str(case_files["rich"]) if a == "{case}" else a for a in template]
    outputs = {seed: hipkb_run(args, seed) for seed in SEEDS}
    first = outputs[SEEDS[0]]
    assert first.strip()
    for seed, text in outputs.items():
        assert text == first, f"output differs with PYTHONHASHSEED={seed}"


def test_every_case_identical_across_hash_seeds(case_files: dict[str, Path]) -> None:
    """All cases, both formats, in one process per seed (the library, not the CLI, is under test)."""
    script = (
        "import json, sys, hipkb\n"
        "from hipkb.answers.report import text_report\n"
        "kb = hipkb.load_kb()\n"
        "for path in sys.argv[1:]:\n"
        "    result = kb.assess(path)\n"
        "    sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))\n"
        "    sys.stdout.write(text_report(result))\n"
    )
    paths = [str(p) for p in case_files.values()]
    outputs = set()
    for seed in SEEDS:
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-c", script, *paths], capture_output=True, env=env, timeout=120, check=True)
        outputs.add(proc.stdout)
    assert len(outputs) == 1


def test_identical_across_runs_in_one_process(case_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    texts = []
    for _ in range(3):
        for fmt in ("json", "text"):
            assert main(["assess", str(case_files["rich"]), "--format", fmt]) == 0
        texts.append(capsys.readouterr().out)
    assert texts[0] and texts.count(texts[0]) == 3


def test_a_fresh_kb_gives_the_same_result(kb: hipkb.KnowledgeBase) -> None:
    assert hipkb.load_kb().assess(RICH_CASE).to_dict() == kb.assess(RICH_CASE).to_dict()


def shuffled(case: dict, rng: random.Random) -> dict:
    """The same case with every mapping's keys (and every side list) in another order."""
    def mix(value: object, depth: int) -> object:
        if isinstance(value, dict):
            items = list(value.items())
            rng.shuffle(items)
            return {k: mix(v, depth + 1) for k, v in items}
        if isinstance(value, list):
            items = list(value)
            rng.shuffle(items)
            return items
        return value

    return mix(case, 0)  # type: ignore[return-value]


@pytest.mark.parametrize("seed", range(10))
def test_key_order_does_not_change_the_result(seed: int, kb: hipkb.KnowledgeBase, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(seed)
    reference_file = tmp_path / "reference.yaml"
    reference_file.write_text(yaml.safe_dump(RICH_CASE, sort_keys=False), encoding="utf-8")
    variant = shuffled(RICH_CASE, rng)
    assert list(variant["findings"]) != list(RICH_CASE["findings"]) or seed == 0
    variant_file = tmp_path / "variant.json"
    variant_file.write_text(json.dumps(variant), encoding="utf-8")
    outputs = []
    for file in (reference_file, variant_file):
        for fmt in ("json", "text"):
            assert main(["assess", str(file), "--format", fmt]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert kb.assess(variant).to_dict() == kb.assess(RICH_CASE).to_dict()


def test_yaml_and_json_files_agree(tmp_path: Path, kb: hipkb.KnowledgeBase) -> None:
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(RICH_CASE), encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps(RICH_CASE), encoding="utf-8")
    assert kb.assess(tmp_path / "c.yaml").to_dict() == kb.assess(tmp_path / "c.json").to_dict() == kb.assess(RICH_CASE).to_dict()
