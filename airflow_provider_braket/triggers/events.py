"""The events a Braket task resumes with, checked before the task acts on them."""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_braket.jobs.models import TERMINAL_STATUSES

#: What a :class:`~airflow_provider_braket.triggers.braket.JobStatusTrigger` event's status may be.
EVENT_STATUSES = frozenset({*TERMINAL_STATUSES, "timeout", "error", "cost_cap", "pruned"})


def read_status_event(event: Any) -> dict[str, Any]:
    """A :class:`JobStatusTrigger` event, checked before a task acts on it.

    A task resumed with anything else (an event of another trigger after a DAG change, a
    hand-edited ``next_kwargs``) fails saying so rather than with a KeyError.
    """
    if (
        not isinstance(event, dict)
        or event.get("status") not in EVENT_STATUSES
        or not isinstance(event.get("jobArn"), str)
    ):
        shape = sorted(event) if isinstance(event, dict) else type(event).__name__
        raise AirflowException(f"Resumed with an event that is not a hybrid job status event: {shape}")
    return event


def fail_if_not_watched(event: dict[str, Any], job_arn: str) -> None:
    """Fail the task when the trigger could not watch the job (its ``error`` event)."""
    if event["status"] == "error":
        raise AirflowException(f"Could not watch hybrid job {job_arn}: {event.get('message')}")


def read_resubmit_event(event: Any) -> dict[str, Any]:
    """A :class:`ResubmitTrigger` event (``{"submit": {...}}``), checked likewise."""
    if not isinstance(event, dict) or not isinstance(event.get("submit"), dict):
        shape = sorted(event) if isinstance(event, dict) else type(event).__name__
        raise AirflowException(f"Resumed with an event that is not a resubmit event: {shape}")
    return dict(event["submit"])
