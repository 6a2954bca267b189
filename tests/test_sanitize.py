"""hipkb.sanitize.clean: every character that could restyle, reorder or break output is spelled out.

Each class the sanitizer handles has its own test; properties (one line,
idempotent, nothing lost, UTF-8 encodable) are checked on generated text.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipkb.sanitize import clean

C0 = [chr(c) for c in range(0x20)]
C1 = [chr(c) for c in range(0x80, 0xA0)]
BIDI = ["\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
SEPARATORS = ["\u2028", "\u2029"]
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
UNSAFE = set(C0 + ["\x7f"] + C1 + BIDI + SEPARATORS + [chr(c) for c in range(0xD800, 0xE000)])


def spelled(char: str) -> str:
    """The escape clean() must put in place of ``char``."""
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


@pytest.mark.parametrize("char", C0, ids=[f"U+{ord(c):04X}" for c in C0])
def test_c0_controls(char: str) -> None:
    assert clean(f"a{char}b") == f"a{spelled(char)}b"


def test_c0_names() -> None:
    assert clean("\x00\x07\x08\t\n\x0b\x0c\r\x1b\x1f") == "\\x00\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x1b\\x1f"


def test_delete() -> None:
    assert clean("a\x7fb") == "a\\x7fb"


@pytest.mark.parametrize("char", C1, ids=[f"U+{ord(c):04X}" for c in C1])
def test_c1_controls(char: str) -> None:
    assert clean(f"a{char}b") == f"a{spelled(char)}b"


@pytest.mark.parametrize(
    "attack, shown",
    [
        ("\x1b[2J\x1b[Hcleared", "\\x1b[2J\\x1b[Hcleared"),  # clear the screen
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),  # colour
        ("\x1b]0;owned\x07title", "\\x1b]0;owned\\x07title"),  # set the window title
        ("\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", "\\x1b]8;;https://evil.example\\x1b\\click\\x1b]8;;\\x1b\\"),  # hyperlink
        ("\x9b2J one-byte CSI", "\\x9b2J one-byte CSI"),
        ("\x9d0;title\x9c", "\\x9d0;title\\x9c"),  # one-byte OSC ... ST
        ("\x1bPpayload\x1b\\", "\\x1bPpayload\\x1b\\"),  # device control string
        ("ok\rFAKE", "ok\\rFAKE"),  # overwrite the line
        ("ok\x08\x08XX", "ok\\x08\\x08XX"),  # backspaces
    ],
)
def test_escape_sequences_are_shown_not_sent(attack: str, shown: str) -> None:
    result = clean(attack)
    assert result == shown
    assert not any(ch in UNSAFE for ch in result)


@pytest.mark.parametrize("char", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_bidi_controls(char: str) -> None:
    assert clean(f"a{char}b") == f"a{spelled(char)}b"


def test_trojan_source_reordering() -> None:
    """The 'Trojan Source' comment: a right-to-left override hides what follows."""
    text = "access = 'user\u202e \u2066// admin\u2069 \u2066'"
    assert clean(text) == "access = 'user\\u202e \\u2066// admin\\u2069 \\u2066'"


@pytest.mark.parametrize("char", SEPARATORS)
def test_line_and_paragraph_separators(char: str) -> None:
    assert clean(f"one{char}two") == f"one{spelled(char)}two"
    assert clean(f"one{char}two", keep_newlines=True) == f"one{spelled(char)}two"


@pytest.mark.parametrize("char", SURROGATES, ids=[f"U+{ord(c):04X}" for c in SURROGATES])
def test_lone_surrogates(char: str) -> None:
    result = clean(f"a{char}b")
    assert result == f"a{spelled(char)}b"
    result.encode("utf-8")  # would raise UnicodeEncodeError with the surrogate left in


def test_keep_newlines_keeps_only_line_feeds() -> None:
    assert clean("one\ntwo\r\nthree\x1b[K", keep_newlines=True) == "one\ntwo\\r\nthree\\x1b[K"
    assert clean("one\ntwo") == "one\\ntwo"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain ASCII, with punctuation: ()[]{}<>&\"'\\ and digits 0-9",
        "Supine hip IR ≤ 20° — left side",
        "café, naïve, Ünïcödé, ß, Ø",
        "中文 日本語 한국어 العربية עברית",  # right-to-left letters are text, not controls
        "emoji 👍 🏳️‍🌈 👩‍👩‍👧",  # zero-width joiners inside emoji sequences stay
        "no\u00a0break space, soft\u00adhyphen, zero\u200bwidth",
        "combining e\u0301 and a\u0308",
    ],
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert clean(text) == text
    assert clean(text, keep_newlines=True) == text


def test_printable_text_is_returned_as_is() -> None:
    text = "Straight leg raise, left (degrees)"
    assert clean(text) is text


def test_deterministic() -> None:
    text = "x\x1b[1m\u202e\ud800\x85y"
    assert {clean(text) for _ in range(100)} == {"x\\x1b[1m\\u202e\\ud800\\x85y"}


# --------------------------------------------------------------------------
# Properties on generated text

_ESCAPE = re.compile(r"\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|([nrt]))")
_NAMED = {"n": "\n", "r": "\r", "t": "\t"}


def unescape(text: str) -> str:
    """Undo clean() on text that held no backslash of its own."""
    return _ESCAPE.sub(lambda m: _NAMED[m[3]] if m[3] else chr(int(m[1] or m[2], 16)), text)


texts = st.text(
    alphabet=st.one_of(
        st.characters(),  # anything, surrogates included
        st.sampled_from(sorted(UNSAFE - set(map(chr, range(0xD800, 0xE000))))),
        st.sampled_from(SURROGATES),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_result_is_one_safe_line(text: str) -> None:
    result = clean(text)
    assert not any(ch in UNSAFE for ch in result)
    assert len(result.splitlines()) <= 1
    result.encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(texts)
def test_keep_newlines_only_adds_line_feeds(text: str) -> None:
    result = clean(text, keep_newlines=True)
    assert not any(ch in UNSAFE - {"\n"} for ch in result)
    assert result.count("\n") == text.count("\n")
    assert result.replace("\n", "\\n") == clean(text)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_idempotent(text: str) -> None:
    once = clean(text)
    assert clean(once) == once


@settings(max_examples=300, deadline=None)
@given(texts.filter(lambda t: "\\" not in t))
def test_nothing_is_lost(text: str) -> None:
    assert unescape(clean(text)) == text
