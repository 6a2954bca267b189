"""Load and validate the knowledge base (kb/*.yaml) into the typed model.

Every problem is reported as ``FILE:LINE:COL: message (hint)``; unknown ids
get a did-you-mean. :func:`load_model` raises the first error as
:class:`~hipkb.errors.KBError`; :func:`read_kb` returns every problem found
(``hipkb kb check`` uses it). The public entry point that also assesses is
:func:`hipkb.load_kb`.

>>> model = load_model()
>>> model.states["ir_limited"].tested_by
'supine_hip_ir'
>>> model.recommendations["arm_bar"].order
1
"""

from __future__ import annotations

import graphlib
import math
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from .errors import KBError, Location, suggest
from .model import (
    EVIDENCE_LEVELS,
    RECOMMENDATION_KINDS,
    Address,
    Citation,
    Condition,
    Entity,
    Finding,
    KBModel,
    Link,
    Recommendation,
    Rule,
    Source,
    State,
    Threshold,
    flatten,
)
from .record import record
from .source import Document, read_document

__all__ = ["Problem", "load_model", "read_kb", "bundled_kb_path", "FILES", "FIELDS", "ID_PATTERN"]

#: file name → top-level key, in load order.
FILES: dict[str, str] = {
    "sources.yaml": "sources",
    "entities.yaml": "entities",
    "states.yaml": "states",
    "findings.yaml": "findings",
    "thresholds.yaml": "thresholds",
    "causal.yaml": "links",
    "rules.yaml": "rules",
    "recommendations.yaml": "recommendations",
}
MANIFEST = "manifest.yaml"


@record
class Problem:
    """One thing wrong with a KB: an error or a warning, with its place."""

    severity: str  # "error" | "warning"
    message: str
    location: Location
    hint: str | None = None
    code: str = "invalid"

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
            "hint": self.hint,
        }


def bundled_kb_path() -> Path:
    """The directory of the KB shipped inside the package.

    An installed wheel carries it as ``hipkb/kb``; a source checkout (or an
    editable install) uses the repository's top-level ``kb/``.
    """
    # The package's own directory, without importing importlib.resources
    # (that import costs ~5 ms of every cold `hipkb` run).
    packaged = Path(__file__).resolve().parent / "kb"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "kb"


# --------------------------------------------------------------------------
# Reading


