"""Read YAML or JSON files safely, keeping where every value came from.

Only plain data is built (mappings, lists, strings, numbers, booleans, null):
YAML tags that would construct Python objects are refused, anchors and
aliases are refused (no "billion laughs"), duplicate keys are errors, and
files larger than a limit are not parsed.

>>> doc = parse_text("a:\\n  b: 1\\n", "case.yaml")
>>> doc.data
{'a': {'b': 1}}
>>> str(doc.where("a", "b"))
'case.yaml:2:6'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from .errors import HipkbError, InputError, Location

__all__ = ["Document", "parse_text", "read_document", "MAX_BYTES"]

MAX_BYTES = 2 * 1024 * 1024

PathKey = tuple[Any, ...]
ErrorFactory = Callable[..., HipkbError]


@dataclass
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


class _Builder:
    """Turns a composed YAML node tree into plain data and position marks."""

    def __init__(self, path: str, error: ErrorFactory) -> None:
        self.path = path
        self.error = error
        self.marks: dict[PathKey, tuple[int, int]] = {}
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, message: str, hint: str | None = None) -> HipkbError:
        mark = node.start_mark
        return self.error(message, path=self.path, line=mark.line + 1, column=mark.column + 1, hint=hint)

    def build(self, node: yaml.Node, at: PathKey) -> Any:
        self.marks[at] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                raise self.fail(node, f"unsupported YAML tag {node.tag!r}")
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.fail(key_node, "a mapping key must be a plain value")
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise self.fail(key_node, "YAML merge keys ('<<') are not supported")
                key = self.scalar(key_node)
                if isinstance(key, float) or key is None or isinstance(key, bool):
                    key = key_node.value
                if key in result:
                    raise self.fail(key_node, f"duplicate key {key!r}")
                self.marks[at + (key, "<key>")] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.build(value_node, at + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise self.fail(node, f"unsupported YAML tag {node.tag!r}")
            return [self.build(item, at + (i,)) for i, item in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # dates stay text: nothing here needs a datetime
        if not node.tag.startswith("tag:yaml.org,2002:") or node.tag.rsplit(":", 1)[-1] not in {
            "str", "int", "float", "bool", "null",
        }:
            raise self.fail(node, f"unsupported YAML tag {node.tag!r}", "only plain data is allowed")
        return self.constructor.construct_object(node)


class _NoAliasComposer(yaml.SafeLoader):
    """A SafeLoader whose composer refuses anchors and aliases outright."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _AliasFound(event.start_mark)
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _AliasFound(event.start_mark)
        return super().compose_node(parent, index)


class _AliasFound(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        self.mark = mark


def _compose(text: str, path: str, error: ErrorFactory) -> yaml.Node | None:
    loader = _NoAliasComposer(text)
    try:
        node = loader.get_single_node()
    except _AliasFound as found:
        raise error(
            "YAML anchors and aliases are not allowed",
            path=path, line=found.mark.line + 1, column=found.mark.column + 1,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is None:
            raise error(f"invalid YAML: {problem}", path=path) from None
        raise error(f"invalid YAML: {problem}", path=path, line=mark.line + 1, column=mark.column + 1) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {str(exc).splitlines()[0]}", path=path) from None
    finally:
        loader.dispose()
    return node


def _json_check(text: str, path: str, error: ErrorFactory) -> None:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen[key] = value
        return seen

    try:
        json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise error(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno, column=exc.colno) from None
    except (ValueError, RecursionError) as exc:
        raise error(f"invalid JSON: {exc}", path=path) from None


def parse_text(text: str, path: str, *, error: ErrorFactory = InputError, as_json: bool = False) -> Document:
    """Parse YAML (or JSON) text into a :class:`Document`."""
    if as_json:
        _json_check(text, path, error)
    if not text.strip():
        raise error("file is empty", path=path)
    try:
        node = _compose(text, path, error)
    except RecursionError:
        raise error("document is nested too deeply", path=path) from None
    if node is None:
        raise error("file is empty", path=path)
    builder = _Builder(path, error)
    try:
        data = builder.build(node, ())
    except RecursionError:
        raise error("document is nested too deeply", path=path) from None
    return Document(data, path, builder.marks)


def read_document(path: str | Path, *, error: ErrorFactory = InputError, max_bytes: int = MAX_BYTES) -> Document:
    """Read and parse a YAML or JSON file (by suffix), refusing anything unsafe."""
    shown = str(path)
    file = Path(path)
    try:
        if file.is_dir():
            raise error("is a directory, not a file", path=shown)
        with file.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise error("no such file", path=shown) from None
    except PermissionError:
        raise error("permission denied", path=shown) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=shown) from None
    if len(raw) > max_bytes:
        raise error(f"file is larger than {max_bytes // 1024} KiB", path=shown)
    if b"\x00" in raw:
        raise error("binary file, not YAML or JSON text", path=shown)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text (byte {exc.start})", path=shown) from None
    return parse_text(text, shown, error=error, as_json=file.suffix.lower() == ".json")
