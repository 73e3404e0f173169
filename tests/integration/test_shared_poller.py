"""Many JobStatusTriggers in one event loop share one poller: few Braket calls, the same events.

Calls are counted by the local service itself (``/_local/calls``), so retries and pages count too.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Coroutine
from typing import Any

import pytest
from dagrun import forwarded
from helpers import start_job, wait_for

from airflow_provider_braket.hooks.braket import BraketHook
from airflow_provider_braket.jobs.progress import created_epoch
from airflow_provider_braket.triggers import job_search
from airflow_provider_braket.triggers import poller as poller_module
from airflow_provider_braket.triggers.braket import JobStatusTrigger

pytestmark = pytest.mark.integration


@pytest.fixture
def service(own_service: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A service of this test, with ``braket_default`` pointed at it; start it with its limits."""

    def start(*extra_args: str) -> Any:
        own_service.extra_args = list(extra_args)
        own_service.start()
        monkeypatch.setenv("AIRFLOW_CONN_BRAKET_DEFAULT", own_service.connection_uri())
        return own_service

    return start


def calls(service: Any) -> dict[str, int]:
    return dict(json.loads(service.admin("GET", "/_local/calls")))


def trigger_for(job: dict[str, Any], with_created_at: bool = True, **kwargs: Any) -> JobStatusTrigger:
    return JobStatusTrigger(
        job_arn=job["jobArn"],
        job_name=job["jobName"],
        created_at=created_epoch(job) if with_created_at else None,
        **{"waiter_delay": 0.3, **kwargs},
    )


