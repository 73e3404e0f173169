"""Both example DAGs run end to end with dag.test(), against the local service, sync and deferrable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dagrun import asset_events, load, run, states, xcoms

from airflow_provider_braket.hooks.braket import BraketHook

EXAMPLE_DAGS = Path(__file__).parents[2] / "example_dags"
EXACT_H2_GROUND_STATE = -1.851199
QAOA_MAX_CUT = 8

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db", "braket_connection")]


def load_dag(dag_id: str, deferrable: bool) -> Any:
    dag = load(dag_id, EXAMPLE_DAGS / f"{dag_id}.py")
    for task in dag.tasks:
        # The operator's default comes from [operators] default_deferrable, read once at import.
        if type(task).__name__ == "CreateHybridJobOperator":
            task.deferrable = deferrable
        elif getattr(task, "partial_kwargs", None) is not None:
            task.partial_kwargs["deferrable"] = deferrable
    return dag


def check_job_xcom(job: dict[str, Any]) -> None:
    assert set(job) == {
        "jobArn",
        "jobName",
        "status",
        "device",
        "mapIndex",
        "results",
        "metrics",
        "metricSeries",
        "billableDuration",
        "outputS3Path",
        "resultsUri",
        "cost",
    }
    assert job["status"] == "COMPLETED"
    assert job["cost"]["currency"] == "USD"
    assert job["jobArn"].startswith("arn:aws:braket:us-east-1:123456789012:job/")
    assert job["outputS3Path"].startswith(f"s3://amazon-braket-us-east-1-123456789012/jobs/{job['jobName']}/")
    assert isinstance(job["billableDuration"], int)


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_braket_vqe_finds_the_h2_ground_state(deferrable: bool) -> None:
    dag_run = run(load_dag("braket_vqe", deferrable))

    assert set(states(dag_run).values()) == {"success"}
    values = xcoms(dag_run)
    job = values[("vqe", -1)]
    check_job_xcom(job)
    assert job["jobName"].startswith("vqe-")
    assert job["results"]["energy"] == pytest.approx(EXACT_H2_GROUND_STATE, abs=1e-5)
    assert job["results"]["iterations"] == 30
    assert job["metrics"]["energy"] == pytest.approx(job["results"]["energy"])
    summary = values[("post_process", -1)]
    assert summary["exact"] == pytest.approx(EXACT_H2_GROUND_STATE, abs=1e-6)
    assert summary["error"] < 1e-5
    assert summary["jobArn"] == job["jobArn"]
    # Every iteration's energy is in the XCom, and the plot of it lies next to the job's results.
    energy = job["metricSeries"]["energy"]
    assert energy["iteration"] == list(range(30))
    assert energy["value"][-1] == pytest.approx(job["metrics"]["energy"])
    output_prefix = f"{job['outputS3Path']}/output/"
    assert summary["plots"] == [f"{output_prefix}convergence.png", f"{output_prefix}convergence.svg"]
    s3 = BraketHook().s3_client
    for uri, magic in zip(summary["plots"], (b"\x89PNG", b"<?xml"), strict=True):
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read().startswith(magic)


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_braket_qaoa_sweep_maps_one_job_per_point_and_picks_the_best(
    deferrable: bool, capfd: pytest.CaptureFixture[str]
) -> None:
    conf = {"depths": [1, 2], "seeds": [1, 2], "maxiter": 25}
    dag_run = run(load_dag("braket_qaoa_sweep", deferrable), run_conf=conf)

    assert set(states(dag_run).values()) == {"success"}
    # Found: a successful run printed "[error] XCom not found ... offset=4": pick_best iterated
    # the mapped output, which reads one past its end.
    assert "XCom not found" not in capfd.readouterr().out
    values = xcoms(dag_run)
    jobs = [value for (task_id, _), value in values.items() if task_id == "qaoa"]
    assert len(jobs) == 4
    for job in jobs:
        check_job_xcom(job)
        assert 0 < job["results"]["expected_cut"] <= QAOA_MAX_CUT
        assert job["metrics"]["expected_cut"] > 0
    assert {(job["results"]["p"], job["results"]["seed"]) for job in jobs} == {(1, 1), (1, 2), (2, 1), (2, 2)}
    assert len({job["jobArn"] for job in jobs}) == 4
    best = values[("pick_best", -1)]
    assert best["jobs"] == 4
    assert best["max_cut"] == QAOA_MAX_CUT
    assert best["expected_cut"] == max(job["results"]["expected_cut"] for job in jobs)
    assert best["best_cut"] == QAOA_MAX_CUT  # sampling the best angles finds a maximum cut
    check_sweep_view(dag_run, jobs)
    check_sweep_asset_event(dag_run, jobs, values[("publish_results", -1)])


def check_sweep_asset_event(dag_run: Any, jobs: list[dict[str, Any]], published: dict[str, Any]) -> None:
    """One event of the sweep's asset for the whole run (not one per point), every point in it."""
    (event,) = asset_events(dag_run)
    name, extra = event
    assert name == "braket_qaoa_sweep_results"
    assert extra == published
    sweep = extra["braketSweep"]
    assert (sweep["count"], sweep["completed"]) == (4, 4)
    assert [point["mapIndex"] for point in sweep["points"]] == [0, 1, 2, 3]
    by_arn = {job["jobArn"]: job for job in jobs}
    for point in sweep["points"]:
        job = by_arn[point["jobArn"]]
        assert set(point) == {
            "jobArn", "jobName", "status", "device", "mapIndex", "metrics", "outputS3Path",
            "billableDuration", "cost",
        }  # fmt: skip
        assert point["device"] == "local:braket/braket.local.qubit"
        assert point["metrics"] == job["metrics"]
        assert point["cost"] == job["cost"]
        assert point["outputS3Path"] == job["outputS3Path"]


