#!/usr/bin/env python3
"""Mutation testing of hipkb's reasoning core with mutmut 3, repeatable.

    .venv/bin/python scripts/mutation.py                 # the whole core (about an hour on 2 cores)
    .venv/bin/python scripts/mutation.py 'hipkb.infer.*' # one module (mutmut's mutant-name globs)
    .venv/bin/python scripts/mutation.py --report        # the last results, survivors listed
    .venv/bin/python scripts/mutation.py --show NAME     # the diff of one mutant

mutmut reads its settings from ``[tool.mutmut]`` in the pyproject.toml of
the directory it runs in. So that this script works whether or not the
project's pyproject.toml carries that section, it runs mutmut in a working
copy (``build/mutation/``, ignored by git like the rest of ``build/``): it
copies src/, tests/, kb/, schemas/, examples/ and pyproject.toml there
(file times kept, so mutmut regenerates only what changed), puts the
section below into the copy's pyproject.toml, and runs mutmut there.
mutmut keeps its results in ``build/mutation/mutants/``; a later run
tests only the mutants of functions that changed (``--fresh`` starts over).

Two settings make runs repeatable and honest:
- ``HIPKB_CACHE_DIR=""``: no KB cache. The cache stores the generated
  evaluator, keyed partly by engines/compiled.py's size and time, which a
  mutant does not change: a cached evaluator would hide every mutant of the
  generator.
- a Hypothesis profile with ``derandomize=True`` and no example database:
  the property tests draw the same examples for every mutant, and nothing
  one mutant found is replayed against the next.

See docs/testing.md for the results and what each survivor means.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: The reasoning core: what decides a conclusion, a status, a side, an evidence level or an assumption.
MUTATE = [
    "src/hipkb/model.py",
    "src/hipkb/engines/compiled.py",
    "src/hipkb/engines/experta.py",
    "src/hipkb/infer.py",
    "src/hipkb/result.py",
    "src/hipkb/case.py",
    "src/hipkb/answers/programme.py",
    "src/hipkb/answers/report.py",
    "src/hipkb/answers/cards.py",
    "src/hipkb/answers/sensitivity.py",
    "src/hipkb/record.py",
    "src/hipkb/yaml_subset.py",
]

#: Tier 1: the fast, deterministic tests that state the specification with literals.
FAST = [
    "tests/test_semantics.py",
    "tests/test_scenarios.py",
    "tests/test_api.py",
    "tests/test_uncertainty.py",
    "tests/test_report.py",
    "tests/test_cards.py",
    "tests/test_case.py",
    "tests/test_programme_rules.py",
    "tests/test_result_json.py",
    "tests/test_resolver_rules.py",
    "tests/test_condition_rules.py",
    "tests/test_case_rules.py",
    "tests/test_report_rules.py",
    "tests/test_report_golden.py",
    "tests/test_card_rules.py",
    "tests/test_sensitivity.py",
    "tests/test_sensitivity_rules.py",
    "tests/test_record.py",
    "tests/test_yaml_subset.py",
]
#: Tier 2 (run only on what tier 1 left alive): the oracles (an independent model of the reasoning,
#: generated cases and their promises) and the tests of the answers built on the core (why-not reads
#: conditions through Condition.failure; explanations, the differential, what-if; manners inside a host;
#: the KB cache, which checks generated code before it runs it).
ORACLE = FAST + [
    "tests/test_spec_oracle.py",
    "tests/test_properties.py",
    "tests/test_whynot.py",
    "tests/test_explain.py",
    "tests/test_differential.py",
    "tests/test_whatif.py",
    "tests/test_hostile_host.py",
    "tests/test_kbcache.py",
]
#: mypy on the mutated (trampolined) sources takes minutes and says nothing about behaviour.
DESELECT = ["tests/test_api.py::test_a_type_checker_understands_the_api"]

#: A pytest plugin written into each working copy (``src/`` is on mutmut's path) and loaded with ``-p``.
PLUGIN = "_hipkb_mutation_plugin"
PLUGIN_SOURCE = '''"""Written by hipkb's scripts/mutation.py into its working copy; not part of hipkb.