async def first_event(trigger: JobStatusTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def run(coroutine: Coroutine[Any, Any, Any], timeout: float = 120) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def test_twelve_triggers_share_one_poller_and_each_gets_its_own_outcome(
    service: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    local = service("--job-quota", "20", "--job-slots", "4")
    hook = BraketHook()
    modes = ["ok"] * 8 + ["fail"] * 4
    jobs = [start_job(hook, mode, f"share-{mode}-{n}-{uuid.uuid4().hex[:6]}") for n, mode in enumerate(modes)]
    # Half the triggers know when their job was created (as the operator and sensor pass it), half
    # do not (found by ARN first); one knows a wrong time (found with GetJob, then by the window).
    triggers = [trigger_for(job, with_created_at=n % 2 == 0) for n, job in enumerate(jobs)]
    triggers[0].created_at = time.time() - 3600
    local.admin("DELETE", "/_local/calls")
    seen_pollers: list[int] = []

    async def watch_all() -> list[dict[str, Any]]:
        watchers = [asyncio.ensure_future(first_event(trigger)) for trigger in triggers]
        await asyncio.sleep(0.2)
        seen_pollers.append(len(poller_module._pollers))
        poller = next(iter(poller_module._pollers.values()))
        seen_pollers.append(poller.watched)
        events = await asyncio.gather(*watchers)
        seen_pollers.append(poller.rounds)
        return events

    events = run(watch_all())

    assert seen_pollers[:2] == [1, len(jobs)]  # one poller, watching every job
    rounds = seen_pollers[2]
    for job, mode, event in zip(jobs, modes, events, strict=True):
        expected = "COMPLETED" if mode == "ok" else "FAILED"
        assert event["status"] == expected, (job["jobName"], event)
        if mode == "fail":
            assert "ValueError: the algorithm diverged" in event["failureReason"]
    output = capfd.readouterr().out
    for job, event in zip(jobs, events, strict=True):
        assert forwarded(output, f"Hybrid job {job['jobName']} is {event['status']}.") == 1
    # Each job's own lines reach the log once: 8 jobs printed "mode=ok pid=<their pid>".
    assert sum("] mode=ok pid=" in row for row in output.splitlines()) == 8
    assert poller_module._pollers == {}  # the last trigger to leave stopped it

    counted = calls(local)
    # GetJob: the 4 failure reasons, queue positions (once per job at most), the wrong time once,
    # and each trigger's read of its job's hyperparameters (to mask secrets) before its first line.
    assert counted.get("braket:GetJob", 0) <= 4 + 2 * len(jobs) + 1, counted
    # SearchJobs: the window, plus one by ARN for up to 10 unplaced jobs, per round.
    assert counted["braket:SearchJobs"] <= 2 * rounds, (counted, rounds)
    # One GetJob per job per round would have been 12 per round.
    braket_calls = sum(count for name, count in counted.items() if name.startswith("braket:"))
    assert braket_calls < 3 * rounds + 2 * len(jobs), (counted, rounds)


def test_a_queued_job_costs_no_log_calls(service: Any) -> None:
    local = service("--job-quota", "5", "--job-slots", "1")
    hook = BraketHook()
    blocker = start_job(hook, "sleep")
    wait_for(hook.conn, blocker["jobArn"], ("RUNNING",))
    queued = start_job(hook, "ok")
    local.admin("DELETE", "/_local/calls")
    try:
        timed_out = run(first_event(trigger_for(queued, waiter_delay=0.2, timeout_at=time.time() + 3)))
    finally:
        hook.cancel_job(blocker["jobArn"])
        hook.cancel_job(queued["jobArn"])
    assert timed_out["status"] == "timeout"
    assert timed_out["lastStatus"] == "QUEUED"
    counted = calls(local)
    # (the running blocker's own lines are shipped with PutLogEvents; nothing read them)
    assert "logs:DescribeLogStreams" not in counted, counted
    assert "logs:GetLogEvents" not in counted, counted
    assert counted["braket:SearchJobs"] >= 5  # it did look, every 0.2 s
    assert counted.get("braket:GetJob", 0) <= 1  # its queue position, once


def test_a_cancelled_trigger_unregisters_and_the_last_one_stops_the_poller(service: Any) -> None:
    service("--job-quota", "5", "--job-slots", "2")
    hook = BraketHook()
    jobs = [start_job(hook, "sleep") for _ in range(2)]

    async def cancel_one_then_the_other() -> list[Any]:
        first, second = (asyncio.ensure_future(first_event(trigger_for(job))) for job in jobs)
        await asyncio.sleep(1.5)
        poller = next(iter(poller_module._pollers.values()))
        observed: list[Any] = [poller.watched]
        first.cancel()
        await asyncio.wait([first])
        observed.append(poller.watched)
        task = poller._task
        second.cancel()
        await asyncio.wait([second])
        observed += [poller_module._pollers == {}, task is not None and task.done()]
        return observed

    try:
        assert run(cancel_one_then_the_other()) == [2, 1, True, True]
    finally:
        for job in jobs:
            hook.cancel_job(job["jobArn"])


def test_without_search_permission_the_poller_reads_each_job(service: Any) -> None:
    local = service("--job-quota", "5", "--job-slots", "2")
    # AccessDeniedException on every SearchJobs: a role without braket:SearchJobs.
    local.admin("PUT", "/_local/faults", json.dumps({"operations": {"SearchJobs": {"deny": 1.0}}}).encode())
    hook = BraketHook()
    jobs = [start_job(hook, "ok"), start_job(hook, "fail")]

    async def both() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(first_event(trigger_for(job)) for job in jobs)))

    events = run(both())
    assert [event["status"] for event in events] == ["COMPLETED", "FAILED"]
    counted = calls(local)
    assert counted["braket:SearchJobs"] == 1  # tried once, then GetJob only
    assert counted["braket:GetJob"] >= 2 + 2  # the two start_job reads, then the poller's


