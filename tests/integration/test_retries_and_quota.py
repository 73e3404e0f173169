"""One job per task instance across tries, quota-aware submission, and execution_timeout.

Tries of one task instance are played here by calling ``execute`` with the same task identity and
a growing try number (a stand-in for the task instance Airflow would pass: what a crashed worker
leaves behind cannot be produced by ``dag.test()``). The same stories in a real deployment, with
real crashes, are tests/e2e/test_reliability.py.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from dagrun import load, run, states
from helpers import JOBS_DIR, start_job, wait_for

from airflow_provider_braket.hooks.braket import BraketHook
from airflow_provider_braket.operators.braket import CreateHybridJobOperator
from airflow_provider_braket.utils.identity import TaskIdentity

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]
LOCAL_DEVICE = "local:braket/braket.local.qubit"


def context_of(run_id: str, try_number: int) -> dict[str, Any]:
    started = datetime.now(timezone.utc)
    ti = SimpleNamespace(
        dag_id="retries",
        task_id="job",
        run_id=run_id,
        map_index=-1,
        try_number=try_number,
        start_date=started,
    )
    return {"ti": ti, "dag_run": SimpleNamespace(start_date=started)}


def operator(mode: str, **kwargs: Any) -> CreateHybridJobOperator:
    return CreateHybridJobOperator(
        task_id="job",
        device=LOCAL_DEVICE,
        source_module=str(JOBS_DIR / "behaviours.py"),
        hyperparameters={"mode": mode, "ticks": 4},
        waiter_delay=0.5,
        **kwargs,
    )


def jobs_of_run(run_id: str) -> list[dict[str, Any]]:
    identity = TaskIdentity("retries", "job", run_id, -1, 1, datetime.now(timezone.utc))
    return identity.find_jobs(BraketHook()).jobs


@pytest.mark.usefixtures("braket_connection")
def test_a_new_try_waits_on_the_running_job_of_an_earlier_try() -> None:
    run_id = f"run-{uuid.uuid4()}"
    first = operator("count", wait_for_completion=False).execute(context_of(run_id, 1))  # then "crashed"
    assert first["status"] in ("QUEUED", "RUNNING")

    second = operator("count").execute(context_of(run_id, 2))

    assert second["jobArn"] == first["jobArn"]
    assert second["status"] == "COMPLETED"
    assert [job["jobArn"] for job in jobs_of_run(run_id)] == [first["jobArn"]]


@pytest.mark.usefixtures("braket_connection")
def test_a_completed_job_is_reused_only_when_asked() -> None:
    run_id = f"run-{uuid.uuid4()}"
    first = operator("ok").execute(context_of(run_id, 1))

    reused = operator("ok", reuse_completed=True).execute(context_of(run_id, 2))
    assert reused["jobArn"] == first["jobArn"]
    assert reused["results"] == {"mode": "ok"}
    assert len(jobs_of_run(run_id)) == 1

    again = operator("ok").execute(context_of(run_id, 3))
    assert again["jobArn"] != first["jobArn"]
    assert len(jobs_of_run(run_id)) == 2


@pytest.mark.usefixtures("braket_connection")
def test_after_a_failed_job_the_next_try_creates_a_new_one() -> None:
    run_id = f"run-{uuid.uuid4()}"
    with pytest.raises(Exception, match="FAILED"):
        operator("fail").execute(context_of(run_id, 1))

    second = operator("ok").execute(context_of(run_id, 2))

    statuses = sorted(job["status"] for job in jobs_of_run(run_id))
    assert statuses == ["COMPLETED", "FAILED"]
    assert second["status"] == "COMPLETED"


@pytest.mark.usefixtures("braket_connection")
def test_the_same_try_resending_its_request_creates_nothing_new() -> None:
    hook = BraketHook()
    identity = TaskIdentity("retries", "job", f"run-{uuid.uuid4()}", -1, 1)
    from airflow_provider_braket.jobs.request import HybridJobSpec, JobLocation

    location = JobLocation(hook.default_bucket(), "token", "1")
    hook.upload_source_module(JOBS_DIR / "behaviours.py", location)
    spec = HybridJobSpec(
        device=LOCAL_DEVICE, entry_point="behaviours", job_name="token", tags=identity.tags()
    )
    request = spec.request(location, hook.jobs_role_arn(), identity.client_token())

    assert hook.create_job(request) == hook.create_job(request)


@pytest.fixture
def quota_of_one(own_service: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A service that runs one job at a time, holding one already, and braket_default pointed at it."""
    own_service.extra_args = ["--job-quota", "1"]
    own_service.start()
    monkeypatch.setenv("AIRFLOW_CONN_BRAKET_DEFAULT", own_service.connection_uri())
    blocker = start_job(BraketHook(), "count", ticks=300)  # each test releases it itself
    wait_for(BraketHook().conn, blocker["jobArn"], ("RUNNING",))
    return blocker


