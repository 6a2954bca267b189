#!/usr/bin/env python3
"""hipkb benchmark: engine speed, equivalence to a plain-Python reference, cold start, scaling, batch.

Run from the repository (after ``pip install .``)::

    python benchmarks/bench.py            # full run, a few minutes at most
    python benchmarks/bench.py --quick    # CI: the same sections, smaller (well under a minute)
    python benchmarks/bench.py --json     # machine-readable

Every number is measured in this process (or in subprocesses it starts) and
reported next to a baseline measured in the same run, so ratios mean
something across machines:

- **equivalence**: every generated case is run through the experta engine
  and through :mod:`reference` (a plain-Python evaluation of the same KB
  rules); their firings and the final JSON must be identical, else the
  benchmark exits 1.
- **per case**: ms/case through the experta engine with the engine reused
  (parse excluded, resolver and result included), the same for the
  reference evaluator feeding the same resolver, and their ratio.
- **build**: KB load, engine class build (compile), first engine instance
  (Rete network) build.
- **cold start**: ``hipkb assess examples/demo-01.yaml`` in a fresh process
  as a multiple of ``python -c pass`` (median of several runs, bytecode
  cached as it is for an installed package), with ``import experta, yaml``
  as the floor; and which heavy modules that path imports (should be none).
- **scaling**: the KB replicated 1×, 5×, 20× (ids suffixed per copy),
  written to a temp dir, loaded and compiled: build time (and per rule) and
  ms/case, with one copy's findings and with every copy's.
- **batch**: ``assess_many`` over the generated cases, ``jobs=1`` vs
  ``jobs=2``, and that both give the same results.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from hipkb.compile import CompiledKB, compile_kb  # noqa: E402
from hipkb.infer import assess, build_result, resolve_case  # noqa: E402
from hipkb.kb import FILES, MANIFEST, bundled_kb_path, load_kb  # noqa: E402
from reference import Evaluator, generate_cases  # noqa: E402

DEMO = REPO / "examples" / "demo-01.yaml"
HEAVY = ("networkx", "graphviz", "tqdm", "multiprocessing", "concurrent.futures", "jsonschema")


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
        "hipkb": version("hipkb"),
        "experta": version("experta"),
    }


def best_of(repeats: int, run: Callable[[], None]) -> float:
    """Seconds of the fastest of ``repeats`` runs (the least disturbed by the machine)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def as_json(result: Any) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False)


# --------------------------------------------------------------------------
# sections


def check_equivalence(kb: Any, cases: list[Any], evaluator: Evaluator) -> dict[str, Any]:
    """Engine vs reference on every case: same firings, byte-identical JSON."""
    compiled = compile_kb(kb)
    mismatches = []
    firings = 0
    for i, (case, merged) in enumerate(cases):
        engine = compiled.run(case.findings, case.given, merged)
        plain = evaluator.firings(case.findings, case.given, merged)
        firings += len(set(engine))
        same_firings = set(engine) == set(plain)
        same_json = as_json(build_result(kb, case, merged, engine)) == as_json(build_result(kb, case, merged, plain))
        if not (same_firings and same_json):
            mismatches.append({"case": i, "subject": case.subject, "engine_only": sorted(map(str, set(engine) - set(plain)))[:5],
                               "reference_only": sorted(map(str, set(plain) - set(engine)))[:5]})
    return {"cases": len(cases), "mismatches": len(mismatches), "examples": mismatches[:3],
            "firings_per_case": round(firings / max(1, len(cases)), 1)}


