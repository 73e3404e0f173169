"""JobStatusTrigger run directly on an event loop, and HybridJobSensor through dag.test()."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from dagrun import forwarded, load, run, states, xcoms
from helpers import TERMINAL, start_job, wait_for

from airflow_provider_braket.hooks.braket import BraketHook
from airflow_provider_braket.triggers.braket import JobStatusTrigger
from airflow_provider_braket.version_compat import AIRFLOW_V_3_3_PLUS

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("braket_connection")]


def start(mode: str) -> dict:
    return start_job(BraketHook(), mode, f"trig-{mode}-{uuid.uuid4().hex[:8]}")


def first_event(trigger: JobStatusTrigger, timeout: float = 90) -> dict:
    async def consume() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(consume(), timeout))


def test_fires_once_with_the_final_status_and_forwards_log_lines(capfd: pytest.CaptureFixture[str]) -> None:
    job = start("metrics")
    trigger = JobStatusTrigger(job_arn=job["jobArn"], job_name=job["jobName"], waiter_delay=0.3)
    event = first_event(trigger)

    assert event == {"status": "COMPLETED", "jobArn": job["jobArn"], "failureReason": None}
    output = capfd.readouterr().out
    assert forwarded(output, f"Hybrid job {job['jobName']} is COMPLETED.") == 1
    for line in ["mode=metrics", *(f"line {n}" for n in range(40))]:
        assert forwarded(output, line) == 1, line
    assert next(iter(trigger.log_positions.values()))["timestamp"] > 0


def test_failure_reason_reaches_the_event() -> None:
    job = start("fail")
    event = first_event(JobStatusTrigger(job_arn=job["jobArn"], job_name=job["jobName"], waiter_delay=0.3))
    assert event["status"] == "FAILED"
    assert "ValueError: the algorithm diverged" in event["failureReason"]


def test_rides_out_throttling_errors_and_dropped_connections(local_service) -> None:
    job = start("ok")
    every_read_fails = {"throttle": 0.34, "error": 0.33, "drop": 0.33}
    faults = {"operations": {"GetJob": every_read_fails, "SearchJobs": every_read_fails}}
    local_service.admin("PUT", "/_local/faults", json.dumps(faults).encode())
    trigger = JobStatusTrigger(
        job_arn=job["jobArn"],
        job_name=job["jobName"],
        waiter_delay=0.2,
        # Few botocore retries, so failures surface to the trigger's own backoff.
        botocore_config={"retries": {"mode": "standard", "max_attempts": 2}},
    )

    async def lift_faults_later() -> dict:
        watcher = asyncio.ensure_future(_first(trigger))
        await asyncio.sleep(3)
        assert not watcher.done()  # every read fails: the trigger waits instead of failing
        local_service.admin("PUT", "/_local/faults", b'{"operations": {}}')
        return await asyncio.wait_for(watcher, 120)

    try:
        event = asyncio.run(lift_faults_later())
    finally:
        local_service.admin("PUT", "/_local/faults", b'{"operations": {}}')
    assert event["status"] == "COMPLETED"


async def _first(trigger: JobStatusTrigger) -> dict:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("no event")


def test_timeout_and_unknown_job_events() -> None:
    job = start("sleep")
    try:
        timed_out = first_event(
            JobStatusTrigger(
                job_arn=job["jobArn"],
                job_name=job["jobName"],
                waiter_delay=0.2,
                # Room for the poller's first round to find the job by ARN (no created_at given)
                # on a loaded machine: with 2 s, CI once timed out before any status (lastStatus None).
                timeout_at=time.time() + 6,
                timeout_reason="waiter_max_attempts",
            )
        )
        assert timed_out == {
            "status": "timeout",
            "jobArn": job["jobArn"],
            "lastStatus": timed_out["lastStatus"],
            "reason": "waiter_max_attempts",
        }
        assert timed_out["lastStatus"] in ("QUEUED", "RUNNING")
    finally:
        BraketHook().cancel_job(job["jobArn"])
    missing = "arn:aws:braket:us-east-1:123456789012:job/no-such-job"
    event = first_event(JobStatusTrigger(job_arn=missing, job_name="x", waiter_delay=0.2))
    assert event["status"] == "error"
    assert "ResourceNotFoundException" in event["message"]


def test_on_kill_without_a_task_instance_leaves_the_job_running() -> None:
    # Under dag.test() (and in any context where the task's state cannot be read) there is no
    # proof the task left DEFERRED, so nothing is cancelled.
    job = start("sleep")
    trigger = JobStatusTrigger(job_arn=job["jobArn"], job_name=job["jobName"])
    asyncio.run(trigger.on_kill())
    try:
        assert BraketHook().get_job(job["jobArn"])["status"] in ("QUEUED", "RUNNING")
    finally:
        BraketHook().cancel_job(job["jobArn"])


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_sensor_waits_for_an_existing_job(deferrable: bool) -> None:
    mode = "deferrable" if deferrable else "sync"
    ok = start("ok")
    dag_run = run(load(f"test_sensor_{mode}"), run_conf={"job_arn": ok["jobArn"]})
    assert states(dag_run) == {("sensor", -1): "success"}
    summary = xcoms(dag_run)[("sensor", -1)]
    assert summary["jobArn"] == ok["jobArn"]
    assert summary["status"] == "COMPLETED"

    failing = start("fail")
    wait_for(BraketHook().conn, failing["jobArn"])
    dag_run = run(load(f"test_sensor_{mode}"), run_conf={"job_arn": failing["jobArn"]})
    assert states(dag_run) == {("sensor", -1): "failed"}


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_the_sensor_returns_what_the_operator_returns_for_the_same_job(deferrable: bool) -> None:
    mode = "deferrable" if deferrable else "sync"
    created = run(load("test_job_sync"), run_conf={"mode": "metrics"})
    from_operator = xcoms(created)[("job", -1)]
    assert from_operator["results"] == {"mode": "metrics"}

    sensed = run(load(f"test_sensor_{mode}"), run_conf={"job_arn": from_operator["jobArn"]})

    assert states(sensed) == {("sensor", -1): "success"}
    assert xcoms(sensed)[("sensor", -1)] == from_operator


class _TaskMarkedFailed(JobStatusTrigger):
    """The trigger as it runs in a triggerer whose task a user has just marked failed. The task's
    state is read from the triggerer's supervisor, which does not exist outside a triggerer; that
    read is covered end to end by tests/e2e and tests/production."""

    #: Seconds the state read takes (a supervisor call, and the api-server behind it).
    state_read_seconds = 0.0

    async def _task_state(self) -> str | None:
        await asyncio.sleep(self.state_read_seconds)
        return "failed"


def _hold_in_thread(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, call: int = 1
) -> tuple[threading.Event, threading.Event]:
    """Make the ``call``-th call of ``owner.name`` (a function the trigger runs in a worker thread)
    wait until released: the user's action then lands exactly while the trigger waits for it."""
    entered, release = threading.Event(), threading.Event()
    original = getattr(owner, name)
    calls = itertools.count(1)

    def held(*args: Any, **kwargs: Any) -> Any:
        if next(calls) == call:
            entered.set()
            release.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)
    return entered, release


