#!/usr/bin/env python3
"""hipkb benchmark: engines compared, cold start, KB scaling, deep chains, batch jobs.

Run from the repository (with hipkb installed, e.g. ``pip install -e .[test]``)::

    python benchmarks/bench.py            # full run (a few minutes)
    python benchmarks/bench.py --quick    # CI: the same sections, smaller (seconds)
    python benchmarks/bench.py --json     # machine-readable

Every number is reported next to a baseline measured in the same run, in
interleaved rounds (A B C A B C ..., median per contestant), so a busy
machine slows every contestant alike and ratios mean something across
machines. Absolute times are printed for context only.

- **engines** (per case, cases with both supine IR and both SLR readings,
  case parsing and the resolver included): the compiled evaluator (the
  default), the experta engine (stock experta, one engine per thread,
  reset per case), a *naive* experta engine (the same experta rules, a
  fresh engine instance — a new Rete network — per case: what a first
  experta program does), and the plain-Python spec model
  (``tests/spec_model.py``, an independent hand-written oracle; it builds
  no Result, so it is a floor, not a contestant). Compiled vs experta must
  give byte-identical JSON on every generated case, else the benchmark
  exits 1; agreement with the spec model is reported.
- **cold start**: ``hipkb assess examples/demo-01.yaml`` in a fresh process
  (KB cache warm, and with the cache off) as a multiple of ``python -c
  pass``; ``import hipkb`` and ``import hipkb.cli`` for the breakdown.
- **scaling**: the KB replicated 1×, 5×, 20× (ids suffixed per copy) in a
  temp dir: load time (cache off and warm), and ms per case for a case over
  one copy and for the same case spread over every copy (each result let go
  once made, as a caller streaming cases does; see ``stream``).
- **chains**: a KB with a 10,000-link causal chain (2,000 with --quick) and
  a 2,000-rule cycle declared against its flow: load and assess times.
- **batch**: ``assess_many`` over 2,000 cases with ``jobs=1`` and
  ``jobs=2`` (every result's JSON consumed), wall time and CPU time of the
  calling process and of the workers, and that both give the same output.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import hipkb
from hipkb.batch import assess_many, sample_cases, verify_engines
from hipkb.infer import prepare, resolve
from hipkb.kb import FILES, MANIFEST, bundled_kb_path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEMO = REPO / "examples" / "demo-01.yaml"
SPEC = REPO / "tests" / "spec_model.py"


# --------------------------------------------------------------------------
# helpers


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "nproc": usable,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "hipkb": hipkb.__version__,
        "experta": version("experta"),
        "load_average": _load(),
    }


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def interleaved(rounds: int, contestants: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Median seconds per contestant over ``rounds`` rounds, each round running every contestant once."""
    times: dict[str, list[float]] = {name: [] for name in contestants}
    for _ in range(rounds):
        for name, run in contestants.items():
            gc.collect()
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def load_spec() -> Any | None:
    if not SPEC.exists():
        return None
    spec = importlib.util.spec_from_file_location("hipkb_spec_model", SPEC)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


# --------------------------------------------------------------------------
# engines


