"""The OpenLineage run event's rules, as a JSON Schema the tests validate emitted events against.

Written from OpenLineage's specification, https://openlineage.io/spec/2-0-2/OpenLineage.json (the
version openlineage-python 1.54 stamps on its events), read 2026-11-26: the required fields of a
base event (eventTime, producer, schemaURL) and of a run event (run with a UUID runId, job with
namespace and name), its datasets (namespace, name), and of every facet (``_producer`` and
``_schemaURL``, both URIs). No installed package ships the file and the tests run offline, so the
rules are restated here rather than loaded. ``uri`` is checked by pattern: jsonschema checks that
format only with an extra library.
"""

from __future__ import annotations

from typing import Any

_URI = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$"}
_BASE_FACET = {
    "type": "object",
    "properties": {"_producer": _URI, "_schemaURL": _URI},
    "required": ["_producer", "_schemaURL"],
}
_DELETABLE_FACET = {
    "allOf": [_BASE_FACET, {"type": "object", "properties": {"_deleted": {"type": "boolean"}}}]
}


def _facets(facet: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": facet}


_DATASET = {
    "type": "object",
    "properties": {
        "namespace": {"type": "string", "minLength": 1},
        "name": {"type": "string", "minLength": 1},
        "facets": _facets(_DELETABLE_FACET),
        "inputFacets": _facets(_BASE_FACET),
        "outputFacets": _facets(_BASE_FACET),
    },
    "required": ["namespace", "name"],
}

RUN_EVENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": _URI,
        "schemaURL": _URI,
        "eventType": {"enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        "run": {
            "type": "object",
            "properties": {"runId": {"type": "string", "format": "uuid"}, "facets": _facets(_BASE_FACET)},
            "required": ["runId"],
        },
        "job": {
            "type": "object",
            "properties": {
                "namespace": {"type": "string", "minLength": 1},
                "name": {"type": "string", "minLength": 1},
                "facets": _facets(_DELETABLE_FACET),
            },
            "required": ["namespace", "name"],
        },
        "inputs": {"type": "array", "items": _DATASET},
        "outputs": {"type": "array", "items": _DATASET},
    },
    "required": ["eventTime", "producer", "schemaURL", "run", "job"],
}


def schema_errors(event: dict[str, Any]) -> list[str]:
    """Every way ``event`` breaks the run event's rules (empty if it keeps them)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(RUN_EVENT_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(event)]
