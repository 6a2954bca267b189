"""``hipkb quiz`` and ``hipkb practice``: teaching from the knowledge base.

Thin: parse the options, call :mod:`hipkb.teach`, print or write, return
an exit code. ``practice`` without ``--answers`` asks its questions one at
a time on a terminal (prompts on stderr, so ``--format json`` stays clean);
with no terminal it says what to pass and exits 2.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import click

from ..sanitize import json_text

from ..errors import InputError, suggest
from ..model import SIDES
from ..sanitize import clean
from ..teach.quiz import KINDS
from .common import CASE_PATH, case_argument, case_options, cli, kb_option, load, load_result

_QUIZ_FORMATS = ("text", "json", "markdown", "anki")
_SUFFIXES = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".apkg": "anki", ".txt": "text"}


def _quiz_format(fmt: str | None, output: Path | None) -> str:
    if fmt is not None:
        return fmt
    if output is not None:
        return _SUFFIXES.get(output.suffix.lower(), "text")
    return "text"


def _anki_timestamp() -> float:
    """The export time (``SOURCE_DATE_EPOCH`` when set, for a reproducible file)."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if fixed:
        try:
            return float(int(fixed))
        except ValueError:
            raise InputError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {fixed[:20]!r}") from None
    return time.time()


@cli.command("quiz")
@click.option("--count", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many questions (fewer if the KB yields fewer).")
@click.option("--seed", type=int, default=0, show_default=True, help="Which quiz: the same seed gives the same quiz.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS),
    help="Only questions of this kind (repeatable; default: every kind, taking turns).")
@click.option("--format", "fmt", type=click.Choice(_QUIZ_FORMATS), default=None,
              help="text, json, markdown or anki (default: from -o's suffix, else text).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write to FILE (.json, .md, .apkg choose the format).")
@kb_option
def quiz_command(count: int, seed: int, kinds: tuple[str, ...], fmt: str | None, output: Path | None,
                 kb_dir: Path | None) -> int:
    """Multiple-choice questions generated from the knowledge base, with answers and sources."""
    from ..teach.quiz import quiz

    fmt = _quiz_format(fmt, output)
    if fmt == "anki" and output is None:
        raise InputError("an Anki deck is a binary file: write it with -o FILE.apkg")
    kb = load(kb_dir)
    made = quiz(kb, count=count, seed=seed, kinds=kinds or None)
    data: bytes
    if fmt == "anki":
        from ..teach.anki import anki_package

        data = anki_package(made, timestamp=_anki_timestamp())
    elif fmt == "json":
        data = (json_text(made.to_dict()) + "\n").encode("utf-8")
    elif fmt == "markdown":
        data = made.markdown().encode("utf-8")
    else:
        data = made.text().encode("utf-8")
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
        return 0
    from ..output import write_atomic

    kb_files = [p for p in Path(kb.directory).iterdir() if p.is_file()] if kb.directory else []
    write_atomic(output, data, keep=kb_files)  # never over the KB it was made from
    click.echo(f"wrote {len(made.questions)} questions to {clean(str(output))}", err=True)
    return 0


def _stdin_is_terminal() -> bool:
    """True when a person can answer prompts (tests replace this)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


@cli.command("practice")
@case_argument
@click.option("--answers", "answers_file", type=CASE_PATH, default=None, metavar="FILE",
              help="Your reading of CASE (YAML or JSON): contributors, programme, next_assessment per side.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--interactive", is_flag=True,
              help="Ask the questions one at a time even when input is not a terminal.")
@case_options
def practice_command(case: Path, answers_file: Path | None, fmt: str, interactive: bool, kb_dir: Path | None,
                     thresholds: tuple[str, ...], mdcs: tuple[str, ...], engine: str) -> int:
    """Grade your reading of CASE against the engine (without --answers: answer on the terminal)."""
    from ..teach.practice import grade, parse_answers, read_answers

    if answers_file is None and not interactive and not _stdin_is_terminal():
        raise InputError(
            "no answers to grade: pass --answers FILE (see examples/demo-01-answers.yaml), "
            "or run this on a terminal (or with --interactive) to answer one question at a time"
        )
    result = load_result(case, kb_dir, thresholds, mdcs, engine)
    if answers_file is not None:
        answers = read_answers(answers_file, result.kb)
    else:
        answers = parse_answers(_ask(result), result.kb)
    graded = grade(result, answers)
    if fmt == "json":
        click.echo(json_text(graded.to_dict()))
    else:
        click.echo(graded.text(), nl=False)
    return 0


# --------------------------------------------------------------------------
# The interactive session


def _menu(title: str, options: Sequence[tuple[str, str]]) -> None:
    click.echo(title, err=True)
    for i, (_, label) in enumerate(options, 1):
        click.echo(f"  {i}. {label}", err=True)


def _reader(options: Sequence[tuple[str, str]], *, many: bool, none_word: str = "") -> Callable[[str], Any]:
    ids = [i for i, _ in options]

    def read(text: str) -> Any:
        tokens = [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]
        if not many and len(tokens) > 1:
            raise click.BadParameter("give one answer")
        out: list[str] = []
        for token in tokens:
            if none_word and token.lower() == none_word:
                continue
            if token.isdigit() and 1 <= int(token) <= len(ids):
                out.append(ids[int(token) - 1])
            elif token in ids:
                out.append(token)
            else:
                hint = suggest(token, ids)
                raise click.BadParameter(f"{clean(token)!r} is not one of the numbers or ids above"
                                         + (f" ({hint})" if hint else ""))
        if many:
            return out
        return out[0] if out else none_word or None

    return read


def _ask(result: Any) -> dict[str, Any]:
    """Ask the answers file's questions one at a time; returns the answers as an answers-file mapping."""
    from ..teach.practice import NONE, contributor_ids

    kb = result.kb
    labels = {c.id: clean(c.label) for c in result.differential("left")}
    contributors = [(c, labels.get(c, c)) for c in contributor_ids()]
    steps = [(r.id, clean(r.label)) for r in kb.recommendations.values() if r.kind == "exercise"]
    steps += [(r.id, clean(r.label)) for r in kb.recommendations.values() if r.kind == "assessment"]
    assessments = [(r.id, clean(r.label)) for r in kb.recommendations.values() if r.kind == "assessment"]
    answers: dict[str, dict[str, Any]] = {"contributors": {}, "programme": {}, "next_assessment": {}}
    subject = f" ({clean(result.case.subject)})" if result.case.subject else ""
    click.echo(f"Practice{subject}: answer for each hip; numbers or ids, separated by commas; blank for none.",
               err=True)
    for side in SIDES:
        click.echo("", err=True)
        _menu(f"Which contributors to limited IR hold on the {side}?", contributors)
        answers["contributors"][side] = click.prompt(
            "Contributors", default="", show_default=False, value_proc=_reader(contributors, many=True), err=True)
        _menu(f"What is the programme on the {side}, step by step?", steps)
        answers["programme"][side] = click.prompt(
            "Steps in order", default="", show_default=False, value_proc=_reader(steps, many=True), err=True)
        _menu(f"Which assessment comes next on the {side}? ({NONE} if none)", assessments)
        answers["next_assessment"][side] = click.prompt(
            "Next assessment", default=NONE, show_default=False,
            value_proc=_reader(assessments, many=False, none_word=NONE), err=True)
    return answers
