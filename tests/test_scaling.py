"""Big and deep knowledge bases: load and assess complete, without recursion, and agree with experta.

DESIGN ("Engine"): the resolver is linear in the number of firings; a
10,000-link chain took minutes with the quadratic one. Timing belongs to
benchmarks/bench.py; these tests assert completion (under a recursion
limit far below the chain's depth: nothing may recurse per link) and the
results, with a generous time guard only against a hang.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pytest

import hipkb
from hipkb.batch import sample_cases, verify_engines
from hipkb.kb import FILES, MANIFEST, bundled_kb_path
from hipkb.source import read_document

GENERATED = "    evidence: interpretation\n    source: {interpretation: generated for a test}\n"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HIPKB_CACHE_DIR", str(tmp_path / "cache"))


def chain_kb(target: Path, links: int, *, ring: bool = False) -> None:
    """The bundled KB plus states chain_0..chain_N: hip_hike → chain_0 → … as causal links (or a cycle of rules)."""
    shutil.copytree(bundled_kb_path(), target)
    n = links + 1
    with open(target / "states.yaml", "a", encoding="utf-8") as f:
        f.write("".join(f"\n  - id: chain_{i}\n    label: Chain {i}\n    sided: true\n" for i in range(n)))
    start = f"\n  - id: chain_start\n    label: Start\n    when:\n      - {{finding: hip_hike}}\n    then: [chain_0]\n{GENERATED}"
    if ring:  # rules chain_i → chain_{i+1 mod n}, declared against the flow (last first)
        rules = "".join(f"\n  - id: ring_{i}\n    label: Ring {i}\n    when:\n      - {{state: chain_{i}}}\n"
                        f"    then: [chain_{(i + 1) % n}]\n{GENERATED}" for i in reversed(range(n)))
        with open(target / "rules.yaml", "a", encoding="utf-8") as f:
            f.write(rules + start)
        return
    with open(target / "causal.yaml", "a", encoding="utf-8") as f:
        f.write("".join(f"\n  - id: link_{i}\n    label: Link {i}\n    cause: chain_{i}\n    effect: chain_{i + 1}\n"
                        f"    use: conclude\n{GENERATED}" for i in range(links)))
    with open(target / "rules.yaml", "a", encoding="utf-8") as f:
        f.write(start)


class low_recursion_limit:
    """Far below the depth of the chains here: any recursion per link or per state fails."""

    def __init__(self, limit: int = 400) -> None:
        self.limit = limit

    def __enter__(self) -> None:
        self.saved = sys.getrecursionlimit()
        sys.setrecursionlimit(max(self.limit, _depth() + 150))

    def __exit__(self, *exc: object) -> None:
        sys.setrecursionlimit(self.saved)


def _depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def test_a_10000_link_chain_loads_and_is_assessed_without_recursion(tmp_path):
    chain_kb(tmp_path / "kb", 10_000)
    start = time.monotonic()
    with low_recursion_limit():
        kb = hipkb.load_kb(tmp_path / "kb")  # parse, build, generate, compile: then cached
        result = kb.assess({"findings": {"hip_hike": "left"}})
        again = hipkb.load_kb(tmp_path / "kb")  # from the cache
    assert again == kb and again.engine("compiled").firings == kb.engine("compiled").firings
    assert time.monotonic() - start < 600  # a hang guard, not a benchmark
    chain = {c.id: c for c in result.conclusions if c.id.startswith("chain_")}
    assert len(chain) == 10_001 and all(c.side == "left" for c in chain.values())
    last = chain["chain_10000"]
    assert (last.status, last.evidence) == ("inferred", "interpretation")
    assert [j.rule for j in last.justifications] == ["link_9999"]
    assert not any(c.id.startswith("chain_") and c.side == "right" for c in result.conclusions)


def test_a_cycle_declared_against_its_flow_closes_and_engines_agree(tmp_path):
    chain_kb(tmp_path / "kb", 150, ring=True)
    with low_recursion_limit(300):
        kb = hipkb.load_kb(tmp_path / "kb")
        result = kb.assess({"findings": {"hip_hike": "right"}})
        assert verify_engines(kb, [{"findings": {"hip_hike": "right"}}, {"findings": {"hip_hike": ["left", "right"]}},
                                   {"findings": {"chain_40": "left"}}]) == []
    ring = [c for c in result.conclusions if c.id.startswith("chain_")]
    assert len(ring) == 151 and {c.side for c in ring} == {"right"}
    # a fact on the cycle rests on hip_hike through the cycle, never on itself
    assert all(j.rule != "ring_150" for j in result.conclusion("chain_0", "right").justifications)


def replicate(source: Path, copies: int, target: Path) -> None:
    """The KB ``copies`` times over, copy k's ids (and aliases) suffixed ``_xk``; sources shared."""
    docs = {name: read_document(source / name).data for name in FILES}
    ids: set[str] = set()
    for name, top in FILES.items():
        if top != "sources":
            todo = list(docs[name][top])
            while todo:
                node = todo.pop()
                if isinstance(node, dict):
                    if isinstance(node.get("id"), str):
                        ids.add(node["id"])
                    ids.update(node.get("aliases") or ())
                    todo.extend(node.values())
                elif isinstance(node, list):
                    todo.extend(node)

    def rename(node, suffix):
        if isinstance(node, dict):
            return {rename(k, suffix): rename(v, suffix) for k, v in node.items()}
        if isinstance(node, list):
            return [rename(v, suffix) for v in node]
        return node + suffix if isinstance(node, str) and node in ids else node

    target.mkdir()
    shutil.copy(source / MANIFEST, target / MANIFEST)
    for name, top in FILES.items():
        items = docs[name][top]
        if top != "sources":
            items = [rename(item, "" if k == 0 else f"_x{k}") for k in range(copies) for item in items]
        (target / name).write_text(json.dumps({top: items}), encoding="utf-8")  # JSON is YAML


def test_a_replicated_kb_gives_each_copy_the_answer_of_the_original(tmp_path, kb):
    replicate(bundled_kb_path(), 3, tmp_path / "x3")
    big = hipkb.load_kb(tmp_path / "x3")
    assert len(big.inference_rules) == 3 * len(kb.inference_rules)
    # the generated evaluator grows with the KB, unit for unit: no term across copies
    assert len(big.engine("compiled").firings) == 3 * len(kb.engine("compiled").firings)
    for case in sample_cases(kb, 15, seed=5):
        spread = dict(case, findings={f"{k}{s}": v for s in ("", "_x1", "_x2") for k, v in case["findings"].items()})
        if "thresholds" in case:
            spread["thresholds"] = {f"{k}{s}": v for s in ("", "_x1", "_x2") for k, v in case["thresholds"].items()}
        small = {(c.id, c.side, c.status, c.evidence) for c in kb.assess(case).conclusions}
        result = big.assess(spread)
        for suffix in ("", "_x1", "_x2"):
            copy = {(c.id[: len(c.id) - len(suffix)] if suffix else c.id, c.side, c.status, c.evidence)
                    for c in result.conclusions if (c.id.endswith(suffix) if suffix else "_x" not in c.id)}
            assert copy == small
