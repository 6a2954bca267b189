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

from typing import Iterable, Mapping, Sequence

from .record import record

__all__ = [
    "HipkbError",
    "InputError",
    "KBError",
    "CaseError",
    "UnknownId",
    "InferenceError",
    "ExplainError",
    "RenderError",
    "GraphvizNotFound",
    "Location",
    "one_line",
    "suggest",
]


def one_line(text: str) -> str:
    r"""``text`` with every unprintable character (line breaks, escapes, bidi controls) spelled out.

    >>> one_line("a\tb\u202ec")
    'a\\tb\\u202ec'
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def suggest(name: str, candidates: Iterable[str], *, aliases: Mapping[str, str] | None = None) -> str | None:
    """A did-you-mean hint for an unknown id, or None.

    ``aliases`` maps other names (``slr``) to the id they stand for
    (``straight_leg_raise``): an alias is never accepted as input, it only
    makes the hint right.

    >>> suggest("outlet_opned", ["outlet_not_opening", "inlet_not_closing"])
    "did you mean 'outlet_not_opening'?"
    >>> suggest("slr", ["straight_leg_raise", "supine_hip_ir"], aliases={"slr": "straight_leg_raise"})
    "did you mean 'straight_leg_raise'?"
    """
    pool = sorted(set(candidates))
    names = dict(aliases or {})
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key in names and names[key] in pool:
        return f"did you mean {names[key]!r}?"
    spelled = {**{c: c for c in pool}, **{a: t for a, t in sorted(names.items()) if t in pool}}
    import difflib  # here, not at import: ~1 ms of every cold start, needed only on an error

    close = difflib.get_close_matches(key, list(spelled), n=1, cutoff=0.6)
    if not close:
        # a containment guess only from a few characters up: 'x' is in everything
        close = [c for c in spelled if len(key) >= 3 and len(c) >= 3 and (key in c or c in key)][:1]
    return f"did you mean {spelled[close[0]]!r}?" if close else None


@record
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
    """A case (the findings of one assessment) is invalid.

    A case file can have several errors; ``problems`` holds every one (the
    first is this error itself), each one line, in file order.

    >>> first, second = CaseError("bad 'x'", path="c.yaml", line=2), CaseError("bad 'y'", path="c.yaml", line=3)
    >>> err = CaseError.collect([first, second])
    >>> [str(p) for p in err.problems]
    ["c.yaml:2: bad 'x'", "c.yaml:3: bad 'y'"]
    >>> str(err)
    "c.yaml:2: bad 'x' (and 1 more error)"
    """

    problems: tuple["CaseError", ...] = ()

    @classmethod
    def collect(cls, errors: Sequence["CaseError"]) -> "CaseError":
        """One error standing for several: the first, noting how many more."""
        first = errors[0]
        if len(errors) == 1:
            first.problems = (first,)
            return first
        more = len(errors) - 1
        combined = cls(
            f"{first.message}{f' ({first.hint})' if first.hint else ''} (and {more} more error{'s' if more > 1 else ''})",
        )
        combined.location = first.location
        combined.args = (str(combined),)
        combined.problems = tuple(errors)
        return combined


class UnknownId(InputError):
    """An id the knowledge base does not declare (a typo is never a silent ``False``).

    >>> str(UnknownId("unknown id 'ir_limitd'", hint="did you mean 'ir_limited'?"))
    "unknown id 'ir_limitd' (did you mean 'ir_limited'?)"
    """


class ExplainError(InputError):
    """A question about a result names something that cannot be explained."""


class InferenceError(HipkbError):
    """The engine could not finish (for example, a runaway rule)."""


class RenderError(HipkbError):
    """A diagram could not be produced."""


class GraphvizNotFound(RenderError):
    """The Graphviz ``dot`` program is not installed."""
