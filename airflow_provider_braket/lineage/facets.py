"""The OpenLineage run facet of a Braket hybrid job (imports openlineage: load it lazily)."""

from __future__ import annotations

from typing import Any

from attrs import define, field
from openlineage.client.facet_v2 import RunFacet


@define
class BraketHybridJobRunFacet(RunFacet):
    """A Braket hybrid job as a run facet.

    :param jobArn: the job's ARN.
    :param jobName: its name.
    :param status: its status when the task ended.
    :param device: the device ARN it had priority access to (or a ``local:`` simulator).
    :param instanceType: the classical instance type.
    :param instanceCount: how many instances.
    :param billableDuration: the billable duration as Braket reports it (docs/cost.md on its unit).
    :param hyperparameterNames: the names of its hyperparameters (never their values).
    :param metrics: the last value of each metric the job logged.
    :param cost: what the job cost (USD, ``BraketHook.job_cost``), when known.
    :param failureReason: why it failed, if it did.
    """

    jobArn: str
    jobName: str | None = None
    status: str | None = None
    device: str | None = None
    instanceType: str | None = None
    instanceCount: int | None = None
    billableDuration: int | None = None
    hyperparameterNames: list[str] = field(factory=list)
    metrics: dict[str, Any] = field(factory=dict)
    cost: dict[str, Any] | None = None
    failureReason: str | None = None
