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

    # The same, as the dag_run view reads it.
    from airflow_provider_braket.ui.views import runs_view, sweep_view

    view = sweep_view(directory, dag_id, "manual__2026-11-25T07:00:00+00:00", days=1)
    assert view["rankBy"] == ["results.z", "z"]
    assert [point["scores"]["results.z"] for point in view["points"]] == [-1.0, -0.94, -1.2]
    assert view["best"] == {"min": jobs[2]["jobArn"], "max": jobs[1]["jobArn"]}
    assert view["totalCost"] == sum(point["cost"]["total"] for point in view["points"])
    (run,) = runs_view(directory, dag_id, "z", "max", days=1)
    assert (run["best"], run["jobs"]) == (0.3, 3)


RUN_ID = "manual__2026-11-25T07:00:00+00:00"


def test_the_task_instance_view_has_the_newest_job_its_metrics_log_tail_and_cost() -> None:
    """What the task instance view of a retried task shows: the newest job, every attempt, the
    metric series with each value, and the last log lines with secret hyperparameters masked."""
    from airflow_provider_braket.ui.views import task_instance_view

    hook = BraketHook()
    dag_id = f"ti_{uuid.uuid4().hex[:6]}"
    tags = {**airflow_tags(dag_id, -1), "airflow:task_id": "vqe"}
    first = start_job(hook, "fail", tags=tags)
    wait_for(hook.conn, first["jobArn"])
    secret = f"pw-{uuid.uuid4().hex}"
    second = start_job(hook, "print-hyperparameters", tags=tags, db_password=secret)
    wait_for(hook.conn, second["jobArn"])
    metrics = start_job(hook, "metrics", tags={**tags, "airflow:task_id": "other"})
    wait_for(hook.conn, metrics["jobArn"])

    directory = JobDirectory(hook)
    view = task_instance_view(directory, dag_id, RUN_ID, "vqe", -1, days=1, ui_root="/")
    assert view["job"]["jobArn"] == second["jobArn"]
    assert [attempt["jobArn"] for attempt in view["attempts"]] == [second["jobArn"], first["jobArn"]]
    assert [attempt["status"] for attempt in view["attempts"]] == ["COMPLETED", "FAILED"]
    job = view["job"]
    assert job["createdAt"] <= job["startedAt"] <= job["endedAt"]
    assert job["deviceName"] == "braket.local.qubit"
    run_path = "runs/manual__2026-11-25T07%3A00%3A00%2B00%3A00"
    assert job["taskInstanceUrl"] == f"/dags/{dag_id}/{run_path}/tasks/vqe"
    assert job["cost"]["total"] >= 0
    assert view["ended"] is True
    tail = "\n".join(event["message"] for event in view["logTail"])
    assert "hyperparameters:" in tail
    assert secret not in tail
    assert '"db_password": "***"' in tail
    assert len(view["logTail"]) <= 40

    other = task_instance_view(directory, dag_id, RUN_ID, "other", -1, days=1, ui_root="/")
    series = other["metrics"]["loss"]
    assert series["value"] == [1.0, 0.5, 1 / 3]
    assert series["iteration"] == [0.0, 1.0, 2.0]
    assert [event["message"] for event in other["logTail"]][-1].endswith("Reporting training SUCCESS")

    nothing = task_instance_view(directory, dag_id, RUN_ID, "never_ran", -1, days=1, ui_root="/")
    assert nothing == {"job": None, "attempts": [], "metrics": {}, "logTail": []}


def test_the_jobs_view_filters_by_dag_status_and_device_and_offers_the_choices() -> None:
    from airflow_provider_braket.ui.jobs import JobFilter
    from airflow_provider_braket.ui.views import jobs_view

    hook = BraketHook()
    dag_a, dag_b = f"a_{uuid.uuid4().hex[:6]}", f"b_{uuid.uuid4().hex[:6]}"
    ok = start_job(hook, "ok", tags=airflow_tags(dag_a, -1))
    failed = start_job(hook, "fail", tags=airflow_tags(dag_b, -1))
    for job in (ok, failed):
        wait_for(hook.conn, job["jobArn"])
    directory = JobDirectory(hook)

    def arns(match: JobFilter) -> list[str]:
        view = jobs_view(directory, {dag_a, dag_b}, 1, match, "/")
        return [row["jobArn"] for row in view["jobs"]]

    assert arns(JobFilter()) == [failed["jobArn"], ok["jobArn"]]
    assert arns(JobFilter(dag_id=dag_a)) == [ok["jobArn"]]
    assert arns(JobFilter(status="FAILED")) == [failed["jobArn"]]
    assert arns(JobFilter(device="local:braket/braket.local.qubit", status="COMPLETED")) == [ok["jobArn"]]
    assert arns(JobFilter(device="arn:aws:braket:::device/quantum-simulator/amazon/sv1")) == []
    view = jobs_view(directory, {dag_a, dag_b}, 1, JobFilter(dag_id=dag_a), "/")
    # The choices are those of every readable job, not only of the ones the filter kept.
    assert view["choices"]["dagIds"] == sorted([dag_a, dag_b])
    assert view["choices"]["statuses"] == ["COMPLETED", "FAILED"]
    assert view["choices"]["devices"] == ["local:braket/braket.local.qubit"]
    assert [run["jobs"] for run in view["runs"]] == [1]
