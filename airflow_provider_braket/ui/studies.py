"""A DAG's study over all its runs, for the Braket Sweep tab: its trials, the best so far after
each, and (for Optuna studies) how much each parameter matters."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from airflow_provider_braket.ui.access import allowed_connections, may_read_connection


def study_view(user: Any, dag_id: str, name: str, conn_id: str | None) -> dict[str, Any]:
    """The study ``name`` of ``dag_id``, read from the database of ``conn_id`` (None: the default
    file). The connection comes from a job's tag: it must be one the user may use, as for jobs."""
    from airflow_provider_braket.jobs.models import RequestValidationError
    from airflow_provider_braket.sweeps.catalog import read_study

    if (
        conn_id is not None
        and conn_id not in allowed_connections()
        and not may_read_connection(user, conn_id)
    ):
        raise HTTPException(403, "You may not use this study's connection")
    try:
        record = read_study(dag_id, name, conn_id)
    except RequestValidationError as error:  # a connection that is not a database, or Airflow's own
        raise HTTPException(400, str(error)) from None
    if record is None:
        raise HTTPException(404, "No such study")
    return record.to_dict()