class NaiveExperta:
    """Stock experta, the KB's rules built once, but a fresh engine instance (a new Rete network) per case."""

    def __init__(self, kb: Any) -> None:
        self.inner = kb.engine("experta")

    def run(self, findings: Any, given: Any, thresholds: Any) -> list[Any]:
        inner = self.inner
        engine = inner.engine_class()
        engine.reset()
        engine.hipkb_fired = []
        facts = [inner.Threshold(name=k, value=v) for k, v in sorted(thresholds.items())]
        facts += [inner.Finding(name=k[0], side=k[1] or "-", value=v)
                  for k, v in sorted(findings.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]
        facts += [inner.State(name=k[0], side=k[1] or "-") for k in sorted(set(given), key=lambda k: (k[0], k[1] or ""))]
        engine.declare(*facts)
        engine.run(len(inner.firing_of) + 1)
        return [inner.firing_of[n] for n in engine.hipkb_fired]


def spec_input(case: Any) -> dict[str, Any]:
    """A parsed Case in the spec model's shape."""
    findings: dict[str, Any] = {}
    for (fid, side), value in case.findings.items():
        if side is None:
            findings[fid] = value
        else:
            findings.setdefault(fid, {})[side] = value
    given: dict[str, list[str]] = {}
    for sid, side in case.given:
        given.setdefault(sid, []).append(side)
    return {"findings": findings, "thresholds": dict(case.thresholds), "mdc": dict(case.mdc), "given": given}


def spec_agreement(spec: Any, kb: Any, cases: list[Any]) -> dict[str, Any]:
    """How many cases the spec model and the compiled engine agree on (items, sides, statuses)."""
    agree = differ = skipped = 0
    example = None
    for raw in cases:
        case, _, _ = prepare(kb, raw)
        try:
            expected = spec.spec_assess(**spec_input(case))
        except Exception:  # noqa: BLE001  (a finding or state the spec model does not cover)
            skipped += 1
            continue
        result = kb.assess(case)
        got = ({(c.id, c.side, c.status) for c in result.conclusions}, {(r.id, r.side, r.status) for r in result.recommendations})
        want = ({(k[0], k[1], v.status) for k, v in expected.conclusions.items()},
                {(k[0], k[1], v.status) for k, v in expected.recommendations.items()})
        if got == want:
            agree += 1
        else:
            differ += 1
            if example is None:
                example = {"subject": case.subject, "engine_only": sorted(map(str, (got[0] - want[0]) | (got[1] - want[1])))[:5],
                           "spec_only": sorted(map(str, (want[0] - got[0]) | (want[1] - got[1])))[:5]}
    return {"agree": agree, "differ": differ, "skipped": skipped, "first_difference": example}


def engines(kb: Any, n: int, rounds: int) -> dict[str, Any]:
    raw = sample_cases(kb, n, seed=7, always=("supine_hip_ir", "straight_leg_raise"))
    parsed = [prepare(kb, c) for c in raw]
    experta = kb.engine("experta")
    naive = NaiveExperta(kb)
    spec = load_spec()
    spec_cases = []
    if spec is not None:
        for case, _, _ in parsed:
            try:
                spec.spec_assess(**spec_input(case))
                spec_cases.append(spec_input(case))
            except Exception:  # noqa: BLE001
                pass

    def through(runner: Any) -> Callable[[], None]:
        def run() -> None:
            for c in raw:
                case, t, m = prepare(kb, c)
                resolve(kb, case, t, m, runner.run(case.findings, case.given, t))
        return run

    contestants: dict[str, Callable[[], Any]] = {
        "compiled": lambda: [kb.assess(c) for c in raw],
        "experta": through(experta),
        "naive_experta": through(naive),
    }
    if spec_cases:
        contestants["spec_model"] = lambda: [spec.spec_assess(**c) for c in spec_cases]
    for c in raw[:10]:  # warm every path (experta's network, lazy imports) outside the timing
        kb.assess(c)
        kb.assess(c, engine="experta")
    medians = interleaved(rounds, contestants)
    per_case = {name: seconds / (len(spec_cases) if name == "spec_model" else len(raw)) * 1000 for name, seconds in medians.items()}
    mismatches = verify_engines(kb, raw)
    naive_same = all(sorted(set(naive.run(c.findings, c.given, t))) == sorted(set(experta.run(c.findings, c.given, t)))
                     for c, t, _ in parsed[:50])
    out: dict[str, Any] = {
        "cases": len(raw),
        "ms_per_case": per_case,
        "ratio_compiled_to_naive_experta": per_case["compiled"] / per_case["naive_experta"],
        "ratio_compiled_to_experta": per_case["compiled"] / per_case["experta"],
        "engine_mismatches": len(mismatches),
        "first_mismatch": str(mismatches[0]) if mismatches else None,
        "naive_experta_fires_as_experta": naive_same,
    }
    if spec_cases:
        out["ratio_compiled_to_spec_model"] = per_case["compiled"] / per_case["spec_model"]
        out["spec_model"] = spec_agreement(spec, kb, raw)
    return out


# --------------------------------------------------------------------------
# cold start


def cold_start(runs: int, cache_dir: Path) -> dict[str, Any]:
    exe = sys.executable
    hipkb_cmd = [exe, "-c", "import sys; from hipkb.cli import entry; sys.argv[0] = 'hipkb'; entry()"]
    # Bytecode cached as for an installed package (pip compiles at install): without this a
    # checkout run with PYTHONDONTWRITEBYTECODE=1 would compile every module on every run.
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = dict(base_env, HIPKB_CACHE_DIR=str(cache_dir))
    off = dict(base_env, HIPKB_CACHE_DIR="")
    commands = {
        "python -c pass": ([exe, "-c", "pass"], env),
        "import hipkb": ([exe, "-c", "import hipkb"], env),
        "import hipkb.cli": ([exe, "-c", "import hipkb.cli"], env),
        "hipkb assess (cache warm)": (hipkb_cmd + ["assess", str(DEMO)], env),
        "hipkb assess (cache off)": (hipkb_cmd + ["assess", str(DEMO)], off),
    }
    subprocess.run(commands["hipkb assess (cache warm)"][0], env=env, capture_output=True, check=True)  # fill the cache

    def spawn(cmd: list[str], environment: dict[str, str]) -> Callable[[], None]:
        return lambda: subprocess.run(cmd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

    medians = interleaved(runs, {name: spawn(*spec) for name, spec in commands.items()})
    base = medians["python -c pass"]
    imported = subprocess.run([*hipkb_cmd[:2], "import sys, runpy; from hipkb.cli import main; main(['assess', sys.argv[1]]); "
                               "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
                               "('yaml', 'click', 'experta', 'networkx', 'graphviz', 'tqdm', 'jsonschema', 'multiprocessing', 'concurrent'))))",
                               str(DEMO)], env=env, capture_output=True, text=True)
    modules = imported.stdout.strip().splitlines()[-1].split() if imported.stdout.strip() else []
    return {
        "runs": runs,
        "ms": {name: seconds * 1000 for name, seconds in medians.items()},
        "ratio_to_python": {name: seconds / base for name, seconds in medians.items()},
        "heavy_modules_imported": sorted({m.split(".")[0] for m in modules}),
    }


# --------------------------------------------------------------------------
# scaling


def replicate_kb(source: Path, copies: int, target: Path) -> None:
    """Write the KB ``copies`` times over into ``target``: copy k's ids end in ``_xk`` (copy 0 keeps its ids).

    Sources are shared. Any string equal to a declared id (a reference) is
    renamed with its copy; labels and quotes are left as they are.
    """
    from hipkb.source import read_document

    # hipkb's own reader: PyYAML would read the condition key `on` as true
    docs = {name: read_document(source / name).data for name in FILES}
    ids: set[str] = set()
    for name, top in FILES.items():
        if top != "sources":
            for item in docs[name][top]:
                _collect(item, ids)

    def rename(node: Any, suffix: str) -> Any:
        if isinstance(node, dict):
            return {rename(k, suffix) if isinstance(k, str) else k: rename(v, suffix) for k, v in node.items()}
        if isinstance(node, list):
            return [rename(v, suffix) for v in node]
        if isinstance(node, str) and node in ids:
            return node + suffix
        return node

    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / MANIFEST, target / MANIFEST)
    for name, top in FILES.items():
        items = docs[name][top]
        if top != "sources":
            items = [rename(item, "" if k == 0 else f"_x{k}") for k in range(copies) for item in items]
        (target / name).write_text(json.dumps({top: items}, ensure_ascii=False, indent=1), encoding="utf-8")  # JSON is YAML


def _collect(node: Any, ids: set[str]) -> None:
    todo = [node]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            if isinstance(item.get("id"), str):
                ids.add(item["id"])
            ids.update(a for a in item.get("aliases") or () if isinstance(a, str))
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)


