"""Hyperparameters whose names look secret, registered with Airflow's secret masker.

A job may print its hyperparameters, and its log lines are copied into the task log: by the
task in a worker, or by its trigger in the triggerer. Each of those processes registers the
values itself, as Airflow's masker is per process; which names count as secret (``password``,
``token``, ``api_key``, ...) is Airflow's ``sensitive_var_conn_names`` rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def mask_secret_hyperparameters(hyperparameters: Mapping[str, str]) -> None:
    from airflow.providers.common.compat.sdk import mask_secret

    for name, value in hyperparameters.items():
        mask_secret(value, name)


def looks_secret(name: str) -> bool:
    """Whether Airflow would hide a value of this name (its ``sensitive_var_conn_names`` rule)."""
    try:  # where Airflow >= 3.3 keeps it (the old path warns there), as common.compat looks first
        from airflow.sdk._shared.secrets_masker import should_hide_value_for_key
    except ImportError:
        from airflow.sdk.execution_time.secrets_masker import (  # type: ignore[no-redef]
            should_hide_value_for_key,
        )

    return bool(should_hide_value_for_key(name))


def secret_names(job: Mapping[str, Any]) -> list[str] | None:
    """The names of a job's hyperparameters whose values must be masked; ``None`` when ``job`` is a
    summary without them (its GetJob answer tells)."""
    if "hyperParameters" not in job:
        return None
    return sorted(name for name in job["hyperParameters"] or {} if looks_secret(name))


def secret_values(hyperparameters: Mapping[str, str]) -> list[str]:
    """The values of the hyperparameters whose names look secret, longest first (so a value that
    holds another is replaced whole)."""
    values = {value for name, value in hyperparameters.items() if value and looks_secret(name)}
    return sorted(values, key=len, reverse=True)


def mask_values(events: list[dict[str, Any]], secrets: list[str]) -> list[dict[str, Any]]:
    """Log events with each of ``secrets`` in their message replaced by ``***``, as Airflow's masker
    shows them in a task log (the api-server's own masker never saw a job's secrets)."""
    if not secrets:
        return events
    masked = []
    for event in events:
        message = event["message"]
        for secret in secrets:
            message = message.replace(secret, "***")
        masked.append({**event, "message": message})
    return masked
