"""JSON Schemas for KB files, case files, scenario files and results, generated from the model.

KB file schemas come from the loader's field lists (:data:`hipkb.kb.FIELDS`)
and vocabularies (finding types, groups, evidence levels, ...); the case
schema comes from a loaded KB (its finding ids, which are sided, their
degree ranges, its states and thresholds). Editors use them for completion
and squiggles; ``hipkb kb check`` stays the authority (references, cycles,
quotes are beyond a schema). The result schema (``result.schema.json``)
describes ``hipkb assess --format json`` (``schema_version`` 2) for any KB:
closed vocabularies, no unknown keys. The bundled KB's schemas ship with the
package as ``hipkb/schemas``.

>>> from hipkb.kb import load_model
>>> schemas = generate(load_model())
>>> sorted(schemas)[:3]
['case.schema.json', 'kb-causal.schema.json', 'kb-entities.schema.json']
>>> schemas["case.schema.json"]["properties"]["findings"]["properties"]["supine_hip_ir"]["anyOf"][0]["properties"]["left"]
{'type': ['number', 'null'], 'minimum': 0.0, 'maximum': 90.0}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .kb import (
    FIELDS,
    FILES,
    FINDING_GROUPS,
    FINDING_TYPES,
    ID_PATTERN,
    MANIFEST,
    SOURCE_KINDS,
)
from .model import EVIDENCE_LEVELS, EVIDENCE_RANK, RECOMMENDATION_KINDS, SIDES, STATUSES
from .model import KBModel as KnowledgeBase

__all__ = [
    "DIALECT",
    "generate",
    "kb_file_schema",
    "manifest_schema",
    "case_schema",
    "scenario_schema",
    "result_schema",
    "STANDINGS",
    "dumps",
    "write_schemas",
    "stale_schemas",
    "bundled_schema_path",
]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: Threshold overrides that decide no finding (e.g. ir_asymmetry) lie in this window, as in case.py.
_OTHER_THRESHOLD_RANGE = (0.0, 180.0)

_ID = {"type": "string", "pattern": f"^{ID_PATTERN.pattern}$"}
_TEXT = {"type": "string", "pattern": r"\S"}
_REF = {"$ref": "#/$defs/id"}
_CITATION_REF = {"$ref": "#/$defs/source"}

#: JSON Schema of each field the loader accepts. A field added to
#: hipkb.kb.FIELDS without an entry here fails generation (and its test).
_FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "id": _REF,
    "label": _TEXT,
    "summary": _TEXT,
    "citation": _TEXT,
    "description": _TEXT,
    "unit": _TEXT,
    "uberon": _TEXT,
    "fma": _TEXT,
    "sided": {"type": "boolean"},
    "part_of": _REF,
    "entity": _REF,
    "tested_by": _REF,
    "indicated_by": {"type": "array", "items": _REF},
    "aliases": {"type": "array", "items": _REF},
    "mdc": {
        "description": "The reading's minimal detectable change (degrees) and its source",
        "type": "object",
        "properties": {"value": {"type": "number", "minimum": 0}, "source": _CITATION_REF},
        "required": ["value", "source"],
        "additionalProperties": False,
    },
    "addresses": {"type": "array", "items": {
        "description": "What the recommendation acts on, and how (the article's words)",
        "type": "object",
        "properties": {"target": _REF, "label": _TEXT, "evidence": {"enum": list(EVIDENCE_LEVELS)}, "source": _CITATION_REF},
        "required": ["target", "evidence", "source"],
        "additionalProperties": False,
    }},
    "order_source": _CITATION_REF,
    "opposite": _REF,
    "assessment": _REF,
    "cause": _REF,
    "effect": _REF,
    "type": {"enum": list(FINDING_TYPES)},
    "group": {"enum": list(FINDING_GROUPS)},
    "evidence": {"enum": list(EVIDENCE_LEVELS)},
    "use": {"enum": ["conclude", "explain"]},
    "range": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}], "minItems": 2, "maxItems": 2},
    "value": {"type": "number"},
    "source": _CITATION_REF,
    "rationale": {"type": "array", "items": _CITATION_REF},
    "when": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}},
    "then": {"oneOf": [_REF, {"type": "array", "minItems": 1, "items": _REF}]},
    "order": {"type": "integer", "minimum": 1},
    "called_for_by": {"type": "array", "items": {"$ref": "#/$defs/call"}},
}
_KIND_FIELD = {"sources": {"enum": list(SOURCE_KINDS)}, "recommendations": {"enum": list(RECOMMENDATION_KINDS)}}

#: Fields the loader requires, per item kind (the rest are optional).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "sources": ("id", "kind", "citation"),
    "entities": ("id", "label"),
    "states": ("id", "label"),
    "findings": ("id", "label", "type", "group"),
    "thresholds": ("id", "value", "label", "evidence", "source"),
    "links": ("id", "label", "cause", "effect", "use", "evidence", "source"),
    "rules": ("id", "label", "when", "then", "evidence", "source"),
    "recommendations": ("id", "kind", "label", "summary", "evidence", "source"),
    "called_for_by": ("id", "label", "when", "evidence", "source"),
}
_CONDITIONAL: dict[str, list[dict[str, Any]]] = {
    "findings": [{
        "if": {"properties": {"type": {"const": "degrees"}}, "required": ["type"]},
        "then": {"required": ["range"]},
        "else": {"not": {"required": ["range"]}},
    }],
    "recommendations": [{
        "if": {"properties": {"kind": {"const": "exercise"}}, "required": ["kind"]},
        "then": {"required": ["order"]},
        "else": {"not": {"required": ["order"]}},
    }],
}


def _item_schema(kind: str, description: str) -> dict[str, Any]:
    properties = {}
    for name in FIELDS[kind]:
        if name == "kind":
            properties[name] = _KIND_FIELD[kind]
        else:
            properties[name] = _FIELD_SCHEMAS[name]
    schema: dict[str, Any] = {
        "description": description,
        "type": "object",
        "properties": properties,
        "required": list(_REQUIRED[kind]),
        "additionalProperties": False,
    }
    if kind in _CONDITIONAL:
        schema["allOf"] = _CONDITIONAL[kind]
    return schema


def _condition_defs() -> dict[str, Any]:
    on = {"enum": ["this", "other", "both"], "description": "which side: the rule's own (default), the other, or both"}

    def one(key: str, **extra: Any) -> dict[str, Any]:
        props = {key: _REF, **extra}
        return {"type": "object", "properties": props, "required": [key], "additionalProperties": False}

    finding = one("finding", below=_REF, at_least=_REF, on=on)
    finding["not"] = {"required": ["below", "at_least"]}
    lower = one("lower_side", by_more_than=_REF)
    lower["required"] = ["lower_side", "by_more_than"]
    simple = {"anyOf": [finding, one("absent", on=on), one("not", on=on), one("state", on=on), one("recorded", on=on), lower]}
    return {
        "simple_condition": simple,
        "condition": {
            "description": "All conditions of 'when' hold on one side; 'any' holds when one of its options does.",
            "anyOf": [
                {"$ref": "#/$defs/simple_condition"},
                {
                    "type": "object",
                    "properties": {"any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/simple_condition"}}},
                    "required": ["any"],
                    "additionalProperties": False,
                },
            ],
        },
    }


def _citation_def() -> dict[str, Any]:
    return {
        "description": "A quote (with the ref it comes from), an outside reference, or an interpretation.",
        "type": "object",
        "properties": {name: _TEXT for name in ("ref", "quote", "interpretation", "note")},
        "additionalProperties": False,
        "anyOf": [{"required": ["quote"]}, {"required": ["interpretation"]}, {"required": ["ref"]}],
        "dependentRequired": {"quote": ["ref"]},
    }


def kb_file_schema(top: str) -> dict[str, Any]:
    """The schema of the KB file whose top-level key is ``top`` (e.g. ``"links"``).

    >>> kb_file_schema("links")["required"]
    ['links']
    """
    file = next(name for name, key in FILES.items() if key == top)
    defs: dict[str, Any] = {"id": _ID, "source": _citation_def()}
    if top in ("rules", "recommendations"):
        defs.update(_condition_defs())
    if top == "recommendations":
        defs["call"] = _item_schema("called_for_by", "A rule that calls for this recommendation.")
    return {
        "$schema": DIALECT,
        "$id": f"kb-{file.removesuffix('.yaml')}.schema.json",
        "title": f"hipkb knowledge base: {file}",
        "type": "object",
        "properties": {top: {"type": "array", "items": _item_schema(top, f"One item of {file}.")}},
        "required": [top],
        "additionalProperties": False,
        "$defs": defs,
    }


def manifest_schema() -> dict[str, Any]:
    """The schema of the KB's ``manifest.yaml`` (its name and version)."""
    return {
        "$schema": DIALECT,
        "$id": "kb-manifest.schema.json",
        "title": f"hipkb knowledge base: {MANIFEST}",
        "type": "object",
        "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
        "required": ["name", "version"],
    }


