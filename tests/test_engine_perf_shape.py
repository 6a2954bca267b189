"""The tuned experta engine (hipkb.compile) keeps experta's semantics.

Speed is measured by benchmarks/bench.py, never here. These tests pin what
the speed-ups must not change: the engine's firings equal those of a
plain-Python evaluation of the KB and those of stock experta (its own
matcher, strategy and reset); the network wired for flat rules is the one
experta would wire; the engine class is built once per KB; an interrupted
run leaves nothing behind; and the assess path imports nothing heavy.
"""

from __future__ import annotations

import collections
import copy
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hipkb.compile import compile_kb
from hipkb.errors import InferenceError
from hipkb.infer import build_result, resolve_case

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo-01.yaml"


@pytest.fixture(scope="module")
def cases(kb, reference):
    return [resolve_case(kb, c) for c in reference.generate_cases(kb, 600, seed=424242)]


def _as_json(result):
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False)


def test_engine_equals_plain_python_reference(kb, cases, reference):
    compiled = compile_kb(kb)
    evaluator = reference.Evaluator(kb)
    produced = 0
    for case, merged in cases:
        engine = compiled.run(case.findings, case.given, merged)
        plain = evaluator.firings(case.findings, case.given, merged)
        assert set(engine) == set(plain), case.subject
        assert _as_json(build_result(kb, case, merged, engine)) == _as_json(build_result(kb, case, merged, plain))
        produced += bool(engine)
    assert produced > len(cases) // 2  # the generated cases do exercise the rules


def _stock(kb):
    """The same compiled rules and fact types, run by experta's own matcher, strategy and reset."""
    from experta import KnowledgeEngine
    from experta.matchers import ReteMatcher
    from experta.strategies import DepthStrategy

    stock = copy.copy(compile_kb(kb))
    stock._local = threading.local()
    stock.engine_class = type("StockHipkbEngine", (stock.engine_class,), {
        "__matcher__": ReteMatcher, "__strategy__": DepthStrategy, "reset": KnowledgeEngine.reset,
    })
    return stock


def test_tuned_engine_equals_stock_experta(kb, cases):
    tuned, stock = compile_kb(kb), _stock(kb)
    for case, merged in cases[:250]:
        a = tuned.run(case.findings, case.given, merged)
        b = stock.run(case.findings, case.given, merged)
        assert collections.Counter(a) == collections.Counter(b), case.subject


def _parents(root):
    parents = collections.defaultdict(list)
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for child in node.children:
            parents[id(child.node)].append((child.callback.__name__, node))
            stack.append(child.node)
    return parents


def _shapes(engine):
    """Each conflict-set node described down to its patterns (alpha order aside)."""
    from experta.matchers.rete.check import FactCapture
    from experta.matchers.rete.nodes import BusNode, ConflictSetNode, FeatureTesterNode, NotNode, WhereNode

    root = engine.matcher.root_node
    parents = _parents(root)

    def alpha_checks(node):
        checks = set()
        while isinstance(node, FeatureTesterNode):
            check = node.matcher
            if isinstance(check, FactCapture) and check.bind.startswith("__pattern_"):
                checks.add("capture of an unnamed pattern")  # named after the pattern object's id()
            else:
                checks.add(id(check))  # experta interns its checks: same object in both networks
            ((_, node),) = parents[id(node)]
        assert isinstance(node, BusNode)
        return frozenset(checks)

    def describe(node):
        if isinstance(node, FeatureTesterNode):
            return ("alpha", alpha_checks(node))
        ins = sorted((port, describe(parent)) for port, parent in parents[id(node)])
        if isinstance(node, WhereNode):
            return ("test", id(node.matcher.test), tuple(ins))
        if isinstance(node, NotNode):
            return ("not", tuple(ins))
        return ("join", tuple(ins))

    shapes = collections.Counter()
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(child.node for child in node.children)
        if isinstance(node, ConflictSetNode):
            ((_, parent),) = parents[id(node)]
            shapes[(node.rule.__name__, node.rule.salience, repr(tuple(node.rule)), describe(parent))] += 1
    return shapes


