"""Read YAML or JSON files safely, keeping where every value came from.

Only plain data is built (mappings, lists, strings, numbers, booleans, null):
YAML tags that would construct Python objects are refused, anchors and
aliases are refused (no "billion laughs"), duplicate keys are errors,
nesting is bounded, files larger than a limit are not parsed, only regular
files are opened (never blocking on a FIFO or device), and a lone surrogate
(``"\\ud800"``) is refused, since no output could encode it. Every error is
one line with the file, line and column.

A plain scalar is a number only when it is a plain decimal (``12``,
``-0.5``, ``1e5``): YAML 1.1 would read ``012`` as octal 10, ``1:30`` as 90
and ``0x10`` as 16; here they stay text, so a field that needs a number
says so at their place.

>>> doc = parse_text("a:\\n  b: 1\\n", "case.yaml")
>>> doc.data
{'a': {'b': 1}}
>>> str(doc.where("a", "b"))
'case.yaml:2:6'
>>> parse_text("a: [012, 1:30, 1e1, .5]\\n", "case.yaml").data
{'a': ['012', '1:30', 10.0, 0.5]}
>>> parse_text('{"a": [1e1, 2]}', "case.json", as_json=True).data
{'a': [10.0, 2]}
>>> parse_text("a: !!python/object/apply:os.system [ls]", "case.yaml")
Traceback (most recent call last):
...
hipkb.errors.InputError: case.yaml:1:4: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' (only plain data is allowed)
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import yaml_subset
from .errors import HipkbError, InputError, Location
from .record import field, record

if TYPE_CHECKING:
    import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints

__all__ = ["Document", "parse_text", "read_document", "MAX_BYTES", "MAX_DEPTH"]

#: Files larger than this are refused before parsing.
MAX_BYTES = 2 * 1024 * 1024
#: Mappings and lists may nest this deep (a case needs 3 levels, the KB 6).
MAX_DEPTH = 64
#: Longest number accepted, in characters.
MAX_NUMBER_CHARS = 64

PathKey = tuple[Any, ...]
ErrorFactory = Callable[..., HipkbError]

_YAML_TAG = "tag:yaml.org,2002:"
_DECIMAL = yaml_subset.DECIMAL
_INTEGER = re.compile(r"[-+]?[0-9]+\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPECIAL_FLOAT = re.compile(r"(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z")
_BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _yaml() -> Any:
    """PyYAML, imported on first use (~11 ms): a JSON case, a case in the common subset or a cached KB never needs it."""
    import yaml

    return yaml


def _loader_class() -> Any:
    """libyaml's safe loader where it is built, else PyYAML's pure-Python one."""
    yaml = _yaml()
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@record(frozen=False)
class Document:
    """Parsed data plus the file position of every value and key."""

    data: Any
    path: str
    marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def where(self, *keys: Any, key: bool = False) -> Location:
        """Location of the value at ``keys`` (or of its key), else the nearest parent."""
        probe: PathKey = tuple(keys) + (("<key>",) if key else ())
        while True:
            if probe in self.marks:
                line, column = self.marks[probe]
                return Location(self.path, line, column)
            if not probe:
                return Location(self.path, None, None)
            probe = probe[:-1]


class _Fail(Exception):
    """A problem at a 0-based (line, column); turned into the caller's error type."""

    def __init__(self, message: str, line: int | None, column: int | None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.column, self.hint = message, line, column, hint


def _number(text: str, line: int, column: int, *, as_float: bool = False) -> int | float | None:
    """A plain decimal number, or None for text YAML 1.1 would read another way."""
    if _SPECIAL_FLOAT.match(text):
        return float(text.replace(".", "", 1))
    if not _DECIMAL.match(text):
        return None
    if len(text) > MAX_NUMBER_CHARS:
        raise _Fail(f"number has too many digits ({len(text)} characters)", line, column)
    if _INTEGER.match(text) and not as_float:
        digits = text.lstrip("+-")
        if len(digits) > 1 and digits.startswith("0"):
            return None  # 012: octal in YAML 1.1, decimal in 1.2; text here
        return int(text)
    return float(text)


class _Frame:
    __slots__ = ("container", "at", "key", "key_mark")

    def __init__(self, container: dict[Any, Any] | list[Any], at: PathKey) -> None:
        self.container = container
        self.at = at
        self.key: Any = _NO_KEY
        self.key_mark: tuple[int, int] = (0, 0)


_NO_KEY = object()


class _Tree:
    """Builds plain data and marks from a stream of values, without recursion."""

    def __init__(self) -> None:
        self.stack: list[_Frame] = []
        self.marks: dict[PathKey, tuple[int, int]] = {}
        self.root: Any = None
        self.done = False

    def expecting_key(self) -> bool:
        top = self.stack[-1] if self.stack else None
        return isinstance(top, _Frame) and isinstance(top.container, dict) and top.key is _NO_KEY

    def key(self, key: Any, line: int, column: int) -> None:
        _check_text(key, line, column)
        top = self.stack[-1]
        if key in top.container:
            raise _Fail(f"duplicate key {_short(key)!r}", line, column)
        top.key = key
        self.marks[top.at + (key, "<key>")] = (line + 1, column + 1)

    def value(self, value: Any, line: int, column: int) -> PathKey:
        """Place a value (a scalar, or a new empty container) at the current position."""
        _check_text(value, line, column)
        if not self.stack:
            if self.done:
                raise _Fail("only one document per file", line, column)
            self.root, self.done, at = value, True, ()
        else:
            top = self.stack[-1]
            if isinstance(top.container, dict):
                at = top.at + (top.key,)
                top.container[top.key] = value
                top.key = _NO_KEY
            else:
                at = top.at + (len(top.container),)
                top.container.append(value)
        self.marks[at] = (line + 1, column + 1)
        return at

    def open(self, container: dict[Any, Any] | list[Any], line: int, column: int) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise _Fail(f"document is nested more than {MAX_DEPTH} levels deep", line, column)
        at = self.value(container, line, column)
        self.stack.append(_Frame(container, at))

    def close(self) -> None:
        self.stack.pop()


def _check_text(value: Any, line: int, column: int) -> None:
    """Refuse a string holding a lone surrogate (from a ``\\ud800`` escape): no output could encode it."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        if found:
            message = f"not valid text: lone surrogate \\u{ord(found.group()):04x}"
            raise _Fail(message, line, column, "\\ud800-\\udfff escapes must come in pairs")


def _short(value: Any, limit: int = 60) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


# --------------------------------------------------------------------------
# YAML


def _yaml_scalar(loader: Any, event: yaml.ScalarEvent, *, as_key: bool) -> Any:
    line, column = event.start_mark.line, event.start_mark.column
    text: str = event.value
    explicit = event.tag not in (None, "!")
    tag = event.tag if explicit else loader.resolve(_yaml().ScalarNode, text, event.implicit)
    plain = not event.style and not explicit
    if tag == _YAML_TAG + "merge":
        raise _Fail("YAML merge keys ('<<') are not supported", line, column)
    kind = tag[len(_YAML_TAG):] if tag.startswith(_YAML_TAG) else None
    if kind not in {"str", "int", "float", "bool", "null", "timestamp"}:
        raise _Fail(f"unsupported YAML tag {tag!r}", line, column, "only plain data is allowed")
    if as_key:
        return text  # keys are names: 'yes', '1' and '~' stay as written
    if kind in ("str", "timestamp"):
        # YAML 1.1 leaves 1e5 and -.5 as text; read plain ones as numbers.
        number = _number(text, line, column) if plain and kind == "str" else None
        return text if number is None else number
    if kind == "null":
        if explicit and text not in ("", "~", "null", "Null", "NULL"):
            raise _Fail(f"cannot read {_short(text)!r} as null", line, column)
        return None
    if kind == "bool":
        if text.lower() not in _BOOLEANS:
            raise _Fail(f"cannot read {_short(text)!r} as true or false", line, column)
        return _BOOLEANS[text.lower()]
    number = _number(text, line, column, as_float=kind == "float")
    if number is not None:
        return number
    if explicit:
        raise _Fail(f"cannot read {_short(text)!r} as a number", line, column, "write numbers like 12 or 12.5")
    return text  # 0x10, 012, 1_000, 1:30: not plain decimals


def _parse_yaml(text: str) -> tuple[Any, dict[PathKey, tuple[int, int]], bool]:
    """(data, marks, found a document) from YAML text; raises _Fail.

    Text in the common subset (:mod:`hipkb.yaml_subset`) is read without
    PyYAML, to the same data, marks and errors; anything else goes to PyYAML.
    """
    found = yaml_subset.events(text)
    if found is not None:
        return _parse_subset(found)
    return _parse_with_pyyaml(text)


def _parse_subset(found: list[yaml_subset.Event]) -> tuple[Any, dict[PathKey, tuple[int, int]], bool]:
    """(data, marks, True) from the events of a text in the subset; raises _Fail as the PyYAML reading would."""
    tree = _Tree()
    for event in found:
        kind = event[0]
        if kind == "key":
            _, key, line, column = event  # type: ignore[misc]
            tree.key(key, line, column)
        elif kind == "scalar":
            _, text, how, line, column = event  # type: ignore[misc]
            tree.value(_subset_scalar(text, how, line, column), line, column)
        elif kind == "end":
            tree.close()
        else:
            _, line, column = event  # type: ignore[misc]
            tree.open({} if kind in ("map", "flowmap") else [], line, column)
    return tree.root, tree.marks, True


def _subset_scalar(text: str, how: str, line: int, column: int) -> Any:
    """A subset scalar's value, by the rules :func:`_yaml_scalar` applies to the same plain or quoted text."""
    if how == "number":
        number = _number(text, line, column)
        return text if number is None else number
    if how == "bool":
        return _BOOLEANS[text.lower()]
    if how == "null":
        return None
    return text


def _parse_with_pyyaml(text: str) -> tuple[Any, dict[PathKey, tuple[int, int]], bool]:
    """(data, marks, found a document) from YAML text, read by PyYAML; raises _Fail."""
    tree = _Tree()
    loader = None
    yaml = _yaml()
    try:
        loader = _loader_class()(text)
        while loader.check_event():
            event = loader.get_event()
            mark = event.start_mark
            line, column = mark.line, mark.column
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise _Fail("YAML anchors and aliases are not allowed", line, column)
            if isinstance(event, yaml.DocumentStartEvent) and tree.done:
                raise _Fail("only one YAML document per file", line, column)
            if isinstance(event, yaml.ScalarEvent):
                if tree.expecting_key():
                    tree.key(_yaml_scalar(loader, event, as_key=True), line, column)
                else:
                    tree.value(_yaml_scalar(loader, event, as_key=False), line, column)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                mapping = isinstance(event, yaml.MappingStartEvent)
                if tree.expecting_key():
                    raise _Fail("a mapping key must be a plain value", line, column)
                expected = _YAML_TAG + ("map" if mapping else "seq")
                if event.tag not in (None, "!", expected):
                    raise _Fail(f"unsupported YAML tag {event.tag!r}", line, column, "only plain data is allowed")
                tree.open({} if mapping else [], line, column)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                tree.close()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise _Fail(f"invalid YAML: {problem}", *((mark.line, mark.column) if mark else (None, None))) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position)
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1)
        what = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise _Fail(f"invalid YAML: character {what} is not allowed", line, column, "remove control characters") from None
    except yaml.YAMLError as exc:
        raise _Fail(f"invalid YAML: {str(exc).splitlines()[0]}", None, None) from None
    finally:
        if loader is not None:
            loader.dispose()
    return tree.root, tree.marks, tree.done


