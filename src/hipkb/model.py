"""Typed model of the knowledge base: plain frozen dataclasses, no behaviour.

The loader (:mod:`hipkb.kb`) builds these from YAML; the compiler, the
engine, explanations and diagrams read them.

>>> c = Condition("finding", "supine_hip_ir", threshold="supine_hip_ir", compare="below")
>>> c.describe()
'supine_hip_ir below its threshold supine_hip_ir'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Location

__all__ = [
    "EVIDENCE_LEVELS",
    "RECOMMENDATION_KINDS",
    "SIDES",
    "Citation",
    "Source",
    "Entity",
    "State",
    "Finding",
    "Threshold",
    "Condition",
    "Rule",
    "Link",
    "Recommendation",
]

SIDES: tuple[str, str] = ("left", "right")
EVIDENCE_LEVELS: tuple[str, ...] = ("clinical-norm", "coaching-model", "interpretation")
RECOMMENDATION_KINDS: tuple[str, ...] = ("strategy", "principle", "exercise", "caution", "assessment")


@dataclass(frozen=True)
class Citation:
    """Where a claim comes from: a quote, an outside reference, or interpretation."""

    ref: str | None = None
    quote: str | None = None
    interpretation: str | None = None
    note: str | None = None

    @property
    def is_interpretation(self) -> bool:
        return self.interpretation is not None


@dataclass(frozen=True)
class Source:
    id: str
    kind: str
    citation: str
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Entity:
    id: str
    label: str
    uberon: str | None = None
    fma: str | None = None
    part_of: str | None = None
    source: Citation | None = None
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class State:
    id: str
    label: str
    sided: bool = True
    entity: str | None = None
    tested_by: str | None = None
    opposite: str | None = None
    description: str | None = None
    source: Citation | None = None
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Finding:
    id: str
    label: str
    type: str  # "degrees" | "boolean"
    sided: bool
    group: str
    range: tuple[float, float] | None = None
    assessment: str | None = None
    source: Citation | None = None
    entity: str | None = None
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Threshold:
    id: str
    value: float
    label: str
    evidence: str
    source: Citation
    location: Location | None = field(default=None, compare=False, repr=False)
    #: further sources behind the value
    rationale: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Condition:
    """One condition of a rule, evaluated on one side.

    kind is one of: ``finding`` (boolean observed, or degrees compared with
    ``compare`` ``below``/``at_least`` its ``threshold``), ``absent``,
    ``not``, ``state``, ``lower_side`` (by more than ``threshold``), ``any``.
    """

    kind: str
    ref: str | None = None
    threshold: str | None = None
    compare: str | None = None
    options: tuple[Condition, ...] = ()
    location: Location | None = field(default=None, compare=False, repr=False)

    @property
    def negative(self) -> bool:
        return self.kind in ("absent", "not")

    def describe(self) -> str:
        if self.kind == "any":
            return "any of: " + "; ".join(o.describe() for o in self.options)
        if self.kind == "finding" and self.compare == "below":
            return f"{self.ref} below its threshold {self.threshold}"
        if self.kind == "finding" and self.compare == "at_least":
            return f"{self.ref} at or above its threshold {self.threshold}"
        if self.kind == "finding":
            return f"{self.ref} observed"
        if self.kind == "absent":
            return f"{self.ref} not measured"
        if self.kind == "not":
            return f"{self.ref} not observed"
        if self.kind == "lower_side":
            return f"{self.ref} lower than on the other side by more than {self.threshold}"
        return f"{self.ref} holds"


@dataclass(frozen=True)
class Rule:
    """A compiled unit of inference: all ``when`` conditions → every id in ``then``.

    ``origin`` says where it was declared: ``rule`` (rules.yaml), ``link``
    (a causal link with ``use: conclude``) or ``call`` (a recommendation's
    ``called_for_by``).
    """

    id: str
    label: str
    when: tuple[Condition, ...]
    then: tuple[str, ...]
    evidence: str
    source: Citation
    origin: str = "rule"
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Link:
    id: str
    label: str
    cause: str
    effect: str
    use: str  # "conclude" | "explain"
    evidence: str
    source: Citation
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Recommendation:
    id: str
    kind: str
    label: str
    summary: str
    evidence: str
    source: Citation
    order: int | None = None
    calls: tuple[Rule, ...] = ()
    #: further quotes that give the article's reasons for the item
    rationale: tuple[Citation, ...] = ()
    location: Location | None = field(default=None, compare=False, repr=False)
