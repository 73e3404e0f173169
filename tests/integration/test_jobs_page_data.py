"""What the Braket Jobs page lists, read from the local service (the page itself: tests/e2e/test_ui.py)."""

from __future__ import annotations

import uuid

import pytest
from helpers import start_job, wait_for

from airflow_provider_braket.hooks.braket import BraketHook
from airflow_provider_braket.ui.jobs import JobDirectory

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("braket_connection")]


def airflow_tags(dag_id: str, map_index: int) -> dict[str, str]:
    return {
        "airflow:dag_id": dag_id,
        "airflow:run_id": "manual__2026-11-25T07:00:00+00:00",
        "airflow:task_id": "qaoa",
        "airflow:map_index": str(map_index),
    }


def test_rows_are_airflow_jobs_of_readable_dags_with_links_and_plots() -> None:
    hook = BraketHook()
    dag_id, other_dag = f"sweep_{uuid.uuid4().hex[:6]}", f"hidden_{uuid.uuid4().hex[:6]}"
    mine = start_job(hook, "metrics", tags=airflow_tags(dag_id, 2))
    hidden = start_job(hook, "ok", tags=airflow_tags(other_dag, -1))
    untagged = start_job(hook, "ok")
    for job in (mine, hidden, untagged):
        wait_for(hook.conn, job["jobArn"])

    directory = JobDirectory(hook)
    rows = directory.rows({dag_id})
    assert [row.job_arn for row in rows] == [mine["jobArn"]]
    row = rows[0]
    assert (row.status, row.device, row.task_id, row.map_index) == (
        "COMPLETED",
        "local:braket/braket.local.qubit",
        "qaoa",
        2,
    )
    assert row.billable_seconds is not None
    assert row.task_instance_path() == (
        f"dags/{dag_id}/runs/manual__2026-11-25T07%3A00%3A00%2B00%3A00/tasks/qaoa/mapped/2"
    )
    assert row.console_url == ""  # a job of the local service has no AWS console page
    all_rows = {row.job_arn for row in directory.rows(None)}
    assert hidden["jobArn"] in all_rows
    assert untagged["jobArn"] not in all_rows  # not launched by Airflow

    svg = directory.metrics_svg(mine["jobArn"])
    assert svg is not None
    assert b"<svg" in svg
    assert b"loss" in svg
    assert directory.metrics_svg(hidden["jobArn"]) is None  # it logged no metrics


def test_a_malformed_tag_is_shown_as_such_and_an_unknown_job_is_none() -> None:
    hook = BraketHook()
    dag_id = f"odd_{uuid.uuid4().hex[:6]}"
    odd = start_job(hook, "ok", tags={**airflow_tags(dag_id, 0), "airflow:map_index": "notanint"})
    wait_for(hook.conn, odd["jobArn"])

    directory = JobDirectory(hook)
    (row,) = directory.rows({dag_id})

    assert row.map_index == -1
    assert row.tag_problems == ["tag airflow:map_index is not an integer"]
    unknown = odd["jobArn"].rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    assert directory.job_or_none(unknown) is None
    assert directory.job_or_none("arn:aws:braket:us-east-1:123456789012:device/not-a-job") is None
