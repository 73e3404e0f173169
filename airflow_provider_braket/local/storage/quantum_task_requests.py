"""Quantum task requests as botocore's braket model defines them, validated before anything runs.

boto3 checks only required members and types; lengths, enums, list maxima and the filter names
are the server's job, so every limit of ``CreateQuantumTaskRequest`` and
``SearchQuantumTasksRequest`` is here, and each error names the field and the rule.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from airflow_provider_braket.jobs.models import (
    Association,
    FilterValue,
    TagKey,
    TagValue,
    _validate,
    _WireModel,
    check_filter_values,
)

TASK_STATUSES = ("CREATED", "QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLING", "CANCELLED")
TASK_TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
TASK_FILTER_NAMES = ("quantumTaskArn", "deviceArn", "jobArn", "status", "createdAt")
TASK_ARN_PATTERN = r"\Aarn:aws[a-z\-]*:braket:[a-z0-9\-]+:[0-9]{12}:quantum-task/[A-Za-z0-9\-]+\Z"
#: Program kinds the local simulators run; every other braketSchemaHeader is refused by name.
RUNNABLE_ACTIONS = ("braket.ir.openqasm.program", "braket.ir.jaqcd.program")
_RESULT_PRAGMA = re.compile(r"^\s*#pragma\s+braket\s+result\b", re.MULTILINE)
#: Pulse-level OpenQASM (calibration blocks), which the SDK sends for PulseSequence and gate
#: definitions: the managed simulators do not run it.
_PULSE_BLOCK = re.compile(r"^\s*(defcalgrammar|defcal|cal)\b", re.MULTILINE)


class CreateQuantumTaskRequest(_WireModel):
    clientToken: Annotated[str, Field(min_length=1, max_length=64)]
    deviceArn: Annotated[str, Field(min_length=1, max_length=256)]
    deviceParameters: Annotated[str, Field(min_length=1, max_length=48000)] | None = None
    shots: Annotated[int, Field(ge=0)]
    outputS3Bucket: Annotated[str, Field(min_length=3, max_length=63)]
    outputS3KeyPrefix: Annotated[str, Field(min_length=1, max_length=1024)]
    action: str
    tags: dict[TagKey, TagValue] | None = None
    jobToken: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    associations: Annotated[list[Association], Field(max_length=1)] | None = None
    experimentalCapabilities: dict[str, Literal["ALL", "NONE"]] | None = None

    @field_validator("action")
    @classmethod
    def _action_is_a_program(cls, value: str) -> str:
        program = _json_object(value, "action")
        header = program.get("braketSchemaHeader") if isinstance(program, dict) else None
        name = header.get("name") if isinstance(header, dict) else None
        if not isinstance(name, str):
            raise ValueError("must be a Braket program with a braketSchemaHeader.name")
        return value

    @field_validator("deviceParameters")
    @classmethod
    def _parameters_are_json(cls, value: str | None) -> str | None:
        if value is not None:
            _json_object(value, "deviceParameters")
        return value

    def program(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.action)
        return loaded

    @property
    def action_type(self) -> str:
        return str(self.program()["braketSchemaHeader"]["name"])

    def is_pulse_program(self) -> bool:
        program = self.program()
        return self.action_type == "braket.ir.openqasm.program" and bool(
            _PULSE_BLOCK.search(str(program.get("source", "")))
        )

    def has_result_types(self) -> bool:
        """Whether the program asks for result types (what shots = 0 needs)."""
        program = self.program()
        if self.action_type == "braket.ir.jaqcd.program":
            return bool(program.get("results"))
        return bool(_RESULT_PRAGMA.search(str(program.get("source", ""))))


class SearchQuantumTasksFilter(_WireModel):
    name: Literal[TASK_FILTER_NAMES]  # type: ignore[valid-type]
    values: Annotated[list[FilterValue], Field(min_length=1, max_length=10)]
    operator: Literal["LT", "LTE", "EQUAL", "GT", "GTE", "BETWEEN"]

    @model_validator(mode="after")
    def _arity(self) -> SearchQuantumTasksFilter:
        check_filter_values(self.name, self.operator, self.values)
        return self


class SearchQuantumTasksRequest(_WireModel):
    filters: Annotated[list[SearchQuantumTasksFilter], Field(max_length=10)]
    maxResults: Annotated[int, Field(ge=1, le=100)] | None = None
    nextToken: Annotated[str, Field(max_length=2048)] | None = None


def _json_object(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError(f"{field} must be a JSON document") from None


def validate_create_quantum_task(request: dict[str, Any]) -> CreateQuantumTaskRequest:
    return _validate(CreateQuantumTaskRequest, request)


def validate_search_quantum_tasks(request: dict[str, Any]) -> SearchQuantumTasksRequest:
    return _validate(SearchQuantumTasksRequest, request)
