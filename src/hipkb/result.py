"""The immutable result of assessing one case, and its JSON shape.

Everything here is read-only all the way down (frozen records, tuples,
read-only mappings): nothing a caller does to a result reaches the KB or
another result. ``Result.to_dict()`` is the JSON of ``hipkb assess --format
json`` (``schema_version`` 2, schema in ``hipkb/schemas/result.schema.json``).

The convenience methods that answer questions about a result (``explain``,
``differential``, ``graph``, ``cards``, ``sensitivity``, ``what_if`` and the
Jupyter views) import the modules that answer them lazily, in
:func:`_answer` only: that is the one place where the layering of the
package points upwards.

>>> import hipkb
>>> result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}}})
>>> c = result.conclusion("ir_limited", "left")
>>> c.status, c.measurement.margin, c.measurement.borderline
('measured', -13.0, False)
>>> result.holds("ir_limitd", "left")
Traceback (most recent call last):
...
hipkb.errors.UnknownId: unknown id 'ir_limitd' (did you mean 'ir_limited'?)
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Mapping, Sequence

from .case import Case
from .errors import UnknownId, suggest
from .model import SIDES, Citation, KBModel, Key, Side, key_str
from .record import field, record

if TYPE_CHECKING:
    import networkx  # type: ignore[import-untyped]  # networkx ships no type hints

    from .answers.differential import Contributor
    from .answers.explanation import Explanation
    from .answers.sensitivity import Sensitivity
    from .answers.whatif import WhatIf

__all__ = [
    "SCHEMA_VERSION",
    "Measurement",
    "Justification",
    "Conclusion",
    "RecommendationResult",
    "Disagreement",
    "Result",
    "Question",
]

SCHEMA_VERSION = 2
Question = Literal["how", "why", "why-not"]
_SIDE_RANK = {"left": 0, "right": 1, None: 2}


def side_rank(side: Side) -> int:
    """Sides in their fixed order: left, right, then no side."""
    return _SIDE_RANK[side]


def _number(value: float) -> int | float:
    """12.0 → 12 in JSON; other values as they are."""
    return int(value) if float(value).is_integer() else value


def _key_dict(key: Key) -> dict[str, Any]:
    return {"id": key[0], "side": key[1]}


@record
class Measurement:
    """A reading against its threshold: how far, and whether within measurement error.

    ``margin`` = value − threshold; ``borderline`` when |margin| < ``mdc``.
    For ``ir_asymmetry`` the value is the side-to-side difference.
    """

    finding: str
    side: Side
    value: float
    threshold: float
    margin: float
    mdc: float | None
    borderline: bool
    threshold_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "finding": self.finding,
            "side": self.side,
            "value": _number(self.value),
            "threshold": _number(self.threshold),
            "margin": _number(round(self.margin, 6)),
            "mdc": None if self.mdc is None else _number(self.mdc),
            "borderline": self.borderline,
        }


@record
class Justification:
    """One way an item was reached: a rule (None for a state given in the case) and what it rested on."""

    rule: str | None
    status: str
    evidence: str
    because: tuple[Key, ...] = ()
    recorded_false: tuple[Key, ...] = ()
    not_recorded: tuple[Key, ...] = ()
    #: this step's own assumptions (``not`` conditions met by a missing record)
    assumptions: tuple[Key, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    source: Citation | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": self.status,
            "evidence": self.evidence,
            "because": [key_str(k) for k in self.because],
            "recorded_false": [key_str(k) for k in self.recorded_false],
            "not_recorded": [key_str(k) for k in self.not_recorded],
            "assumptions": [_key_dict(k) for k in self.assumptions],
            "source": None if self.source is None else self.source.to_dict(),
        }


@record
class Conclusion:
    """A state that holds in the case, on a side (or on none)."""

    id: str
    side: Side
    label: str
    status: str
    evidence: str
    assumptions: tuple[Key, ...]
    justifications: tuple[Justification, ...]
    measurement: Measurement | None = None
    #: borderline readings this rests on, transitively: (finding, side)
    borderline: tuple[Key, ...] = ()
    #: observed findings this state shows as (e.g. the compensations of limited IR)
    shows_as: tuple[Key, ...] = ()

    @property
    def key(self) -> Key:
        return (self.id, self.side)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "side": self.side,
            "label": self.label,
            "status": self.status,
            "evidence": self.evidence,
            "assumptions": [_key_dict(k) for k in self.assumptions],
            "measurement": None if self.measurement is None else self.measurement.to_dict(),
            "borderline": [{"finding": f, "side": s} for f, s in self.borderline],
            "shows_as": [key_str(k) for k in self.shows_as],
            "justifications": [j.to_dict() for j in self.justifications],
        }


@record
class RecommendationResult:
    """A recommendation called for by the case, on a side (or on none).

    ``order``: an exercise's position in this person's list on this side
    (1, 2, 3…, the KB's progression kept); None for other kinds.
    """

    id: str
    side: Side
    kind: str
    order: int | None
    label: str
    summary: str
    status: str
    evidence: str
    assumptions: tuple[Key, ...]
    justifications: tuple[Justification, ...]
    borderline: tuple[Key, ...] = ()
    #: what it acts on that holds on this side (states that hold, findings observed)
    addresses: tuple[Key, ...] = ()

    @property
    def key(self) -> Key:
        return (self.id, self.side)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "side": self.side,
            "kind": self.kind,
            "order": self.order,
            "label": self.label,
            "summary": self.summary,
            "status": self.status,
            "evidence": self.evidence,
            "assumptions": [_key_dict(k) for k in self.assumptions],
            "borderline": [{"finding": f, "side": s} for f, s in self.borderline],
            "addresses": [key_str(k) for k in self.addresses],
            "justifications": [j.to_dict() for j in self.justifications],
        }


@record
class Disagreement:
    """Opposite states that both followed on a side; the stronger stayed.

    ``kept`` is None when neither could be preferred (both went);
    ``withdrawn`` lists what rested only on the dropped state(s) and went too.
    """

    side: Side
    kept: Conclusion | None
    dropped: tuple[Conclusion, ...]
    withdrawn: tuple[Key, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "kept": None if self.kept is None else {"id": self.kept.id, "status": self.kept.status},
            "dropped": [{"id": c.id, "status": c.status} for c in self.dropped],
            "withdrawn": [key_str(k) for k in self.withdrawn],
            "reason": self.reason,
        }


Item = Conclusion | RecommendationResult


@record
class Result:
    """Everything the engine concluded for one case. Immutable.

    >>> import hipkb
    >>> r = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12, "right": 40}}})
    >>> [(c.id, c.side) for c in r.conclusions][:2]
    [('ir_limited', 'left'), ('ir_within_range', 'right')]
    """

    kb: KBModel = field(repr=False)
    case: Case = field(repr=False)
    thresholds: Mapping[str, float]
    mdc: Mapping[str, float]
    conclusions: tuple[Conclusion, ...]
    recommendations: tuple[RecommendationResult, ...]
    disagreements: tuple[Disagreement, ...]
    #: justifications of states dropped in a disagreement and of what went with them
    withdrawn: Mapping[Key, tuple[Justification, ...]] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    _index: Mapping[Key, Item] = field(default_factory=lambda: MappingProxyType({}), repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[Key, Item] = {c.key: c for c in self.conclusions}
        index.update({r.key: r for r in self.recommendations})
        object.__setattr__(self, "_index", MappingProxyType(index))
        object.__setattr__(self, "thresholds", MappingProxyType(dict(self.thresholds)))
        object.__setattr__(self, "mdc", MappingProxyType(dict(self.mdc)))
        object.__setattr__(self, "withdrawn", MappingProxyType(dict(self.withdrawn)))

    # -- looking things up

    def check_side(self, side: object) -> Side:
        """``side`` when it is left, right or None; else :class:`UnknownId` with a did-you-mean."""
        if side is None or side in SIDES:
            return side
        raise UnknownId(f"unknown side {side!r}", hint=suggest(str(side), SIDES) or "sides are left, right or None")

    def check_id(self, item_id: str, *, kinds: Sequence[str] = ("state", "recommendation", "finding")) -> str:
        """``item_id`` when the KB declares it as one of ``kinds``; else :class:`UnknownId`."""
        if self.kb.kind_of(item_id) in kinds:
            return item_id
        pool = [i for k in kinds for i in getattr(self.kb, "recommendations" if k == "recommendation" else f"{k}s")]
        raise UnknownId(f"unknown id {item_id!r}", hint=suggest(str(item_id), pool, aliases=self.kb.aliases()))

    def conclusion(self, item_id: str, side: Side = None) -> Conclusion | None:
        """The conclusion about state ``item_id`` on ``side``, or None when it does not hold."""
        self.check_id(item_id, kinds=("state",))
        item = self._index.get((item_id, self.check_side(side)))
        return item if isinstance(item, Conclusion) else None

    def recommendation(self, item_id: str, side: Side = None) -> RecommendationResult | None:
        """The recommendation ``item_id`` on ``side``, or None when it is not recommended there."""
        self.check_id(item_id, kinds=("recommendation",))
        item = self._index.get((item_id, self.check_side(side)))
        return item if isinstance(item, RecommendationResult) else None

    def item(self, item_id: str, side: Side = None) -> Item | None:
        self.check_id(item_id, kinds=("state", "recommendation"))
        return self._index.get((item_id, self.check_side(side)))

    def holds(self, item_id: str, side: Side = None) -> bool:
        """True when the state or recommendation is in the result on that side.

        Raises :class:`~hipkb.errors.UnknownId` for an id the KB does not declare.
        """
        return self.item(item_id, side) is not None

    def sides_of(self, item_id: str) -> tuple[Side, ...]:
        """The sides (left, right, None) on which ``item_id`` holds, in that order."""
        self.check_id(item_id, kinds=("state", "recommendation"))
        return tuple(s for s in (*SIDES, None) if (item_id, s) in self._index)

    def finding(self, finding_id: str, side: Side = None) -> float | bool | None:
        """The entered value of a finding on a side (None when not recorded)."""
        self.check_id(finding_id, kinds=("finding",))
        return self.case.findings.get((finding_id, self.check_side(side)))

    # -- JSON

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``hipkb assess --format json`` (schema_version 2)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "kb": {"name": self.kb.name, "version": self.kb.version},
            "subject": self.case.subject,
            "findings": self.case.findings_dict(self.kb),
            "thresholds": {k: _number(v) for k, v in sorted(self.thresholds.items())},
            "mdc": {k: _number(v) for k, v in sorted(self.mdc.items())},
            "conclusions": [c.to_dict() for c in self.conclusions],
            "recommendations": [r.to_dict() for r in self.recommendations],
            "disagreements": [d.to_dict() for d in self.disagreements],
            "sources": self._sources(),
        }

    def _sources(self) -> dict[str, str]:
        """The references cited by this result's justifications, id → citation."""
        items: tuple[Item, ...] = (*self.conclusions, *self.recommendations)
        refs = {
            j.source.ref
            for item in items
            for j in item.justifications
            if j.source is not None and j.source.ref is not None
        }
        return {ref: self.kb.sources[ref].citation for ref in sorted(refs) if ref in self.kb.sources}

    # -- answers (imported lazily: the one place the layering points upwards)

    def explain(self, item_id: str, *, side: Side = None, question: Question = "how") -> Explanation:
        """Answer how / why / why-not about one item (on ``side``, or on every side it concerns)."""
        answer: Explanation = _answer("explanation", "explain")(self, item_id, side=side, question=question)
        return answer

    def differential(self, side: Side) -> tuple[Contributor, ...]:
        """Why is IR limited on ``side``: every contributor the article names, with its standing."""
        answer: tuple[Contributor, ...] = _answer("differential", "differential")(self, side)
        return answer

    def sensitivity(self) -> Sensitivity:
        """The readings at which a conclusion or recommendation would appear or go."""
        answer: Sensitivity = _answer("sensitivity", "sensitivity")(self)
        return answer

    def what_if(self, changes: Mapping[Key, float | bool | None]) -> WhatIf:
        """Rerun the case with findings changed (None removes one); what appears and what goes."""
        answer: WhatIf = _answer("whatif", "what_if")(self, changes)
        return answer

    def cards(self) -> list[dict[str, Any]]:
        """CDS Hooks cards, one per recommendation with its sides merged."""
        answer: list[dict[str, Any]] = _answer("cards", "cards")(self)
        return answer

    def graph(self) -> networkx.DiGraph:
        """The derivation graph: findings → states → recommendations (networkx)."""
        answer: networkx.DiGraph = importlib.import_module("hipkb.derivation").derivation_graph(self)
        return answer

    def _repr_html_(self) -> str:
        answer: str = importlib.import_module("hipkb.render.html").html_fragment(self)
        return answer

    def _repr_markdown_(self) -> str:
        answer: str = _answer("report", "markdown_report")(self)
        return answer


def _answer(module: str, name: str) -> Any:
    """An answer function of :mod:`hipkb.answers`, imported on first use."""
    return getattr(importlib.import_module(f"hipkb.answers.{module}"), name)
