"""The package type-checks cleanly under ``mypy --strict`` (BRIEF: "typed public API (py.typed)").

One run over src/hipkb with a fresh cache under tmp_path; any error is
listed in the failure message with its file and line.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from conftest import REPO, require


def test_the_package_is_clean_under_mypy_strict(tmp_path: Path) -> None:
    require(importlib.util.find_spec("mypy") is not None, "mypy is not installed (it is in the test extra)")
    import mypy.api

    out, err, status = mypy.api.run([
        "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"),
        str(REPO / "src" / "hipkb"),
    ])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert errors == [], "\n".join(errors) + err
    assert status == 0, out + err