# --------------------------------------------------------------------------
# Cases


def _sides_of(value: dict[str, Any], *, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "type": "object",
        "properties": {side: value for side in SIDES},
        "additionalProperties": False,
    }


def _sided_boolean() -> dict[str, Any]:
    return {
        "description": "true on both sides, a side, a list of sides, or per side",
        "oneOf": [
            {"type": "boolean", "description": "true: on both sides"},
            {"enum": list(SIDES), "description": "true on this side"},
            {"type": "array", "items": {"enum": list(SIDES)}, "description": "true on these sides ([]: assessed, on no side)"},
            _sides_of({"type": ["boolean", "null"]}, description="per side"),
        ],
    }


def _or_blank(schema: dict[str, Any]) -> dict[str, Any]:
    """A finding's value, or a blank entry (null: not assessed)."""
    return {"description": schema.get("description", ""), "anyOf": [schema, {"type": "null"}]}


def _case_defs(kb: KnowledgeBase) -> dict[str, Any]:
    findings: dict[str, Any] = {}
    for finding in kb.findings.values():
        if finding.type == "degrees":
            low, high = finding.range or (None, None)
            number: dict[str, Any] = {"type": ["number", "null"]}
            if low is not None:
                number.update(minimum=low, maximum=high)
            label = f"{finding.label} (degrees)"
            if finding.sided:
                findings[finding.id] = _or_blank(_sides_of(number, description=f"{label}, per side"))
            else:
                findings[finding.id] = {"description": label, **number}
        elif finding.sided:
            findings[finding.id] = _or_blank({"description": finding.label, "$ref": "#/$defs/sided_boolean"})
        else:
            findings[finding.id] = {"description": f"{finding.label} (belongs to no side)", "type": ["boolean", "null"]}
    for state in kb.states.values():
        if state.sided:
            findings[state.id] = _or_blank({"description": f"Given: {state.label}", "$ref": "#/$defs/sided_boolean"})
        else:
            findings[state.id] = {"description": f"Given: {state.label} (belongs to no side)", "type": ["boolean", "null"]}
    mdc = {
        t.id: {"description": f"Minimal detectable change of {t.id}; default {t.mdc:g}", "type": "number", "minimum": 0, "maximum": 90}
        for t in kb.thresholds.values() if t.mdc is not None
    }
    thresholds = {}
    for threshold in kb.thresholds.values():
        decided = kb.findings.get(threshold.id)
        low, high = decided.range if decided is not None and decided.range else _OTHER_THRESHOLD_RANGE
        thresholds[threshold.id] = {
            "description": f"{threshold.label}; default {threshold.value:g}",
            "type": "number", "minimum": low, "maximum": high,
        }
    return {
        "sided_boolean": _sided_boolean(),
        "case": {
            "type": "object",
            "properties": {
                "subject": {"type": ["string", "integer"], "description": "Who or what was assessed"},
                "findings": {
                    "description": "Finding (or given state) id → value",
                    "type": ["object", "null"],
                    "properties": findings,
                    "additionalProperties": False,
                },
                "thresholds": {
                    "description": "Threshold id → value, overriding the KB's default",
                    "type": ["object", "null"],
                    "properties": thresholds,
                    "additionalProperties": False,
                },
                "mdc": {
                    "description": "Measurement id → minimal detectable change (degrees), overriding the KB's default",
                    "type": ["object", "null"],
                    "properties": mdc,
                    "additionalProperties": False,
                },
            },
            "required": ["findings"],
            "additionalProperties": False,
        },
    }