def per_case(kb: Any, cases: list[Any], evaluator: Evaluator, repeats: int) -> dict[str, Any]:
    compiled = compile_kb(kb)
    for case, merged in cases[:20]:  # warm up this thread's engine
        assess(kb, case)

    def engine_assess() -> None:
        for case, _ in cases:
            assess(kb, case)

    def engine_only() -> None:
        for case, merged in cases:
            compiled.run(case.findings, case.given, merged)

    def reference_assess() -> None:
        for case, merged in cases:
            build_result(kb, case, merged, evaluator.firings(case.findings, case.given, merged))

    def reference_only() -> None:
        for case, merged in cases:
            evaluator.firings(case.findings, case.given, merged)

    n = len(cases)
    out = {
        "engine_ms": best_of(repeats, engine_assess) / n * 1000,
        "engine_match_ms": best_of(repeats, engine_only) / n * 1000,
        "reference_ms": best_of(repeats, reference_assess) / n * 1000,
        "reference_match_ms": best_of(repeats, reference_only) / n * 1000,
    }
    demo, _ = resolve_case(kb, DEMO)
    out["demo_ms"] = best_of(repeats, lambda: [assess(kb, demo) for _ in range(200)]) / 200 * 1000
    out["ratio"] = out["engine_ms"] / out["reference_ms"]
    out["match_ratio"] = out["engine_match_ms"] / out["reference_match_ms"]
    return out


def build_times(directory: Path | None, repeats: int) -> dict[str, Any]:
    """KB load, engine class build and first engine (network) build, in ms (best of ``repeats``)."""
    load, compile_, network = [], [], []
    branches = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        kb = load_kb(directory)
        t1 = time.perf_counter()
        compiled = CompiledKB(kb)
        t2 = time.perf_counter()
        compiled.engine()
        t3 = time.perf_counter()
        load.append(t1 - t0)
        compile_.append(t2 - t1)
        network.append(t3 - t2)
        branches = len(compiled.branches)
    return {
        "load_ms": min(load) * 1000,
        "compile_ms": min(compile_) * 1000,
        "network_ms": min(network) * 1000,
        "build_ms": (min(compile_) + min(network)) * 1000,
        "rules": branches,
    }


