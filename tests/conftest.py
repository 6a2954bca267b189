"""Shared fixtures: the bundled KB (loaded once) and paths into the repository."""

from __future__ import annotations

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


def keys(items):
    """{(id, side)} of conclusions or recommendations."""
    return {(i.id, i.side) for i in items}
