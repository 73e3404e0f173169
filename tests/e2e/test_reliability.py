"""No lost, duplicate or orphaned jobs, shown in a real Airflow deployment driven over its REST API.

Each test is one scenario of docs/reliability.md. They need a scheduler, a triggerer and
workers: ``dag.test()`` runs triggers inline and never kills anything. The ``cancel_on_kill``
ones also run on the oldest supported Airflow (``make e2e-oldest``), where a deferred task's kill
reaches the trigger differently (a cancelled coroutine, not ``on_kill``).
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import time
from typing import Any

import pytest
from deployment import AirflowDeployment, ApiError, jobs_of_run
from helpers import job_request, upload_script

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

DEFERRED, SYNC = "e2e_deferred", "e2e_sync"


def job_arn_of(log: str) -> str:
    found = re.search(r"(arn:aws:braket:[^:]+:\d{12}:job/[0-9a-f-]{36})", log)
    assert found, log[-3000:]
    return found.group(1)


def wait_for_job(braket: Any, dag_id: str, run_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def reached() -> bool:
        jobs = jobs_of_run(braket, dag_id, run_id)
        found.update(jobs[0] if jobs else {})
        return bool(jobs) and jobs[0]["status"] == status

    AirflowDeployment.wait(reached, timeout, f"the job of {run_id} to be {status}")
    return found


@pytest.mark.cancel_on_kill
def test_a_deferred_task_marked_failed_cancels_its_job(airflow: AirflowDeployment, braket: Any) -> None:
    run_id = airflow.trigger(DEFERRED, {"mode": "sleep"})
    airflow.wait_for_task(DEFERRED, run_id, "job", ("deferred",))
    # The trigger watches the job (a task killed before its trigger ever ran: docs/reliability.md).
    wait_for_log(airflow, DEFERRED, run_id, "is RUNNING.")
    job = wait_for_job(braket, DEFERRED, run_id, "RUNNING")

    mark_failed_and_see_the_job_cancelled(airflow, braket, DEFERRED, run_id, job["jobArn"])

    assert len(jobs_of_run(braket, DEFERRED, run_id)) == 1


def mark_failed_and_see_the_job_cancelled(
    airflow: AirflowDeployment, braket: Any, dag_id: str, run_id: str, job_arn: str
) -> None:
    """Mark the task failed as a user would; its job must be CANCELLED within 15 s."""
    airflow.set_task_state(dag_id, run_id, "job", "failed")
    marked = time.monotonic()
    AirflowDeployment.wait(
        lambda: braket.get_job(jobArn=job_arn)["status"] == "CANCELLED", 15, "the job to be CANCELLED"
    )
    print(f"job CANCELLED {time.monotonic() - marked:.1f} s after the task was marked failed")


def log_of(
    airflow: AirflowDeployment, dag_id: str, run_id: str, try_number: int = 1, map_index: int = -1
) -> str:
    return airflow.task_log(dag_id, run_id, "job", try_number, map_index)


def wait_for_log(
    airflow: AirflowDeployment, dag_id: str, run_id: str, text: str, timeout: float = 60
) -> None:
    """Until the task log (worker and triggerer parts) shows ``text``: the job is being watched."""

    def logged() -> bool:
        try:
            return text in log_of(airflow, dag_id, run_id)
        except ApiError:  # no task instance or no log yet
            return False

    AirflowDeployment.wait(logged, timeout, f"{text!r} in the log")


@pytest.mark.cancel_on_kill
def test_b_sync_task_marked_failed_cancels_its_job(airflow: AirflowDeployment, braket: Any) -> None:
    run_id = airflow.trigger(SYNC, {"mode": "sleep"})
    wait_for_log(airflow, SYNC, run_id, "is RUNNING.")
    job = wait_for_job(braket, SYNC, run_id, "RUNNING")

    mark_failed_and_see_the_job_cancelled(airflow, braket, SYNC, run_id, job["jobArn"])

    assert airflow.task_instance(SYNC, run_id, "job")["try_number"] == 1
    assert len(jobs_of_run(braket, SYNC, run_id)) == 1


@pytest.mark.cancel_on_kill
def test_c_triggerer_killed_and_restarted_neither_cancels_nor_repeats(
    airflow: AirflowDeployment, braket: Any
) -> None:
    ticks = 30
    run_id = airflow.trigger(DEFERRED, {"mode": "count", "ticks": ticks})
    wait_for_log(airflow, DEFERRED, run_id, "count 5")

    airflow.kill_component("triggerer", signal.SIGKILL)
    time.sleep(3)
    airflow.start_component("triggerer")

    assert airflow.wait_for_run(DEFERRED, run_id) == "success"
    jobs = jobs_of_run(braket, DEFERRED, run_id)
    assert [job["status"] for job in jobs] == ["COMPLETED"]
    log = log_of(airflow, DEFERRED, run_id)
    counts = {tick: log.splitlines().count(f"count {tick}") for tick in range(ticks)}
    # Every line at least once; a repeat only of the one batch being forwarded when the triggerer
    # died, before its cursor was saved (docs/reliability.md, Known limits).
    assert min(counts.values()) == 1, counts
    repeated = [tick for tick, count in counts.items() if count > 1]
    assert max(counts.values()) <= 2, counts
    assert repeated == list(range(repeated[0], repeated[0] + len(repeated))) if repeated else True, counts
    # Said by the trigger run after the restart only (the first run starts from the empty cursor
    # the task saved when it created the job).
    assert log.count("Forwarding the job's log lines from where an earlier trigger run stopped.") == 1
    assert airflow.xcom(DEFERRED, run_id, "job")["jobArn"] == jobs[0]["jobArn"]


def test_d_worker_killed_in_sync_mode_the_retry_reattaches(airflow: AirflowDeployment, braket: Any) -> None:
    run_id = airflow.trigger(SYNC, {"mode": "count", "ticks": 25})
    wait_for_log(airflow, SYNC, run_id, "count 3")
    ti = airflow.task_instance(SYNC, run_id, "job")
    worker = airflow.task_process(ti["id"])
    assert worker is not None, "no process titled 'airflow worker -- <ti id>'"

    worker.kill()

    assert airflow.wait_for_run(SYNC, run_id) == "success"
    assert airflow.task_instance(SYNC, run_id, "job")["try_number"] == 2
    jobs = jobs_of_run(braket, SYNC, run_id)
    assert len(jobs) == 1, jobs
    assert jobs[0]["status"] == "COMPLETED"
    assert "was started by an earlier try of this task; waiting on it" in log_of(airflow, SYNC, run_id, 2)
    assert airflow.xcom(SYNC, run_id, "job")["jobArn"] == jobs[0]["jobArn"]


def hold_the_quota(service: Any, braket: Any) -> list[str]:
    """Jobs of the account outside Airflow that take the whole concurrent-job quota."""
    script = upload_script(service.client("s3"), "behaviours.py")
    quota = json.loads(service.admin("GET", "/_local/limits"))["concurrentJobQuota"]
    requests = [job_request(script, "behaviours", hyperParameters={"mode": "sleep"}) for _ in range(quota)]
    return [braket.create_job(**request)["jobArn"] for request in requests]


def test_e_twelve_job_sweep_under_a_quota_of_three_all_succeed(
    airflow: AirflowDeployment, braket: Any, e2e_service: Any
) -> None:
    # The quota is met for sure, whatever the scheduler's pace (on a loaded machine twelve short
    # jobs can run without ever four at once): other jobs of the account hold it when the sweep
    # starts, and go once the service has answered the sweep's first CreateJob.
    blockers = hold_the_quota(e2e_service, braket)
    e2e_service.admin("DELETE", "/_local/calls")
    run_id = airflow.trigger("e2e_sweep")
    airflow.wait(
        lambda: json.loads(e2e_service.admin("GET", "/_local/calls")).get("braket:CreateJob", 0) >= 1,
        120,
        "the sweep's first CreateJob",
    )
    for blocker in blockers:
        braket.cancel_job(jobArn=blocker)

    assert airflow.wait_for_run("e2e_sweep", run_id, timeout=200) == "success"
    assert {braket.get_job(jobArn=blocker)["status"] for blocker in blockers} == {"CANCELLED"}
    tis = airflow.task_instances("e2e_sweep", run_id)
    assert sorted(ti["map_index"] for ti in tis) == list(range(12))
    assert {ti["state"] for ti in tis} == {"success"}
    jobs = jobs_of_run(braket, "e2e_sweep", run_id)
    assert len(jobs) == 12
    assert {job["status"] for job in jobs} == {"COMPLETED"}
    assert sorted(int(job["tags"]["airflow:map_index"]) for job in jobs) == list(range(12))
    refused = sum(
        "CreateJob refused (ServiceQuotaExceededException" in log_of(airflow, "e2e_sweep", run_id, 1, index)
        for index in range(12)
    )
    print(f"{refused} of 12 mapped tasks were refused for quota at least once and waited")
    assert refused > 0  # the quota really was met, and waited out


@pytest.mark.cancel_on_kill
def test_g_deferred_execution_timeout_cancels_the_job(airflow: AirflowDeployment, braket: Any) -> None:
    dag_id = "e2e_deferred_timeout"
    run_id = airflow.trigger(dag_id)

    assert airflow.wait_for_run(dag_id, run_id, timeout=120) == "failed"
    jobs = jobs_of_run(braket, dag_id, run_id)
    assert len(jobs) == 1
    AirflowDeployment.wait(
        lambda: braket.get_job(jobArn=jobs[0]["jobArn"])["status"] == "CANCELLED",
        15,
        "the job to be CANCELLED",
    )
    log = log_of(airflow, dag_id, run_id)
    assert "execution_timeout=0:00:20 reached while the task was deferred; cancelled hybrid job" in log


def test_f_example_dags_complete_with_30_percent_of_braket_calls_failing(
    airflow: AirflowDeployment, braket: Any, e2e_service: Any
) -> None:
    faults = {"operations": {"*": {"throttle": 0.1, "error": 0.1, "drop": 0.1}}, "seed": 30}
    e2e_service.admin("PUT", "/_local/faults", json.dumps(faults).encode())
    try:
        with contextlib.suppress(ApiError):  # it exists already on a second run
            airflow.api("POST", "/pools", {"name": "braket_jobs", "slots": 3, "include_deferred": True})
        vqe_run = airflow.trigger("braket_vqe")
        sweep_run = airflow.trigger("braket_qaoa_sweep", {"depths": [1, 2], "seeds": [1, 2]})

        assert airflow.wait_for_run("braket_vqe", vqe_run, timeout=240) == "success"
        assert airflow.wait_for_run("braket_qaoa_sweep", sweep_run, timeout=240) == "success"
        injected = json.loads(e2e_service.admin("GET", "/_local/faults"))["injected"]
    finally:
        e2e_service.admin("PUT", "/_local/faults", b'{"operations": {}}')

    print(f"faults injected into Braket API calls: {injected}")
    assert min(injected.get(kind, 0) for kind in ("throttle", "error", "drop")) > 0
    summary = airflow.xcom("braket_vqe", vqe_run, "post_process")
    assert summary["error"] < 1e-5  # the energy found is the exact ground state's
    best = airflow.xcom("braket_qaoa_sweep", sweep_run, "pick_best")
    assert best["jobs"] == 4
    assert best["best_cut"] == best["max_cut"] == 8
    assert len(jobs_of_run(braket, "braket_vqe", vqe_run)) == 1
    assert len(jobs_of_run(braket, "braket_qaoa_sweep", sweep_run)) == 4  # no duplicate from a retry