def spread(case: dict[str, Any], copies: int) -> dict[str, Any]:
    """The same findings (and thresholds) for every copy of a replicated KB."""
    out = dict(case)
    out["findings"] = {f"{k}{'' if c == 0 else f'_x{c}'}": v for c in range(copies) for k, v in case["findings"].items()}
    if "thresholds" in case:
        out["thresholds"] = {f"{k}{'' if c == 0 else f'_x{c}'}": v for c in range(copies) for k, v in case["thresholds"].items()}
    return out


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = run()
    return time.perf_counter() - start, value


def stream(kb: Any, cases: list[Any], *, gc_paused: bool = False) -> None:
    """Assess each case and let its result go, as a caller handling one person at a time does.

    ``gc_paused``: with Python's cyclic garbage collector off for the run
    (the results have no cycles to collect). A case over 20 copies makes
    20 times the objects, and while it runs the collector walks every
    object the process holds more often; that share of the cost grows with
    what else the process holds (this benchmark holds a great deal), not
    with the KB. The column with the collector paused is the cost of the
    reasoning itself.
    """
    if gc_paused:
        gc.disable()
    try:
        for case in cases:
            kb.assess(case)
    finally:
        if gc_paused:
            gc.enable()


def scaling(factors: tuple[int, ...], n: int, rounds: int, tmp: Path) -> list[dict[str, Any]]:
    from hipkb.kbcache import load as load_cached

    source = bundled_kb_path()
    base = hipkb.load_kb()
    raw = sample_cases(base, n, seed=101, always=("supine_hip_ir",))
    rows = []
    kbs = {}
    for factor in factors:
        folder = tmp / f"x{factor}"
        replicate_kb(source, factor, folder)
        cold, _ = timed(lambda: load_cached(folder, cache=False))
        load_cached(folder)  # fill the cache
        warm, _ = timed(lambda: hipkb.load_kb(folder))
        kb = kbs[factor] = hipkb.load_kb(folder)
        spread_cases = [spread(c, factor) for c in raw]
        mismatches = len(verify_engines(kb, spread_cases[:5])) if factor <= 5 else None
        rows.append({"copies": factor, "rules": len(kb.inference_rules), "units": len(kb.engine("compiled").firings),
                     "load_ms_cache_off": cold * 1000, "load_ms_cache_warm": warm * 1000, "engine_mismatches": mismatches,
                     "one": raw, "all": spread_cases})
    contestants: dict[str, Callable[[], Any]] = {}
    for row in rows:
        kb = kbs[row["copies"]]
        contestants[f"{row['copies']}:one"] = lambda kb=kb, cases=row["one"]: stream(kb, cases)
        contestants[f"{row['copies']}:all"] = lambda kb=kb, cases=row["all"]: stream(kb, cases)
        contestants[f"{row['copies']}:all, gc paused"] = lambda kb=kb, cases=row["all"]: stream(kb, cases, gc_paused=True)
    medians = interleaved(rounds, contestants)
    for row in rows:
        one, every = row.pop("one"), row.pop("all")
        row["ms_per_case_one_copy"] = medians[f"{row['copies']}:one"] / len(one) * 1000
        row["ms_per_case_all_copies"] = medians[f"{row['copies']}:all"] / len(every) * 1000
        row["ms_per_case_per_copy"] = row["ms_per_case_all_copies"] / row["copies"]
        row["ms_per_case_per_copy_gc_paused"] = medians[f"{row['copies']}:all, gc paused"] / len(every) * 1000 / row["copies"]
    return rows


