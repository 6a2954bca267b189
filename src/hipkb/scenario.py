"""Scenarios: a case and what the knowledge base must conclude from it.

A scenario file (``tests/cases/*.yaml``) holds a ``title``, a ``case`` (as in
a case file: findings, optional thresholds and mdc) and ``expect``:
conclusions and recommendations that must be present (``ID/SIDE``, or a
mapping with ``status``, ``evidence``, the exact ``assumptions``, the
``rules`` that must be among its justifications and the ``not_rules`` that
must not; for a recommendation also ``order`` and the exact ``addresses``),
ids that must be ``absent``, and, when given, the exact ``disagreements``.
With ``mirror: true`` it also runs with left and right swapped; ``xfail:
why`` marks behaviour the engine is known to get wrong. ``pytest`` and
``hipkb kb coverage`` run the same files.

>>> from hipkb.infer import load_kb
>>> kb = load_kb()
>>> scenario = parse_scenario({
...     "title": "Low IR on the left",
...     "mirror": True,
...     "case": {"findings": {"supine_hip_ir": {"left": 12, "right": 40}}},
...     "expect": {"conclusions": [{"id": "ir_limited", "side": "left", "status": "measured"}],
...                "absent": ["ir_limited/right"]},
... }, kb)
>>> [(run.name, run.failures) for run in run_scenario(scenario, kb)]
[('<scenario>', ()), ('<scenario>[mirrored]', ())]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from .case import Case, Key, key_str, parse_case
from .engines import EngineName
from .errors import InputError, Location, suggest
from .infer import KnowledgeBase, assess
from .model import SIDES, STATUSES, Side, is_side
from .record import field, record, replace
from .result import Conclusion, Result
from .source import Document, read_document

__all__ = [
    "Expected",
    "ExpectedDisagreement",
    "Scenario",
    "ScenarioRun",
    "parse_scenario",
    "load_scenario",
    "load_scenarios",
    "run_scenario",
    "SCENARIO_SUFFIXES",
]

SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")
_TOP_KEYS = ("title", "about", "mirror", "xfail", "case", "expect")
_EXPECT_KEYS = ("conclusions", "recommendations", "absent", "disagreements")
_ITEM_KEYS = ("id", "side", "status", "evidence", "assumptions", "rules", "not_rules", "order", "addresses")
_REC_ONLY = ("order", "addresses")
_EVIDENCE = ("clinical-norm", "assessor", "coaching-model", "interpretation")
_SWAP: dict[Side, Side] = {"left": "right", "right": "left", None: None}


@record
class Expected:
    """One expected (or expected-absent) item on one side."""

    id: str
    side: Side
    status: str | None = None
    rules: tuple[str, ...] = ()
    not_rules: tuple[str, ...] = ()
    location: Location | None = field(default=None, compare=False)
    evidence: str | None = None
    #: None: not checked; else the exact set
    assumptions: tuple[Key, ...] | None = None
    order: int | None = None
    addresses: tuple[Key, ...] | None = None

    @property
    def key(self) -> Key:
        return (self.id, self.side)

    def __str__(self) -> str:
        return key_str(self.key)


@record
class ExpectedDisagreement:
    """Opposite states that must meet: ``kept`` (None when both go) and ``dropped``."""

    kept: Key | None
    dropped: tuple[Key, ...]
    location: Location | None = field(default=None, compare=False)

    def __str__(self) -> str:
        kept = "nothing" if self.kept is None else key_str(self.kept)
        return f"{kept} kept over {', '.join(key_str(k) for k in self.dropped)}"


@record
class Scenario:
    """A parsed, validated scenario file."""

    name: str
    title: str
    case: Case
    conclusions: tuple[Expected, ...] = ()
    recommendations: tuple[Expected, ...] = ()
    absent: tuple[Expected, ...] = ()
    disagreements: tuple[ExpectedDisagreement, ...] | None = None  # None: not checked
    mirror: bool = False
    xfail: str | None = None
    path: str | None = None

    def mirrored(self) -> Scenario:
        """The same scenario with left and right swapped, in the case and the expectations."""
        case = self.case
        swapped = Case(
            {(item, _SWAP[side]): v for (item, side), v in case.findings.items()},
            tuple((item, _SWAP[side]) for item, side in case.given),
            case.thresholds, case.subject, case.path, case.mdc,
        )

        def keys(found: tuple[Key, ...] | None) -> tuple[Key, ...] | None:
            return None if found is None else tuple((i, _SWAP[s]) for i, s in found)

        def flip(items: tuple[Expected, ...]) -> tuple[Expected, ...]:
            return tuple(
                replace(e, side=_SWAP[e.side], assumptions=keys(e.assumptions), addresses=keys(e.addresses))
                for e in items
            )

        disagreements = None
        if self.disagreements is not None:
            disagreements = tuple(
                ExpectedDisagreement(
                    None if d.kept is None else (d.kept[0], _SWAP[d.kept[1]]),
                    tuple((i, _SWAP[s]) for i, s in d.dropped), d.location,
                )
                for d in self.disagreements
            )
        return replace(
            self, name=f"{self.name}[mirrored]", case=swapped, conclusions=flip(self.conclusions),
            recommendations=flip(self.recommendations), absent=flip(self.absent),
            disagreements=disagreements, mirror=False,
        )


@record
class ScenarioRun:
    """One run of a scenario (or of its mirror image) and what did not match."""

    scenario: Scenario
    result: Result = field(repr=False)
    failures: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def passed(self) -> bool:
        return not self.failures


# --------------------------------------------------------------------------
# Reading


class _ScenarioReader:
    def __init__(self, doc: Document, kb: KnowledgeBase, name: str) -> None:
        self.doc = doc
        self.kb = kb
        self.name = name

    def fail(self, message: str, *keys: Any, hint: str | None = None, key: bool = False) -> InputError:
        loc = self.doc.where(*keys, key=key)
        return InputError(message, path=loc.path, line=loc.line, column=loc.column, hint=hint)

    def read(self) -> Scenario:
        data = self.doc.data
        if not isinstance(data, dict):
            raise self.fail("a scenario must be a mapping with 'title', 'case' and 'expect'")
        for name in data:
            if name not in _TOP_KEYS:
                raise self.fail(f"unknown key {name!r}", name, key=True, hint=suggest(str(name), _TOP_KEYS) or "expected " + ", ".join(_TOP_KEYS))
        for name in ("title", "case", "expect"):
            if name not in data:
                raise self.fail(f"a scenario needs '{name}'")
        title = self.text(data, "title")
        for name in ("about", "xfail"):
            if name in data:
                self.text(data, name)
        mirror = data.get("mirror", False)
        if not isinstance(mirror, bool):
            raise self.fail("'mirror' must be true or false", "mirror")
        if not isinstance(data["case"], dict):
            raise self.fail("'case' must be a mapping with 'findings' (as in a case file)", "case")
        marks = {k[1:]: v for k, v in self.doc.marks.items() if k[:1] == ("case",)}
        case = parse_case(Document(data["case"], self.doc.path, marks), self.kb)
        expect = data["expect"]
        if not isinstance(expect, dict):
            raise self.fail("'expect' must be a mapping with conclusions, recommendations, absent or disagreements", "expect")
        for name in expect:
            if name not in _EXPECT_KEYS:
                raise self.fail(f"unknown key {name!r} in 'expect'", "expect", name, key=True, hint=suggest(str(name), _EXPECT_KEYS) or "expected " + ", ".join(_EXPECT_KEYS))
        disagreements = None
        if "disagreements" in expect:
            disagreements = tuple(
                self.disagreement(entry, ("expect", "disagreements", i))
                for i, entry in enumerate(self.entries(expect, "disagreements"))
            )
        return Scenario(
            self.name, title, case,
            self.items(expect, "conclusions", ("state",)),
            self.items(expect, "recommendations", ("recommendation",)),
            self.items(expect, "absent", ("state", "recommendation")),
            disagreements, mirror, data.get("xfail"), self.doc.path,
        )

    def text(self, data: Mapping[str, Any], name: str) -> str:
        value = data[name]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"'{name}' must be non-empty text", name)
        return value

    def entries(self, expect: Mapping[str, Any], name: str) -> list[Any]:
        value = expect[name]
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"'{name}' must be a list", "expect", name)
        return value

    def items(self, expect: Mapping[str, Any], name: str, kinds: tuple[str, ...]) -> tuple[Expected, ...]:
        if name not in expect:
            return ()
        out = []
        for i, entry in enumerate(self.entries(expect, name)):
            at = ("expect", name, i)
            if isinstance(entry, str):
                item, side = self.key(entry, at, kinds)
                out.append(Expected(item, side, location=self.doc.where(*at)))
                continue
            if not isinstance(entry, dict):
                raise self.fail("an expected item is ID/SIDE or a mapping with 'id' and 'side'", *at)
            allowed = tuple(k for k in _ITEM_KEYS if k not in _REC_ONLY or name == "recommendations")
            if name == "absent":
                allowed = ("id", "side")
            for key in entry:
                if key not in allowed:
                    raise self.fail(f"unknown key {key!r}", *at, key, key=True, hint=suggest(str(key), allowed) or "expected " + ", ".join(allowed))
            if not isinstance(entry.get("id"), str):
                raise self.fail("an expected item needs an 'id'", *at)
            item = self.known(entry["id"], at + ("id",), kinds)
            side = self.check_side(item, entry.get("side"), at + (("side",) if "side" in entry else ()))
            status = entry.get("status")
            if status is not None and status not in STATUSES:
                raise self.fail(f"unknown status {status!r}", *at, "status", hint=suggest(str(status), STATUSES) or "statuses: " + ", ".join(STATUSES))
            rules = {}
            for list_name in ("rules", "not_rules"):
                listed = entry.get(list_name, [])
                if not isinstance(listed, list):
                    raise self.fail(f"'{list_name}' must be a list of rule ids", *at, list_name)
                for j, rule_id in enumerate(listed):
                    self.check_rule(rule_id, item, at + (list_name, j))
                rules[list_name] = tuple(listed)
            evidence = entry.get("evidence")
            if evidence is not None and evidence not in _EVIDENCE:
                raise self.fail(f"unknown evidence {evidence!r}", *at, "evidence", hint=suggest(str(evidence), _EVIDENCE) or "levels: " + ", ".join(_EVIDENCE))
            order = entry.get("order")
            if order is not None and (isinstance(order, bool) or not isinstance(order, int) or order < 1):
                raise self.fail("'order' is a position from 1", *at, "order")
            out.append(Expected(
                item, side, status, rules["rules"], rules["not_rules"], self.doc.where(*at), evidence,
                self.key_list(entry, "assumptions", at, ("finding",)), order,
                self.key_list(entry, "addresses", at, ("state", "finding")),
            ))
        return tuple(out)

    def key_list(self, entry: Mapping[str, Any], name: str, at: tuple[Any, ...], kinds: tuple[str, ...]) -> tuple[Key, ...] | None:
        """An exact list of ID/SIDE keys (``[]`` for none); None when the field is absent."""
        if name not in entry:
            return None
        listed = entry[name]
        if not isinstance(listed, list):
            raise self.fail(f"'{name}' must be a list of ID/SIDE", *at, name)
        return tuple(self.key(v, at + (name, j), kinds) if isinstance(v, str) else self.bad_key(at + (name, j))
                     for j, v in enumerate(listed))

    def bad_key(self, at: tuple[Any, ...]) -> Key:
        raise self.fail("expected ID/SIDE (or a bare ID for what has no side)", *at)

    def key(self, text: str, at: tuple[Any, ...], kinds: tuple[str, ...]) -> Key:
        item, sep, side = text.partition("/")
        item = self.known(item, at, kinds)
        if sep and side not in SIDES:
            raise self.fail(f"unknown side {side!r} in {text!r}", *at, hint=suggest(side, SIDES) or "sides are left and right")
        resolved = self.check_side(item, side if sep else None, at)
        return (item, resolved)

    def known(self, item: Any, at: tuple[Any, ...], kinds: tuple[str, ...]) -> str:
        tables = {"state": self.kb.states, "recommendation": self.kb.recommendations, "finding": self.kb.findings}
        if not isinstance(item, str) or not any(item in tables[k] for k in kinds):
            pool = [i for k in kinds for i in tables[k]]
            raise self.fail(f"unknown {' or '.join(kinds)} {item!r}", *at, hint=suggest(str(item), pool))
        return item

    def check_side(self, item: str, side: Any, at: tuple[Any, ...]) -> Side:
        """``side`` when it is left, right or None (and None for an item with no side)."""
        if not is_side(side):
            raise self.fail(f"unknown side {side!r}", *at, hint=suggest(str(side), SIDES) or "sides are left, right or null")
        state = self.kb.states.get(item) or self.kb.findings.get(item)
        if state is not None and not state.sided and side is not None:
            raise self.fail(f"state {item!r} belongs to no side", *at, hint=f"write {item} without a side")
        return side

    def check_rule(self, rule_id: Any, item: str, at: tuple[Any, ...]) -> None:
        ids = [r.id for r in self.kb.inference_rules]
        if not isinstance(rule_id, str) or rule_id not in ids:
            raise self.fail(f"unknown rule {rule_id!r}", *at, hint=suggest(str(rule_id), ids))
        if item not in self.kb.rule(rule_id).then:
            makers = [r.id for r in self.kb.inference_rules if item in r.then]
            raise self.fail(f"rule {rule_id!r} does not conclude {item!r}", *at, hint="rules that do: " + (", ".join(makers) or "none"))

    def disagreement(self, entry: Any, at: tuple[Any, ...]) -> ExpectedDisagreement:
        if not isinstance(entry, dict) or set(entry) != {"kept", "dropped"}:
            raise self.fail("a disagreement is a mapping with 'kept' (ID/SIDE or null) and 'dropped' (a list)", *at)
        kept = None if entry["kept"] is None else self.state_key(entry["kept"], at + ("kept",))
        dropped = entry["dropped"]
        if not isinstance(dropped, list) or not dropped:
            raise self.fail("'dropped' must be a non-empty list of ID/SIDE", *at, "dropped")
        keys = tuple(self.state_key(d, at + ("dropped", i)) for i, d in enumerate(dropped))
        return ExpectedDisagreement(kept, keys, self.doc.where(*at))

    def state_key(self, value: Any, at: tuple[Any, ...]) -> Key:
        if not isinstance(value, str):
            raise self.fail("expected a state as ID/SIDE", *at)
        return self.key(value, at, ("state",))


def parse_scenario(data: Mapping[str, Any] | Document, kb: KnowledgeBase, *, name: str | None = None) -> Scenario:
    """Validate a scenario given as a mapping (or an already-read document)."""
    doc = data if isinstance(data, Document) else Document(data, "<scenario>")
    if name is None:
        name = Path(doc.path).stem if doc.path != "<scenario>" else "<scenario>"
    return _ScenarioReader(doc, kb, name).read()


def load_scenario(path: str | Path, kb: KnowledgeBase) -> Scenario:
    """Read and validate one scenario file (YAML or JSON)."""
    return parse_scenario(read_document(path), kb, name=Path(path).stem)


def load_scenarios(directory: str | Path, kb: KnowledgeBase) -> tuple[Scenario, ...]:
    """Every scenario file in ``directory``, by file name."""
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError("not a directory of scenario files", path=str(directory))
    files = sorted(p for p in folder.iterdir() if p.suffix in SCENARIO_SUFFIXES and p.is_file())
    if not files:
        raise InputError("no scenario files (*.yaml, *.yml, *.json) here", path=str(directory))
    return tuple(load_scenario(f, kb) for f in files)


# --------------------------------------------------------------------------
# Running


def run_scenario(scenario: Scenario, kb: KnowledgeBase, *, engine: EngineName = "compiled") -> tuple[ScenarioRun, ...]:
    """Run a scenario (and its mirror image when ``mirror`` is set); check every expectation."""
    variants = [scenario, scenario.mirrored()] if scenario.mirror else [scenario]
    runs = []
    for variant in variants:
        result = assess(kb, variant.case, engine=engine)
        runs.append(ScenarioRun(variant, result, tuple(_failures(variant, result))))
    return tuple(runs)


def _failures(scenario: Scenario, result: Result) -> Iterable[str]:
    tag = "[mirrored] " if scenario.name.endswith("[mirrored]") else ""

    def at(location: Location | None, text: str) -> str:
        return f"{location}: {tag}{text}" if location is not None else f"{tag}{text}"

    for expected in scenario.conclusions:
        found = result.conclusion(*expected.key)
        if found is None:
            yield at(expected.location, f"expected conclusion {expected}, but it is not concluded ({_why_missing(result, expected.key)})")
            continue
        yield from (at(expected.location, m) for m in _mismatches(expected, found))
    for expected in scenario.recommendations:
        rec = result.recommendation(*expected.key)
        if rec is None:
            yield at(expected.location, f"expected recommendation {expected}, but it is not recommended ({_why_missing(result, expected.key)})")
            continue
        yield from (at(expected.location, m) for m in _mismatches(expected, rec))
    for expected in scenario.absent:
        item = result.item(*expected.key)
        if item is not None:
            rules = ", ".join(str(j.rule) for j in item.justifications)
            status = f" ({item.status})" if isinstance(item, Conclusion) else ""
            yield at(expected.location, f"expected no {expected}, but it is there{status}, by {rules}")
    if scenario.disagreements is not None:
        actual = {
            (None if d.kept is None else d.kept.key, frozenset(c.key for c in d.dropped)): d
            for d in result.disagreements
        }
        wanted = {(d.kept, frozenset(d.dropped)): d for d in scenario.disagreements}
        for key, d in wanted.items():
            if key not in actual:
                seen = "; ".join(_show_disagreement(a) for a in actual) or "none"
                yield at(d.location, f"expected disagreement {d}, but it did not happen (disagreements: {seen})")
        for key in actual:
            if key not in wanted:
                yield f"{scenario.path or scenario.name}: {tag}unexpected disagreement {_show_disagreement(key)}"


def _show_disagreement(key: tuple[Key | None, frozenset[Key]]) -> str:
    kept, dropped = key
    return f"{'nothing' if kept is None else key_str(kept)} kept over {', '.join(sorted(key_str(k) for k in dropped))}"


def _mismatches(expected: Expected, found: Any) -> Iterable[str]:
    for name in ("status", "evidence", "order"):
        wanted = getattr(expected, name)
        if wanted is not None and getattr(found, name) != wanted:
            yield f"{expected} has {name} {getattr(found, name)!r}, expected {wanted!r}"
    for name in ("assumptions", "addresses"):
        wanted = getattr(expected, name)
        if wanted is not None and set(getattr(found, name)) != set(wanted):
            have = ", ".join(key_str(k) for k in getattr(found, name)) or "none"
            yield f"{expected} has {name} [{have}], expected [{', '.join(key_str(k) for k in wanted) or 'none'}]"
    yield from _missing_rules(expected, found.justifications)


def _missing_rules(expected: Expected, justifications: Iterable[Any]) -> list[str]:
    have = [j.rule for j in justifications]
    shown = ", ".join(str(r) for r in have)
    return [
        f"{expected} is not justified by rule {rule!r} (its justifications: {shown})"
        for rule in expected.rules if rule not in have
    ] + [
        f"{expected} must not be justified by rule {rule!r} (its justifications: {shown})"
        for rule in expected.not_rules if rule in have
    ]


def _why_missing(result: Result, key: Key) -> str:
    for d in result.disagreements:
        if any(c.key == key for c in d.dropped):
            kept = "nothing" if d.kept is None else key_str(d.kept.key)
            return f"dropped in a disagreement, {kept} kept: {d.reason}"
    side = key[1]
    here = [f"{c.id} [{c.status}]" for c in result.conclusions if c.side == side]
    recs = [r.id for r in result.recommendations if r.side == side]
    where = side or "no side"
    return f"{where}: conclusions {', '.join(here) or 'none'}; recommendations {', '.join(recs) or 'none'}"