def test_network_has_the_shape_experta_builds(kb):
    tuned = compile_kb(kb).engine()
    stock = _stock(kb).engine()
    mine, theirs = _shapes(tuned), _shapes(stock)
    assert sum(mine.values()) == len(compile_kb(kb).branches)
    assert mine == theirs


def test_flat_rule_shortcut_equals_experta_prepare_rule(kb):
    from experta.matchers.rete.utils import prepare_rule

    engine = compile_kb(kb).engine()
    rules = engine.get_rules()
    assert rules
    for rule in rules:
        assert prepare_rule(rule) == rule.new_conditions(*rule)


def test_engine_class_is_built_once_and_each_thread_reuses_its_engine(kb, cases):
    compiled = compile_kb(kb)
    assert compile_kb(kb) is compiled
    engine_class = compiled.engine_class
    first = compiled.engine()
    for case, merged in cases[:20]:
        compiled.run(case.findings, case.given, merged)
    assert compiled.engine() is first and compiled.engine_class is engine_class
    others = []
    thread = threading.Thread(target=lambda: others.append(compiled.engine()))
    thread.start()
    thread.join()
    assert others[0] is not first and type(others[0]) is engine_class


def test_threads_get_the_same_results(kb, cases):
    expected = [_as_json(kb.assess(case)) for case, _ in cases[:80]]
    outputs: dict[int, list[str]] = {}

    def work(n):
        outputs[n] = [_as_json(kb.assess(case)) for case, _ in cases[:80]]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(outputs[n] == expected for n in range(4))


def test_a_run_stopped_at_the_firing_limit_is_reported_and_leaves_no_trace(kb):
    compiled = compile_kb(kb)
    case, merged = resolve_case(kb, DEMO)
    full = compiled.run(case.findings, case.given, merged)
    # the fewest firings that complete the demo case
    needed = next(n for n in range(1, 500) if _completes(compiled, case, merged, n))
    assert needed > 5
    with pytest.raises(InferenceError, match="still wanted to fire"):
        compiled.run(case.findings, case.given, merged, max_firings=needed - 1)
    assert collections.Counter(compiled.run(case.findings, case.given, merged, max_firings=needed)) == collections.Counter(full)
    with pytest.raises(InferenceError):
        compiled.run(case.findings, case.given, merged, max_firings=2)
    # nothing of the interrupted run leaks into the next one
    assert collections.Counter(compiled.run(case.findings, case.given, merged)) == collections.Counter(full)
    empty, none = resolve_case(kb, {"findings": {}})
    assert compiled.run(empty.findings, empty.given, none) == []


def _completes(compiled, case, merged, limit):
    try:
        compiled.run(case.findings, case.given, merged, max_firings=limit)
    except InferenceError:
        return False
    return True


HEAVY = ("networkx", "graphviz", "tqdm", "multiprocessing", "concurrent.futures", "jsonschema", "hypothesis")


@pytest.mark.parametrize("how", ["library", "cli"])
def test_the_assess_path_imports_nothing_heavy(how):
    run = (
        "import hipkb; hipkb.assess(sys.argv[1])" if how == "library" else
        "import contextlib, io; from hipkb.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): assert main(['assess', sys.argv[1]]) == 0"
    )
    probe = f"import json, sys\n{run}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe, str(DEMO)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_assessing_leaves_no_cyclic_garbage(kb, cases):
    """The console script runs without cycle collection (hipkb.cli.entry); that stays safe only while this holds."""
    import gc

    for case, _ in cases[:5]:
        kb.assess(case)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for case, _ in cases[:300]:
            kb.assess(case).to_dict()
        garbage = gc.collect()
    finally:
        if was_enabled:
            gc.enable()
    assert garbage == 0