# --------------------------------------------------------------------------
# deep chains


def chain_kb(target: Path, links: int, *, ring: bool = False) -> None:
    """The bundled KB plus a causal chain of ``links`` links from hip_hike (or a cycle of rules declared against its flow)."""
    shutil.copytree(bundled_kb_path(), target)
    n = links + 1
    states = "".join(f"\n  - id: chain_{i}\n    label: Chain {i}\n    sided: true\n    source: {{interpretation: generated}}\n" for i in range(n))
    with open(target / "states.yaml", "a", encoding="utf-8") as f:
        f.write(states)
    start = "\n  - id: chain_start\n    label: Start\n    when:\n      - {finding: hip_hike}\n    then: [chain_0]\n" \
            "    evidence: interpretation\n    source: {interpretation: generated}\n"
    if ring:
        rules = "".join(f"\n  - id: ring_{i}\n    label: Ring {i}\n    when:\n      - {{state: chain_{i}}}\n    then: [chain_{(i + 1) % n}]\n"
                        "    evidence: interpretation\n    source: {interpretation: generated}\n" for i in reversed(range(n)))
        with open(target / "rules.yaml", "a", encoding="utf-8") as f:
            f.write(rules + start)
        return
    links_text = "".join(f"\n  - id: link_{i}\n    label: Link {i}\n    cause: chain_{i}\n    effect: chain_{i + 1}\n    use: conclude\n"
                         "    evidence: interpretation\n    source: {interpretation: generated}\n" for i in range(links))
    with open(target / "causal.yaml", "a", encoding="utf-8") as f:
        f.write(links_text)
    with open(target / "rules.yaml", "a", encoding="utf-8") as f:
        f.write(start)


