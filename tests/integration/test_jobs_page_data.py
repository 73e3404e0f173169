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


def test_a_sweep_ranks_its_points_by_their_saved_results_first() -> None:
    """Found: the sweep view ranked by the last logged metric only: a script that saves its answer
    with save_job_result (z = -1.0, -1.0, -0.94) was ranked by a metric it logged along the way."""
    from airflow_provider_braket.ui.sweeps import best_point, metric_names, run_summaries, sweep_points

    hook = BraketHook()
    dag_id = f"answers_{uuid.uuid4().hex[:6]}"
    points = [("-1.0", "-0.5"), ("-0.94", "-0.02"), ("-1.2", "0.3")]  # (answer, metric along the way)
    jobs = [
        start_job(hook, "answer", tags=airflow_tags(dag_id, index), answer=answer, along_the_way=along)
        for index, (answer, along) in enumerate(points)
    ]
    for job in jobs:
        assert wait_for(hook.conn, job["jobArn"])["status"] == "COMPLETED"

    directory = JobDirectory(hook)
    swept = sweep_points(directory, dag_id, "manual__2026-11-25T07:00:00+00:00", days=1)
    assert [point.metrics for point in swept] == [
        {"z": -0.5, "results.z": -1.0},
        {"z": -0.02, "results.z": -0.94},
        {"z": 0.3, "results.z": -1.2},
    ]  # "converged" (a bool) and "mode" (a str) are no scores
    names = metric_names(swept)
    assert names == ["results.z", "z"]  # the view's default first: the answer, also logged as z
    assert best_point(swept, names[0], "min").map_index == 2  # type: ignore[union-attr]
    assert best_point(swept, "z", "min").map_index == 0  # type: ignore[union-attr]
    (summary,) = run_summaries(directory, dag_id, "results.z", "min", 1)
    assert summary.best == -1.2