# --------------------------------------------------------------------------
# JSON

_WS = re.compile(r"[ \t\n\r]*")
#: json's own string scanner (undocumented, so absent from typeshed): (text, start after the quote, strict) → (string, end).
_scanstring: Callable[[str, int, bool], tuple[str, int]] = getattr(json.decoder, "scanstring")


def _skip(text: str, pos: int) -> int:
    """The position after the JSON whitespace at ``pos`` (the pattern always matches)."""
    match = _WS.match(text, pos)
    return match.end() if match else pos
_LITERALS = (("true", True), ("false", False), ("null", None))
_CONSTANTS = (("NaN", float("nan")), ("Infinity", float("inf")), ("-Infinity", float("-inf")))


def _parse_json(text: str) -> tuple[Any, dict[PathKey, tuple[int, int]]]:
    """(data, marks) from JSON text, parsed without recursion; raises _Fail."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def place(pos: int) -> tuple[int, int]:
        row = bisect.bisect_right(starts, pos) - 1
        return row, pos - starts[row]

    def fail(message: str, pos: int) -> _Fail:
        return _Fail(f"invalid JSON: {message}", *place(pos))

    def string(pos: int) -> tuple[str, int]:
        try:
            return _scanstring(text, pos + 1, True)
        except json.JSONDecodeError as exc:
            raise fail(exc.msg, exc.pos) from None

    tree = _Tree()
    pos = _skip(text, 0)
    state = "value"
    value: Any
    while True:
        pos = _skip(text, pos)
        char = text[pos:pos + 1]
        top = tree.stack[-1] if tree.stack else None
        if state == "value":
            line, column = place(pos)
            if char in ("{", "["):
                tree.open({} if char == "{" else [], line, column)
                pos = _skip(text, pos + 1)
                closer = "}" if char == "{" else "]"
                if text[pos:pos + 1] == closer:
                    tree.close()
                    pos, state = pos + 1, "after"
                else:
                    state = "key" if char == "{" else "value"
                continue
            if char == '"':
                value, pos = string(pos)
            else:
                number = json.scanner.NUMBER_RE.match(text, pos)
                if number:
                    whole, frac, exp = number.groups()
                    raw = number.group(0)
                    value = _number(raw, line, column, as_float=bool(frac or exp))
                    assert value is not None  # JSON numbers are plain decimals
                    pos = number.end()
                else:
                    for word, literal in _LITERALS + _CONSTANTS:
                        if text.startswith(word, pos):
                            value, pos = literal, pos + len(word)
                            break
                    else:
                        raise fail("Expecting value", pos)
            tree.value(value, line, column)
            state = "after"
        elif state == "key":
            if char != '"':
                raise fail("Expecting property name enclosed in double quotes", pos)
            line, column = place(pos)
            key, pos = string(pos)
            tree.key(key, line, column)
            pos = _skip(text, pos)
            if text[pos:pos + 1] != ":":
                raise fail("Expecting ':' delimiter", pos)
            pos, state = pos + 1, "value"
        else:  # after a value
            if top is None:
                if pos < len(text):
                    raise fail("Extra data", pos)
                return tree.root, tree.marks
            closer = "}" if isinstance(top.container, dict) else "]"
            if char == ",":
                pos += 1
                state = "key" if closer == "}" else "value"
            elif char == closer:
                tree.close()
                pos += 1
            else:
                raise fail("Expecting ',' delimiter", pos)


# --------------------------------------------------------------------------
# Entry points


def _check_raw_text(text: str) -> None:
    """Refuse text holding a lone surrogate (only a caller's ``str`` can: decoded UTF-8 never does)."""
    found = _SURROGATE.search(text)
    if found:
        line = text.count("\n", 0, found.start())
        column = found.start() - (text.rfind("\n", 0, found.start()) + 1)
        _check_text(found.group(), line, column)


def parse_text(text: str, path: str, *, error: ErrorFactory = InputError, as_json: bool = False) -> Document:
    """Parse YAML (or JSON) text into a :class:`Document`; problems raise ``error``."""
    if not text.strip():
        raise error("file is empty", path=path)
    try:
        _check_raw_text(text)
        if as_json:
            data, marks = _parse_json(text)
        else:
            data, marks, found = _parse_yaml(text)
            if not found:
                raise error("file is empty", path=path, hint="it holds only comments")
    except _Fail as problem:
        line = None if problem.line is None else problem.line + 1
        column = None if problem.column is None or line is None else problem.column + 1
        raise error(problem.message, path=path, line=line, column=column, hint=problem.hint) from None
    except RecursionError:  # not expected: both parsers are iterative
        raise error("document is nested too deeply", path=path) from None
    return Document(data, path, marks)


_READ_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)
_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _require_regular(mode: int, shown: str, error: ErrorFactory) -> None:
    """Raise ``error`` unless ``mode`` is a regular file's."""
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise error("is a directory, not a file", path=shown)
    kind = next((name for test, name in _KINDS if test(mode)), "a special file")
    raise error(f"not a regular file ({kind})", path=shown)