def chains(links: int, ring: int, tmp: Path) -> list[dict[str, Any]]:
    from hipkb.kbcache import load as load_cached

    out = []
    for name, size, is_ring in (("chain", links, False), ("ring (declared against its flow)", ring, True)):
        folder = tmp / f"{'ring' if is_ring else 'chain'}{size}"
        chain_kb(folder, size, ring=is_ring)
        cold, _ = timed(lambda: load_cached(folder, cache=False))
        load_cached(folder)
        warm, kb = timed(lambda: hipkb.load_kb(folder))
        case = {"findings": {"hip_hike": "left"}}
        first, result = timed(lambda: kb.assess(case))
        again, _ = timed(lambda: kb.assess(case))
        held = sum(1 for c in result.conclusions if c.id.startswith("chain_"))
        out.append({"kb": name, "links": size, "load_s_cache_off": cold, "load_s_cache_warm": warm,
                    "assess_s": min(first, again), "chain_states_concluded": held})
    return out


# --------------------------------------------------------------------------
# batch


def batch(kb: Any, n: int, rounds: int) -> dict[str, Any]:
    cases = sample_cases(kb, n, seed=8)
    out: dict[str, Any] = {"cases": n}
    outputs: dict[int, list[str]] = {}
    cpu: dict[int, list[tuple[float, float]]] = {1: [], 2: []}

    def run(jobs: int) -> Callable[[], None]:
        def go() -> None:
            c0, k0 = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
            outputs[jobs] = [item.to_json() for item in assess_many(cases, kb=kb, jobs=jobs)]
            k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[jobs].append((time.process_time() - c0, (k1.ru_utime + k1.ru_stime) - (k0.ru_utime + k0.ru_stime)))
        return go

    medians = interleaved(rounds, {"jobs=1": run(1), "jobs=2": run(2)})
    out["wall_s"] = medians
    out["speedup"] = medians["jobs=1"] / medians["jobs=2"]
    out["caller_cpu_s"] = {f"jobs={j}": statistics.median(c[0] for c in cpu[j]) for j in cpu}
    out["worker_cpu_s"] = {f"jobs={j}": statistics.median(c[1] for c in cpu[j]) for j in cpu}
    serial_cpu = out["caller_cpu_s"]["jobs=1"]
    busiest = max(out["caller_cpu_s"]["jobs=2"], out["worker_cpu_s"]["jobs=2"] / 2)
    out["speedup_on_idle_cores_estimate"] = serial_cpu / busiest if busiest else None
    out["same_output"] = outputs[1] == outputs[2]
    return out


# --------------------------------------------------------------------------
# main


def run(quick: bool) -> dict[str, Any]:
    size = ({"cases": 20, "rounds": 2, "cold_runs": 5, "scale_cases": 20, "factors": (1, 5), "chain": 1000, "ring": 200,
             "batch": 400, "batch_rounds": 1} if quick else
            {"cases": 200, "rounds": 5, "cold_runs": 21, "scale_cases": 100, "factors": (1, 5, 20), "chain": 10000, "ring": 2000,
             "batch": 2000, "batch_rounds": 5})
    report: dict[str, Any] = {"mode": "quick" if quick else "full", "machine": machine(), "sizes": {k: v for k, v in size.items()}}
    with tempfile.TemporaryDirectory(prefix="hipkb-bench-") as name:
        tmp = Path(name)
        os.environ["HIPKB_CACHE_DIR"] = str(tmp / "cache")  # never the user's own cache
        kb = hipkb.load_kb()
        report["engines"] = engines(kb, size["cases"], size["rounds"])
        report["cold_start"] = cold_start(size["cold_runs"], tmp / "cache")
        report["scaling"] = scaling(size["factors"], size["scale_cases"], size["rounds"], tmp)
        report["chains"] = chains(size["chain"], size["ring"], tmp)
        report["batch"] = batch(kb, size["batch"], size["batch_rounds"])
    report["machine"]["load_average_after"] = _load()
    mismatches = report["engines"]["engine_mismatches"] + sum(r["engine_mismatches"] or 0 for r in report["scaling"])
    report["ok"] = mismatches == 0 and report["batch"]["same_output"]
    return report


