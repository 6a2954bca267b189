"""Shared fixtures: the bundled KB (loaded once) and paths into the repository."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import hipkb

REPO = Path(__file__).resolve().parents[1]
ARTICLE = REPO.parent / "shared" / "source" / "hip-internal-rotation-guide.txt"


@pytest.fixture(scope="session")
def kb():
    return hipkb.load_kb()


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def reference():
    """benchmarks/reference.py: the plain-Python evaluator and seeded case generator."""
    spec = importlib.util.spec_from_file_location("hipkb_bench_reference", REPO / "benchmarks" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def keys(items):
    """{(id, side)} of conclusions or recommendations."""
    return {(i.id, i.side) for i in items}