@pytest.mark.parametrize("told", [True, False], ids=["names-given", "names-unknown"])
def test_masking_secrets_costs_no_client_per_trigger_and_no_call_when_there_are_none(
    service: Any, told: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found (issue 27): the shared poller's calls and CPU had grown since it was measured: before
    its first forwarded line, each trigger read its job with GetJob on a client of its own (a new
    aiobotocore session each) to learn which values to mask. The operator now tells the trigger
    the secret-looking names (``[]``: no read at all), and a trigger that was not told reads the
    job on the poller's client."""
    local = service("--job-quota", "10", "--job-slots", "6")
    hook = BraketHook()
    jobs = [start_job(hook, "ok", f"mask-{n}-{uuid.uuid4().hex[:6]}") for n in range(6)]
    made: list[str] = []
    original = BraketHook._get_async_conn

    def counting(self: BraketHook) -> Any:
        made.append("braket")
        return original(self)

    monkeypatch.setattr(BraketHook, "_get_async_conn", counting)
    triggers = [trigger_for(job, secret_hyperparameters=[] if told else None) for job in jobs]
    local.admin("DELETE", "/_local/calls")

    async def watch_all() -> list[dict[str, Any]]:
        return await asyncio.gather(*(first_event(trigger) for trigger in triggers))

    events = run(watch_all())

    assert [event["status"] for event in events] == ["COMPLETED"] * 6
    assert made == ["braket"]  # the poller's client, and no other
    get_jobs = calls(local).get("braket:GetJob", 0)
    assert get_jobs == (0 if told else len(jobs)), calls(local)


def test_the_operator_tells_its_trigger_the_secret_looking_names_never_the_values() -> None:
    from airflow_provider_braket.utils.masking import secret_names

    job = {"hyperParameters": {"db_password": "hunter2", "api_key": "k", "depth": "2"}}
    assert secret_names(job) == ["api_key", "db_password"]
    assert secret_names({"hyperParameters": {"depth": "2"}}) == []
    assert secret_names({"jobArn": "a summary"}) is None  # unknown: the trigger reads the job
    trigger = JobStatusTrigger(job_arn="arn", job_name="n", secret_hyperparameters=secret_names(job))
    serialised = json.dumps(trigger.serialize()[1])
    assert "hunter2" not in serialised
    assert '"secret_hyperparameters": ["api_key", "db_password"]' in serialised


def test_jobs_that_ended_before_cost_the_poller_no_pages(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found (issue 27): each round paged through every job created in the watched jobs' window,
    ended ones included, so a sweep that had run for hours paid a page per 100 of its ended points
    every round (100 pages a round at 10,000). The window now lists only the jobs that have not
    ended; one that ended since the last round is found by ARN."""
    local = service("--job-quota", "20", "--job-slots", "8")
    monkeypatch.setattr(job_search, "PAGE_SIZE", 2)
    hook = BraketHook()
    first = start_job(hook, "sleep")
    ended = [start_job(hook, "ok") for _ in range(6)]
    last = start_job(hook, "sleep")
    try:
        for job in ended:
            wait_for(hook.conn, job["jobArn"], ("COMPLETED",))
        local.admin("DELETE", "/_local/calls")
        triggers = [trigger_for(job, waiter_delay=0.3, timeout_at=time.time() + 3) for job in (first, last)]

        async def watch_both() -> tuple[list[dict[str, Any]], int]:
            watchers = [asyncio.ensure_future(first_event(trigger)) for trigger in triggers]
            await asyncio.sleep(0.2)
            poller = next(iter(poller_module._pollers.values()))
            events = await asyncio.gather(*watchers)
            return events, poller.rounds

        events, rounds = run(watch_both())
    finally:
        hook.cancel_job(first["jobArn"])
        hook.cancel_job(last["jobArn"])
    assert [event["status"] for event in events] == ["timeout", "timeout"]
    # The first round lists every status (4 pages of 2: nothing is known of the window yet); then
    # the two running jobs fit one page, where the 6 ended ones between them would be 3 pages more.
    assert calls(local)["braket:SearchJobs"] <= 4 + (rounds - 1) + 1, (calls(local), rounds)


def test_a_sweep_mostly_queued_costs_a_page_of_its_running_and_ended_jobs_a_round(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep far above the concurrent-job quota is nearly all QUEUED for most of its run: each
    round paged through every queued point (10 pages at 1,000 points) to find the few that had
    started or ended. Once a round has seen them queued, later rounds list every status but QUEUED,
    and a job cancelled while queued, or one that starts, is still seen in the round after."""
    local = service("--job-quota", "20", "--job-slots", "1")
    monkeypatch.setattr(job_search, "PAGE_SIZE", 2)
    hook = BraketHook()
    jobs = [start_job(hook, "sleep") for _ in range(7)]  # 1 running, 6 queued: 4 pages of 2
    wait_for(hook.conn, jobs[0]["jobArn"], ("RUNNING",))
    try:
        local.admin("DELETE", "/_local/calls")
        triggers = [trigger_for(job, waiter_delay=0.3, timeout_at=time.time() + 6) for job in jobs]

        async def watch_all() -> tuple[list[dict[str, Any]], int]:
            watchers = [asyncio.ensure_future(first_event(trigger)) for trigger in triggers]
            await asyncio.sleep(1.5)
            poller = next(iter(poller_module._pollers.values()))
            # Cancelled while queued (it never runs), and the running one, so the next one starts.
            await asyncio.to_thread(hook.cancel_job, jobs[3]["jobArn"])
            await asyncio.to_thread(hook.cancel_job, jobs[0]["jobArn"])
            events = await asyncio.gather(*watchers)
            return list(events), poller.rounds

        events, rounds = run(watch_all())
        counted = calls(local)
    finally:
        for job in jobs:
            hook.cancel_job(job["jobArn"])
    outcomes = [event["status"] for event in events]
    assert outcomes[0] == outcomes[3] == "CANCELLED", events
    assert outcomes[1:3] + outcomes[4:] == ["timeout"] * 5, events
    assert events[1]["lastStatus"] == "RUNNING", events  # the next in the queue was seen starting
    assert [event["lastStatus"] for event in events[2:3] + events[4:]] == ["QUEUED"] * 4, events
    # The first round: every status, its ended ones first (1 + 4 pages of 2). Then a page or two a
    # round: the running job and the two cancelled. Before: 4 pages every round.
    assert counted["braket:SearchJobs"] <= 5 + 2 * (rounds - 1), (counted, rounds)
    # Each queued job's position once, and the trigger's read of its running job's hyperparameters
    # (the names to mask; an operator tells its trigger them, this test does not).
    assert counted.get("braket:GetJob", 0) <= 6 + 1, (counted, rounds)


def test_the_poller_keeps_within_its_status_budget(service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS allows GetJob and SearchJobs 5 calls a second each per account: a triggerer watching
    many thousands of jobs must not spend more than ``[braket] status_requests_per_second``
    however short its poll interval, whatever a round's pages cost."""
    local = service("--job-quota", "20", "--job-slots", "2")
    monkeypatch.setattr(job_search, "PAGE_SIZE", 1)
    monkeypatch.setenv("AIRFLOW__BRAKET__STATUS_REQUESTS_PER_SECOND", "5")
    hook = BraketHook()
    jobs = [start_job(hook, "sleep") for _ in range(6)]  # 2 running, 4 queued: 6 pages a round
    try:
        local.admin("DELETE", "/_local/calls")
        started = time.monotonic()
        triggers = [trigger_for(job, waiter_delay=0.2, timeout_at=time.time() + 4) for job in jobs]

        async def watch_all() -> list[dict[str, Any]]:
            return list(await asyncio.gather(*(first_event(trigger) for trigger in triggers)))

        events = run(watch_all())
        elapsed = time.monotonic() - started
    finally:
        for job in jobs:
            hook.cancel_job(job["jobArn"])
    assert {event["status"] for event in events} == {"timeout"}
    counted = calls(local)
    reads = counted.get("braket:SearchJobs", 0) + counted.get("braket:GetJob", 0)
    # Unpaced, 6 pages every 0.2 s would be 30 a second.
    assert reads <= 5 * elapsed + 2, (counted, elapsed)
    assert reads >= 6  # it did read


def test_a_running_job_s_streams_are_looked_for_again_only_every_few_reads(
    service: Any, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found (issue 27): every read of a running job's lines began with a DescribeLogStreams (the
    Logs call with the tightest quota, 5 a second per account), though a job's streams appear as
    it starts. Once some are known they are looked for again every 10th read and at the last one;
    every line still reaches the task log once."""
    local = service("--job-quota", "5", "--job-slots", "2")
    monkeypatch.setenv("AIRFLOW__BRAKET__LOG_REQUESTS_PER_SECOND", "50")  # a read every 0.2 s
    hook = BraketHook()
    job = start_job(hook, "count", ticks=60, tick_seconds=0.1)
    wait_for(hook.conn, job["jobArn"], ("RUNNING",))
    local.admin("DELETE", "/_local/calls")
    trigger = trigger_for(job, waiter_delay=0.2)
    event = run(first_event(trigger))
    assert event["status"] == "COMPLETED"
    counted = calls(local)
    reads = counted["logs:GetLogEvents"]  # at least one per read of its single stream
    assert reads >= 10, counted
    # Before: one per read.
    assert counted["logs:DescribeLogStreams"] <= reads // 10 + 2, counted
    output = capfd.readouterr().out
    assert [forwarded(output, f"count {tick}") for tick in range(60)] == [1] * 60
