"""Read and validate a case: the findings of one assessment.

A case is a mapping with ``findings`` (required), optional ``subject``,
``thresholds`` and ``mdc``. Values are normalised per side; every error
names where it is (``case.yaml:4:18: ...``), and every error of a case is
reported (up to 20), not only the first.

>>> from hipkb.kb import load_model
>>> case = parse_case({"findings": {"supine_hip_ir": {"left": 12}, "hip_hike": "left"}}, load_model())
>>> sorted(case.findings.items())
[(('hip_hike', 'left'), True), (('hip_hike', 'right'), False), (('supine_hip_ir', 'left'), 12.0)]
>>> parse_case({"findings": {"hip_hike": []}}, load_model()).findings[("hip_hike", "left")]
False
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Literal, Mapping, TypeVar

from .errors import CaseError, suggest
from .model import SIDES, KBModel, Key, is_side, key_str
from .record import field, record
from .source import Document, read_document

__all__ = ["Case", "parse_case", "load_case", "check_threshold", "check_mdc", "Key", "key_str", "MAX_ERRORS"]

CASE_KEYS = ("subject", "findings", "thresholds", "mdc")
_T = TypeVar("_T")
#: Longest subject name accepted.
MAX_SUBJECT = 200
#: Most errors reported for one case file.
MAX_ERRORS = 20
#: Largest magnitude accepted for any number before it is converted (a
#: 4,000-digit integer must be an error, not an OverflowError).
MAX_MAGNITUDE = 1e9


@record
class Case:
    """A validated case. ``findings`` maps (finding id, side) to a number or bool; read-only."""

    findings: Mapping[Key, float | bool]
    given: tuple[Key, ...] = ()
    thresholds: Mapping[str, float] = field(default_factory=dict)
    subject: str | None = None
    path: str | None = None
    mdc: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("findings", "thresholds", "mdc"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def with_findings(self, changes: Mapping[Key, float | bool | None]) -> Case:
        """A copy with some findings set (None removes one); used by what-if."""
        findings = dict(self.findings)
        for key, value in changes.items():
            if value is None:
                findings.pop(key, None)
            else:
                findings[key] = value
        return Case(findings, self.given, self.thresholds, self.subject, self.path, self.mdc)

    def findings_dict(self, kb: KBModel) -> dict[str, Any]:
        """The entered findings (and given states) in the case-file shape, in KB order.

        >>> from hipkb.kb import load_model
        >>> kb = load_model()
        >>> parse_case({"findings": {"hip_hike": "left", "supine_hip_ir": {"left": 12}}}, kb).findings_dict(kb)
        {'supine_hip_ir': {'left': 12}, 'hip_hike': {'left': True, 'right': False}}
        """
        out: dict[str, Any] = {}
        values: dict[str, dict[str | None, Any]] = {}
        for (item, side), value in self.findings.items():
            values.setdefault(item, {})[side] = int(value) if _whole(value) else value
        for item, side in self.given:
            values.setdefault(item, {})[side] = True
        order = {f: i for i, f in enumerate(kb.findings)}
        order.update({s: len(order) + i for i, s in enumerate(kb.states)})
        for item in sorted(values, key=lambda i: order.get(i, len(order))):
            per_side = values[item]
            if None in per_side and len(per_side) == 1:
                out[item] = per_side[None]
            else:
                out[item] = {s: per_side[s] for s in SIDES if s in per_side}
        return out


def _whole(value: Any) -> bool:
    return isinstance(value, float) and value.is_integer()


class _CaseReader:
    def __init__(self, doc: Document, kb: KBModel) -> None:
        self.doc = doc
        self.kb = kb
        self.errors: list[CaseError] = []

    def keep_going(self, action: Callable[[], _T]) -> _T | None:
        """Run one part of the reading; record its error and go on to the next part."""
        try:
            return action()
        except CaseError as err:
            self.errors.append(err)
            return None

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
                self.errors.append(self.fail(
                    f"unknown key {_show(name)}", name, key=True,
                    hint=suggest(str(name), CASE_KEYS) or "expected subject, findings, thresholds or mdc",
                ))
        if "findings" not in data:
            self.errors.append(self.fail("a case needs 'findings'"))
        subject = self.keep_going(lambda: self.subject(data.get("subject")))
        raw = data.get("findings")
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.errors.append(self.fail(f"'findings' must be a mapping of finding id to value, not {_kind(raw)}", "findings"))
            raw = {}
        findings: dict[Key, float | bool] = {}
        given: list[Key] = []
        for name, value in raw.items():
            at = ("findings", name)
            if not isinstance(name, str):
                self.errors.append(self.fail(f"finding ids are text, not {_show(name)}", *at, key=True))
            elif name in self.kb.findings:
                findings.update(self.keep_going(partial(self.finding, name, value, at)) or {})
            elif name in self.kb.states:
                given.extend(self.keep_going(partial(self.given_state, name, value, at)) or [])
            else:
                hint = suggest(name, self.kb.findings, aliases=self.kb.aliases()) or suggest(name, self.kb.states)
                self.errors.append(self.fail(f"unknown finding {_show(name)}", *at, key=True, hint=hint))
        thresholds = self.overrides(data.get("thresholds"), "thresholds", check_threshold, self.kb.thresholds)
        known_mdc = [t.id for t in self.kb.thresholds.values() if t.mdc is not None]
        mdc = self.overrides(data.get("mdc"), "mdc", check_mdc, known_mdc)
        if self.errors:
            # in file order, as they stand (an error without a line keeps its reading order)
            ordered = sorted(self.errors, key=lambda e: (e.location.line or 0, e.location.column or 0) if e.location else (0, 0))
            raise CaseError.collect(ordered[:MAX_ERRORS])
        return Case(findings, tuple(given), thresholds, subject, self.doc.path, mdc)

    def subject(self, value: Any) -> str | None:
        """The subject's name: one line of printable text (it is echoed to terminals)."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, int) and abs(value) > MAX_MAGNITUDE):
            raise self.fail(f"'subject' must be text, not {_kind(value)}", "subject")
        text = str(value)
        if len(text) > MAX_SUBJECT:
            raise self.fail(f"'subject' is longer than {MAX_SUBJECT} characters", "subject")
        bad = next((ch for ch in text if _unprintable(ch)), None)
        if bad is not None:
            raise self.fail(f"'subject' must be one line of printable text, not contain {bad!r}", "subject")
        return text

    def sides(self, name: str, value: Any, at: tuple[Any, ...]) -> dict[Literal["left", "right"], Any]:
        """Spread a sided value over sides: a mapping, true/false, a side, a list of sides."""
        if isinstance(value, dict):
            out: dict[Literal["left", "right"], Any] = {}
            for side, v in value.items():
                if not is_side(side) or side is None:
                    raise self.fail(f"unknown side {_show(side)} for {name!r}", *at, side, key=True, hint=suggest(str(side), SIDES) or "sides are left and right")
                out[side] = v
            return out
        if isinstance(value, bool):
            return {side: value for side in SIDES}
        single = isinstance(value, str)  # one side name: the entry itself, not a list of one
        if single:
            value = [value]
        if isinstance(value, list):  # [] means: assessed, observed on no side
            chosen = []
            for i, side in enumerate(value):
                if side not in SIDES:
                    raise self.fail(f"unknown side {_show(side)} for {name!r}", *at, *(() if single else (i,)), hint=suggest(str(side), SIDES) or "sides are left and right")
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
        keys: list[Key] = []
        for side, v in self.sides(name, value, at).items():
            if v is not None and self.boolean(name, v, at + ((side,) if isinstance(value, dict) else ())):
                keys.append((name, side))
        return keys

    def degrees(self, name: str, value: Any, at: tuple[Any, ...]) -> float:
        finding = self.kb.findings[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{name!r} needs a number of degrees, not {_kind(value)}", *at, hint=_number_hint(value))
        if isinstance(value, int) and abs(value) > MAX_MAGNITUDE:
            raise self.fail(f"{name!r} = {_kind(value)} is outside its valid range", *at)
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

    def overrides(self, raw: Any, section: str, check: Callable[[KBModel, Any, Any], float], known: Iterable[str]) -> dict[str, float]:
        """A case's ``thresholds`` or ``mdc``: id → degrees, each entry checked (an unknown id at the id)."""
        known = set(known)
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.errors.append(self.fail(f"'{section}' must be a mapping of id to degrees, not {_kind(raw)}", section))
            return {}
        out = {}
        for name, value in raw.items():
            try:
                out[str(name)] = check(self.kb, name, value)
            except CaseError as err:
                self.errors.append(self.fail(err.message, section, name, hint=err.hint, key=name not in known))
        return out


def check_threshold(kb: KBModel, name: Any, value: Any) -> float:
    """One threshold override, validated; a :class:`CaseError` without location otherwise.

    >>> from hipkb.kb import load_model
    >>> check_threshold(load_model(), "supine_ir", 30)
    Traceback (most recent call last):
    ...
    hipkb.errors.CaseError: unknown threshold 'supine_ir' (did you mean 'supine_hip_ir'?)
    """
    if name not in kb.thresholds:
        hint = suggest(str(name), kb.thresholds, aliases=kb.aliases()) or "thresholds: " + ", ".join(kb.thresholds)
        raise CaseError(f"unknown threshold {_show(name)}", hint=hint)
    number = _finite(value, f"threshold {name!r}")
    finding = kb.findings.get(name)
    low, high = finding.range if finding is not None and finding.range else (0.0, 180.0)
    if not low <= number <= high:
        raise CaseError(f"threshold {name!r} = {number:g} is outside [{low:g}, {high:g}]")
    return number


def check_mdc(kb: KBModel, name: Any, value: Any) -> float:
    """One minimal-detectable-change override (degrees, ≥ 0), validated like a threshold."""
    known = [t.id for t in kb.thresholds.values() if t.mdc is not None]
    if name not in known:
        hint = suggest(str(name), known, aliases=kb.aliases()) or "mdc: " + ", ".join(known)
        raise CaseError(f"unknown mdc {_show(name)}", hint=hint)
    number = _finite(value, f"mdc {name!r}")
    if not 0 <= number <= 90:
        raise CaseError(f"mdc {name!r} = {number:g} is outside [0, 90]")
    return number


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CaseError(f"{what} needs a finite number of degrees, not {_kind(value)}")
    if isinstance(value, int) and abs(value) > MAX_MAGNITUDE:
        raise CaseError(f"{what} = {_kind(value)} is out of range")
    if not math.isfinite(value):
        raise CaseError(f"{what} needs a finite number of degrees, not {value}")
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
    if isinstance(value, int) and abs(value) > MAX_MAGNITUDE:
        return f"a number of {len(str(abs(value))) if value.bit_length() < 4000 else 'thousands of'} digits"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}" if len(value) < 40 else "a text"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def parse_case(case: Mapping[str, Any] | Document, kb: KBModel) -> Case:
    """Validate a case given as a mapping (or an already-read document)."""
    doc = case if isinstance(case, Document) else Document(case, "<case>")
    return _CaseReader(doc, kb).read()


def load_case(path: str | Path, kb: KBModel) -> Case:
    """Read a case file (YAML or JSON) and validate it."""
    return parse_case(read_document(path, error=CaseError), kb)
