"""Cost caps through dag.test() against the local service: max_cost (sync and deferred), a DAG
run's budget over a mapped sweep, and a cap that cannot be enforced for want of a price."""

from __future__ import annotations

import pytest
from dagrun import load, run, states

from airflow_provider_braket.hooks.braket import BraketHook

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db", "braket_connection")]


def _jobs_of(run_id: str) -> list[dict]:
    return [
        job for job in BraketHook().search_jobs() if (job.get("tags") or {}).get("airflow:run_id") == run_id
    ]


@pytest.mark.parametrize("mode", ["sync", "deferrable", "quiet"])
def test_a_job_that_reaches_max_cost_is_cancelled_and_the_task_fails_saying_so(
    mode: str, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run(load(f"test_max_cost_{mode}"))  # quiet: deferred, forward_logs=False

    assert states(dag_run) == {("job", -1): "failed"}
    output = capfd.readouterr().out
    assert "max_cost=0.0001 USD reached: hybrid job arn:aws:braket:" in output
    assert "the job was cancelled" in output
    (job,) = _jobs_of(dag_run.run_id)
    described = BraketHook().get_job(job["jobArn"])
    assert described["status"] in ("CANCELLING", "CANCELLED")
    # Cancelled within about one poll of reaching the cap (USD 0.0001 is 3.1 s of ml.m5.large).
    cost = BraketHook().job_cost(job["jobArn"])
    assert 0.0001 <= float(cost.total) < 0.0001 + 0.115 / 3600 * 10


def test_a_run_budget_stops_a_sweep_once_spent(capfd: pytest.CaptureFixture[str]) -> None:
    dag_run = run(load("test_run_budget"), run_conf={"budget": "0.0004"})

    by_index = [states(dag_run)[("sweep", index)] for index in range(6)]
    output = capfd.readouterr().out
    jobs = _jobs_of(dag_run.run_id)
    succeeded = by_index.count("success")
    # Points run one after the other (in dag.test's order, not by index): some succeed, at most one
    # is cancelled when the budget is exceeded while it runs, and every later one refuses to create
    # a job.
    assert 1 <= succeeded <= 5
    assert by_index.count("failed") == 6 - succeeded
    refusals = output.count("run_budget=0.0004 USD is spent")
    cancelled = output.count("run_budget=0.0004 USD exceeded")
    assert cancelled <= 1
    assert refusals >= 1
    assert refusals + cancelled == 6 - succeeded
    assert len(jobs) == succeeded + cancelled  # a refusal creates no job
    spent = sum(float(BraketHook().job_cost(job["jobArn"]).total) for job in jobs)
    assert spent >= 0.0004


def test_a_cap_on_an_unpriced_instance_fails_before_any_job(capfd: pytest.CaptureFixture[str]) -> None:
    dag_run = run(load("test_unpriced_cap"))

    assert states(dag_run) == {("job", -1): "failed"}
    output = capfd.readouterr().out
    assert "has no price for instance ml.c5.xlarge in us-east-1, so a cost cap cannot be enforced" in output
    assert _jobs_of(dag_run.run_id) == []


def test_a_monthly_budget_counts_every_run_of_the_dag(capfd: pytest.CaptureFixture[str]) -> None:
    first = run(load("test_monthly_budget"))
    assert states(first) == {("job", -1): "failed"}
    assert "monthly_budget=0.00005 USD exceeded: the Braket jobs of DAG test_monthly_budget in" in (
        capfd.readouterr().out
    )
    assert len(_jobs_of(first.run_id)) == 1

    second = run(load("test_monthly_budget"))
    assert states(second) == {("job", -1): "failed"}
    assert "monthly_budget=0.00005 USD is spent" in capfd.readouterr().out
    assert _jobs_of(second.run_id) == []
