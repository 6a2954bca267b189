r"""The YAML most case files are written in, read without importing PyYAML.

Importing PyYAML costs more than the rest of a cold ``hipkb assess`` does
to read a case (it compiles its regular expressions at import), and a case
file is nearly always the same few shapes: a block mapping of plain keys,
nested block mappings, ``- item`` lists, one-line ``{left: 12, right: 40}``
and ``[a, b]`` collections, plain, single- or double-quoted scalars without
escapes, comments and blank lines, in printable ASCII.

:func:`events` reads exactly that subset and returns the events PyYAML's
parser would (with the same line and column marks), or None as soon as
the text holds anything else — a tab, a multi-line scalar, an anchor, a
tag, an escape, a document marker, a key PyYAML could read another way,
odd indentation, a syntax error. The caller then parses the text with
PyYAML as before, so errors and anything unusual keep PyYAML's own
handling; ``tests/test_yaml_subset.py`` checks on generated documents that
both readings give the same data, marks and errors.

A plain scalar is accepted only when its YAML 1.1 reading is certain:
a decimal number (``12``, ``-0.5``, ``1e5``, ``012``), one of the
``true``/``yes``/``on``... spellings PyYAML reads as booleans, ``null``,
or text starting with a letter or ``_`` that is none of those words.

>>> events("findings:\n  supine_hip_ir: {left: 12}\n")  # doctest: +NORMALIZE_WHITESPACE
[('map', 0, 0), ('key', 'findings', 0, 0), ('map', 1, 2), ('key', 'supine_hip_ir', 1, 2),
 ('flowmap', 1, 17), ('key', 'left', 1, 18), ('scalar', '12', 'number', 1, 24), ('end',), ('end',), ('end',)]
>>> events("a: 1:30\n") is None  # sexagesimal in YAML 1.1: PyYAML reads it
True
"""

from __future__ import annotations

import re
from typing import Union

__all__ = ["events", "Event", "BOOLEAN_WORDS", "NULL_WORDS", "DECIMAL"]

#: ('map' | 'seq' | 'flowmap' | 'flowseq', line, column) opens a collection; ('end',) closes it;
#: ('key', text, line, column); ('scalar', text, kind, line, column) with kind
#: 'number' | 'bool' | 'null' | 'str' (plain) or 'quoted'. Lines and columns are 0-based.
Event = Union[tuple[str, int, int], tuple[str], tuple[str, str, int, int], tuple[str, str, str, int, int]]

#: The plain words PyYAML's YAML 1.1 resolver reads as booleans and as null.
BOOLEAN_WORDS = frozenset(
    spelling for word in ("yes", "no", "true", "false", "on", "off") for spelling in (word, word.title(), word.upper())
)
NULL_WORDS = frozenset(("null", "Null", "NULL"))

#: How deep the subset nests before PyYAML takes over.
_MAX_BLOCK_DEPTH = 16
_MAX_FLOW_DEPTH = 8
#: PyYAML refuses implicit keys longer than 1024 characters; stay well below.
_MAX_KEY = 200

_PRINTABLE = re.compile(r"[ -~\n]*\Z")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# Letters, digits and _ + - . / with single inner spaces: no indicator, no ': ', no ' #'.
_PLAIN = re.compile(r"[A-Za-z0-9_+./-]+(?: [A-Za-z0-9_+./-]+)*")
#: A plain decimal (``12``, ``-0.5``, ``1e5``): the only plain text hipkb reads as a number, here and in
#: hipkb.source (which takes it from here, below it in the layering).
DECIMAL = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
_SINGLE = re.compile(r"'([^'\n]*)'")
_DOUBLE = re.compile(r'"([^"\\\n]*)"')
_SPACES = re.compile(r" *")
_LINE_END = re.compile(r"(?: +#.*)? *\Z")


