"""Many threads calling ``kb.assess`` on one loaded KB get what serial runs get.

The compiled evaluator is a pure function built when the KB loads; experta
engines hold per-run state, so hipkb gives each thread its own experta
engine and builds the experta engine class once per KB. These tests start
the threads together (a barrier) on a KB whose experta engine has not been
built yet, so the first build races too.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest

import hipkb
from hipkb.errors import CaseError
from hipkb.model import SIDES

THREADS = 8
CASES_PER_THREAD = 12


def random_case(kb: hipkb.KnowledgeBase, rng: random.Random) -> dict[str, Any]:
    """A valid case drawn from the KB's own findings and states."""
    findings: dict[str, Any] = {}
    for finding in kb.findings.values():
        if rng.random() < 0.4:
            continue
        if finding.type == "degrees":
            low, high = finding.range or (0, 180)
            values = {s: round(rng.uniform(low, high), rng.choice([0, 1])) for s in SIDES if rng.random() < 0.75}
            findings[finding.id] = values if finding.sided else rng.uniform(low, high)
        elif finding.sided:
            findings[finding.id] = rng.choice([True, False, "left", "right", ["left", "right"], {"left": rng.random() < 0.5}])
        else:
            findings[finding.id] = rng.random() < 0.5
    for state in rng.sample(sorted(kb.states), k=rng.randint(0, 2)):
        findings[state] = rng.choice(["left", "right"]) if kb.states[state].sided else True
    case: dict[str, Any] = {"findings": findings}
    if rng.random() < 0.3:
        case["thresholds"] = {"supine_hip_ir": rng.randint(20, 35)}
    return case


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` for i in range(count) on THREADS threads released at the same moment."""
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * count

    def worker(t: int) -> None:
        barrier.wait()
        for i in range(t, count, THREADS):
            try:
                results[i] = work(i)
            except Exception as exc:  # compared below: errors must match too
                results[i] = ("error", type(exc).__name__, str(exc))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    return results


def serial(count: int, work: Callable[[int], Any]) -> list[Any]:
    out = []
    for i in range(count):
        try:
            out.append(work(i))
        except Exception as exc:
            out.append(("error", type(exc).__name__, str(exc)))
    return out


@pytest.mark.parametrize("engine", ["compiled", "experta"])
def test_threads_match_serial_runs_on_one_kb(engine: str) -> None:
    kb = hipkb.load_kb()  # fresh: its experta engine is built by the racing threads
    rng = random.Random(20250203)
    cases = [random_case(kb, rng) for _ in range(THREADS * CASES_PER_THREAD)]
    threaded = run_together(len(cases), lambda i: kb.assess(cases[i], engine=engine).to_dict())
    expected = serial(len(cases), lambda i: kb.assess(cases[i], engine=engine).to_dict())
    assert not any(isinstance(r, tuple) for r in expected), "the generated cases are valid"
    mismatches = [i for i, (a, b) in enumerate(zip(threaded, expected)) if a != b]
    assert mismatches == []
    assert len({json.dumps(r, sort_keys=True) for r in expected}) > 30, "the cases are varied"


def test_per_call_thresholds_do_not_leak_between_threads(kb: hipkb.KnowledgeBase) -> None:
    case = {"findings": {"supine_hip_ir": {"left": 27, "right": 27}}}
    limits = [20 + (i % 16) for i in range(200)]
    threaded = run_together(len(limits), lambda i: kb.assess(case, thresholds={"supine_hip_ir": limits[i]}))
    for limit, result in zip(limits, threaded):
        assert result.thresholds["supine_hip_ir"] == limit
        assert result.holds("ir_limited", "left") is (27 < limit)


def test_bad_cases_in_some_threads_do_not_disturb_the_others(kb: hipkb.KnowledgeBase) -> None:
    rng = random.Random(7)
    cases: list[Any] = []
    for i in range(200):
        if i % 5 == 0:
            cases.append({"findings": {"supine_hip_ir": {"left": "low"}}})
        elif i % 7 == 0:
            cases.append({"findings": {"hip_hkie": True}})
        else:
            cases.append(random_case(kb, rng))
    threaded = run_together(len(cases), lambda i: kb.assess(cases[i]).to_dict())
    expected = serial(len(cases), lambda i: kb.assess(cases[i]).to_dict())
    assert threaded == expected
    errors = [r for r in expected if isinstance(r, tuple)]
    assert errors and all(r[1] == CaseError.__name__ for r in errors)


def test_thread_pool_reuse(kb: hipkb.KnowledgeBase) -> None:
    """Long-lived pool threads reuse their engine across many cases."""
    rng = random.Random(11)
    cases = [random_case(kb, rng) for _ in range(60)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        pooled = list(pool.map(lambda c: kb.assess(c, engine="experta").to_dict(), cases))
    assert pooled == [kb.assess(c, engine="experta").to_dict() for c in cases]


def test_cold_start_in_a_fresh_process() -> None:
    """First use of hipkb.assess (bundled KB, experta import, engine build) from many threads at once."""
    script = r"""
import json, random, sys, threading
sys.path.insert(0, sys.argv[1])
from test_concurrency import random_case, run_together, THREADS
import hipkb
probe = hipkb.load_kb()
rng = random.Random(3)
cases = [random_case(probe, rng) for _ in range(THREADS * 10)]
threaded = run_together(len(cases), lambda i: hipkb.assess(cases[i], engine="experta" if i % 2 else "compiled").to_dict())
again = [hipkb.assess(c).to_dict() for c in cases]
print(json.dumps({"same": threaded == again, "errors": [r for r in threaded if isinstance(r, tuple)]}))
"""
    from pathlib import Path

    proc = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent)], capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"same": True, "errors": []}


def test_threads_starting_together_build_the_experta_engine_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The experta engine class is built once per KB, however many threads ask for it first."""
    import hipkb.engines.experta as adapter

    builds: list[int] = []

    class Counting(adapter.ExpertaEngine):
        def __init__(self, model: hipkb.KnowledgeBase) -> None:
            builds.append(1)
            time.sleep(0.05)  # widen the window in which a second builder could start
            super().__init__(model)

    monkeypatch.setattr(adapter, "ExpertaEngine", Counting)
    fresh = hipkb.load_kb()
    engines = run_together(THREADS, lambda i: fresh.engine("experta"))
    assert len({id(e) for e in engines}) == 1
    assert len(builds) == 1