def case_schema(kb: KnowledgeBase) -> dict[str, Any]:
    """The schema of a case file for ``kb``: its findings, given states and thresholds."""
    defs = _case_defs(kb)
    return {
        "$schema": DIALECT,
        "$id": "case.schema.json",
        "title": f"A case (one assessment) for the {kb.name} knowledge base",
        **defs.pop("case"),
        "$defs": defs,
    }


def scenario_schema(kb: KnowledgeBase) -> dict[str, Any]:
    """The schema of a scenario file (tests/cases/*.yaml); see :mod:`hipkb.scenario`."""
    states, recs = list(kb.states), list(kb.recommendations)
    side = {"enum": [*SIDES, None]}
    sides = "(/(" + "|".join(SIDES) + "))?$"
    finding_key = {"type": "string", "pattern": "^(" + "|".join(kb.findings) + ")" + sides}
    any_key = {"type": "string", "pattern": "^(" + "|".join([*kb.states, *kb.findings]) + ")" + sides}

    def item(ids: list[str], *, full: bool, recommendation: bool = False) -> dict[str, Any]:
        key_pattern = "^(" + "|".join(ids) + ")" + sides
        rule_list = {"type": "array", "items": _ID}
        props: dict[str, Any] = {"id": {"enum": ids}, "side": side}
        if full:
            props.update(
                status={"enum": list(STATUSES)}, evidence={"enum": list(EVIDENCE_RANK)},
                assumptions={"type": "array", "items": finding_key}, rules=rule_list, not_rules=rule_list,
            )
        if recommendation:
            props.update(order={"type": "integer", "minimum": 1}, addresses={"type": "array", "items": any_key})
        return {"anyOf": [
            {"type": "string", "pattern": key_pattern, "description": "ID/SIDE, or ID for no side"},
            {"type": "object", "properties": props, "required": ["id"], "additionalProperties": False},
        ]}

    key = {"type": "string", "pattern": "^(" + "|".join(states) + ")(/(" + "|".join(SIDES) + "))?$"}
    defs = _case_defs(kb)
    defs["conclusion"] = item(states, full=True)
    defs["recommendation"] = item(recs, full=True, recommendation=True)
    defs["absent"] = item(states + recs, full=False)
    return {
        "$schema": DIALECT,
        "$id": "scenario.schema.json",
        "title": f"A scenario: a case and what the {kb.name} knowledge base must conclude from it",
        "type": "object",
        "properties": {
            "title": _TEXT,
            "about": _TEXT,
            "mirror": {"type": "boolean", "description": "Also run with left and right swapped"},
            "xfail": {"type": "string", "description": "Why the engine is known to fail this scenario"},
            "case": {"$ref": "#/$defs/case"},
            "expect": {
                "type": "object",
                "properties": {
                    "conclusions": {"type": "array", "items": {"$ref": "#/$defs/conclusion"}},
                    "recommendations": {"type": "array", "items": {"$ref": "#/$defs/recommendation"}},
                    "absent": {"type": "array", "items": {"$ref": "#/$defs/absent"}},
                    "disagreements": {"type": "array", "items": {
                        "type": "object",
                        "properties": {"kept": {"oneOf": [key, {"type": "null"}]}, "dropped": {"type": "array", "items": key, "minItems": 1}},
                        "required": ["kept", "dropped"],
                        "additionalProperties": False,
                    }},
                },
                "additionalProperties": False,
            },
        },
        "required": ["title", "case", "expect"],
        "additionalProperties": False,
        "$defs": defs,
    }


