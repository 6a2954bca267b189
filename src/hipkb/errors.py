r"""One rooted exception hierarchy for everything hipkb raises.

Every error that points into a file carries its location, and ``str(err)``
is the one line the CLI prints: ``kb/causal.yaml:42:5: unknown state 'x'
(did you mean 'y'?)``.

>>> err = KBError("unknown state 'x'", path="kb/causal.yaml", line=42, column=5)
>>> str(err)
"kb/causal.yaml:42:5: unknown state 'x'"
>>> isinstance(err, HipkbError)
True

Control characters from file names or input never break the line:

>>> str(CaseError("no such file", path="evil\nname\x1b[2J.yaml"))
'evil\\nname\\x1b[2J.yaml: no such file'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "HipkbError",
    "InputError",
    "KBError",
    "CaseError",
    "InferenceError",
    "ExplainError",
    "RenderError",
    "GraphvizNotFound",
    "Location",
    "one_line",
]


def one_line(text: str) -> str:
    r"""``text`` with every unprintable character (line breaks, escapes, bidi controls) spelled out.

    >>> one_line("a\tb\u202ec")
    'a\\tb\\u202ec'
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


@dataclass(frozen=True)
class Location:
    """A place in a file: 1-based line and column; either may be unknown."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [one_line(self.path)]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class HipkbError(Exception):
    """Root of every error hipkb raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.location = Location(path, line, column) if path is not None else None
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        if self.location is not None:
            text = f"{self.location}: {text}"
        return one_line(text)


class InputError(HipkbError):
    """Bad input from a user: a file, a case, an option. The CLI exits 2."""


class KBError(InputError):
    """The knowledge base cannot be read or is inconsistent."""


class CaseError(InputError):
    """A case (the findings of one assessment) is invalid."""


class ExplainError(InputError):
    """A question about a result names something that cannot be explained."""


class InferenceError(HipkbError):
    """The engine could not finish (for example, a runaway rule)."""


class RenderError(HipkbError):
    """A diagram could not be produced."""


class GraphvizNotFound(RenderError):
    """The Graphviz ``dot`` program is not installed."""
