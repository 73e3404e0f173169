"""The JSON API the React views read, mounted with the page at ``/braket/api``.

- ``GET /api/jobs``: the nav view (``days``, and ``dag_id``, ``status``, ``device`` filters);
- ``GET /api/task-instance``: one task instance's job (``dag_id``, ``run_id``, ``task_id``,
  ``map_index``) and whether the user may cancel it;
- ``POST /api/cancel``: cancel a job (JSON ``{"jobArn": ...}``), for users who may edit its DAG;
- ``GET /api/sweep``: one DAG run's sweep; ``GET /api/runs``: the DAG's runs over time;
- ``GET /api/study``: a DAG's study over all its runs (``dag_id``, ``name``, ``study_conn_id``).

Every answer is limited to the DAGs the user may read, as the page is (``access.py``). The browser
never talks to Braket: the api-server does, with the Airflow connection.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from airflow_provider_braket.hooks.connection import DEFAULT_CONN_ID
from airflow_provider_braket.jobs.models import TERMINAL_STATUSES
from airflow_provider_braket.ui.access import (
    User,
    airflow_ui_root,
    directory_for,
    may_edit_dag,
    readable_dag_ids,
    readable_directory,
)
from airflow_provider_braket.ui.jobs import DEFAULT_DAYS, JobFilter
from airflow_provider_braket.ui.studies import study_view
from airflow_provider_braket.ui.views import jobs_view, runs_view, sweep_view, task_instance_view

# A sweep's runs, and a task's jobs, are looked for further back than the jobs list's week.
SWEEP_DAYS = 30
Days = Annotated[int, Query(ge=1, le=90)]
# Longest name AWS allows for a job ARN's parts is far below this; anything longer is not one.
MAX_ARN = 256


class CancelRequest(BaseModel):
    """The body of ``POST /api/cancel``. Being JSON, it cannot come from another site's plain HTML
    form (which sends no JSON): the cookie that signs the UI's requests cannot be borrowed."""

    model_config = ConfigDict(extra="forbid")

    job_arn: str = Field(alias="jobArn", min_length=1, max_length=MAX_ARN)


def create_router() -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.get("/jobs")
    def jobs(
        user: User,
        days: Days = DEFAULT_DAYS,
        dag_id: str | None = None,
        status: str | None = None,
        device: str | None = None,
        conn_id: str = DEFAULT_CONN_ID,
    ) -> dict[str, Any]:
        directory = directory_for(user, conn_id)
        match = JobFilter(dag_id=dag_id or None, status=status or None, device=device or None)
        return jobs_view(directory, readable_dag_ids(user), days, match, airflow_ui_root())

    @router.get("/task-instance")
    def task_instance(
        user: User,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int = -1,
        days: Days = SWEEP_DAYS,
        conn_id: str = DEFAULT_CONN_ID,
    ) -> dict[str, Any]:
        directory = readable_directory(user, conn_id, dag_id)
        view = task_instance_view(directory, dag_id, run_id, task_id, map_index, days, airflow_ui_root())
        job = view["job"]
        view["mayCancel"] = (
            bool(job) and job["status"] not in TERMINAL_STATUSES and may_edit_dag(user, dag_id)
        )
        return view

    @router.post("/cancel")
    def cancel(user: User, request: CancelRequest, conn_id: str = DEFAULT_CONN_ID) -> dict[str, Any]:
        directory = directory_for(user, conn_id)
        tags = directory.job_or_none(request.job_arn)
        dag_id = (tags or {}).get("airflow:dag_id")
        if dag_id is None or dag_id not in readable_dag_ids(user):
            raise HTTPException(404, "No such job among this Airflow's jobs you may read")
        if not may_edit_dag(user, dag_id):
            raise HTTPException(403, f"Cancelling a job of DAG {dag_id!r} needs permission to edit that DAG")
        status = directory.hook.cancel_job(request.job_arn)
        return {"jobArn": request.job_arn, "cancellationStatus": status}

    @router.get("/sweep")
    def sweep(
        user: User, dag_id: str, run_id: str, days: Days = SWEEP_DAYS, conn_id: str = DEFAULT_CONN_ID
    ) -> dict[str, Any]:
        return sweep_view(readable_directory(user, conn_id, dag_id), dag_id, run_id, days)

    @router.get("/runs")
    def runs(
        user: User,
        dag_id: str,
        score: str,
        goal: Literal["min", "max"] = "min",
        days: Days = SWEEP_DAYS,
        conn_id: str = DEFAULT_CONN_ID,
    ) -> list[dict[str, Any]]:
        return runs_view(readable_directory(user, conn_id, dag_id), dag_id, score, goal, days)

    @router.get("/study")
    def study(
        user: User,
        dag_id: str,
        name: Annotated[str, Query(min_length=1, max_length=100)],
        study_conn_id: str = "",
    ) -> dict[str, Any]:
        if dag_id not in readable_dag_ids(user):
            raise HTTPException(404, "No such DAG among those you may read")
        return study_view(user, dag_id, name, study_conn_id or None)

    return router
