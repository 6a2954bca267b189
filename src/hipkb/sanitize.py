r"""One sanitizer for every piece of KB or case text shown to a terminal, DOT, Mermaid or HTML.

:func:`clean` spells out, as a visible escape, every character that could
change how the rest of the output is shown: C0 controls (ESC, so no escape
sequence is ever sent whole; CR; TAB; and line feed unless asked to keep it),
DEL, C1 controls (U+0080-U+009F, such as the one-byte CSI U+009B), bidi
embeddings, overrides, isolates and marks, the line and paragraph separators
and lone surrogates. Nothing is dropped, so nothing is silently lost, and
the result stays on one line. Every other character is kept as it is.

>>> clean("red\x1b[31m alert")
'red\\x1b[31m alert'
>>> clean("abc\u202edef")
'abc\\u202edef'
>>> clean("one\ntwo")
'one\\ntwo'
>>> clean("one\ntwo", keep_newlines=True)
'one\ntwo'
"""

from __future__ import annotations

import re

__all__ = ["clean", "json_text"]

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_SEPARATORS = "\u2028\u2029"
_SURROGATES = "\ud800-\udfff"
_OTHERS = "\x7f-\x9f" + _BIDI + _SEPARATORS + _SURROGATES

#: Everything :func:`clean` escapes; the second keeps line feeds. Patterns, not compiled
#: here: most text never needs them, and compiling the two costs ~1 ms of a cold start
#: (``re`` compiles and caches them on first use).
_UNSAFE = f"[\x00-\x1f{_OTHERS}]"
_UNSAFE_BUT_NEWLINE = f"[\x00-\x09\x0b-\x1f{_OTHERS}]"

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    """``\\n``, ``\\x1b`` or ``\\u202e``: the character as Python would spell it in a string."""
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def json_text(data: object) -> str:
    r"""JSON for a terminal or a file: readable UTF-8, every unsafe character as a ``\uXXXX`` escape.

    ``json.dumps(ensure_ascii=False)`` lets DEL, C1 controls, bidi overrides,
    line separators and lone surrogates through raw; here they become JSON
    escapes, so the text means the same to a JSON reader and hides nothing
    on a terminal.

    >>> print(json_text({"quote": "a\u202eb", "deg": "25°"}))
    {
      "quote": "a\u202eb",
      "deg": "25°"
    }
    """
    import json

    text = json.dumps(data, indent=2, ensure_ascii=False)
    if _printable_lines(text):
        return text
    return re.sub(_UNSAFE_BUT_NEWLINE, lambda m: f"\\u{ord(m.group()):04x}", text)


def clean(text: str, *, keep_newlines: bool = False) -> str:
    r"""``text`` with every control, bidi and separator character replaced by a visible escape.

    ``keep_newlines=True`` keeps line feeds (``\n``) for multi-line text;
    a carriage return is still escaped. The result is deterministic,
    idempotent (``clean(clean(t)) == clean(t)``) and, without
    ``keep_newlines``, always a single line.
    """
    # Fast paths: every character clean() escapes is unprintable to str.isprintable.
    if text.isprintable() or (keep_newlines and _printable_lines(text)):
        return text
    return re.sub(_UNSAFE_BUT_NEWLINE if keep_newlines else _UNSAFE, _escape, text)


def _printable_lines(text: str) -> bool:
    """Whether every character but line feeds is printable (so nothing needs escaping)."""
    return all(line.isprintable() for line in text.split("\n"))