# --------------------------------------------------------------------------
# Results

#: The standing of a contributor in the differential (``hipkb why ir_limited``).
STANDINGS: tuple[str, ...] = ("supported", "confounded", "argued against", "not assessed", "present", "absent", "not recorded")


def _closed(properties: dict[str, Any], *, required: list[str] | None = None, description: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object", "properties": properties,
        "required": list(properties) if required is None else required, "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def result_schema() -> dict[str, Any]:
    """The schema of a result's JSON (``Result.to_dict()``, ``hipkb assess --format json``), schema_version 2.

    Strict: every object is closed, statuses, evidence levels, kinds and
    standings are closed enums; ids are any KB's ids.

    >>> sorted(result_schema()["properties"])[:4]
    ['conclusions', 'disagreements', 'findings', 'kb']
    """
    side = {"enum": [*SIDES, None]}
    key = {"type": "string", "pattern": f"^{ID_PATTERN.pattern}(/({'|'.join(SIDES)}))?$", "description": "ID/SIDE, or ID for no side"}
    keys = {"type": "array", "items": key}
    status = {"enum": list(STATUSES)}
    evidence = {"enum": list(EVIDENCE_RANK)}
    number = {"type": "number"}
    side_ref = _closed({"id": _ID, "side": side})
    reading = _closed({"finding": _ID, "side": side})
    citation = {"oneOf": [{"type": "null"}, _closed({name: {"type": ["string", "null"]} for name in ("ref", "quote", "note", "interpretation")})]}
    justification = _closed({
        "rule": {"oneOf": [_ID, {"type": "null"}], "description": "null: given in the case"},
        "status": status, "evidence": evidence, "because": keys, "recorded_false": keys, "not_recorded": keys,
        "assumptions": {"type": "array", "items": {"$ref": "#/$defs/key"}}, "source": citation,
    })
    measurement = _closed({
        "finding": _ID, "side": side, "value": number, "threshold": number, "margin": number,
        "mdc": {"type": ["number", "null"]}, "borderline": {"type": "boolean"},
    }, description="A reading against its threshold; borderline when |margin| < mdc")
    common = {
        "id": _ID, "side": side, "label": {"type": "string"}, "status": status, "evidence": evidence,
        "assumptions": {"type": "array", "items": {"$ref": "#/$defs/key"}},
        "borderline": {"type": "array", "items": {"$ref": "#/$defs/reading"}},
        "justifications": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/justification"}},
    }
    conclusion = _closed({
        **common, "measurement": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/measurement"}]}, "shows_as": keys,
    })
    recommendation = _closed({
        **common, "kind": {"enum": list(RECOMMENDATION_KINDS)},
        "order": {"oneOf": [{"type": "null"}, {"type": "integer", "minimum": 1}]},
        "summary": {"type": "string"}, "addresses": keys,
    })
    brief = _closed({"id": _ID, "status": status})
    disagreement = _closed({
        "side": side, "kept": {"oneOf": [{"type": "null"}, brief]},
        "dropped": {"type": "array", "minItems": 1, "items": brief}, "withdrawn": keys, "reason": {"type": "string"},
    })
    finding_value = {"oneOf": [
        {"type": ["number", "boolean"]},
        {"type": "object", "properties": {s: {"type": ["number", "boolean"]} for s in SIDES}, "additionalProperties": False},
    ]}
    argument = _closed({"text": {"type": "string"}, "source": citation, "keys": keys})
    contributor = _closed({
        "id": _ID, "label": {"type": "string"}, "standing": {"enum": list(STANDINGS)}, "holds": {"type": "boolean"},
        "for": {"type": "array", "items": argument}, "against": {"type": "array", "items": argument},
        "next_assessment": {"oneOf": [_ID, {"type": "null"}]},
        "assumptions": {"type": "array", "items": {"$ref": "#/$defs/key"}},
        "sources": {"type": "array", "items": citation},
    }, description="One row of the differential of `hipkb why ir_limited --format json`")
    return {
        "$schema": DIALECT,
        "$id": "result.schema.json",
        "title": "hipkb result (hipkb assess --format json), schema_version 2",
        **_closed({
            "schema_version": {"const": 2},
            "kb": _closed({"name": {"type": "string"}, "version": {"type": "string"}}),
            "subject": {"type": ["string", "null"]},
            "findings": {"type": "object", "propertyNames": {"pattern": f"^{ID_PATTERN.pattern}$"}, "additionalProperties": finding_value},
            "thresholds": {"type": "object", "additionalProperties": number},
            "mdc": {"type": "object", "additionalProperties": number},
            "conclusions": {"type": "array", "items": {"$ref": "#/$defs/conclusion"}},
            "recommendations": {"type": "array", "items": {"$ref": "#/$defs/recommendation"}},
            "disagreements": {"type": "array", "items": {"$ref": "#/$defs/disagreement"}},
            "sources": {"type": "object", "additionalProperties": {"type": "string"}},
        }),
        "$defs": {
            "id": _ID, "key": side_ref, "reading": reading, "justification": justification,
            "measurement": measurement, "conclusion": conclusion, "recommendation": recommendation,
            "disagreement": disagreement, "contributor": contributor,
        },
    }


# --------------------------------------------------------------------------
# Files


def generate(kb: KnowledgeBase) -> dict[str, dict[str, Any]]:
    """Every schema, by file name: one per KB file, the manifest, cases, scenarios and results."""
    out = {f"kb-{file.removesuffix('.yaml')}.schema.json": kb_file_schema(top) for file, top in FILES.items()}
    out["kb-manifest.schema.json"] = manifest_schema()
    out["case.schema.json"] = case_schema(kb)
    out["scenario.schema.json"] = scenario_schema(kb)
    out["result.schema.json"] = result_schema()
    return dict(sorted(out.items()))


def dumps(schema: dict[str, Any]) -> str:
    """Stable text of a schema: the same model always gives the same bytes."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: str | Path, kb: KnowledgeBase) -> list[Path]:
    """Write every schema into ``directory`` (atomically, file by file); return the paths."""
    from .output import write_atomic

    target = Path(directory)
    written = []
    for name, schema in generate(kb).items():
        write_atomic(target / name, dumps(schema).encode("utf-8"))
        written.append(target / name)
    return written


def stale_schemas(directory: str | Path, kb: KnowledgeBase) -> list[str]:
    """Names of the schema files in ``directory`` that are missing or differ from ``generate(kb)``."""
    target = Path(directory)
    stale = []
    for name, schema in generate(kb).items():
        file = target / name
        try:
            current = file.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != dumps(schema):
            stale.append(name)
    return stale


def bundled_schema_path() -> Path:
    """The directory of the schemas shipped with hipkb (for the bundled KB).

    A wheel carries them as ``hipkb/schemas``; a source checkout uses the
    repository's top-level ``schemas/``.
    """
    packaged = Path(__file__).resolve().parent / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "schemas"
