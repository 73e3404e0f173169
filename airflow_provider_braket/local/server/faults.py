"""Fault injection for the Braket API of the local service, for tests of retries and backoff.

Per operation (or ``*`` for all), a probability of answering ThrottlingException (429),
InternalServiceException (500) or dropping the connection, and a latency added before the
answer. Set with ``--fault`` flags or ``PUT /_local/faults``.
"""

from __future__ import annotations

import random
import re
import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Probability = float
FaultKind = Literal["throttle", "error", "drop", "deny"]

#: ``METHOD path`` (``*`` one path segment) -> the Braket operation, as botocore's model routes them.
_ROUTES = {
    "POST /job": "CreateJob",
    "GET /job/*": "GetJob",
    "PUT /job/*/cancel": "CancelJob",
    "POST /jobs": "SearchJobs",
    "GET /device/*": "GetDevice",
    "POST /devices": "SearchDevices",
    "POST /tags/*": "TagResource",
    "DELETE /tags/*": "UntagResource",
    "GET /tags/*": "ListTagsForResource",
    "POST /quantum-task": "CreateQuantumTask",
    "GET /quantum-task/*": "GetQuantumTask",
    "PUT /quantum-task/*/cancel": "CancelQuantumTask",
    "POST /quantum-tasks": "SearchQuantumTasks",
}
OPERATIONS = tuple(_ROUTES.values())
_PATTERNS = [
    (route.split(" ")[0], re.compile("^" + route.split(" ")[1].replace("*", "[^/]+") + "$"), name)
    for route, name in _ROUTES.items()
]


def operation_of(method: str, raw_path: str) -> str | None:
    """The Braket operation a request is for, from its method and (still encoded) path."""
    for route_method, pattern, name in _PATTERNS:
        if method == route_method and pattern.match(raw_path):
            return name
    return None


class OperationFaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    throttle: Probability = Field(0.0, ge=0, le=1)
    error: Probability = Field(0.0, ge=0, le=1)
    drop: Probability = Field(0.0, ge=0, le=1)
    deny: Probability = Field(0.0, ge=0, le=1)
    latencyMs: int = Field(0, ge=0, le=60_000)


class FaultSettings(BaseModel):
    """Body of ``PUT /_local/faults``: ``{"operations": {"GetJob": {"throttle": 0.1}, "*": {...}}}``."""

    model_config = ConfigDict(extra="forbid")

    operations: dict[str, OperationFaults] = Field(default_factory=dict)
    seed: int | None = None


class FaultInjector:
    """Decides, per request, whether to answer with a fault; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings = FaultSettings()
        self._random = random.Random()
        self.injected: dict[str, int] = {}

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    def configure(self, settings: FaultSettings) -> None:
        unknown = sorted(set(settings.operations) - {*OPERATIONS, "*"})
        if unknown:
            raise ValueError(
                f"operations: unknown operation names {unknown}; known: {', '.join(OPERATIONS)}, *"
            )
        with self._lock:
            self._settings = settings
            self._random = random.Random(settings.seed)
            self.injected = {}

    def decide(self, operation: str) -> tuple[FaultKind | None, float]:
        """Return the fault to inject (or None) and the latency in seconds to add first."""
        with self._lock:
            faults = self._settings.operations.get(operation) or self._settings.operations.get("*")
            if faults is None:
                return None, 0.0
            roll = self._random.random()
            kind: FaultKind | None = None
            threshold = 0.0
            for name, probability in (
                ("throttle", faults.throttle),
                ("error", faults.error),
                ("drop", faults.drop),
                ("deny", faults.deny),
            ):
                threshold += probability
                if roll < threshold:
                    kind = name  # type: ignore[assignment]
                    break
            if kind:
                self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind, faults.latencyMs / 1000


def parse_fault_flag(text: str) -> tuple[str, OperationFaults]:
    """Parse ``--fault GetJob:throttle=0.1,drop=0.05,latencyMs=200`` (``*`` for every operation)."""
    operation, _, spec = text.partition(":")
    values: dict[str, float] = {}
    for part in filter(None, spec.split(",")):
        name, _, number = part.partition("=")
        values[name.strip()] = float(number)
    return operation.strip(), OperationFaults.model_validate(values)
