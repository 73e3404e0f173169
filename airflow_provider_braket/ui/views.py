"""What each Braket view in Airflow's UI shows, as the JSON its React component reads.

One function per view, each from a :class:`~airflow_provider_braket.ui.jobs.JobDirectory` the caller
may read (``access.py`` decides that): the jobs list (nav), one task instance's job, one DAG run's
sweep and the DAG's runs over time. Times are ISO 8601 in UTC; costs are ``BraketHook.job_cost``'s
dicts (``None`` when unreadable).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from airflow_provider_braket.jobs.models import TERMINAL_STATUSES
from airflow_provider_braket.ui.jobs import MAX_ROWS, JobDirectory, JobFilter, JobRow
from airflow_provider_braket.ui.sweeps import (
    best_point,
    metric_names,
    parameter_names,
    run_summaries,
    sweep_points,
    varying_parameter,
)


def jobs_view(
    jobs: JobDirectory, dag_ids: set[str], days: int, match: JobFilter, ui_root: str
) -> dict[str, Any]:
    """The nav view: the newest jobs the filter keeps, their runs' totals, and what each filter can
    choose from (among every job of the readable DAGs in the period, not only those kept)."""
    summaries = jobs.airflow_summaries(dag_ids, days)
    rows = [jobs.row(summary) for summary in summaries if match.keeps(summary)][:MAX_ROWS]
    return {
        "jobs": [job_json(row, ui_root) for row in rows],
        "runs": run_totals(rows),
        "choices": {
            "dagIds": _distinct(summary["tags"]["airflow:dag_id"] for summary in summaries),
            "statuses": _distinct(summary.get("status", "") for summary in summaries),
            "devices": _distinct(summary.get("device", "") for summary in summaries),
        },
        "days": days,
    }


def task_instance_view(
    jobs: JobDirectory, dag_id: str, run_id: str, task_id: str, map_index: int, days: int, ui_root: str
) -> dict[str, Any]:
    """The task instance view: the task's newest job (a retried task has several: ``attempts``
    lists them all, newest first), its metrics so far, its last log lines and its cost."""
    summaries = jobs.tagged_jobs(
        days, dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=str(map_index)
    )
    summaries.sort(key=lambda summary: summary["createdAt"], reverse=True)
    if not summaries:
        return {"job": None, "attempts": [], "metrics": {}, "logTail": []}
    newest = summaries[0]["jobArn"]
    row = jobs.row(summaries[0])
    return {
        "job": job_json(row, ui_root),
        "attempts": [
            {
                "jobArn": summary["jobArn"],
                "status": summary["status"],
                "createdAt": _iso(summary["createdAt"]),
            }
            for summary in summaries
        ],
        "metrics": jobs.metric_series(newest),
        "logTail": jobs.log_tail(newest),
        "ended": row.status in TERMINAL_STATUSES,
    }


def sweep_view(jobs: JobDirectory, dag_id: str, run_id: str, days: int) -> dict[str, Any]:
    """The DAG run view: its mapped jobs as points, what they can be ranked by (results keys the
    jobs also logged as metrics first) and the hyperparameter the sweep varies."""
    points = sweep_points(jobs, dag_id, run_id, days)
    ranks, parameters = metric_names(points), parameter_names(points)
    return {
        "points": [
            {
                "mapIndex": point.map_index,
                "taskId": point.task_id,
                "jobArn": point.job_arn,
                "jobName": point.job_name,
                "status": point.status,
                "hyperparameters": point.hyperparameters,
                "scores": point.metrics,
                "cost": point.cost,
            }
            for point in points
        ],
        "rankBy": ranks,
        "parameters": parameters,
        "varying": varying_parameter(points, parameters),
        "best": {
            goal: (best.job_arn if (best := best_point(points, ranks[0], goal)) else None)
            for goal in ("min", "max")
        }
        if ranks
        else {"min": None, "max": None},
        "totalCost": sum(point.cost["total"] for point in points if point.cost),
        # The study the run's points are trials of: the view reads it from /api/study.
        "study": next(({"name": p.study[0], "connId": p.study[1]} for p in points if p.study), None),
    }


def runs_view(jobs: JobDirectory, dag_id: str, score: str, goal: str, days: int) -> list[dict[str, Any]]:
    """The DAG's runs with Braket jobs, oldest first: each run's best ``score`` and total cost."""
    return [
        {
            "runId": summary.run_id,
            "started": _iso(summary.started),
            "jobs": summary.jobs,
            "best": summary.best,
            "cost": summary.cost,
        }
        for summary in run_summaries(jobs, dag_id, score, goal, days)
    ]


def run_totals(rows: list[JobRow]) -> list[dict[str, Any]]:
    """The rows grouped by DAG run: jobs, total cost, and whether the run has mapped jobs."""
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        entry = runs.setdefault(
            (row.dag_id, row.run_id),
            {
                "dag_id": row.dag_id,
                "run_id": row.run_id,
                "jobs": 0,
                "cost": 0.0,
                "unpriced": False,
                "mapped": False,
            },
        )
        entry["jobs"] += 1
        entry["mapped"] = entry["mapped"] or row.map_index >= 0
        if row.cost is None or row.cost.get("unpriced"):
            entry["unpriced"] = True
        if row.cost is not None:
            entry["cost"] += row.cost["total"]
    return list(runs.values())


def job_json(row: JobRow, ui_root: str) -> dict[str, Any]:
    return {
        "jobArn": row.job_arn,
        "jobName": row.job_name,
        "status": row.status,
        "device": row.device,
        "deviceName": short_device_name(row.device),
        "queuePosition": row.queue_position,
        "billableSeconds": row.billable_seconds,
        "cost": row.cost,
        "createdAt": _iso(row.created_at),
        "startedAt": _iso(row.started_at),
        "endedAt": _iso(row.ended_at),
        "failureReason": row.failure_reason,
        "dagId": row.dag_id,
        "runId": row.run_id,
        "taskId": row.task_id,
        "mapIndex": row.map_index,
        "tagProblems": row.tag_problems,
        "dagRunUrl": ui_root + row.dag_run_path(),
        "taskInstanceUrl": ui_root + row.task_instance_path(),
        "consoleUrl": row.console_url,
    }


def short_device_name(device: str) -> str:
    """What a list shows of a device: the last part of its ARN (``sv1``, ``Ankaa-3``,
    ``braket.local.qubit``); the view shows the whole ARN on hover."""
    return device.rstrip("/").rsplit("/", 1)[-1] or device


def _distinct(values: Iterable[str]) -> list[str]:
    return sorted({value for value in values if value})


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
