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


def test_a_cap_found_passed_after_the_job_completed_leaves_the_task_its_results(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Found: ``max_cost=0.01 USD reached: ... has cost USD 0.0602; the job was cancelled
    (COMPLETED)``: the cost was read while the job ran, the cancel came once it had completed, and
    the task failed without its results. Both looks, the worker's and the trigger's, are run here
    on a job that has COMPLETED, as the look before saw it (RUNNING): the race, made certain."""
    import asyncio
    import logging

    from airflow.providers.common.compat.sdk import AirflowException
    from helpers import start_job, wait_for

    from airflow_provider_braket.operators.braket import CreateHybridJobOperator
    from airflow_provider_braket.operators.cost_enforcement import CostCapEnforcer
    from airflow_provider_braket.pricing.cost_limits import BudgetScope, CostLimits
    from airflow_provider_braket.triggers.braket import JobStatusTrigger
    from airflow_provider_braket.utils.identity import TaskIdentity

    hook = BraketHook()
    job = wait_for(hook.conn, start_job(hook, "ok")["jobArn"])
    assert job["status"] == "COMPLETED"
    seen_running = {**job, "status": "RUNNING"}
    limits = CostLimits.of(max_cost="0.0000001")
    identity = TaskIdentity.from_context({}, "job")

    def enforcer(strict: bool) -> CostCapEnforcer:
        return CostCapEnforcer(
            hook, limits, identity, logging.getLogger("test"), fail_after_completion=strict
        )

    with caplog.at_level(logging.WARNING):
        enforcer(strict=False).on_poll(seen_running)  # in a worker: no failure
    assert "after the job had already ended (COMPLETED): it was not cancelled" in caplog.text
    with pytest.raises(AirflowException, match=r"not cancelled; failing as fail_on_cap_after_completion"):
        enforcer(strict=True).on_poll(seen_running)

    trigger = JobStatusTrigger(
        job_arn=job["jobArn"],
        job_name=job["jobName"],
        waiter_delay=0.3,
        cost_limits=limits.serialize(),
        budget_scope=BudgetScope.of(identity).serialize(),
    )
    event = asyncio.run(trigger._costs.reached(trigger.job_arn, logging.getLogger("test")))
    assert event is not None
    assert (event["status"], event["endedAs"]) == ("cost_cap", "COMPLETED")
    assert "cancelled (COMPLETED)" not in event["message"]

    def operator(strict: bool) -> CreateHybridJobOperator:
        return CreateHybridJobOperator(
            task_id="job",
            device="local:braket/braket.local.qubit",
            source_module="behaviours.py",
            max_cost=0.0000001,
            fail_on_cap_after_completion=strict,
        )

    summary = operator(strict=False).execute_complete({}, event)  # resumed in a worker
    assert (summary["jobArn"], summary["status"]) == (job["jobArn"], "COMPLETED")
    assert summary["results"] == {"mode": "ok"}
    with pytest.raises(AirflowException, match="fail_on_cap_after_completion=True asks"):
        operator(strict=True).execute_complete({}, event)