class _Reader:
    """Collects problems while turning documents into model objects."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.doc: Document | None = None

    def error(self, message: str, *keys: Any, hint: str | None = None, code: str = "invalid", key: bool = False) -> None:
        assert self.doc is not None
        self.problems.append(Problem("error", message, self.doc.where(*keys, key=key), hint, code))

    # -- field helpers: each returns a value or None after recording an error

    def text(self, item: Mapping[str, Any], name: str, at: tuple[Any, ...], *, required: bool = True) -> str | None:
        if name not in item:
            if required:
                self.error(f"missing field '{name}'", *at, code="schema")
            return None
        value = item[name]
        if not isinstance(value, str) or not value.strip():
            self.error(f"field '{name}' must be non-empty text", *at, name, code="schema")
            return None
        return value

    def boolean(self, item: Mapping[str, Any], name: str, at: tuple[Any, ...], default: bool) -> bool:
        value = item.get(name, default)
        if not isinstance(value, bool):
            self.error(f"field '{name}' must be true or false", *at, name, code="schema")
            return default
        return value

    def choice(self, item: Mapping[str, Any], name: str, at: tuple[Any, ...], options: Iterable[str]) -> str | None:
        value = self.text(item, name, at)
        options = tuple(options)
        if value is not None and value not in options:
            self.error(
                f"field '{name}' must be one of {', '.join(options)}, not {value!r}",
                *at, name, hint=suggest(value, options), code="schema",
            )
            return None
        return value

    def number(self, value: Any, at: tuple[Any, ...], what: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.error(f"{what} must be a finite number, not {value!r}", *at, code="schema")
            return None
        return float(value)

    def unknown_fields(self, item: Mapping[str, Any], allowed: Iterable[str], at: tuple[Any, ...]) -> None:
        allowed = tuple(allowed)
        for name in item:
            if name not in allowed:
                self.error(
                    f"unknown field {name!r}", *at, name, key=True,
                    hint=suggest(str(name), allowed), code="schema",
                )

    def citation(self, item: Mapping[str, Any], at: tuple[Any, ...], name: str = "source") -> Citation:
        raw = item.get(name)
        if raw is None:
            self.error(f"missing field '{name}' (a quote, an outside reference or an interpretation)", *at, code="citation")
            return Citation()
        if not isinstance(raw, dict):
            self.error(f"field '{name}' must be a mapping with ref/quote/interpretation/note", *at, name, code="schema")
            return Citation()
        return self.citation_fields(raw, at + (name,))

    def citation_fields(self, raw: Mapping[str, Any], here: tuple[Any, ...]) -> Citation:
        """Read ref/quote/interpretation/note from a source mapping at ``here``."""
        self.unknown_fields(raw, ("ref", "quote", "interpretation", "note"), here)
        parts = {k: self.text(raw, k, here, required=False) for k in ("ref", "quote", "interpretation", "note")}
        citation = Citation(**parts)
        if not (citation.quote or citation.interpretation or citation.ref):
            self.error("a source needs a quote, an outside reference or an interpretation", *here, code="citation")
        if citation.quote and not citation.ref:
            self.error("a quote needs 'ref' naming its source", *here, code="citation")
        return citation

    def items(self, doc: Document, top: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        self.doc = doc
        data = doc.data
        if not isinstance(data, dict) or top not in data:
            self.error(f"expected a mapping with top-level key '{top}'", code="schema")
            return []
        for extra in data:
            if extra != top:
                self.error(f"unknown top-level key {extra!r}", extra, key=True, hint=f"expected '{top}'", code="schema")
        entries = data[top]
        if not isinstance(entries, list):
            self.error(f"'{top}' must be a list of items", top, code="schema")
            return []
        out = []
        for i, entry in enumerate(entries):
            at = (top, i)
            if not isinstance(entry, dict):
                self.error("each item must be a mapping", *at, code="schema")
                continue
            if not isinstance(entry.get("id"), str) or not entry["id"]:
                self.error("missing or empty field 'id'", *at, code="schema")
                continue
            out.append((at, entry))
        return out


_SOURCE_FIELDS = ("id", "kind", "citation")
_ENTITY_FIELDS = ("id", "label", "uberon", "fma", "part_of", "source")
_STATE_FIELDS = ("id", "label", "sided", "entity", "tested_by", "indicated_by", "opposite", "description", "source")
_FINDING_FIELDS = ("id", "label", "type", "range", "sided", "group", "entity", "assessment", "source", "unit", "description", "aliases")
_THRESHOLD_FIELDS = ("id", "value", "label", "unit", "evidence", "source", "rationale", "mdc")
_MDC_FIELDS = ("value", "source")
_LINK_FIELDS = ("id", "label", "cause", "effect", "use", "evidence", "source", "description")
_RULE_FIELDS = ("id", "label", "when", "then", "evidence", "source", "description")
_CALL_FIELDS = ("id", "label", "when", "evidence", "source", "description")
_ADDRESS_FIELDS = ("target", "label", "evidence", "source")
_REC_FIELDS = ("id", "kind", "order", "order_source", "label", "summary", "evidence", "source", "rationale",
               "called_for_by", "description", "addresses")
FINDING_GROUPS = ("measurement", "confounder", "compensation", "symptom")
FINDING_TYPES = ("degrees", "boolean")
SOURCE_KINDS = ("article", "paper", "guideline")
CONDITION_KEYS = ("finding", "below", "at_least", "absent", "not", "state", "recorded", "lower_side", "by_more_than", "any", "on")
ON_VALUES = ("this", "other", "both")
#: What every declared id looks like (the JSON Schemas use the same pattern).
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*")

#: Field lists per file, used by the JSON Schema generator.
FIELDS: dict[str, tuple[str, ...]] = {
    "sources": _SOURCE_FIELDS,
    "entities": _ENTITY_FIELDS,
    "states": _STATE_FIELDS,
    "findings": _FINDING_FIELDS,
    "thresholds": _THRESHOLD_FIELDS,
    "links": _LINK_FIELDS,
    "rules": _RULE_FIELDS,
    "recommendations": _REC_FIELDS,
    "called_for_by": _CALL_FIELDS,
    "addresses": _ADDRESS_FIELDS,
    "mdc": _MDC_FIELDS,
}


class _Builder:
    """Builds a KB model from parsed documents, collecting every problem."""

    def __init__(self, directory: Path, docs: dict[str, Document]) -> None:
        self.directory = directory
        self.docs = docs
        self.r = _Reader()
        self.sources: dict[str, Source] = {}
        self.entities: dict[str, Entity] = {}
        self.states: dict[str, State] = {}
        self.findings: dict[str, Finding] = {}
        self.thresholds: dict[str, Threshold] = {}
        self.links: dict[str, Link] = {}
        self.rules: dict[str, Rule] = {}
        self.recommendations: dict[str, Recommendation] = {}
        self.ids: dict[str, Location] = {}
        # (doc, keys, id, expected kinds) to resolve after everything is read
        self.refs: list[tuple[Document, tuple[Any, ...], str, tuple[str, ...]]] = []

    @property
    def problems(self) -> list[Problem]:
        return self.r.problems

    def claim(self, item_id: str, at: tuple[Any, ...]) -> bool:
        assert self.r.doc is not None
        loc = self.r.doc.where(*at, "id")
        if not ID_PATTERN.fullmatch(item_id):
            self.r.error(
                f"id {item_id!r} is not lower_snake_case", *at, "id",
                hint="use lowercase letters, digits and underscores, starting with a letter", code="schema",
            )
        if item_id in self.ids:
            first = self.ids[item_id]
            self.r.error(f"duplicate id {item_id!r}", *at, "id", hint=f"first declared at {first}", code="duplicate")
            return False
        self.ids[item_id] = loc
        return True

    def ref(self, value: Any, at: tuple[Any, ...], kinds: tuple[str, ...], *, required: bool = True) -> str | None:
        if value is None:
            if required:
                self.r.error(f"missing reference to a {' or '.join(kinds)}", *at, code="schema")
            return None
        if not isinstance(value, str):
            self.r.error(f"expected the id of a {' or '.join(kinds)}, not {value!r}", *at, code="schema")
            return None
        assert self.r.doc is not None
        self.refs.append((self.r.doc, at, value, kinds))
        return value

    def refs_list(self, item: Mapping[str, Any], name: str, at: tuple[Any, ...], kinds: tuple[str, ...]) -> tuple[str, ...]:
        raw = item.get(name, [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            self.r.error(f"field '{name}' must be a list of ids", *at, name, code="schema")
            return ()
        return tuple(v for i, value in enumerate(raw) if (v := self.ref(value, at + (name, i), kinds)) is not None)

    def texts(self, item: Mapping[str, Any], name: str, at: tuple[Any, ...]) -> tuple[str, ...]:
        raw = item.get(name, [])
        if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
            self.r.error(f"field '{name}' must be a list of names", *at, name, code="schema")
            return ()
        return tuple(raw)

    def loc(self, at: tuple[Any, ...]) -> Location:
        assert self.r.doc is not None
        return self.r.doc.where(*at)

    def evidence(self, item: Mapping[str, Any], at: tuple[Any, ...]) -> str:
        return self.r.choice(item, "evidence", at, EVIDENCE_LEVELS) or "interpretation"

    def citation(self, item: Mapping[str, Any], at: tuple[Any, ...], name: str = "source") -> Citation:
        citation = self.r.citation(item, at, name)
        if citation.ref is not None:
            self.ref(citation.ref, at + (name, "ref"), ("source",))
        return citation

    # -- per file

    def read_all(self) -> None:
        for file, top in FILES.items():
            doc = self.docs.get(file)
            if doc is None:
                continue
            for at, item in self.r.items(doc, top):
                getattr(self, f"read_{top}")(at, item)

    def read_sources(self, at: tuple[Any, ...], item: dict[str, Any]) -> None:
        self.r.unknown_fields(item, _SOURCE_FIELDS, at)
        if self.claim(item["id"], at):
            self.sources[item["id"]] = Source(
                item["id"], self.r.choice(item, "kind", at, SOURCE_KINDS) or "paper",
                self.r.text(item, "citation", at) or "", self.loc(at),
            )

    def read_entities(self, at: tuple[Any, ...], item: dict[str, Any]) -> None:
        self.r.unknown_fields(item, _ENTITY_FIELDS, at)
        part_of = self.ref(item.get("part_of"), at + ("part_of",), ("entity",), required=False)
        if self.claim(item["id"], at):
            self.entities[item["id"]] = Entity(
                item["id"], self.r.text(item, "label", at) or item["id"],
                self.r.text(item, "uberon", at, required=False), self.r.text(item, "fma", at, required=False),
                part_of, self.citation(item, at) if "source" in item else None, self.loc(at),
            )

    def read_states(self, at: tuple[Any, ...], item: dict[str, Any]) -> None:
        self.r.unknown_fields(item, _STATE_FIELDS, at)
        state = State(
            item["id"], self.r.text(item, "label", at) or item["id"], self.r.boolean(item, "sided", at, True),
            self.ref(item.get("entity"), at + ("entity",), ("entity",), required=False),
            self.ref(item.get("tested_by"), at + ("tested_by",), ("finding",), required=False),
            self.refs_list(item, "indicated_by", at, ("finding",)),
            self.ref(item.get("opposite"), at + ("opposite",), ("state",), required=False),
            self.r.text(item, "description", at, required=False),
            self.citation(item, at) if "source" in item else None, self.loc(at),
        )
        if self.claim(state.id, at):
            self.states[state.id] = state

    def read_findings(self, at: tuple[Any, ...], item: dict[str, Any]) -> None:
        r = self.r
        r.unknown_fields(item, _FINDING_FIELDS, at)
        kind = r.choice(item, "type", at, FINDING_TYPES) or "boolean"
        valid: tuple[float, float] | None = None
        if kind == "degrees":
            raw = item.get("range")
            if not (isinstance(raw, list) and len(raw) == 2):
                r.error("a degrees finding needs 'range: [low, high]'", *at, *(("range",) if "range" in item else ()), code="schema")
            else:
                low, high = (r.number(v, at + ("range", i), "a range bound") for i, v in enumerate(raw))
                if low is not None and high is not None:
                    if low >= high:
                        r.error("range low must be below high", *at, "range", code="schema")
                    valid = (low, high)
        elif "range" in item:
            r.error("only a degrees finding has a range", *at, "range", code="schema")
        aliases = self.texts(item, "aliases", at)
        for i, alias in enumerate(aliases):
            if not ID_PATTERN.fullmatch(alias):
                r.error(f"alias {alias!r} is not lower_snake_case", *at, "aliases", i, code="schema")
        finding = Finding(
            item["id"], r.text(item, "label", at) or item["id"], kind, r.boolean(item, "sided", at, True),
            r.choice(item, "group", at, FINDING_GROUPS) or "measurement", valid,
            self.ref(item.get("assessment"), at + ("assessment",), ("recommendation",), required=False),
            self.citation(item, at) if "source" in item else None,
            self.ref(item.get("entity"), at + ("entity",), ("entity",), required=False),
            r.text(item, "unit", at, required=False), aliases,
            r.text(item, "description", at, required=False), self.loc(at),
        )
        if self.claim(finding.id, at):
            self.findings[finding.id] = finding

    def read_thresholds(self, at: tuple[Any, ...], item: dict[str, Any]) -> None:
        r = self.r
        r.unknown_fields(item, _THRESHOLD_FIELDS, at)
        tid = self.ref(item["id"], at + ("id",), ("finding", "state"))
        value = r.number(item.get("value"), at + (("value",) if "value" in item else ()), "field 'value'")
        mdc, mdc_source = self.mdc(item, at)
        if tid in self.thresholds:
            r.error(f"duplicate threshold for {tid!r}", *at, "id", code="duplicate")
            return
        if tid is not None:
            self.thresholds[tid] = Threshold(
                tid, value if value is not None else 0.0, r.text(item, "label", at) or tid,
                self.evidence(item, at), self.citation(item, at), self.loc(at), self.rationale(item, at),
                mdc, mdc_source,
            )

    def mdc(self, item: Mapping[str, Any], at: tuple[Any, ...]) -> tuple[float | None, Citation | None]:
        """A threshold's optional ``mdc: {value, source}`` (minimal detectable change)."""
        raw = item.get("mdc")
        if raw is None:
            return None, None
        here = at + ("mdc",)
        if not isinstance(raw, dict):
            self.r.error("'mdc' must be a mapping {value: degrees, source: {...}}", *here, code="schema")
            return None, None
        self.r.unknown_fields(raw, _MDC_FIELDS, here)
        value = self.r.number(raw.get("value"), here + (("value",) if "value" in raw else ()), "field 'value'")
        if value is not None and value < 0:
            self.r.error("an mdc cannot be negative", *here, "value", code="schema")
        return value, self.citation(raw, here)

    def read_links(self, at: tuple[Any, ...], item: dict[str, Any]) -> None:
        r = self.r
        r.unknown_fields(item, _LINK_FIELDS, at)
        link = Link(
            item["id"], r.text(item, "label", at) or item["id"],
            self.ref(item.get("cause"), at + ("cause",), ("state", "finding")) or "",
            self.ref(item.get("effect"), at + ("effect",), ("state", "finding")) or "",
            r.choice(item, "use", at, ("conclude", "explain")) or "explain",
            self.evidence(item, at), self.citation(item, at), self.loc(at),
        )
        if self.claim(link.id, at):
            self.links[link.id] = link

    def conditions(self, item: Mapping[str, Any], at: tuple[Any, ...]) -> tuple[Condition, ...]:
        raw = item.get("when")
        if not isinstance(raw, list) or not raw:
            self.r.error("field 'when' must be a non-empty list of conditions", *at, *(("when",) if "when" in item else ()), code="schema")
            return ()
        return tuple(c for i, entry in enumerate(raw) if (c := self.condition(entry, at + ("when", i))) is not None)

    def sided(self, ref: str | None, kinds: tuple[str, ...]) -> bool:
        table: Mapping[str, Any] = self.states if kinds == ("state",) else self.findings
        item = table.get(ref or "")
        return True if item is None else bool(item.sided)

    def condition(self, entry: Any, at: tuple[Any, ...]) -> Condition | None:
        r = self.r
        if not isinstance(entry, dict) or not entry:
            r.error("a condition must be a mapping such as {state: ir_limited}", *at, code="schema")
            return None
        r.unknown_fields(entry, CONDITION_KEYS, at)
        loc = self.loc(at)
        on = "this"
        if "on" in entry:
            on = r.choice(entry, "on", at, ON_VALUES) or "this"
            entry = {k: v for k, v in entry.items() if k != "on"}
            if "any" in entry or "lower_side" in entry:
                r.error("'on' goes with a single condition on a finding or state, not with 'any' or 'lower_side'", *at, "on", code="schema")
        if "any" in entry:
            options = entry["any"]
            if len(entry) != 1 or not isinstance(options, list) or not options:
                r.error("'any' takes a non-empty list of conditions and nothing else", *at, code="schema")
                return None
            built = tuple(c for i, o in enumerate(options) if (c := self.condition(o, at + ("any", i))) is not None)
            if any(c.kind == "any" for c in built):
                r.error("'any' cannot be nested", *at, code="schema")
            return Condition("any", options=built, location=loc)
        if "lower_side" in entry:
            if set(entry) - {"lower_side", "by_more_than"}:
                r.error("'lower_side' takes only 'by_more_than' beside it", *at, code="schema")
            ref = self.ref(entry["lower_side"], at + ("lower_side",), ("finding",))
            return Condition(
                "lower_side", ref, threshold=self.ref(entry.get("by_more_than"), at + ("by_more_than",), ("threshold",)),
                sided=self.sided(ref, ("finding",)), location=loc,
            )
        for kind in ("absent", "not", "state", "recorded"):
            if kind in entry:
                if len(entry) != 1:
                    r.error(f"'{kind}' stands alone in its condition", *at, code="schema")
                expected = ("state",) if kind == "state" else ("finding",)
                ref = self.ref(entry[kind], at + (kind,), expected)
                return Condition(kind, ref, on=on, sided=self.sided(ref, expected), location=loc)
        if "finding" in entry:
            if set(entry) - {"finding", "below", "at_least"}:
                r.error("'finding' takes only 'below' or 'at_least' beside it", *at, code="schema")
            compare = [c for c in ("below", "at_least") if c in entry]
            if len(compare) > 1:
                r.error("use one of 'below' or 'at_least'", *at, code="schema")
            threshold = None
            if compare:
                threshold = self.ref(entry[compare[0]], at + (compare[0],), ("threshold",))
            ref = self.ref(entry["finding"], at + ("finding",), ("finding",))
            return Condition(
                "finding", ref, threshold=threshold, compare=compare[0] if compare else None, on=on,
                sided=self.sided(ref, ("finding",)), location=loc,
            )
        r.error("a condition needs one of: finding, recorded, absent, not, state, lower_side, any", *at, code="schema")
        return None

    def read_rules(self, at: tuple[Any, ...], item: dict[str, Any]) -> None:
        r = self.r
        r.unknown_fields(item, _RULE_FIELDS, at)
        then = item.get("then")
        if isinstance(then, str):
            then = [then]
        targets: tuple[str, ...] = ()
        if not isinstance(then, list) or not then:
            r.error("field 'then' must list the states the rule concludes", *at, *(("then",) if "then" in item else ()), code="schema")
        else:
            targets = tuple(t for i, v in enumerate(then) if (t := self.ref(v, at + ("then", i), ("state",))))
        rule = Rule(
            item["id"], r.text(item, "label", at) or item["id"], self.conditions(item, at), targets,
            self.evidence(item, at), self.citation(item, at), "rule", self.loc(at),
        )
        if self.claim(rule.id, at):
            self.rules[rule.id] = rule

    def read_recommendations(self, at: tuple[Any, ...], item: dict[str, Any]) -> None:
        r = self.r
        r.unknown_fields(item, _REC_FIELDS, at)
        kind = r.choice(item, "kind", at, RECOMMENDATION_KINDS) or "strategy"
        order = item.get("order")
        if kind == "exercise":
            if isinstance(order, bool) or not isinstance(order, int) or order < 1:
                r.error("an exercise needs 'order', a whole number from 1 (ground) upwards", *at, *(("order",) if "order" in item else ()), code="schema")
                order = None
        elif order is not None:
            r.error("only an exercise has an 'order'", *at, "order", code="schema")
            order = None
        if "order_source" in item and order is None:
            r.error("'order_source' says where an exercise's 'order' comes from; give 'order' too", *at, "order_source", code="schema")
        implicit = self.unassessed(item["id"], at) if kind == "assessment" else ()
        calls: list[Rule] = []
        raw_calls = item.get("called_for_by", [])
        if not isinstance(raw_calls, list):
            r.error("'called_for_by' must be a list of rules", *at, "called_for_by", code="schema")
            raw_calls = []
        for i, call in enumerate(raw_calls):
            cat = at + ("called_for_by", i)
            if not isinstance(call, dict) or not isinstance(call.get("id"), str):
                r.error("each call needs an 'id'", *cat, code="schema")
                continue
            r.unknown_fields(call, _CALL_FIELDS, cat)
            rule = Rule(
                call["id"], r.text(call, "label", cat) or call["id"], self.conditions(call, cat) + implicit, (item["id"],),
                self.evidence(call, cat), self.citation(call, cat), "call", self.loc(cat),
            )
            if self.claim(rule.id, cat):
                calls.append(rule)
        rec = Recommendation(
            item["id"], kind, r.text(item, "label", at) or item["id"], r.text(item, "summary", at) or "",
            self.evidence(item, at), self.citation(item, at), order, tuple(calls), self.rationale(item, at),
            self.addresses(item, at), self.citation(item, at, "order_source") if "order_source" in item else None,
            self.loc(at),
        )
        if self.claim(rec.id, at):
            self.recommendations[rec.id] = rec

    def unassessed(self, rec_id: str, at: tuple[Any, ...]) -> tuple[Condition, ...]:
        """The implicit condition of an assessment: no finding it produces is recorded yet."""
        produced = tuple((f.id, f.sided) for f in self.findings.values() if f.assessment == rec_id)
        if not produced:
            return ()
        return (Condition("unassessed", rec_id, findings=produced, implicit=True, location=self.loc(at)),)

    def addresses(self, item: Mapping[str, Any], at: tuple[Any, ...]) -> tuple[Address, ...]:
        raw = item.get("addresses", [])
        if not isinstance(raw, list):
            self.r.error("'addresses' must be a list of {target, evidence, source}", *at, "addresses", code="schema")
            return ()
        out = []
        for i, entry in enumerate(raw):
            here = at + ("addresses", i)
            if not isinstance(entry, dict):
                self.r.error("each 'addresses' entry is a mapping {target, evidence, source}", *here, code="schema")
                continue
            self.r.unknown_fields(entry, _ADDRESS_FIELDS, here)
            target = self.ref(entry.get("target"), here + ("target",), ("state", "finding"))
            if target is None:
                continue
            out.append(Address(
                target, self.r.text(entry, "label", here, required=False) or "", self.evidence(entry, here),
                self.citation(entry, here), self.loc(here),
            ))
        return tuple(out)

    def rationale(self, item: Mapping[str, Any], at: tuple[Any, ...]) -> tuple[Citation, ...]:
        """An item's optional ``rationale``: further sources, each read like a ``source``."""
        raw = item.get("rationale", [])
        if not isinstance(raw, list):
            self.r.error("'rationale' must be a list of sources ({ref: article, quote: ...})", *at, "rationale", code="schema")
            return ()
        out = []
        for i, entry in enumerate(raw):
            here = at + ("rationale", i)
            if not isinstance(entry, dict):
                self.r.error("each rationale entry is a source ({ref: article, quote: ...})", *here, code="schema")
                continue
            citation = self.r.citation_fields(entry, here)
            if citation.ref is not None:
                self.ref(citation.ref, here + ("ref",), ("source",))
            out.append(citation)
        return tuple(out)

    # -- cross references

    def resolve(self) -> None:
        tables: dict[str, Mapping[str, Any]] = {
            "source": self.sources, "entity": self.entities, "state": self.states,
            "finding": self.findings, "recommendation": self.recommendations, "threshold": self.thresholds,
        }
        aliases = {a: f.id for f in self.findings.values() for a in f.aliases}
        for doc, at, value, kinds in self.refs:
            if any(value in tables[k] for k in kinds):
                continue
            pool = [i for k in kinds for i in tables[k]]
            self.r.doc = doc
            self.r.error(f"unknown {' or '.join(kinds)} {value!r}", *at, hint=suggest(value, pool, aliases=aliases), code="unknown-id")

    def semantics(self) -> None:
        for state in self.states.values():
            if state.opposite == state.id:
                self._problem(state.location, f"state {state.id!r} cannot be its own opposite", "opposite")
            elif state.opposite and state.opposite in self.states:
                back = self.states[state.opposite].opposite
                if back != state.id:
                    self._problem(state.location, f"opposite states must be declared both ways: {state.opposite!r} does not name {state.id!r} as its opposite", "opposite",
                                  f"add 'opposite: {state.id}' to state {state.opposite!r}")
            for test in (state.tested_by, *state.indicated_by):
                if test in self.findings and self.findings[test].sided != state.sided:
                    self._problem(state.location, f"state {state.id!r} and its test {test!r} must both be sided or both unsided", "sided")
        aliases: dict[str, str] = {}
        for finding in self.findings.values():
            for alias in finding.aliases:
                if alias in self.ids or alias in aliases:
                    self._problem(finding.location, f"alias {alias!r} of {finding.id!r} is already an id or another finding's alias", "duplicate")
                aliases[alias] = finding.id
        for threshold in self.thresholds.values():
            decided = self.findings.get(threshold.id)
            if decided is not None:
                if decided.type != "degrees":
                    self._problem(threshold.location, f"threshold {threshold.id!r} decides a boolean finding", "threshold")
                elif decided.range and not decided.range[0] <= threshold.value <= decided.range[1]:
                    low, high = decided.range
                    self._problem(threshold.location, f"threshold {threshold.value:g} for {threshold.id!r} is outside the finding's valid range [{low:g}, {high:g}]", "threshold-range",
                                  "give a value inside the range, or correct the finding's 'range'")
        for rule in self.all_rules():
            for cond in flatten(rule.when):
                if cond.kind in ("finding", "not", "lower_side") and cond.ref in self.findings:
                    finding = self.findings[cond.ref]
                    numeric = cond.kind == "lower_side" or cond.compare is not None
                    if numeric != (finding.type == "degrees"):
                        what = "needs a degrees finding" if numeric else "needs 'below' or 'at_least' for a degrees finding"
                        self._problem(cond.location, f"condition on {cond.ref!r} {what}", "condition")
                    if cond.kind == "lower_side" and not finding.sided:
                        self._problem(cond.location, f"'lower_side' needs a sided finding, {cond.ref!r} is unsided", "condition")
                if cond.on != "this" and not cond.sided:
                    self._problem(cond.location, f"'on: {cond.on}' needs a sided item, {cond.ref!r} belongs to no side", "condition")
        self._cycles()

    def all_rules(self) -> list[Rule]:
        out = list(self.rules.values())
        for rec in self.recommendations.values():
            out += rec.calls
        return out

    def _problem(self, location: Location | None, message: str, code: str, hint: str | None = None) -> None:
        self.problems.append(Problem("error", message, location or Location(str(self.directory)), hint, code))

    def _cycles(self) -> None:
        """Concluding links join two states and form an acyclic graph (checked without recursion)."""
        graph: dict[str, list[str]] = {}
        via: dict[tuple[str, str], Link] = {}
        for link in self.links.values():
            if link.use != "conclude":
                continue
            if link.cause not in self.states or link.effect not in self.states:
                self._problem(link.location, f"a concluding link joins two states; {link.cause!r} → {link.effect!r} does not", "link")
                continue
            graph.setdefault(link.effect, []).append(link.cause)
            via.setdefault((link.cause, link.effect), link)
        try:
            graphlib.TopologicalSorter(graph).prepare()
        except graphlib.CycleError as err:
            nodes: list[str] = list(err.args[1])[:-1]  # [a, b, ..., a]: each a cause of the next
            links = [via[(a, b)] for a, b in zip(nodes, nodes[1:] + nodes[:1]) if (a, b) in via]
            order = {link_id: i for i, link_id in enumerate(self.links)}
            # Blame the link declared last (most often the one just added), and start the cycle there.
            last = max(links, key=lambda l: order[l.id])
            start = nodes.index(last.cause)
            shown = nodes[start:] + nodes[:start] + [last.cause]
            self._problem(last.location, f"causal links form a cycle: {' → '.join(shown)}", "cycle",
                          "remove a link of the cycle, or mark it 'use: explain'")

    def build(self, name: str, version: str) -> KBModel:
        return KBModel.build(name, version, str(self.directory), {
            "sources": self.sources, "entities": self.entities, "states": self.states, "findings": self.findings,
            "thresholds": self.thresholds, "links": self.links, "rules": self.rules,
            "recommendations": self.recommendations,
        })