@pytest.fixture
def running_sleeper(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A RUNNING job that sleeps until cancelled, and Airflow's trigger runner ready to run here
    (greenback's portal is what a real triggerer sets up for sync calls; these triggers make none)."""
    monkeypatch.setenv("AIRFLOW_DISABLE_GREENBACK_PORTAL", "true")
    job = start("sleep")
    wait_for(BraketHook().conn, job["jobArn"], ("RUNNING",))
    yield job
    BraketHook().cancel_job(job["jobArn"])


def _run_by_airflow(trigger: JobStatusTrigger) -> asyncio.Future[None]:
    """The trigger run by Airflow's own ``TriggerRunner.run_trigger``, as a triggerer runs it."""
    from airflow.jobs.triggerer_job_runner import TriggerRunner

    runner = TriggerRunner()
    runner.triggers = {1: {"task": None, "is_watcher": False, "name": "sleeper", "events": 0}}  # type: ignore[typeddict-item]
    return asyncio.ensure_future(runner.run_trigger(1, trigger))


async def _ends_cancelled(job_arn: str) -> None:
    """The job ends CANCELLED while the event loop runs on, as a triggerer's does after a trigger
    ended (work a trigger left running finishes there)."""
    ended = await asyncio.to_thread(wait_for, BraketHook().conn, job_arn, TERMINAL, 60)
    assert ended["status"] == "CANCELLED"


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="Airflow < 3.3 has no on_kill for triggers")
def test_a_task_marked_failed_while_its_trigger_waits_on_a_thread_cancels_the_job(
    running_sleeper: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow 3.3 calls on_kill only if the trigger's CancelledError still carries its message.
    asgiref's sync_to_async, which the Amazon provider uses to read the connection, replaced it by
    a bare CancelledError: in CI a sleeper's task was marked failed and its job ran on. (That read
    was the trigger's own client for the GetJob before it registers the job's secrets; the trigger
    now reads the job on the poller's client, so its one wait on a thread is the registration.)"""
    from airflow.jobs.triggerer_job_runner import _USER_ACTION_CANCEL_MSG

    import airflow_provider_braket.triggers.log_secrets as log_secrets

    waiting_in = "secret registration"
    entered, release = _hold_in_thread(monkeypatch, log_secrets, "mask_secret_hyperparameters")
    job = running_sleeper
    trigger = _TaskMarkedFailed(job_arn=job["jobArn"], job_name=job["jobName"], waiter_delay=0.2)

    async def user_marks_the_task_failed() -> None:
        running = _run_by_airflow(trigger)
        assert await asyncio.to_thread(entered.wait, 60), f"the trigger never reached the {waiting_in}"
        running.cancel(_USER_ACTION_CANCEL_MSG)  # what the triggerer does when the task leaves DEFERRED
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await running
        await _ends_cancelled(job["jobArn"])

    asyncio.run(asyncio.wait_for(user_marks_the_task_failed(), 120))


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="Airflow < 3.3 has no on_kill for triggers")
def test_on_kill_outlasts_the_cancel_airflow_sends_again_each_loop(running_sleeper: dict[str, Any]) -> None:
    """Airflow 3.3.2's triggerer sends a trigger's cancel again with every sync until the trigger
    has ended (``TriggerStateSync.to_cancel``, about once a second), and each one lands in the
    running on_kill, which Airflow then abandons without a word. In CI a state read and a CancelJob
    under load took longer than that; the CancelJob was cut short and the job of a task marked
    failed ran on."""
    from airflow.jobs.triggerer_job_runner import _USER_ACTION_CANCEL_MSG

    job = running_sleeper
    trigger = _TaskMarkedFailed(job_arn=job["jobArn"], job_name=job["jobName"], waiter_delay=0.2)
    trigger.state_read_seconds = 1.5

    async def user_marks_the_task_failed() -> None:
        running = _run_by_airflow(trigger)
        await asyncio.sleep(2)  # it watches the job
        assert not running.done()
        while not running.done():  # the triggerer's loop, cancelling again until the trigger ends
            running.cancel(_USER_ACTION_CANCEL_MSG)
            await asyncio.sleep(0.3)
        with pytest.raises(asyncio.CancelledError):
            await running
        await _ends_cancelled(job["jobArn"])

    asyncio.run(asyncio.wait_for(user_marks_the_task_failed(), 120))