def text(r: dict[str, Any]) -> str:
    m, e, c, b = r["machine"], r["engines"], r["cold_start"], r["batch"]
    ms = e["ms_per_case"]
    lines = [
        f"hipkb benchmark ({r['mode']}): {m['cpu']}, {m['nproc']} CPU(s), {m['implementation']} {m['python']}, "
        f"hipkb {m['hipkb']}, experta {m['experta']}; load average {m['load_average']} before, {m['load_average_after']} after",
        "",
        f"engines, per case ({e['cases']} generated cases with both supine IR and both SLR readings; parse + resolve included):",
        f"  compiled evaluator     {ms['compiled']:8.3f} ms",
        f"  experta (reused)       {ms['experta']:8.3f} ms   compiled/experta       {e['ratio_compiled_to_experta']:.3f}×",
        f"  naive experta          {ms['naive_experta']:8.3f} ms   compiled/naive experta {e['ratio_compiled_to_naive_experta']:.3f}×  (target ≤ 0.2×)",
    ]
    if "spec_model" in ms:
        s = e["spec_model"]
        lines.append(f"  plain-Python spec model{ms['spec_model']:8.3f} ms   compiled/spec model    {e['ratio_compiled_to_spec_model']:.3f}×"
                     f"  (the spec model builds no Result)")
        lines.append(f"  spec model agreement: {s['agree']} agree, {s['differ']} differ, {s['skipped']} outside its vocabulary"
                     + (f"; first: {s['first_difference']}" if s["first_difference"] else ""))
    lines.append(f"  compiled vs experta: {e['engine_mismatches']} cases with different JSON"
                 + (f" — {e['first_mismatch']}" if e["first_mismatch"] else ""))
    lines += ["", f"cold start (median of {c['runs']} interleaved runs):"]
    for name, value in c["ms"].items():
        lines.append(f"  {name:28s} {value:7.1f} ms  {c['ratio_to_python'][name]:5.2f}× python -c pass")
    lines.append(f"  heavy packages imported by hipkb assess: {', '.join(c['heavy_modules_imported']) or 'none'}  (target ≤ 6×)")
    lines += ["", "scaling (the KB replicated, ids suffixed per copy; ms per case, median of interleaved rounds;"
              " gc paused: Python's cyclic collector off for the run, see stream()):",
              "  copies  rules  units  load ms (no cache)  load ms (cache)  one copy  all copies  per copy  per copy, gc paused  engines differ"]
    for s in r["scaling"]:
        lines.append(f"  {s['copies']:6d} {s['rules']:6d} {s['units']:6d} {s['load_ms_cache_off']:19.1f} {s['load_ms_cache_warm']:16.1f}"
                     f" {s['ms_per_case_one_copy']:9.3f} {s['ms_per_case_all_copies']:11.3f} {s['ms_per_case_per_copy']:9.3f}"
                     f" {s['ms_per_case_per_copy_gc_paused']:20.3f}  {'-' if s['engine_mismatches'] is None else s['engine_mismatches']}")
    lines += ["", "deep chains:"]
    for ch in r["chains"]:
        lines.append(f"  {ch['kb']}, {ch['links']} links: load {ch['load_s_cache_off']:.2f} s (no cache), {ch['load_s_cache_warm']:.2f} s (cache); "
                     f"assess {ch['assess_s']:.2f} s; {ch['chain_states_concluded']} chain states concluded")
    lines += [
        "",
        f"batch: assess_many over {b['cases']} cases, every result's JSON consumed:",
        f"  jobs=1 {b['wall_s']['jobs=1']:.2f} s, jobs=2 {b['wall_s']['jobs=2']:.2f} s: {b['speedup']:.2f}× faster (wall)",
        f"  CPU: caller {b['caller_cpu_s']['jobs=1']:.2f} s (jobs=1) vs {b['caller_cpu_s']['jobs=2']:.2f} s (jobs=2), "
        f"workers {b['worker_cpu_s']['jobs=2']:.2f} s; on two idle cores ≈ {b['speedup_on_idle_cores_estimate']:.2f}× faster",
        f"  same output: {'yes' if b['same_output'] else 'NO'}",
        "",
        "OK" if r["ok"] else "FAILED: the engines disagree (see above)",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for CI (seconds)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = run(args.quick)
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if args.json else text(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
