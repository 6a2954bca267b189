"""The click group and the options every command shares."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Sequence

import click

from ..errors import InputError

__all__ = ["cli", "kb_option", "threshold_option", "load", "parse_thresholds"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
@click.version_option(package_name="hipkb", prog_name="hipkb")
def cli(debug: bool) -> None:
    """Explain hip internal rotation: assess a case, ask how/why/why-not, draw the reasoning."""


def kb_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--kb", "kb_dir", type=click.Path(path_type=Path), default=None,
        help="Knowledge base directory (default: the bundled KB).",
    )(func)


def threshold_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--threshold", "thresholds", multiple=True, metavar="ID=DEGREES",
        help="Override a threshold, e.g. --threshold supine_hip_ir=30 (repeatable).",
    )(func)


def load(kb_dir: Path | None) -> Any:
    from ..infer import load_kb

    return load_kb(kb_dir)


def parse_thresholds(values: Sequence[str]) -> dict[str, float]:
    """``["supine_hip_ir=30"]`` → ``{"supine_hip_ir": 30.0}``; bad text is an InputError."""
    out: dict[str, float] = {}
    for text in values:
        name, sep, raw = text.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--threshold expects ID=DEGREES, not {text!r}")
        try:
            value = float(raw)
        except ValueError:
            raise InputError(f"--threshold {name}: {raw!r} is not a number") from None
        if not math.isfinite(value):
            raise InputError(f"--threshold {name}: needs a finite number, not {raw!r}")
        out[name.strip()] = value
    return out
