"""Read and validate a case: the findings of one assessment.

A case is a mapping with ``findings`` (required), optional ``subject`` and
``thresholds``. Values are normalised per side; every error names where it
is (``case.yaml:4:18: ...``) and exits the CLI with code 2.

>>> from hipkb.kb import load_kb
>>> case = parse_case({"findings": {"supine_hip_ir": {"left": 12}, "hip_hike": "left"}}, load_kb())
>>> sorted(case.findings.items())
[(('hip_hike', 'left'), True), (('hip_hike', 'right'), False), (('supine_hip_ir', 'left'), 12.0)]
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import CaseError
from .kb import KnowledgeBase, suggest
from .model import SIDES
from .source import Document, read_document

__all__ = ["Case", "parse_case", "load_case", "Key", "key_str"]

#: A fact key: (id, side), side None for what belongs to no side.
Key = tuple[str, "str | None"]
CASE_KEYS = ("subject", "findings", "thresholds")
#: Longest subject name accepted.
MAX_SUBJECT = 200


def key_str(key: Key) -> str:
    """``("ir_limited", "left")`` → ``"ir_limited/left"``; unsided keys are bare ids."""
    item, side = key
    return item if side is None else f"{item}/{side}"


@dataclass(frozen=True)
class Case:
    """A validated case. ``findings`` maps (finding id, side) to a number or bool."""

    findings: Mapping[Key, float | bool]
    given: tuple[Key, ...] = ()
    thresholds: Mapping[str, float] = field(default_factory=dict)
    subject: str | None = None
    path: str | None = None

    def with_findings(self, changes: Mapping[Key, float | bool | None]) -> Case:
        """A copy with some findings set (None removes one); used by what-if."""
        findings = dict(self.findings)
        for key, value in changes.items():
            if value is None:
                findings.pop(key, None)
            else:
                findings[key] = value
        return Case(findings, self.given, self.thresholds, self.subject, self.path)


class _CaseReader:
    def __init__(self, doc: Document, kb: KnowledgeBase) -> None:
        self.doc = doc
        self.kb = kb

    def fail(self, message: str, *keys: Any, hint: str | None = None, key: bool = False) -> CaseError:
        loc = self.doc.where(*keys, key=key)
        where = ".".join(str(k) for k in keys)
        if loc.line is None and where:
            message = f"{where}: {message}"
        return CaseError(message, path=loc.path, line=loc.line, column=loc.column, hint=hint)

    def read(self) -> Case:
        data = self.doc.data
        if not isinstance(data, dict):
            raise self.fail(f"a case must be a mapping with 'findings', not {_kind(data)}")
        for name in data:
            if name not in CASE_KEYS:
                raise self.fail(f"unknown key {_show(name)}", name, key=True, hint=suggest(str(name), CASE_KEYS) or "expected subject, findings or thresholds")
        if "findings" not in data:
            raise self.fail("a case needs 'findings'")
        subject = self.subject(data.get("subject"))
        raw = data["findings"]
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise self.fail(f"'findings' must be a mapping of finding id to value, not {_kind(raw)}", "findings")
        findings: dict[Key, float | bool] = {}
        given: list[Key] = []
        for name, value in raw.items():
            at = ("findings", name)
            if not isinstance(name, str):
                raise self.fail(f"finding ids are text, not {_show(name)}", *at, key=True)
            if name in self.kb.findings:
                findings.update(self.finding(name, value, at))
            elif name in self.kb.states:
                given.extend(self.given_state(name, value, at))
            else:
                pool = list(self.kb.findings) + list(self.kb.states)
                raise self.fail(f"unknown finding {_show(name)}", *at, key=True, hint=suggest(name, pool))
        thresholds = self.thresholds(data.get("thresholds"))
        return Case(findings, tuple(given), thresholds, subject, self.doc.path)

    def subject(self, value: Any) -> str | None:
        """The subject's name: one line of printable text (it is echoed to terminals)."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail(f"'subject' must be text, not {_kind(value)}", "subject")
        text = str(value)
        if len(text) > MAX_SUBJECT:
            raise self.fail(f"'subject' is longer than {MAX_SUBJECT} characters", "subject")
        bad = next((ch for ch in text if _unprintable(ch)), None)
        if bad is not None:
            raise self.fail(f"'subject' must be one line of printable text, not contain {bad!r}", "subject")
        return text

    def sides(self, name: str, value: Any, at: tuple[Any, ...]) -> dict[str | None, Any]:
        """Spread a sided value over sides: a mapping, true/false, a side, a list of sides."""
        if isinstance(value, dict):
            out: dict[str | None, Any] = {}
            for side, v in value.items():
                if side not in SIDES:
                    raise self.fail(f"unknown side {_show(side)} for {name!r}", *at, side, key=True, hint=suggest(str(side), SIDES) or "sides are left and right")
                out[side] = v
            return out
        if isinstance(value, bool):
            return {side: value for side in SIDES}
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list) and value:
            chosen = []
            for i, side in enumerate(value):
                if side not in SIDES:
                    raise self.fail(f"unknown side {_show(side)} for {name!r}", *at, *((i,) if len(at) else ()), hint=suggest(str(side), SIDES) or "sides are left and right")
                chosen.append(side)
            return {side: side in chosen for side in SIDES}
        raise self.fail(
            f"{name!r} is sided: give true, false, a side, a list of sides or {{left: …, right: …}}, not {_kind(value)}", *at,
        )

    def finding(self, name: str, value: Any, at: tuple[Any, ...]) -> dict[Key, float | bool]:
        finding = self.kb.findings[name]
        out: dict[Key, float | bool] = {}
        if value is None:  # a blank entry (e.g. in a template): not assessed
            return out
        if finding.type == "degrees":
            if finding.sided:
                if not isinstance(value, dict):
                    hint = f"e.g. {name}: {{left: {value!r}}}" if isinstance(value, (int, float)) and not isinstance(value, bool) else None
                    raise self.fail(f"{name!r} is sided: give degrees per side as {{left: …, right: …}}, not {_kind(value)}", *at, hint=hint)
                for side, v in self.sides(name, value, at).items():
                    if v is not None:
                        out[(name, side)] = self.degrees(name, v, at + (side,))
            elif value is not None:
                out[(name, None)] = self.degrees(name, value, at)
            return out
        if finding.sided:
            for side, v in self.sides(name, value, at).items():
                if v is not None:
                    out[(name, side)] = self.boolean(name, v, at + ((side,) if isinstance(value, dict) else ()))
        elif value is not None:
            if isinstance(value, (str, list, dict)):
                raise self.fail(f"{name!r} belongs to no side: give true or false, not {_kind(value)}", *at)
            out[(name, None)] = self.boolean(name, value, at)
        return out

    def given_state(self, name: str, value: Any, at: tuple[Any, ...]) -> list[Key]:
        state = self.kb.states[name]
        if value is None:  # a blank entry: not stated
            return []
        if not state.sided:
            if isinstance(value, (str, list, dict)):
                raise self.fail(f"state {name!r} belongs to no side: give true or false, not {_kind(value)}", *at)
            return [(name, None)] if self.boolean(name, value, at) else []
        keys = []
        for side, v in self.sides(name, value, at).items():
            if v is not None and self.boolean(name, v, at + ((side,) if isinstance(value, dict) else ())):
                keys.append((name, side))
        return keys

    def degrees(self, name: str, value: Any, at: tuple[Any, ...]) -> float:
        finding = self.kb.findings[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{name!r} needs a number of degrees, not {_kind(value)}", *at, hint=_number_hint(value))
        if not math.isfinite(value):
            raise self.fail(f"{name!r} needs a finite number of degrees, not {value}", *at)
        low, high = finding.range or (-math.inf, math.inf)
        if not low <= value <= high:
            raise self.fail(f"{name!r} = {value:g}° is outside its valid range [{low:g}, {high:g}]", *at)
        return float(value)

    def boolean(self, name: str, value: Any, at: tuple[Any, ...]) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"{name!r} needs true or false, not {_kind(value)}", *at)
        return value

    def thresholds(self, raw: Any) -> dict[str, float]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(f"'thresholds' must be a mapping of id to degrees, not {_kind(raw)}", "thresholds")
        out = {}
        for name, value in raw.items():
            out[str(name)] = check_threshold(self.kb, name, value, lambda m, h=None, n=name: self.fail(m, "thresholds", n, hint=h))
        return out


