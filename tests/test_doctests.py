"""Every docstring example in the installed package runs and passes."""

import doctest
import importlib
import pkgutil

import pytest

import hipkb

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(hipkb.__path__, prefix="hipkb.")
)


@pytest.mark.parametrize("name", ["hipkb", *MODULES])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