def check_sweep_view(dag_run: Any, jobs: list[dict[str, Any]]) -> None:
    """The page's sweep view of the run: one point per map index, the best marked, costs summed."""
    from airflow_provider_braket.ui.jobs import JobDirectory
    from airflow_provider_braket.ui.sweeps import (
        best_point,
        metric_names,
        run_summaries,
        sweep_points,
        sweep_svg,
    )
    from airflow_provider_braket.ui.views import run_totals

    directory = JobDirectory(BraketHook())
    points = sweep_points(directory, dag_run.dag_id, dag_run.run_id, days=1)
    assert [point.map_index for point in points] == [0, 1, 2, 3]
    by_arn = {job["jobArn"]: job for job in jobs}
    for point in points:
        job = by_arn[point.job_arn]
        saved = {
            f"results.{name}": value
            for name, value in job["results"].items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        }
        assert point.metrics == pytest.approx({**job["metrics"], **saved})
        assert point.cost == job["cost"]
        assert (point.hyperparameters["p"], point.hyperparameters["seed"]) == (
            str(job["results"]["p"]),
            str(job["results"]["seed"]),
        )
    assert metric_names(points)[0] == "results.expected_cut"  # the answer the jobs also logged
    chosen = best_point(points, "expected_cut", "max")
    assert chosen is not None
    best_job = max(jobs, key=lambda job: job["metrics"]["expected_cut"])
    assert chosen.job_arn == best_job["jobArn"]
    assert b"<svg" in sweep_svg(points, "expected_cut", "p", chosen)
    rows = directory.rows({dag_run.dag_id}, days=1)
    (totals,) = [run for run in run_totals(rows) if run["run_id"] == dag_run.run_id]
    assert totals["jobs"] == 4
    assert totals["mapped"]
    assert totals["cost"] == pytest.approx(sum(job["cost"]["total"] for job in jobs))
    (summary,) = [
        run
        for run in run_summaries(directory, dag_run.dag_id, "expected_cut", "max", 1)
        if run.run_id == dag_run.run_id
    ]
    assert summary.best == pytest.approx(best_job["metrics"]["expected_cut"])


def test_braket_qaoa_study_continues_its_study_each_run_and_reports_the_best_so_far(
    capfd: pytest.CaptureFixture[str],
) -> None:
    dag = load_dag("braket_qaoa_study", deferrable=False)
    study = dag.get_task("suggest").study
    before = len(study.open(dag.dag_id).trials())  # the session's AIRFLOW_HOME keeps it between tests
    reports = []
    for _ in range(2):
        dag_run = run(dag, run_conf={"points": 3})
        assert set(states(dag_run).values()) == {"success"}, states(dag_run)
        values = xcoms(dag_run)
        numbers = [point["study_trial"]["number"] for point in values[("suggest", -1)]]
        assert numbers == list(range(before + 3 * len(reports), before + 3 * len(reports) + 3))
        for index in range(3):
            point = values[("qaoa", index)]
            assert point["trial"]["state"] in ("COMPLETE", "PRUNED")
            if point["trial"]["state"] == "COMPLETE":
                assert point["trial"]["value"] == pytest.approx(
                    max(point["metricSeries"]["expected_cut"]["value"])
                )
        reports.append(values[("report", -1)])
    trials = study.open(dag.dag_id).trials()
    assert reports[-1]["trials"] == len(trials) == before + 6
    complete = [trial for trial in trials if trial.state == "COMPLETE"]
    assert reports[-1]["best"]["value"] == max(trial.value for trial in complete)
    assert 0 < reports[-1]["best"]["value"] <= QAOA_MAX_CUT
    assert "Study qaoa_maxcut: {" in capfd.readouterr().out
