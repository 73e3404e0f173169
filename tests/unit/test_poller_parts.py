"""Unit tests of the shared poller's small parts; its rounds run against the local service in
tests/integration/test_shared_poller.py."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Any

from airflow_provider_braket.jobs.models import format_timestamp, validate_search_jobs
from airflow_provider_braket.jobs.progress import created_epoch
from airflow_provider_braket.triggers.braket import JobStatusTrigger
from airflow_provider_braket.triggers.job_watch import JobWatch, RateBudget, Tracked
from airflow_provider_braket.triggers.poller import PollerKey
from airflow_provider_braket.utils.shielding import set_within


def test_rate_budget_spaces_all_callers_together() -> None:
    budget = RateBudget(per_second=20)

    async def ten_calls_from_five_callers() -> float:
        started = time.monotonic()

        async def caller() -> None:
            await budget.spend()
            await budget.spend()

        await asyncio.gather(*(caller() for _ in range(5)))
        return time.monotonic() - started

    elapsed = asyncio.run(ten_calls_from_five_callers())
    assert elapsed >= 9 * 0.05 - 0.01  # the first goes at once, then one every 50 ms
    assert budget.backlog() <= 0.05


def test_triggers_with_the_same_connection_share_a_key() -> None:
    one = PollerKey.of("braket_default", "us-east-1", None, {"retries": {"max_attempts": 3}, "a": 1})
    same = PollerKey.of("braket_default", "us-east-1", None, {"a": 1, "retries": {"max_attempts": 3}})
    other = PollerKey.of("braket_other", "us-east-1", None, None)
    assert one == same
    assert hash(one) == hash(same)
    assert one != other
    assert other.make_hook().aws_conn_id == "braket_other"


def test_a_job_ended_only_once_its_failure_reason_is_known() -> None:
    tracked = Tracked()
    tracked.job = {"status": "FAILED", "jobName": "x"}  # a summary: no failureReason yet
    assert not tracked.ended
    tracked.job = {"status": "FAILED", "jobName": "x", "failureReason": "diverged"}
    assert tracked.ended
    tracked.job = {"status": "COMPLETED", "jobName": "x"}
    assert tracked.ended
    tracked.job = {"status": "CANCELLING", "jobName": "x"}
    assert not tracked.ended


def test_creation_times_round_trip_through_the_search_filter() -> None:
    created = datetime(2026, 11, 25, 6, 7, 8, 123000, tzinfo=timezone.utc)
    assert created_epoch({"createdAt": created}) == created.timestamp()
    assert created_epoch({"createdAt": "2026-11-25T06:07:08.123Z"}) == created.timestamp()
    assert created_epoch({}) is None
    stamp = format_timestamp(created)
    assert stamp == "2026-11-25T06:07:08.123Z"
    validate_search_jobs(
        {"filters": [{"name": "createdAt", "operator": "BETWEEN", "values": [stamp, stamp]}]}
    )


def test_the_trigger_carries_the_creation_time_through_serialisation() -> None:
    trigger = JobStatusTrigger(
        job_arn="arn:aws:braket:us-east-1:123456789012:job/x", job_name="x", created_at=1.5
    )
    _, kwargs = trigger.serialize()
    assert kwargs["created_at"] == 1.5
    assert JobStatusTrigger(**kwargs).created_at == 1.5


def test_urgent_reads_go_before_routine_ones() -> None:
    budget = RateBudget(per_second=20)
    order: list[str] = []

    async def read(name: str, urgent: bool) -> None:
        await budget.spend(urgent=urgent)
        order.append(name)

    async def routine_queue_then_one_urgent() -> None:
        routine = [asyncio.ensure_future(read(f"routine {n}", False)) for n in range(4)]
        await asyncio.sleep(0)
        await asyncio.gather(read("final", True), *routine)

    asyncio.run(routine_queue_then_one_urgent())
    assert order.index("final") <= 1  # at most the one read already under way went first


def test_a_job_that_never_started_has_no_log_lines_to_read() -> None:
    from airflow_provider_braket.jobs.progress import wants_logs

    assert not wants_logs({"status": "CANCELLED"})  # cancelled while QUEUED
    assert not wants_logs({"status": "QUEUED"})
    assert wants_logs({"status": "RUNNING"})
    assert wants_logs({"status": "COMPLETED", "startedAt": "2026-11-25T06:00:00Z"})


def test_a_trigger_cancelled_as_its_poller_wakes_it_is_cancelled_with_the_message() -> None:
    """Before Python 3.12, ``asyncio.wait_for`` returned the result and dropped a cancel that came
    in the same loop step as the result: a trigger woken by its poller at the moment Airflow 3.3
    cancelled it for a user's action ran on, and its job was never cancelled."""

    async def scenario() -> tuple[Any, ...]:
        watch = JobWatch("arn:job", 1.0, None)  # type: ignore[arg-type]
        waiting = asyncio.ensure_future(watch.changed(timeout=10))
        for _ in range(3):
            await asyncio.sleep(0)
        watch._changed.set()  # the poller's news ...
        waiting.cancel("__airflow_user_action__")  # ... and the user's action, in one loop step
        try:
            await waiting
        except asyncio.CancelledError as cancelled:
            return cancelled.args
        raise AssertionError("the cancel was dropped: the trigger would run on")

    assert asyncio.run(scenario()) == ("__airflow_user_action__",)


def test_set_within_reports_the_event_or_the_timeout() -> None:
    async def scenario() -> tuple[bool, bool, float]:
        event = asyncio.Event()
        started = time.monotonic()
        timed_out = await set_within(event, 0.05)
        waited = time.monotonic() - started
        asyncio.get_running_loop().call_later(0.01, event.set)
        return timed_out, await set_within(event, 5), waited

    timed_out, woken, waited = asyncio.run(scenario())
    assert (timed_out, woken) == (False, True)
    assert waited >= 0.05
