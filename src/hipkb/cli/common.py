"""The click group and the options every command shares.

Every command that takes a CASE declares ``@case_options`` (``--kb``,
``--threshold``, ``--mdc``, ``--engine``) and ``@format_option()``
(``--format text|json``), and assesses with :func:`load_result`, which is
where ``--threshold`` and ``--mdc`` are checked: their errors name the
option (``--threshold supine_hip_rr: unknown threshold …``), while the
library's own errors never name a flag.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import click

from ..engines import ENGINES
from ..errors import CaseError, InputError

if TYPE_CHECKING:
    from ..infer import KnowledgeBase
    from ..result import Result

__all__ = [
    "cli",
    "kb_option",
    "threshold_option",
    "mdc_option",
    "engine_option",
    "format_option",
    "case_options",
    "load",
    "load_result",
    "parse_thresholds",
    "parse_overrides",
    "check_overrides",
    "version_text",
    "CASE_PATH",
    "case_argument",
]

#: The type of a CASE argument: a path that click does not check, so hipkb's
#: reader reports a missing or unreadable file in its own one line
#: (``FILE: permission denied``) instead of click's usage block.
CASE_PATH = click.Path(path_type=Path, exists=False, readable=False)


def case_argument(func: Callable[..., Any]) -> Callable[..., Any]:
    """The CASE argument (the command receives ``case``: a Path, unchecked)."""
    return click.argument("case", type=CASE_PATH)(func)


def version_text() -> str:
    """``hipkb 0.2.0 (package), knowledge base hipkb 2.0.0``: both versions, which move separately."""
    from ..version import __version__

    try:
        from ..infer import load_kb

        kb = load_kb()
        knowledge = f"knowledge base {kb.name} {kb.version}"
    except Exception as exc:  # the bundled KB is broken: --version still answers
        knowledge = f"knowledge base unreadable ({type(exc).__name__})"
    return f"hipkb {__version__} (package), {knowledge}"


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(version_text())
    ctx.exit(0)


#: Each command's module, imported only when the command runs (or --help lists it): a cold
#: `hipkb assess` then loads one command module, not all of them and what they import.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "assess": ("assess",), "assess-many": ("batch",), "new-case": ("cases",),
    "how": ("explain",), "why": ("explain",), "why-not": ("explain",), "what-if": ("explain",),
    "kb": ("kbtools", "diagram"), "diagram": ("diagram",), "report": ("diagram",),
    "sensitivity": ("sensitivity",), "quiz": ("teach",), "practice": ("teach",),
}


class LazyGroup(click.Group):
    """A group whose commands register themselves when their module is first imported."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands:
            import importlib

            for module in COMMAND_MODULES.get(name, ()):
                importlib.import_module(f"{__package__}.{module}")
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
@click.option(
    "--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
    help="Show the package's and the knowledge base's versions and exit.",
)
def cli(debug: bool) -> None:
    """Explain hip internal rotation: assess a case, ask how/why/why-not, draw the reasoning.

    Start with: hipkb new-case > me.yaml, fill it in, then hipkb assess me.yaml.
    """


def kb_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--kb", "kb_dir", type=click.Path(path_type=Path, readable=False), default=None, metavar="DIR",
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


def format_option(choices: Sequence[str] = ("text", "json"), default: str = "text") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--format text|json`` (the command receives ``fmt``)."""
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return click.option(
            "--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True,
            help="Output format.",
        )(func)
    return decorate


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
    """Load the KB and assess CASE with the command line's overrides (checked here, named by their flag)."""
    kb = load(kb_dir)
    overrides = check_overrides(kb, parse_overrides(thresholds, "--threshold"), parse_overrides(mdcs, "--mdc"))
    return kb.assess(case, thresholds=overrides[0], mdc=overrides[1], engine=engine)  # type: ignore[arg-type]


def check_overrides(kb: KnowledgeBase, thresholds: dict[str, float], mdcs: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """Validate ``--threshold`` and ``--mdc`` values against the KB; errors name the flag.

    >>> from hipkb.infer import load_kb
    >>> check_overrides(load_kb(), {"supine_ir": 30.0}, {})
    Traceback (most recent call last):
    ...
    hipkb.errors.InputError: --threshold supine_ir: unknown threshold 'supine_ir' (did you mean 'supine_hip_ir'?)
    """
    from ..case import check_mdc, check_threshold

    checked: list[dict[str, float]] = []
    for option, values, check in (("--threshold", thresholds, check_threshold), ("--mdc", mdcs, check_mdc)):
        out = {}
        for name, value in values.items():
            try:
                out[name] = check(kb, name, value)
            except CaseError as err:
                raise InputError(f"{option} {name}: {err.message}", hint=err.hint) from None
        checked.append(out)
    return checked[0], checked[1]


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