def _manifest(directory: Path, problems: list[Problem]) -> tuple[str, str]:
    file = directory / MANIFEST
    if not file.exists():
        return directory.name, "unversioned"
    doc = read_document(file, error=KBError)
    data = doc.data if isinstance(doc.data, dict) else {}
    name, version = data.get("name"), data.get("version")
    for key, value in (("name", name), ("version", version)):
        if not isinstance(value, str):
            problems.append(Problem("error", f"{MANIFEST} needs a text '{key}'", doc.where(key), None, "schema"))
    return str(name or directory.name), str(version or "unversioned")


def read_kb(path: str | Path | None = None) -> tuple[KBModel | None, list[Problem]]:
    """Read a KB directory; return the model (None when it has errors) and every problem.

    Raises :class:`KBError` only when a file cannot be read or parsed at all.
    """
    directory = Path(path) if path is not None else bundled_kb_path()
    shown = str(path) if path is not None else "kb"
    if not directory.is_dir():
        raise KBError("not a knowledge base directory", path=shown)
    problems: list[Problem] = []
    docs: dict[str, Document] = {}
    for file in FILES:
        full = directory / file
        if not full.exists():
            problems.append(Problem("error", "missing KB file", Location(str(Path(shown) / file)), None, "missing-file"))
            continue
        doc = read_document(full, error=KBError)
        doc.path = str(Path(shown) / file)
        docs[file] = doc
    extra = sorted(p.name for p in directory.glob("*.y*ml") if p.name not in FILES and p.name != MANIFEST)
    for name in extra:
        problems.append(Problem(
            "error", "unexpected file in the KB directory", Location(str(Path(shown) / name)),
            suggest(name, FILES), "unknown-file",
        ))
    kb_name, version = _manifest(directory, problems)
    builder = _Builder(directory, docs)
    builder.read_all()
    builder.resolve()
    if not any(p.code == "unknown-id" for p in builder.problems):
        builder.semantics()
    problems.extend(builder.problems)
    if any(p.severity == "error" for p in problems):
        return None, problems
    return builder.build(kb_name, version), problems


def load_model(path: str | Path | None = None) -> KBModel:
    """Load and validate a KB directory (default: the one shipped with hipkb).

    Raises :class:`KBError` for the first problem, located as FILE:LINE:COL.
    """
    model, problems = read_kb(path)
    errors = [p for p in problems if p.severity == "error"]
    if model is None or errors:
        first = errors[0]
        hint = first.hint
        if len(errors) > 1:
            more = f"{len(errors) - 1} more error(s): run 'hipkb kb check'"
            hint = f"{hint}; {more}" if hint else more
        loc = first.location
        raise KBError(first.message, path=loc.path, line=loc.line, column=loc.column, hint=hint)
    return model
