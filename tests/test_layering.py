"""The package's layering (DESIGN "Layout"), checked by import-linter with the contracts in pyproject.toml."""

from __future__ import annotations

import importlib.util
import os
import re

import pytest

from conftest import REPO, require


def test_imports_point_one_way_and_heavy_packages_stay_in_their_modules(capsys: pytest.CaptureFixture[str]) -> None:
    require(importlib.util.find_spec("importlinter") is not None, "import-linter is not installed (it is in the test extra)")
    import importlinter.cli as cli

    here = os.getcwd()
    os.chdir(REPO)  # the contracts live in the repository's pyproject.toml
    try:
        code = cli.lint_imports(config_filename=str(REPO / "pyproject.toml"))
    finally:
        os.chdir(here)
    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(r"Contracts: 3 kept, 0 broken", out), out


def test_the_package_version_is_said_once() -> None:
    import hipkb
    from hipkb.version import __version__

    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(rf'^version = "{re.escape(__version__)}"$', text, re.M)
    assert hipkb.__version__ == __version__