def cold_start(runs: int) -> dict[str, Any]:
    """Fresh-process timings, median of ``runs`` (interleaved), bytecode cached as when installed."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cache = tempfile.mkdtemp(prefix="hipkb-bench-pyc-")
    env["PYTHONPYCACHEPREFIX"] = cache
    script = Path(sys.executable).parent / "hipkb"
    hipkb_cmd = [str(script)] if script.exists() else [sys.executable, "-m", "hipkb"]
    floor = ("import collections, collections.abc; collections.Mapping = collections.abc.Mapping; "
             "import experta, yaml")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import experta, yaml": [sys.executable, "-c", floor],
        "hipkb assess": hipkb_cmd + ["assess", str(DEMO)],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm up: write bytecode, fill the OS cache
        subprocess.run(cmd, stdout=subprocess.DEVNULL, env=env, check=True, cwd=REPO)
    for _ in range(runs):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, env=env, check=True, cwd=REPO)
            times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(values) * 1000 for name, values in times.items()}
    probe = ("import json, sys; from hipkb.cli import main; import contextlib, io\n"
             "with contextlib.redirect_stdout(io.StringIO()): main(['assess', sys.argv[1]])\n"
             f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    heavy = json.loads(subprocess.run([sys.executable, "-c", probe, str(DEMO)], capture_output=True, text=True,
                                      env=env, check=True, cwd=REPO).stdout)
    base = med["python -c pass"]
    return {
        "runs": runs,
        "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(hipkb_cmd)) + " assess examples/demo-01.yaml",
        "pass_ms": base,
        "floor_ms": med["import experta, yaml"],
        "assess_ms": med["hipkb assess"],
        "floor_ratio": med["import experta, yaml"] / base,
        "assess_ratio": med["hipkb assess"] / base,
        "heavy_modules_imported": heavy,
    }


def replicate_kb(source: Path, copies: int, target: Path) -> None:
    """Write ``copies`` copies of the KB in ``source`` into ``target``, ids suffixed per copy.

    Copy 0 keeps its ids (so the usual cases apply to it); copy k renames
    every declared id (and every reference to one) to ``id_xk``. Sources are
    shared, declared once.
    """
    import yaml

    docs = {name: yaml.safe_load((source / name).read_text(encoding="utf-8")) for name in FILES}
    ids: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("id"), str):
                ids.add(node["id"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    for name, top in FILES.items():
        if top != "sources":
            collect(docs[name][top])

    def rename(node: Any, suffix: str) -> Any:
        if isinstance(node, dict):
            return {k: rename(v, suffix) for k, v in node.items()}
        if isinstance(node, list):
            return [rename(v, suffix) for v in node]
        if isinstance(node, str) and node in ids:
            return node + suffix
        return node

    target.mkdir(parents=True, exist_ok=True)
    (target / MANIFEST).write_text((source / MANIFEST).read_text(encoding="utf-8"), encoding="utf-8")
    for name, top in FILES.items():
        items = docs[name][top]
        if top != "sources":
            items = [rename(item, "" if k == 0 else f"_x{k}") for k in range(copies) for item in items]
        (target / name).write_text(yaml.safe_dump({top: items}, sort_keys=False, allow_unicode=True), encoding="utf-8")


def spread(case: dict[str, Any], copies: int) -> dict[str, Any]:
    """The same findings, thresholds and given states for every copy of a replicated KB."""
    out = dict(case)
    out["findings"] = {f"{k}{'' if c == 0 else f'_x{c}'}": v for c in range(copies) for k, v in case["findings"].items()}
    if "thresholds" in case:
        out["thresholds"] = {f"{k}{'' if c == 0 else f'_x{c}'}": v for c in range(copies) for k, v in case["thresholds"].items()}
    return out


def scaling(factors: Iterable[int], n_cases: int, repeats: int) -> list[dict[str, Any]]:
    rows = []
    source = bundled_kb_path()
    raw = generate_cases(load_kb(source), n_cases, seed=101)  # copy 0's ids
    with tempfile.TemporaryDirectory(prefix="hipkb-bench-kb-") as tmp:
        for factor in factors:
            folder = Path(tmp) / f"x{factor}"
            replicate_kb(source, factor, folder)
            row: dict[str, Any] = {"copies": factor, **build_times(folder, repeats)}
            row["build_ms_per_rule"] = row["build_ms"] / row["rules"]
            kb = load_kb(folder)
            one = [resolve_case(kb, c) for c in raw]
            every = [resolve_case(kb, spread(c, factor)) for c in raw[: max(5, n_cases // factor)]]
            evaluator = Evaluator(kb)
            check = check_equivalence(kb, every[:10], evaluator)
            for case, _ in one[:10]:
                assess(kb, case)
            row["ms_per_case_one_copy"] = best_of(repeats, lambda: [assess(kb, c) for c, _ in one]) / len(one) * 1000
            row["ms_per_case_all_copies"] = best_of(repeats, lambda: [assess(kb, c) for c, _ in every]) / len(every) * 1000
            row["ms_per_case_per_copy"] = row["ms_per_case_all_copies"] / factor
            row["equivalence_mismatches"] = check["mismatches"]
            rows.append(row)
    return rows


def batch(kb: Any, raw_cases: list[dict[str, Any]], repeats: int) -> dict[str, Any]:
    """assess_many wall time (workers started, every result back in the caller), then equality."""
    from hipkb.batch import assess_many

    out: dict[str, Any] = {"cases": len(raw_cases)}
    results: dict[int, list[Any]] = {}
    for jobs in (1, 2):
        def run(jobs: int = jobs) -> None:
            results[jobs] = list(assess_many(raw_cases, kb=kb, jobs=jobs))
        out[f"jobs{jobs}_s"] = best_of(repeats, run)
    out["speedup"] = out["jobs1_s"] / out["jobs2_s"]
    out["same_results"] = [json.dumps(i.to_dict()) for i in results[1]] == [json.dumps(i.to_dict()) for i in results[2]]
    return out


# --------------------------------------------------------------------------
# main


def run(quick: bool) -> dict[str, Any]:
    size = {"cases": 300, "repeats": 2, "cold_runs": 5, "scale_cases": 30, "batch_cases": 1000} if quick else \
           {"cases": 2000, "repeats": 5, "cold_runs": 21, "scale_cases": 200, "batch_cases": 1000}
    kb = load_kb()
    raw = generate_cases(kb, size["cases"], seed=7)
    cases = [resolve_case(kb, c) for c in raw]
    evaluator = Evaluator(kb)
    report: dict[str, Any] = {"mode": "quick" if quick else "full", "machine": machine(), "sizes": size}
    report["equivalence"] = check_equivalence(kb, cases, evaluator)
    report["per_case"] = per_case(kb, cases, evaluator, size["repeats"])
    report["build"] = build_times(None, max(3, size["repeats"]))
    report["cold_start"] = cold_start(size["cold_runs"])
    report["scaling"] = scaling((1, 5, 20), size["scale_cases"], size["repeats"])
    report["batch"] = batch(kb, generate_cases(kb, size["batch_cases"], seed=8), 2 if quick else 5)
    report["ok"] = (report["equivalence"]["mismatches"] == 0 and report["batch"]["same_results"]
                    and all(r["equivalence_mismatches"] == 0 for r in report["scaling"]))
    return report


def text(r: dict[str, Any]) -> str:
    m, e, p, b, c, bt = r["machine"], r["equivalence"], r["per_case"], r["build"], r["cold_start"], r["batch"]
    lines = [
        f"hipkb benchmark ({r['mode']}) — {m['cpu']}, {m['nproc']} CPU(s), {m['implementation']} {m['python']}, "
        f"hipkb {m['hipkb']}, experta {m['experta']}",
        "",
        f"equivalence: {e['cases']} generated cases, {e['mismatches']} mismatches between the experta engine and the "
        f"plain-Python reference (firings and JSON); {e['firings_per_case']} firings/case",
        "",
        "per case (engine reused; parse excluded, resolver + result included):",
        f"  experta engine      {p['engine_ms']:7.3f} ms/case   (matching only {p['engine_match_ms']:.3f})",
        f"  plain-Python ref.   {p['reference_ms']:7.3f} ms/case   (matching only {p['reference_match_ms']:.3f})",
        f"  ratio engine/ref.   {p['ratio']:7.2f}×           (matching only {p['match_ratio']:.2f}×)",
        f"  examples/demo-01    {p['demo_ms']:7.3f} ms/case",
        "",
        f"build: KB load {b['load_ms']:.1f} ms, engine class {b['compile_ms']:.1f} ms, "
        f"first engine (Rete network, {b['rules']} rules) {b['network_ms']:.1f} ms",
        "",
        f"cold start ({c['command']}, median of {c['runs']}):",
        f"  python -c pass {c['pass_ms']:.1f} ms; import experta, yaml {c['floor_ms']:.1f} ms ({c['floor_ratio']:.1f}×); "
        f"hipkb assess {c['assess_ms']:.1f} ms ({c['assess_ratio']:.1f}×)",
        f"  heavy modules imported by assess: {', '.join(c['heavy_modules_imported']) or 'none'}",
        "",
        "scaling (KB replicated, ids suffixed per copy):",
        "  copies  rules  load ms  build ms  build ms/rule  ms/case (1 copy)  ms/case (all)  per copy",
    ]
    for s in r["scaling"]:
        lines.append(f"  {s['copies']:6d} {s['rules']:6d} {s['load_ms']:8.1f} {s['build_ms']:9.1f} {s['build_ms_per_rule']:14.3f}"
                     f" {s['ms_per_case_one_copy']:17.3f} {s['ms_per_case_all_copies']:14.3f} {s['ms_per_case_per_copy']:9.3f}")
    lines += [
        "",
        f"batch: assess_many over {bt['cases']} cases: jobs=1 {bt['jobs1_s']:.2f} s, jobs=2 {bt['jobs2_s']:.2f} s "
        f"({bt['speedup']:.2f}× faster), same results: {'yes' if bt['same_results'] else 'NO'}",
        "",
        "OK" if r["ok"] else "FAILED: the engine and the reference disagree (see above)",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for CI")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    gc.collect()
    report = run(args.quick)
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if args.json else text(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