def events(text: str) -> list[Event] | None:
    """PyYAML's events for ``text`` when it is in the subset, else None (see the module docstring)."""
    if not _PRINTABLE.match(text):
        return None
    out: list[Event] = []
    blocks: list[tuple[int, str]] = []  # (indent, 'map' | 'seq') of each open block collection
    pending: tuple[int, int, int] | None = None  # a 'key:' with nothing after it: (line, column after ':', indent)
    for number, line in enumerate(text.split("\n")):
        content = line.lstrip(" ")
        if not content or content.startswith("#"):
            continue
        indent = len(line) - len(content)
        if pending is not None:
            key_line, after_colon, key_indent = pending
            pending = None
            if indent > key_indent:  # the key's value is a block collection
                if len(blocks) >= _MAX_BLOCK_DEPTH:
                    return None
                kind = "seq" if content.startswith("-") else "map"
                out.append((kind, number, indent))
                blocks.append((indent, kind))
            else:
                out.append(("scalar", "", "null", key_line, after_colon))
        while blocks and indent < blocks[-1][0]:
            blocks.pop()
            out.append(("end",))
        if not blocks:
            if out:
                return None  # content after the root collection closed
            out.append(("map", number, indent))
            blocks.append((indent, "map"))
        if indent != blocks[-1][0]:
            return None  # a continuation line or odd indentation
        if blocks[-1][1] == "map":
            found = _KEY.match(content)
            if not found or found.end() > _MAX_KEY or content[found.end(): found.end() + 1] != ":":
                return None
            out.append(("key", found.group(), number, indent))
            start = found.end() + 1
            if content[start:] and content[start] != " ":
                return None  # 'a:b' is one plain scalar in YAML
        else:
            if not content.startswith("- "):
                return None  # '-' alone opens a nested block; '-x' is a scalar
            start = 1
        rest = content[start:]
        skipped = len(rest) - len(rest.lstrip(" "))
        if _LINE_END.match(rest):
            if blocks[-1][1] == "seq":
                return None  # '- ' with its value on the next lines
            pending = (number, indent + start, indent)
            continue
        if not _inline(line, indent + start + skipped, number, out):
            return None
    if pending is not None:
        out.append(("scalar", "", "null", pending[0], pending[1]))
    if not out:
        return None
    out.extend([("end",)] * len(blocks))
    return out


def _inline(line: str, at: int, number: int, out: list[Event]) -> bool:
    """Append the events of the value at ``line[at:]`` (to the end of the line); False if not in the subset."""
    if line[at] not in "{[":
        end = _scalar(line, at, number, out)
        return end is not None and bool(_LINE_END.match(line, end))
    stack: list[str] = []  # '}' or ']' for each open flow collection
    pos = at
    expect = "value"  # what comes next: 'value', 'key', or 'after' (a ',' or a closer)
    while True:
        pos = _SPACES.match(line, pos).end()  # type: ignore[union-attr]  # ' *' always matches
        char = line[pos: pos + 1]
        if expect == "after":
            if char == ",":  # a trailing comma fails below: a closer is neither a key nor a scalar
                pos += 1
                expect = "key" if stack[-1] == "}" else "value"
            elif char == stack[-1]:
                stack.pop()
                out.append(("end",))
                pos += 1
                if not stack:
                    return bool(_LINE_END.match(line, pos))
            else:
                return False
        elif char in ("{", "["):
            if expect == "key" or len(stack) >= _MAX_FLOW_DEPTH:
                return False
            out.append(("flowmap" if char == "{" else "flowseq", number, pos))
            stack.append("}" if char == "{" else "]")
            pos += 1
            inner = _SPACES.match(line, pos).end()  # type: ignore[union-attr]
            if line[inner: inner + 1] == stack[-1]:
                pos, expect = inner, "after"  # empty: the closer comes next
            else:
                expect = "key" if char == "{" else "value"
        elif expect == "key":
            found = _KEY.match(line, pos)
            if not found or found.end() - pos > _MAX_KEY or line[found.end(): found.end() + 2] != ": ":
                return False
            out.append(("key", found.group(), number, pos))
            pos, expect = found.end() + 1, "value"
        else:
            end = _scalar(line, pos, number, out)
            if end is None:
                return False
            pos, expect = end, "after"


def _scalar(line: str, at: int, number: int, out: list[Event]) -> int | None:
    """Append the scalar at ``line[at:]``; return where it ends, or None if it is not in the subset."""
    if at >= len(line):
        return None  # the line ends where a value should be: a collection spread over lines
    quoted = _SINGLE.match(line, at) if line[at] == "'" else _DOUBLE.match(line, at) if line[at] == '"' else None
    if quoted:
        out.append(("scalar", quoted.group(1), "quoted", number, at))
        return quoted.end()
    found = _PLAIN.match(line, at)
    if not found:
        return None
    text = found.group()
    kind = _plain_kind(text)
    if kind is None:
        return None
    out.append(("scalar", text, kind, number, at))
    return found.end()


def _plain_kind(text: str) -> str | None:
    """How YAML 1.1 reads a plain scalar, when that is certain; None otherwise."""
    if text[0] in "0123456789+-.":
        return "number" if DECIMAL.match(text) else None  # 1:30, 0x10, 2001-01-01, -x: PyYAML decides
    if text in BOOLEAN_WORDS:
        return "bool"
    if text in NULL_WORDS:
        return "null"
    return "str"
