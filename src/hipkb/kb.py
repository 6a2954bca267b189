"""Load and validate the knowledge base (kb/*.yaml) into typed model objects.

Every problem is reported as ``FILE:LINE:COL: message (hint)``; unknown ids
get a did-you-mean. :func:`load_kb` raises the first error as
:class:`~hipkb.errors.KBError`; :func:`read_kb` returns every problem found
(``hipkb kb check`` uses it).

>>> kb = load_kb()
>>> kb.states["ir_limited"].tested_by
'supine_hip_ir'
>>> kb.recommendations["arm_bar"].order
1
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .errors import KBError, Location
from .model import (
    EVIDENCE_LEVELS,
    RECOMMENDATION_KINDS,
    Citation,
    Condition,
    Entity,
    Finding,
    Link,
    Recommendation,
    Rule,
    Source,
    State,
    Threshold,
)
from .source import Document, read_document

if TYPE_CHECKING:
    from .infer import Result

__all__ = ["KnowledgeBase", "Problem", "load_kb", "read_kb", "bundled_kb_path", "FILES", "suggest"]

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


@dataclass(frozen=True)
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


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """A did-you-mean hint for an unknown id, or None.

    >>> suggest("outlet_opned", ["outlet_not_opening", "inlet_not_closing"])
    "did you mean 'outlet_not_opening'?"
    """
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        # a containment guess only from a few characters up: 'x' is in everything
        close = [c for c in pool if len(name) >= 3 and len(c) >= 3 and (name in c or c in name)][:1]
    return f"did you mean {close[0]!r}?" if close else None


def bundled_kb_path() -> Path:
    """The directory of the KB shipped inside the package.

    An installed wheel carries it as ``hipkb/kb``; a source checkout (or an
    editable install) uses the repository's top-level ``kb/``.
    """
    # The package's own directory (what importlib.resources would return for
    # an installed package), without importing importlib.resources: that
    # import costs ~5 ms of every cold `hipkb` run.
    packaged = Path(__file__).resolve().parent / "kb"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "kb"


@dataclass(frozen=True)
class KnowledgeBase:
    """A loaded, validated knowledge base. Immutable; safe to share across threads."""

    name: str
    version: str
    directory: str
    sources: Mapping[str, Source]
    entities: Mapping[str, Entity]
    states: Mapping[str, State]
    findings: Mapping[str, Finding]
    thresholds: Mapping[str, Threshold]
    links: Mapping[str, Link]
    rules: Mapping[str, Rule]
    recommendations: Mapping[str, Recommendation]
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def inference_rules(self) -> tuple[Rule, ...]:
        """Every rule the engine runs, in KB order: rules, concluding links, calls."""
        cached = self._cache.get("inference_rules")
        if cached is None:
            out: list[Rule] = list(self.rules.values())
            out += [_link_rule(link) for link in self.links.values() if link.use == "conclude"]
            for rec in self.recommendations.values():
                out += rec.calls
            cached = self._cache["inference_rules"] = tuple(out)
        return cached

    def rule(self, rule_id: str) -> Rule:
        """The inference rule with this id (a rule, a concluding link or a call)."""
        index = self._cache.get("rule_index")
        if index is None:
            index = self._cache["rule_index"] = {r.id: r for r in self.inference_rules}
        return index[rule_id]

    def position(self, table: str) -> Mapping[str, int]:
        """Declaration order of ids: ``"rules"`` (inference rules), ``"states"`` or ``"recommendations"``.

        Results are sorted by it; computed once per KB.

        >>> load_kb().position("states")["ir_limited"]
        0
        """
        key = f"position:{table}"
        cached = self._cache.get(key)
        if cached is None:
            ids = [r.id for r in self.inference_rules] if table == "rules" else list(getattr(self, table))
            cached = self._cache[key] = {item: i for i, item in enumerate(ids)}
        return cached

    def kind_of(self, item_id: str) -> str | None:
        """'state', 'finding' or 'recommendation' for a declared id, else None."""
        if item_id in self.states:
            return "state"
        if item_id in self.findings:
            return "finding"
        if item_id in self.recommendations:
            return "recommendation"
        return None

    def label(self, item_id: str) -> str:
        for table in (self.states, self.findings, self.recommendations, self.entities):
            if item_id in table:
                return table[item_id].label  # type: ignore[attr-defined]
        return item_id

    def default_thresholds(self) -> dict[str, float]:
        return {t.id: t.value for t in self.thresholds.values()}

    def assess(
        self,
        case: Mapping[str, Any] | str | Path,
        *,
        thresholds: Mapping[str, float] | None = None,
    ) -> Result:
        """Run the engine over one case (a mapping, or a path to YAML/JSON).

        >>> kb = load_kb()
        >>> result = kb.assess({"findings": {"supine_hip_ir": {"left": 12, "right": 40}}})
        >>> [(c.id, c.side, c.status) for c in result.conclusions][:2]
        [('ir_limited', 'left', 'measured'), ('ir_within_range', 'right', 'measured')]
        """
        from .infer import assess as _assess

        return _assess(self, case, thresholds=thresholds)


def _link_rule(link: Link) -> Rule:
    return Rule(
        id=link.id,
        label=link.label,
        when=(Condition("state", link.cause, location=link.location),),
        then=(link.effect,),
        evidence=link.evidence,
        source=link.source,
        origin="link",
        location=link.location,
    )


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

    def citation(self, item: Mapping[str, Any], at: tuple[Any, ...]) -> Citation:
        raw = item.get("source")
        if raw is None:
            self.error("missing field 'source' (a quote, an outside reference or an interpretation)", *at, code="citation")
            return Citation()
        if not isinstance(raw, dict):
            self.error("field 'source' must be a mapping with ref/quote/interpretation/note", *at, "source", code="schema")
            return Citation()
        return self.citation_fields(raw, at + ("source",))

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
_STATE_FIELDS = ("id", "label", "sided", "entity", "tested_by", "opposite", "description", "source")
_FINDING_FIELDS = ("id", "label", "type", "range", "sided", "group", "entity", "assessment", "source", "unit", "description")
_THRESHOLD_FIELDS = ("id", "value", "label", "unit", "evidence", "source", "rationale")
_LINK_FIELDS = ("id", "label", "cause", "effect", "use", "evidence", "source", "description")
_RULE_FIELDS = ("id", "label", "when", "then", "evidence", "source", "description")
_CALL_FIELDS = ("id", "label", "when", "evidence", "source", "description")
_REC_FIELDS = ("id", "kind", "order", "label", "summary", "evidence", "source", "rationale", "called_for_by", "description")
FINDING_GROUPS = ("measurement", "confounder", "compensation", "symptom")
FINDING_TYPES = ("degrees", "boolean")
SOURCE_KINDS = ("article", "paper", "guideline")
CONDITION_KEYS = ("finding", "below", "at_least", "absent", "not", "state", "lower_side", "by_more_than", "any")
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
}


class _Builder:
    """Builds a KnowledgeBase from parsed documents, collecting every problem."""

    def __init__(self, directory: Path, docs: dict[str, Document], shown: dict[str, str]) -> None:
        self.directory = directory
        self.docs = docs
        self.r = _Reader()
        self.shown = shown
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
        loc = self.r.doc.where(*at, "id")  # type: ignore[union-attr]
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
        self.refs.append((self.r.doc, at, value, kinds))  # type: ignore[arg-type]
        return value

    def loc(self, at: tuple[Any, ...]) -> Location:
        return self.r.doc.where(*at)  # type: ignore[union-attr]

    def evidence(self, item: Mapping[str, Any], at: tuple[Any, ...]) -> str:
        return self.r.choice(item, "evidence", at, EVIDENCE_LEVELS) or "interpretation"

    def citation(self, item: Mapping[str, Any], at: tuple[Any, ...]) -> Citation:
        citation = self.r.citation(item, at)
        if citation.ref is not None:
            self.ref(citation.ref, at + ("source", "ref"), ("source",))
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
        finding = Finding(
            item["id"], r.text(item, "label", at) or item["id"], kind, r.boolean(item, "sided", at, True),
            r.choice(item, "group", at, FINDING_GROUPS) or "measurement", valid,
            self.ref(item.get("assessment"), at + ("assessment",), ("recommendation",), required=False),
            self.citation(item, at) if "source" in item else None,
            self.ref(item.get("entity"), at + ("entity",), ("entity",), required=False), self.loc(at),
        )
        if self.claim(finding.id, at):
            self.findings[finding.id] = finding

    def read_thresholds(self, at: tuple[Any, ...], item: dict[str, Any]) -> None:
        r = self.r
        r.unknown_fields(item, _THRESHOLD_FIELDS, at)
        tid = self.ref(item["id"], at + ("id",), ("finding", "state"))
        value = r.number(item.get("value"), at + (("value",) if "value" in item else ()), "field 'value'")
        if tid in self.thresholds:
            r.error(f"duplicate threshold for {tid!r}", *at, "id", code="duplicate")
            return
        if tid is not None:
            self.thresholds[tid] = Threshold(
                tid, value if value is not None else 0.0, r.text(item, "label", at) or tid,
                self.evidence(item, at), self.citation(item, at), self.loc(at), self.rationale(item, at),
            )

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

    def condition(self, entry: Any, at: tuple[Any, ...]) -> Condition | None:
        r = self.r
        if not isinstance(entry, dict) or not entry:
            r.error("a condition must be a mapping such as {state: ir_limited}", *at, code="schema")
            return None
        r.unknown_fields(entry, CONDITION_KEYS, at)
        loc = self.loc(at)
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
            return Condition(
                "lower_side", self.ref(entry["lower_side"], at + ("lower_side",), ("finding",)),
                threshold=self.ref(entry.get("by_more_than"), at + ("by_more_than",), ("threshold",)), location=loc,
            )
        for kind in ("absent", "not", "state"):
            if kind in entry:
                if len(entry) != 1:
                    r.error(f"'{kind}' stands alone in its condition", *at, code="schema")
                expected = ("state",) if kind == "state" else ("finding",)
                return Condition(kind, self.ref(entry[kind], at + (kind,), expected), location=loc)
        if "finding" in entry:
            if set(entry) - {"finding", "below", "at_least"}:
                r.error("'finding' takes only 'below' or 'at_least' beside it", *at, code="schema")
            compare = [c for c in ("below", "at_least") if c in entry]
            if len(compare) > 1:
                r.error("use one of 'below' or 'at_least'", *at, code="schema")
            threshold = None
            if compare:
                threshold = self.ref(entry[compare[0]], at + (compare[0],), ("threshold",))
            return Condition(
                "finding", self.ref(entry["finding"], at + ("finding",), ("finding",)),
                threshold=threshold, compare=compare[0] if compare else None, location=loc,
            )
        r.error("a condition needs one of: finding, absent, not, state, lower_side, any", *at, code="schema")
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
                call["id"], r.text(call, "label", cat) or call["id"], self.conditions(call, cat), (item["id"],),
                self.evidence(call, cat), self.citation(call, cat), "call", self.loc(cat),
            )
            if self.claim(rule.id, cat):
                calls.append(rule)
        rec = Recommendation(
            item["id"], kind, r.text(item, "label", at) or item["id"], r.text(item, "summary", at) or "",
            self.evidence(item, at), self.citation(item, at), order, tuple(calls), self.rationale(item, at), self.loc(at),
        )
        if self.claim(rec.id, at):
            self.recommendations[rec.id] = rec

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
        for doc, at, value, kinds in self.refs:
            if any(value in tables[k] for k in kinds):
                continue
            pool = [i for k in kinds for i in tables[k]]
            self.r.doc = doc
            self.r.error(f"unknown {' or '.join(kinds)} {value!r}", *at, hint=suggest(value, pool), code="unknown-id")

    def semantics(self) -> None:
        r = self.r
        for state in self.states.values():
            self._at(state.location)
            if state.opposite == state.id:
                self._problem(state.location, f"state {state.id!r} cannot be its own opposite", "opposite")
            elif state.opposite and state.opposite in self.states:
                back = self.states[state.opposite].opposite
                if back != state.id:
                    self._problem(state.location, f"opposite states must be declared both ways: {state.opposite!r} does not name {state.id!r} as its opposite", "opposite",
                                  f"add 'opposite: {state.id}' to state {state.opposite!r}")
            if state.tested_by in self.findings and self.findings[state.tested_by].sided != state.sided:
                self._problem(state.location, f"state {state.id!r} and its test {state.tested_by!r} must both be sided or both unsided", "sided")
        for threshold in self.thresholds.values():
            finding = self.findings.get(threshold.id)
            if finding is not None:
                if finding.type != "degrees":
                    self._problem(threshold.location, f"threshold {threshold.id!r} decides a boolean finding", "threshold")
                elif finding.range and not finding.range[0] <= threshold.value <= finding.range[1]:
                    low, high = finding.range
                    self._problem(threshold.location, f"threshold {threshold.value:g} for {threshold.id!r} is outside the finding's valid range [{low:g}, {high:g}]", "threshold-range",
                                  "give a value inside the range, or correct the finding's 'range'")
        for rule in self.all_rules():
            for cond in _flatten(rule.when):
                if cond.kind in ("finding", "not", "lower_side") and cond.ref in self.findings:
                    finding = self.findings[cond.ref]
                    numeric = cond.kind == "lower_side" or cond.compare is not None
                    if numeric != (finding.type == "degrees"):
                        what = "needs a degrees finding" if numeric else "needs 'below' or 'at_least' for a degrees finding"
                        self._problem(cond.location, f"condition on {cond.ref!r} {what}", "condition")
                    if cond.kind == "lower_side" and not finding.sided:
                        self._problem(cond.location, f"'lower_side' needs a sided finding, {cond.ref!r} is unsided", "condition")
            if rule.origin == "rule" and rule.evidence != "interpretation" and rule.source.interpretation:
                pass  # a quote read with interpretation may keep the quote's level
        self._cycles()

    def all_rules(self) -> list[Rule]:
        out = list(self.rules.values())
        for rec in self.recommendations.values():
            out += rec.calls
        return out

    def _at(self, location: Location | None) -> None:
        pass

    def _problem(self, location: Location | None, message: str, code: str, hint: str | None = None) -> None:
        self.problems.append(Problem("error", message, location or Location(str(self.directory)), hint, code))

    def _cycles(self) -> None:
        """Concluding links must form an acyclic graph (so must rules + links)."""
        edges: dict[str, list[tuple[str, Any]]] = {}
        for link in self.links.values():
            if link.use == "conclude":
                edges.setdefault(link.cause, []).append((link.effect, link))
        for link in self.links.values():
            if link.use == "conclude" and (link.cause not in self.states or link.effect not in self.states):
                self._problem(link.location, f"a concluding link joins two states; {link.cause!r} → {link.effect!r} does not", "link")
        color: dict[str, int] = {}
        path: list[str] = []
        via: list[Any] = []  # via[i] is the link from path[i] to path[i + 1]
        order = {link_id: i for i, link_id in enumerate(self.links)}

        def visit(node: str) -> bool:
            color[node] = 1
            path.append(node)
            for nxt, link in edges.get(node, []):
                if color.get(nxt) == 1:
                    start = path.index(nxt)
                    links = via[start:] + [link]
                    # Blame the link declared last: most often the one just added.
                    last = max(links, key=lambda l: order[l.id])
                    shown = " → ".join(path[start:] + [nxt])
                    self._problem(last.location, f"causal links form a cycle: {shown}", "cycle",
                                  "remove a link of the cycle, or mark it 'use: explain'")
                    return True
                if color.get(nxt, 0) == 0:
                    via.append(link)
                    if visit(nxt):
                        return True
                    via.pop()
            path.pop()
            color[node] = 2
            return False

        for start in sorted(edges):
            if color.get(start, 0) == 0:
                path.clear()
                via.clear()
                if visit(start):
                    break

    def build(self, name: str, version: str) -> KnowledgeBase:
        return KnowledgeBase(
            name, version, str(self.directory), dict(self.sources), dict(self.entities), dict(self.states),
            dict(self.findings), dict(self.thresholds), dict(self.links), dict(self.rules), dict(self.recommendations),
        )


def _flatten(conditions: Iterable[Condition]) -> Iterable[Condition]:
    for cond in conditions:
        if cond.kind == "any":
            yield from cond.options
        else:
            yield cond


def _manifest(directory: Path, shown: str, problems: list[Problem]) -> tuple[str, str]:
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


def read_kb(path: str | Path | None = None) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Read a KB directory; return the KB (None when it has errors) and every problem.

    Raises :class:`KBError` only when a file cannot be read or parsed at all.
    """
    directory = Path(path) if path is not None else bundled_kb_path()
    shown = str(path) if path is not None else "kb"
    if not directory.is_dir():
        raise KBError("not a knowledge base directory", path=shown)
    problems: list[Problem] = []
    docs: dict[str, Document] = {}
    names: dict[str, str] = {}
    for file in FILES:
        full = directory / file
        names[file] = str(Path(shown) / file)
        if not full.exists():
            problems.append(Problem("error", "missing KB file", Location(names[file]), None, "missing-file"))
            continue
        doc = read_document(full, error=KBError)
        doc.path = names[file]
        docs[file] = doc
    extra = sorted(p.name for p in directory.glob("*.y*ml") if p.name not in FILES and p.name != MANIFEST)
    for name in extra:
        problems.append(Problem(
            "error", "unexpected file in the KB directory", Location(str(Path(shown) / name)),
            suggest(name, FILES), "unknown-file",
        ))
    kb_name, version = _manifest(directory, shown, problems)
    builder = _Builder(directory, docs, names)
    builder.read_all()
    builder.resolve()
    if not any(p.code == "unknown-id" for p in builder.problems):
        builder.semantics()
    problems.extend(builder.problems)
    if any(p.severity == "error" for p in problems):
        return None, problems
    return builder.build(kb_name, version), problems


def load_kb(path: str | Path | None = None) -> KnowledgeBase:
    """Load and validate a KB directory (default: the one shipped with hipkb).

    Raises :class:`KBError` for the first problem, located as FILE:LINE:COL.
    """
    kb, problems = read_kb(path)
    errors = [p for p in problems if p.severity == "error"]
    if kb is None or errors:
        first = errors[0]
        hint = first.hint
        if len(errors) > 1:
            more = f"{len(errors) - 1} more error(s): run 'hipkb kb check'"
            hint = f"{hint}; {more}" if hint else more
        loc = first.location
        raise KBError(first.message, path=loc.path, line=loc.line, column=loc.column, hint=hint)
    return kb