def check_threshold(kb: KnowledgeBase, name: Any, value: Any, fail: Any) -> float:
    """Validate one threshold override; ``fail(message, hint)`` builds the error."""
    if name not in kb.thresholds:
        raise fail(f"unknown threshold {_show(name)}", suggest(str(name), kb.thresholds) or "thresholds: " + ", ".join(kb.thresholds))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(f"threshold {name!r} needs a finite number of degrees, not {_kind(value)}")
    finding = kb.findings.get(name)
    low, high = finding.range if finding is not None and finding.range else (0.0, 180.0)
    if not low <= value <= high:
        raise fail(f"threshold {name!r} = {value:g} is outside [{low:g}, {high:g}]")
    return float(value)


def _show(value: Any, limit: int = 60) -> str:
    """repr() of a name from the input, cut short so an error stays one readable line."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[: limit - 1] + "…")
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unprintable(char: str) -> bool:
    # Control characters, line breaks and bidirectional overrides ("Trojan source").
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI


_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _number_hint(value: Any) -> str | None:
    """Why text that looks like a number is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"[-+]?0[0-9]+(\.[0-9]*)?", text):
        return f"write it without the leading zero: {float(text):g}"
    try:
        number = float(text)
    except ValueError:
        return None
    return f"write {number:g} without quotes" if math.isfinite(number) else None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}" if len(value) < 40 else "a text"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def parse_case(case: Mapping[str, Any] | Document, kb: KnowledgeBase) -> Case:
    """Validate a case given as a mapping (or an already-read document)."""
    doc = case if isinstance(case, Document) else Document(case, "<case>")
    return _CaseReader(doc, kb).read()


def load_case(path: str | Path, kb: KnowledgeBase) -> Case:
    """Read a case file (YAML or JSON) and validate it."""
    return parse_case(read_document(path, error=CaseError), kb)
