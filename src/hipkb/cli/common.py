"""The click group and the options every command shares."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import click

from ..engines import ENGINES
from ..errors import InputError

if TYPE_CHECKING:
    from ..infer import KnowledgeBase
    from ..result import Result

__all__ = [
    "cli",
    "kb_option",
    "threshold_option",
    "mdc_option",
    "engine_option",
    "case_options",
    "load",
    "load_result",
    "parse_thresholds",
    "parse_overrides",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
@click.version_option(package_name="hipkb", prog_name="hipkb", message="%(prog)s %(version)s (package)")
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


def mdc_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--mdc", "mdcs", multiple=True, metavar="ID=DEGREES",
        help="Override a measurement's minimal detectable change, e.g. --mdc supine_hip_ir=8 (repeatable).",
    )(func)


def engine_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--engine", type=click.Choice(ENGINES), default="compiled", show_default=True,
        help="compiled (fast, the default) or experta (the reference engine).",
    )(func)


def case_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--kb, --threshold, --mdc and --engine: every command that takes a CASE has them.

    The command receives ``kb_dir``, ``thresholds``, ``mdcs`` and ``engine``;
    pass them to :func:`load_result`.
    """
    for option in (engine_option, mdc_option, threshold_option, kb_option):
        func = option(func)
    return func


def load(kb_dir: Path | None) -> KnowledgeBase:
    from ..infer import load_kb

    return load_kb(kb_dir)


def load_result(case: Path, kb_dir: Path | None, thresholds: Sequence[str], mdcs: Sequence[str], engine: str) -> Result:
    """Load the KB and assess CASE with the command line's overrides."""
    kb = load(kb_dir)
    return kb.assess(
        case, thresholds=parse_overrides(thresholds, "--threshold"), mdc=parse_overrides(mdcs, "--mdc"),
        engine=engine,  # type: ignore[arg-type]
    )


def parse_overrides(values: Sequence[str], option: str) -> dict[str, float]:
    """``["supine_hip_ir=30"]`` → ``{"supine_hip_ir": 30.0}``; bad text is an InputError naming ``option``."""
    out: dict[str, float] = {}
    for text in values:
        name, sep, raw = text.partition("=")
        if not sep or not name.strip():
            raise InputError(f"{option} expects ID=DEGREES, not {text!r}")
        if len(raw.strip()) > 32:
            raise InputError(f"{option} {name.strip()}: {raw[:20]!r}… is not a number of degrees")
        try:
            value = float(raw)
        except ValueError:
            raise InputError(f"{option} {name.strip()}: {raw!r} is not a number") from None
        if not math.isfinite(value):
            raise InputError(f"{option} {name.strip()}: needs a finite number, not {raw!r}")
        out[name.strip()] = value
    return out


def parse_thresholds(values: Sequence[str]) -> dict[str, float]:
    """``--threshold`` values as a mapping (see :func:`parse_overrides`)."""
    return parse_overrides(values, "--threshold")
