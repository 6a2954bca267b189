"""Shared fixtures: the bundled KB (loaded once), paths into the repository, and ``require``.

A test that needs a tool or a file the repository does not carry (Graphviz's
``dot``, Chromium, the article beside the checkout) calls :func:`require`:
outside CI it is skipped with the reason; in CI (``CI=true``) a missing
tool is a failure, never a silent skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import hipkb

REPO = Path(__file__).resolve().parents[1]
#: The article the KB encodes; it lives beside the repository (../shared), not in it.
ARTICLE = Path(os.environ.get("HIPKB_ARTICLE", REPO.parent / "shared" / "source" / "hip-internal-rotation-guide.txt"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def assert_golden(name: str, text: str, *, test_file: str) -> None:
    """``text`` equals tests/golden/NAME, a file read by eye when it was written.

    ``UPDATE_GOLDEN=1`` rewrites it (then read ``git diff tests/golden`` before committing).
    """
    path = REPO / "tests" / "golden" / name
    command = f"UPDATE_GOLDEN=1 pytest {test_file}"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}: run {command} and read the diff"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from the golden file: if the change is meant, run {command} and read git diff tests/golden"
    )


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` unless ``condition``; in CI, fail instead (a missing tool breaks CI)."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI needs this but it is missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def article() -> Path:
    """The article's text file (HIPKB_ARTICLE, or ../shared/source beside the checkout)."""
    require(ARTICLE.is_file(), f"the article is not at {ARTICLE} (set HIPKB_ARTICLE)")
    return ARTICLE


@pytest.fixture(scope="session")
def kb():
    return hipkb.load_kb()


@pytest.fixture(scope="session")
def repo():
    return REPO


def keys(items):
    """{(id, side)} of conclusions or recommendations."""
    return {(i.id, i.side) for i in items}