mutmut forks every mutant's run from a process that has already run the
tests, and runs only the tests it saw calling the mutated function. Code
that builds a KB (the model's tables, the generated evaluator, the experta
rules) runs once per loaded KB, and the KBs the tests share are loaded once
per process: hipkb's own default KB, module-level ``KB = hipkb.load_kb()``
and the session's ``kb`` fixture. Without this plugin a mutant of that code
would be checked only by the one test that happened to load a KB first,
against a KB built before the mutant was switched on. So: while mutmut
records which test calls what, every test loads its KBs afresh (each test
that assesses is seen to call the KB builders); in a mutant's run the
first test loads them afresh (built with the mutant) for the whole run.
"""

import os
from pathlib import Path

import pytest

_fresh = False


def pytest_sessionstart(session):
    global _fresh
    _fresh = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    global _fresh
    recording = os.environ.get("MUTANT_UNDER_TEST") == "stats"
    if _fresh and not recording:
        return
    _fresh = True
    import hipkb
    from hipkb.infer import KnowledgeBase
    from hipkb.kb import bundled_kb_path

    bundled = bundled_kb_path().resolve()
    hipkb._default_kb.cache_clear()
    items = [item] if recording else item.session.items
    for module in {id(m): m for m in (getattr(i, "module", None) for i in items) if m is not None}.values():
        for name, value in list(vars(module).items()):
            if isinstance(value, KnowledgeBase) and Path(value.directory).resolve() == bundled:
                setattr(module, name, hipkb.load_kb())
    if recording:  # the session's kb fixture: computed again for this test
        for definitions in item._fixtureinfo.name2fixturedefs.values():
            for definition in definitions:
                if definition.argname == "kb" and definition.scope == "session" and definition.cached_result is not None:
                    definition.finish(item._request)
'''

#: Copied into each working copy (and by mutmut into mutants/): what the tests read.
COPY = ["src", "tests", "kb", "schemas", "examples", "pyproject.toml"]


def toml_list(items: list[str]) -> str:
    return "[\n" + "".join(f'  "{i}",\n' for i in items) + "]"


def mutmut_section(tests: list[str]) -> str:
    """The ``[tool.mutmut]`` section for one tier (tier 1's belongs in the project's pyproject.toml)."""
    deselect = [arg for test in DESELECT for arg in ("--deselect", test)]
    return (
        "[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = {toml_list(MUTATE)}\n"
        'also_copy = ["kb", "schemas", "examples"]\n'
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        # mutmut follows each test in this process: no pytest-xdist workers (-n 0; the project's addopts ask for them)
        f"pytest_add_cli_args = {toml_list(['-n', '0', '-p', PLUGIN, *deselect])}\n"
        # a mutant that loops for ever (a fixpoint that never settles) is stopped after 3x its tests' time
        "timeout_multiplier = 3.0\n"
        "timeout_constant = 2.0\n"
    )


def expand(patterns: list[str]) -> list[str]:
    out: list[str] = []
    for pattern in patterns:
        out += sorted(str(p.relative_to(REPO)) for p in REPO.glob(pattern)) if "*" in pattern else [pattern]
    return out


def sync(work: Path, tests: list[str], globs: list[str]) -> None:
    """Copy the project into ``work`` (times kept) and write the copy's ``[tool.mutmut]``."""
    work.mkdir(parents=True, exist_ok=True)
    for name in COPY:
        source, target = REPO / name, work / name
        if source.is_dir():
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)
    (work / "src" / f"{PLUGIN}.py").write_text(PLUGIN_SOURCE, "utf-8")
    pyproject = (work / "pyproject.toml").read_text("utf-8")
    head, _, _ = pyproject.partition("[tool.mutmut]")  # this tier's section replaces any in the project
    (work / "pyproject.toml").write_text(head.rstrip() + "\n\n" + mutmut_section(tests), "utf-8")
    # mutmut reuses its record of which tests call which function; a function added since (or a new test)
    # would be "no tests" for good. Record afresh every run, and look again at what had no tests or
    # survived (a test added since may kill it); what was killed stays killed (use --fresh after removing tests).
    (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    for meta in (work / "mutants").rglob("*.py.meta") if (work / "mutants").exists() else ():
        data = json.loads(meta.read_text("utf-8"))
        codes = data.get("exit_code_by_key", {})
        if any(code in (0, 5, 33) for code in codes.values()):
            data["exit_code_by_key"] = {k: (None if code in (0, 5, 33) and selected(k, globs) else code)
                                        for k, code in codes.items()}
            meta.write_text(json.dumps(data), "utf-8")
    # Files mutmut does not mutate are copied into mutants/ once only: drop them so a changed one is copied again.
    mutated = {work / "mutants" / m for m in MUTATE}
    tree = work / "mutants" / "src"
    for stale in tree.rglob("*.py") if tree.exists() else ():
        if stale not in mutated:
            stale.unlink()


def selected(name: str, globs: list[str]) -> bool:
    return not globs or any(fnmatch.fnmatch(name, g) for g in globs)


def repeatable() -> None:
    """No KB cache, and the same Hypothesis examples for every mutant (inherited by mutmut's forked workers)."""
    os.environ["HIPKB_CACHE_DIR"] = ""
    os.environ.pop("CI", None)  # a missing optional tool skips instead of failing every mutant
    article = REPO.parent / "shared" / "source" / "hip-internal-rotation-guide.txt"
    if article.is_file():  # the working copies are not beside ../shared: point the quote checks at it
        os.environ.setdefault("HIPKB_ARTICLE", str(article))
    from hypothesis import Phase, settings

    settings.register_profile("mutation", derandomize=True, database=None, print_blob=False,
                              phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking: a kill is a kill
    settings.load_profile("mutation")


def mutmut(work: Path, args: list[str]) -> int:
    """Run one mutmut command in ``work`` (mutmut reads ./pyproject.toml and keeps global state: reset it)."""
    from mutmut import configuration, state as mutmut_state
    from mutmut.__main__ import cli

    here = os.getcwd()
    os.chdir(work)
    configuration.reset_config()
    if hasattr(mutmut_state, "reset_state"):
        mutmut_state.reset_state()
    try:
        cli.main(args=args, prog_name="mutmut", standalone_mode=False)
    except SystemExit as stop:
        return int(stop.code or 0)
    finally:
        os.chdir(here)
    return 0


STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 35: "suspicious",
          36: "timeout", 37: "caught by type check", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout",
          -11: "segfault", -9: "segfault", None: "not checked"}
ALIVE = ("survived", "no tests", "not checked", "suspicious")


def results(work: Path) -> dict[str, dict[str, str]]:
    """{source file: {mutant name: status}} from mutmut's .meta files."""
    out: dict[str, dict[str, str]] = {}
    for path in MUTATE:
        meta = work / "mutants" / (path + ".meta")
        if meta.exists():
            data = json.loads(meta.read_text("utf-8"))
            out[path] = {name: STATUS.get(code, "suspicious") for name, code in sorted(data["exit_code_by_key"].items())}
    return out


def combined(fast: Path, oracle: Path) -> dict[str, dict[str, str]]:
    """Tier 1's verdicts, with tier 2's for what tier 1 left alive (``killed`` there is ``killed in tier 2``)."""
    first, second = results(fast), results(oracle)
    out: dict[str, dict[str, str]] = {}
    for path, verdicts in first.items():
        out[path] = {}
        for name, status in verdicts.items():
            later = second.get(path, {}).get(name)
            if status in ALIVE and later is not None and later not in ("not checked",):
                status = "killed in tier 2" if later in ("killed", "timeout") else later
            out[path][name] = status
    return out


def report(table: dict[str, dict[str, str]], selected: list[str] | None = None) -> str:
    columns = ["killed", "killed in tier 2", "timeout", "survived", "no tests", "not checked"]
    rows = ["| module | mutants | " + " | ".join(columns) + " | other |", "|---|" + "---:|" * (len(columns) + 2)]
    totals = [0] * (len(columns) + 2)
    alive: list[str] = []
    for path, verdicts in table.items():
        if selected and not any(fnmatch.fnmatch(n, g) for n in verdicts for g in selected):
            continue
        counts = [len(verdicts)] + [sum(1 for s in verdicts.values() if s == c) for c in columns]
        counts.append(counts[0] - sum(counts[1:]))
        totals = [a + b for a, b in zip(totals, counts)]
        rows.append(f"| {path.removeprefix('src/hipkb/')} | " + " | ".join(map(str, counts)) + " |")
        alive += [f"{n}  ({s})" for n, s in verdicts.items() if s in ALIVE]
    rows.append("| **total** | " + " | ".join(f"**{n}**" for n in totals) + " |")
    return "\n".join(rows) + "\n\nalive after both tiers:\n" + "".join(f"  {a}\n" for a in alive)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mutants", nargs="*", help="mutant-name globs, e.g. 'hipkb.infer.*' (default: every mutant)")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "mutation", help="where the tiers' copies live")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    parser.add_argument("--tier", choices=["1", "2", "both"], default="both")
    parser.add_argument("--tests", nargs="+", metavar="FILE",
                        help="run these test files instead of the tier's list (e.g. tier 2 on the resolver with "
                             "only the oracle: each of its mutants is called by nearly every test)")
    parser.add_argument("--report", action="store_true", help="only print the last results")
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--show", metavar="MUTANT", help="only print the diff of one mutant")
    parser.add_argument("--print-config", action="store_true", help="print tier 1's [tool.mutmut] section and stop")
    options = parser.parse_args(argv)
    base: Path = options.work.resolve()
    fast, oracle = base / "fast", base / "oracle"
    if options.print_config:
        print(mutmut_section(expand(FAST)), end="")
        return 0
    if options.show:
        return mutmut(fast, ["show", options.show])
    if options.fresh and base.exists():
        shutil.rmtree(base)
    if options.tier == "both" and not options.report:
        # each tier in its own process: mutmut imports the mutated package from its own copy
        common = [sys.executable, __file__, "--work", str(base), "--max-children", str(options.max_children), *options.mutants]
        if options.tests:
            common += ["--tests", *options.tests]
        for tier in ("1", "2"):
            subprocess.run([*common, "--tier", tier, "--quiet"], check=False)
    elif not options.report:
        repeatable()
        children = ["--max-children", str(options.max_children)]
        start = time.monotonic()
        if options.tier == "1":
            sync(fast, expand(options.tests or FAST), options.mutants)
            code = mutmut(fast, ["run", *children, *options.mutants])
            minutes = (time.monotonic() - start) / 60
            log_run(base, "1", options.mutants, None, minutes)
            print(f"\ntier 1: exit {code}, {minutes:.1f} min", flush=True)
        else:
            left = [n for verdicts in results(fast).values() for n, s in verdicts.items() if s in ALIVE
                    and (not options.mutants or any(fnmatch.fnmatch(n, g) for g in options.mutants))]
            sync(oracle, expand(options.tests or ORACLE), options.mutants)
            code = mutmut(oracle, ["run", *children, *left]) if left else 0
            minutes = (time.monotonic() - start) / 60
            log_run(base, "2", options.mutants, len(left), minutes)
            print(f"\ntier 2: {len(left)} mutants, exit {code}, {minutes:.1f} min", flush=True)
    if options.quiet:
        return 0
    print(report(combined(fast, oracle), options.mutants), end="")
    runs = base / "runs.jsonl"
    if options.report and runs.exists():
        print("\nruns (tier, mutants selected, minutes on this machine):")
        for line in runs.read_text("utf-8").splitlines():
            run = json.loads(line)
            alive = "" if run["mutants"] is None else f" ({run['mutants']} alive after tier 1)"
            print(f"  {run['date']}  tier {run['tier']}  {' '.join(run['globs']) or 'everything'}{alive}  {run['minutes']:.1f} min")
    return 0


def log_run(base: Path, tier: str, globs: list[str], mutants: int | None, minutes: float) -> None:
    """One line per run in ``build/mutation/runs.jsonl``: what ran and how long it took (``--report`` lists them)."""
    entry = {"date": time.strftime("%Y-%m-%d %H:%M"), "tier": tier, "globs": globs, "mutants": mutants,
             "minutes": round(minutes, 1)}
    with (base / "runs.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


if __name__ == "__main__":
    sys.exit(main())
