"""hipkb inside someone else's program leaves that program's world alone.

experta calls ``logging.basicConfig()`` at import and needs
``collections.Mapping`` (gone since Python 3.10) while it imports; both are
contained in hipkb.engines.experta. Each check runs in a fresh interpreter, because
in this test process experta may already have been imported by other tests.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = r"""
import collections, json, logging, sys
def state():
    root = logging.getLogger()
    return {
        "handlers": [repr(h) for h in root.handlers],
        "level": root.level,
        "mapping": hasattr(collections, "Mapping"),
        "experta_logger_handlers": [repr(h) for h in logging.getLogger("experta").handlers],
    }
SETUP
before = state()
import hipkb
after_import = state()
case = {"findings": {"supine_hip_ir": {"left": 12, "right": 40}, "rib_cage_side_bend": True}}
assert hipkb.assess(case).conclusions
assert "experta" not in sys.modules, "the default (compiled) engine never imports experta"
assert hipkb.assess(case, engine="experta").conclusions
import experta  # really imported by now
after_assess = state()
print(json.dumps({"before": before, "after_import": after_import, "after_assess": after_assess,
                  "experta_loaded": "experta" in sys.modules}))
"""

SETUPS = {
    "bare-host": "",
    "host-with-handler": "logging.basicConfig(level=logging.WARNING, format='%(message)s')",
    "host-at-debug": "logging.getLogger().setLevel(logging.DEBUG)",
}


@pytest.mark.parametrize("setup", SETUPS, ids=list(SETUPS))
def test_logging_and_collections_unchanged(setup: str) -> None:
    code = PROBE.replace("SETUP", SETUPS[setup])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", "nothing may be logged or printed to stderr"
    states = json.loads(proc.stdout)
    assert states["experta_loaded"]
    assert states["after_import"] == states["before"]
    assert states["after_assess"] == states["before"]
    if sys.version_info >= (3, 10):
        assert states["after_assess"]["mapping"] is False


def test_a_host_collections_mapping_is_left_in_place() -> None:
    """If the host itself set collections.Mapping, hipkb must not delete it."""
    code = (
        "import collections, collections.abc\n"
        "collections.Mapping = collections.abc.Mapping\n"
        "import hipkb\n"
        "hipkb.assess({'findings': {'hip_hike': 'left'}}, engine='experta')\n"
        "print(collections.Mapping is collections.abc.Mapping)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"


def test_nothing_printed_by_the_library(capfd: pytest.CaptureFixture[str]) -> None:
    import hipkb

    result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}, "pinch_in_flexion_ir": "left"}})
    result.to_dict()
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_host_logging_in_this_process_is_unchanged() -> None:
    import collections
    import logging

    import hipkb

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hipkb.load_kb().assess({"findings": {"straight_leg_raise": {"left": 40}}})
    assert root.handlers == handlers and root.level == level
    if sys.version_info >= (3, 10):
        assert not hasattr(collections, "Mapping")


def test_a_host_logging_at_info_gets_no_engine_chatter() -> None:
    """A host that logs at INFO must not receive one record per fact and rule firing."""
    code = (
        "import logging\n"
        "logging.basicConfig(level=logging.INFO, format='%(name)s: %(message)s')\n"
        "import hipkb\n"
        "hipkb.assess({'findings': {'supine_hip_ir': {'left': 12}}})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0
    assert proc.stderr == ""