def _read_regular(file: Path, shown: str, error: ErrorFactory, limit: int) -> bytes:
    """Up to ``limit`` bytes of a regular file; anything else is refused without blocking.

    ``os.stat`` first, so a device is never even opened; then a non-blocking
    open and ``fstat`` of what was opened, in case the name changed between.
    """
    _require_regular(os.stat(file).st_mode, shown, error)
    fd = os.open(file, _READ_FLAGS)
    with open(fd, "rb", closefd=True) as handle:  # owns and closes fd
        _require_regular(os.fstat(fd).st_mode, shown, error)
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)  # the open only: reads wait for data like any file read
        return handle.read(limit)


def read_document(path: str | Path, *, error: ErrorFactory = InputError, max_bytes: int = MAX_BYTES) -> Document:
    """Read and parse a YAML or JSON file (by suffix), refusing anything unsafe.

    Only a regular file (or a symbolic link to one) is read: a directory,
    FIFO, socket or device is refused before it is opened, and the file is
    opened without blocking, so a FIFO put in its place meanwhile cannot hang
    the read either.
    """
    shown = str(path)
    try:
        raw = _read_regular(Path(path), shown, error, max_bytes + 1)
    except FileNotFoundError:
        raise error("no such file", path=shown) from None
    except PermissionError:
        raise error("permission denied", path=shown) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=shown) from None
    except (ValueError, TypeError) as exc:  # e.g. a NUL byte in the path
        raise error(f"not a usable file name: {exc}", path=repr(shown)) from None
    if len(raw) > max_bytes:
        raise error(f"file is larger than {max_bytes // 1024} KiB", path=shown)
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            raise error(f"file is {encoding} text", path=shown, hint="save it as UTF-8")
    if b"\x00" in raw:
        raise error("binary file, not YAML or JSON text", path=shown, hint="if it is text, save it as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start
        line_start = raw.rfind(b"\n", 0, start) + 1
        line = raw.count(b"\n", 0, start) + 1
        column = len(raw[line_start:start].decode("utf-8", errors="replace")) + 1
        raise error(f"not UTF-8 text (byte 0x{raw[start]:02x})", path=shown, line=line, column=column, hint="save it as UTF-8") from None
    return parse_text(text, shown, error=error, as_json=Path(shown).suffix.lower() == ".json")
