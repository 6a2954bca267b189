"""Lint a knowledge base: what the loader finds, unused ids, and quotes.

:func:`check_kb` returns a :class:`CheckReport` listing every problem as
``FILE:LINE:COL: message (hint)``. Errors are what :func:`hipkb.kb.read_kb`
finds (schema, unknown ids with did-you-mean, duplicates, cycles, opposite
states, citations, threshold ranges) plus quotes missing from the article
when one is given; warnings are declared ids that nothing uses.

>>> report = check_kb()
>>> report.errors, report.warnings
((), ())
>>> report.exit_code(strict=True)
0
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import InputError, KBError, Location
from .kb import FILES, Problem, bundled_kb_path, read_kb
from .model import KBModel as KnowledgeBase
from .model import Citation, Entity, Finding, Link, Rule, State, Threshold, flatten
from .record import record
from .source import Document, read_document

__all__ = ["CheckReport", "Article", "check_kb", "unused_ids", "check_quotes", "text_report", "MIN_PIECE"]

#: Characters: a quote (or each piece of it around an ellipsis) is a clause, not "the hip".
MIN_PIECE = 12
_TRANSLATE = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2013": "-", "\u2014": "-", "\u00a0": " ",
})
_ELLIPSIS = re.compile(r"\.\.\.|\u2026")


class Article:
    """The source article, normalized for quote look-ups.

    Whitespace, curly quotes, dashes and case are normalized; an ellipsis
    splits a quote into pieces that must occur in order, each at least
    :data:`MIN_PIECE` characters (the same rules as the project's own quote checker).

    >>> article = Article("When the femur glides back into the socket, it requires space.")
    >>> article.verify("the femur glides back ... it requires space") is None
    True
    >>> message, hint = article.verify("When the femur slides back into the socket")
    >>> message
    "quote not found in the article: 'when the femur slides back into the socket'"
    >>> hint
    "closest passage: 'when the femur glides back into the socket'; the quote has 'slides' where the article has 'glides'"
    """

    def __init__(self, text: str) -> None:
        self.text = _normalize(text)

    def verify(self, quote: str) -> tuple[str, str | None] | None:
        """None when ``quote`` is in the article, else ``(message, hint)``."""
        pieces = [p.strip(" .,;:\"'") for p in _ELLIPSIS.split(_normalize(quote))]
        pieces = [p for p in pieces if p]
        if not pieces:
            return "quote is empty", "quote at least a full clause of the article"
        pos = 0
        for i, piece in enumerate(pieces):
            if len(piece) < MIN_PIECE:
                return (
                    f"quote piece {piece!r} is shorter than {MIN_PIECE} characters",
                    "quote at least a full clause on each side of an ellipsis",
                )
            found = self.text.find(piece, pos)
            if found < 0:
                if i and self.text.find(piece) >= 0:
                    return (
                        f"quote piece {piece!r} comes before the previous piece in the article",
                        "the pieces around an ellipsis must follow the article's order",
                    )
                return f"quote not found in the article: {_clip(piece)!r}", self._closest(piece)
            pos = found + len(piece)
        return None

    def _closest(self, piece: str) -> str:
        """The article's passage most like ``piece``, and where they first differ."""
        matcher = difflib.SequenceMatcher(None, piece, self.text, autojunk=False)
        a, b, size = matcher.find_longest_match(0, len(piece), 0, len(self.text))
        if size < MIN_PIECE:
            return "no passage of the article is close; copy the words exactly"
        # Align the whole piece around that longest run, allowing for small edits.
        lo = max(0, b - a - len(piece) // 4)
        region = self.text[lo:b - a + len(piece) + len(piece) // 4]
        blocks = [m for m in difflib.SequenceMatcher(None, piece, region, autojunk=False).get_matching_blocks() if m.size]
        first, last = blocks[0], blocks[-1]
        start = max(0, first.b - first.a)
        end = min(len(region), last.b + last.size + (len(piece) - last.a - last.size))
        passage = region[start:end]
        hint = f"closest passage: {_clip(passage)!r}"
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, piece, passage, autojunk=False).get_opcodes():
            if tag != "equal":
                ours, theirs = _word_at(piece, i1, i2), _word_at(passage, j1, j2)
                return f"{hint}; the quote has {ours!r} where the article has {theirs!r}"
        return hint


def _word_at(text: str, start: int, end: int) -> str:
    """The whole words of ``text`` that overlap ``text[start:end]``."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end]


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(_TRANSLATE)).strip().lower()


def _clip(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@record
class CheckReport:
    """The outcome of :func:`check_kb`: problems sorted by place, errors first."""

    directory: str
    problems: tuple[Problem, ...]
    quotes_checked: int | None = None  # None when no article was given
    #: False when the KB has errors: unused ids are looked for in a KB that loads.
    unused_checked: bool = True

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def exit_code(self, *, strict: bool = False) -> int:
        """1 when there are errors (or, with ``strict``, warnings), else 0."""
        return 1 if self.errors or (strict and self.warnings) else 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``hipkb kb check --format json``."""
        return {
            "kb": self.directory,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "quotes_checked": self.quotes_checked,
            "unused_checked": self.unused_checked,
            "problems": [p.to_dict() for p in self.problems],
        }


def text_report(report: CheckReport) -> str:
    """One line per problem, then a summary line.

    >>> print(text_report(CheckReport("kb", (Problem("warning", "state 'x' is unused", Location("kb/states.yaml", 3, 5)),))), end="")
    kb/states.yaml:3:5: warning: state 'x' is unused
    kb: 0 errors, 1 warning
    """
    lines = []
    for p in report.problems:
        shown = p if p.severity == "error" else Problem(p.severity, f"warning: {p.message}", p.location, p.hint, p.code)
        lines.append(str(shown))
    errors, warnings = len(report.errors), len(report.warnings)
    summary = f"{report.directory}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    if report.quotes_checked is not None:
        summary += f"; {report.quotes_checked} quote{'s' * (report.quotes_checked != 1)} checked against the article"
    if not report.unused_checked:
        summary += "; unused ids are looked for once the errors are fixed"
    lines.append(summary)
    return "\n".join(lines) + "\n"


def check_kb(path: str | Path | None = None, *, article: str | Path | None = None) -> CheckReport:
    """Check a KB directory (default: the bundled one); verify quotes when ``article`` is given.

    Raises :class:`~hipkb.errors.KBError` when the KB cannot be read at all
    (no such directory, a file that is not YAML) and
    :class:`~hipkb.errors.InputError` when the article cannot be read.
    """
    directory = Path(path) if path is not None else bundled_kb_path()
    shown = str(path) if path is not None else "kb"
    kb, problems = read_kb(path)
    found = list(problems)
    if kb is not None:
        found += unused_ids(kb)
    checked = None
    if article is not None:
        quote_problems, checked = check_quotes(directory, Article(_read_article(article)), shown=shown)
        found += quote_problems
    unique = list(dict.fromkeys(found))
    file_rank = {name: i for i, name in enumerate(FILES)}

    def order(p: Problem) -> tuple[Any, ...]:
        loc = p.location
        return (
            p.severity != "error", file_rank.get(Path(loc.path).name, len(file_rank)), loc.path,
            loc.line or 0, loc.column or 0, p.message,
        )

    return CheckReport(shown, tuple(sorted(unique, key=order)), checked, kb is not None)


def _read_article(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such file", path=str(path), hint="--source names the article's text file") from None
    except IsADirectoryError:
        raise InputError("is a directory, not the article's text file", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None


# --------------------------------------------------------------------------
# Unused ids


def unused_ids(kb: KnowledgeBase) -> list[Problem]:
    """Warnings for declared ids that nothing uses.

    A state that no rule or link concludes or reads, a finding no rule reads
    (the engine ignores it), a recommendation no rule calls for.
    """
    concluded: set[str] = set()
    read: set[str] = set()
    for rule in kb.inference_rules:
        concluded.update(rule.then)
        read.update(c.ref for c in flatten(rule.when) if c.ref is not None and not c.implicit)
    linked = {end for link in kb.links.values() for end in (link.cause, link.effect)}
    read.update(a.target for rec in kb.recommendations.values() for a in rec.addresses)
    out = []
    for state in kb.states.values():
        if state.id not in concluded | read | linked:
            out.append(_warning(
                state.location, f"state {state.id!r} is concluded by no rule, read by no rule and in no causal link",
                "use it in a rule or link, or remove it", "unused-state",
            ))
    for finding in kb.findings.values():
        if finding.id not in read:
            out.append(_warning(
                finding.location, f"finding {finding.id!r} is read by no rule, so the engine ignores it",
                "use it in a rule's 'when', or remove it", "unused-finding",
            ))
    for rec in kb.recommendations.values():
        if not rec.calls:
            out.append(_warning(
                rec.location, f"recommendation {rec.id!r} is called for by no rule",
                "add 'called_for_by' with the states that call for it", "unused-recommendation",
            ))
    used_entities = _entities_in_use(kb)
    for entity in kb.entities.values():
        if entity.id not in used_entities:
            out.append(_warning(
                entity.location, f"entity {entity.id!r} is tied to no state or finding",
                "name it (or a part or whole of it) as a state's or finding's 'entity', or remove it", "unused-entity",
            ))
    cited = {c.ref for c in _citations(kb)}
    for source in kb.sources.values():
        if source.id not in cited:
            out.append(_warning(
                source.location, f"source {source.id!r} is cited by nothing",
                "cite it as some item's source 'ref', or remove it", "unused-source",
            ))
    return out


def _entities_in_use(kb: KnowledgeBase) -> set[str]:
    """Entities named by a state or finding, with their wholes and their parts."""
    described: tuple[State | Finding, ...] = (*kb.states.values(), *kb.findings.values())
    named = {x.entity for x in described if x.entity}
    wholes = {e.id: e.part_of for e in kb.entities.values()}

    def chain(entity: str | None) -> Iterator[str]:
        seen: set[str] = set()
        while entity is not None and entity not in seen:
            seen.add(entity)
            yield entity
            entity = wholes.get(entity)

    return {e for e in wholes if any(x in named for x in chain(e))} | {w for n in named for w in chain(n)}


def _citations(kb: KnowledgeBase) -> Iterable[Citation]:
    described: tuple[State | Finding | Entity, ...] = (*kb.states.values(), *kb.findings.values(), *kb.entities.values())
    for item in described:
        if item.source is not None:
            yield item.source
    cited: tuple[Threshold | Link | Rule, ...] = (*kb.thresholds.values(), *kb.links.values(), *kb.inference_rules)
    for claim in cited:
        yield claim.source
    for rec in kb.recommendations.values():
        yield rec.source
        yield from rec.rationale
        yield from (a.source for a in rec.addresses)
        if rec.order_source is not None:
            yield rec.order_source
    for threshold in kb.thresholds.values():
        yield from threshold.rationale
        if threshold.mdc_source is not None:
            yield threshold.mdc_source


def _warning(location: Location | None, message: str, hint: str, code: str) -> Problem:
    return Problem("warning", message, location or Location("kb"), hint, code)




# --------------------------------------------------------------------------
# Quotes


def check_quotes(directory: str | Path, article: Article, *, shown: str | None = None) -> tuple[list[Problem], int]:
    """Errors for quotes not found in ``article``, and how many quotes were checked.

    Reads the KB's files itself, so quotes are checked even when the KB has
    other errors. A quote whose ``ref`` names a paper or guideline is not the
    article's and is skipped.
    """
    directory = Path(directory)
    base = Path(shown) if shown is not None else directory
    docs = []
    for name in FILES:
        if (directory / name).exists():
            doc = read_document(directory / name, error=KBError)
            doc.path = str(base / name)
            docs.append(doc)
    outside = _outside_sources(docs)
    problems, checked = [], 0
    for doc in docs:
        for keys, quote, ref in _quotes(doc.data, ()):
            if isinstance(ref, str) and ref in outside:
                continue
            checked += 1
            miss = article.verify(quote)
            if miss is not None:
                problems.append(Problem("error", miss[0], doc.where(*keys), miss[1], "quote"))
    return problems, checked


def _outside_sources(docs: list[Document]) -> set[str]:
    """Ids of sources that are not the article (papers, guidelines)."""
    for doc in docs:
        if Path(doc.path).name == "sources.yaml" and isinstance(doc.data, dict):
            items = doc.data.get("sources")
            if isinstance(items, list):
                return {
                    s["id"] for s in items
                    if isinstance(s, dict) and isinstance(s.get("id"), str) and s.get("kind") not in (None, "article")
                }
    return set()


def _quotes(node: Any, at: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str, Any]]:
    if isinstance(node, dict):
        quote = node.get("quote")
        if isinstance(quote, str):
            yield at + ("quote",), quote, node.get("ref")
        for key, value in node.items():
            if key != "quote":
                yield from _quotes(value, at + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _quotes(value, at + (i,))