def release_later(job_arn: str, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, lambda: BraketHook().cancel_job(job_arn))
    timer.start()
    return timer


def test_over_quota_a_sync_task_waits_and_submits_again(
    quota_of_one: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    release_later(quota_of_one["jobArn"], 3)
    started = time.monotonic()

    job = operator("ok").execute(context_of(f"run-{uuid.uuid4()}", 1))

    assert job["status"] == "COMPLETED"
    assert time.monotonic() - started > 3
    output = capfd.readouterr().out
    assert "CreateJob refused (ServiceQuotaExceededException" in output
    assert "submit_timeout=3600 s left" in output


def release_after_first_refusal(service: Any, job_arn: str, timeout: float = 120) -> threading.Thread:
    """Cancel ``job_arn`` once the service has answered a second CreateJob (the blocker's was the
    first): the task has then met the quota, whatever the time its DAG took to start."""

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if json.loads(service.admin("GET", "/_local/calls")).get("braket:CreateJob", 0) >= 2:
                break
            time.sleep(0.2)
        BraketHook().cancel_job(job_arn)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_over_quota_a_deferrable_task_defers_on_a_timer_and_submits_again(
    quota_of_one: dict[str, Any], own_service: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    # Released by the service's own call count, not a timer: parsing the test DAGs under load
    # once took longer than a 20 s blocker ran, and the task never met the quota.
    watcher = release_after_first_refusal(own_service, quota_of_one["jobArn"])

    dag_run = run(load("test_job_deferrable"), run_conf={"mode": "ok"})
    watcher.join(timeout=10)

    assert states(dag_run) == {("job", -1): "success"}
    output = capfd.readouterr().out
    assert "CreateJob refused (ServiceQuotaExceededException" in output
    assert "Pausing task as DEFERRED" in output


def test_when_submit_timeout_runs_out_the_task_fails_and_no_job_is_left(quota_of_one: dict[str, Any]) -> None:
    from airflow.providers.common.compat.sdk import AirflowException

    run_id = f"run-{uuid.uuid4()}"
    with pytest.raises(AirflowException, match=r"submit_timeout=2 s is used up\. Last refusal: ServiceQuota"):
        operator("ok", submit_timeout=2).execute(context_of(run_id, 1))

    assert jobs_of_run(run_id) == []
    BraketHook().cancel_job(quota_of_one["jobArn"])


@pytest.mark.usefixtures("braket_connection")
def test_execution_timeout_in_a_worker_cancels_the_job(capfd: pytest.CaptureFixture[str]) -> None:
    dag_run = run(load("test_execution_timeout_sync"))

    assert states(dag_run) == {("job", -1): "failed"}
    output = capfd.readouterr().out
    message = "execution_timeout=0:00:06 reached while the task waited in a worker; cancelled hybrid job "
    assert message in output
    job_arn = output.split(message)[1].split(" ")[0]
    assert wait_for(BraketHook().conn, job_arn)["status"] == "CANCELLED"


def lift_faults_after_throttles(service: Any, throttles: int, deadline_s: float = 120) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        injected = json.loads(service.admin("GET", "/_local/faults"))["injected"]
        if injected.get("throttle", 0) >= throttles:
            break
        time.sleep(0.2)
    service.admin("PUT", "/_local/faults", b'{"operations": {}}')


def test_throttling_that_outlasts_botocore_retries_is_waited_out(
    own_service: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    own_service.start()
    monkeypatch.setenv("AIRFLOW_CONN_BRAKET_DEFAULT", own_service.connection_uri())
    every_create_throttled = {"operations": {"CreateJob": {"throttle": 1.0}}}
    own_service.admin("PUT", "/_local/faults", json.dumps(every_create_throttled).encode())
    # Lifted once the service has refused at least twice, not after a fixed time: on a loaded
    # machine the operator's first call can come later than any fixed delay.
    threading.Thread(target=lift_faults_after_throttles, args=(own_service, 2), daemon=True).start()
    run_id = f"run-{uuid.uuid4()}"

    # One botocore attempt, so that throttling reaches the operator at once.
    job = operator("ok", botocore_config={"retries": {"mode": "standard", "max_attempts": 1}}).execute(
        context_of(run_id, 1)
    )

    assert job["status"] == "COMPLETED"
    assert "CreateJob refused (ThrottlingException" in capfd.readouterr().out
    assert [found["jobArn"] for found in jobs_of_run(run_id)] == [job["jobArn"]]
