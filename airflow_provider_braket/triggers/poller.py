"""JobPoller: one per triggerer process and connection, watching every deferred Braket job at once.

A triggerer may run hundreds of :class:`~airflow_provider_braket.triggers.braket.JobStatusTrigger`
at a time (a parameter sweep), while Braket allows GetJob and SearchJobs only 5 requests per second
per account. So the triggers do not poll on their own: each registers its job with the poller of
its connection, which owns one Braket client and one CloudWatch Logs client and, every poll
interval, learns the status of all registered jobs from

- SearchJobs pages over the window of their creation times, of every status, of only the jobs
  not ended, or of every status but QUEUED, whichever cost fewer calls (:mod:`.job_search`);
- one SearchJobs per 10 jobs those pages did not return (ended since the last round, or not placed
  in the window yet: ``jobArn EQUAL``);
- GetJob only for jobs no search returned, for a job that FAILED (its ``failureReason``), and for
  the queue position of a few QUEUED jobs a round (each refreshed at most every 5 minutes).

All of these calls together keep within ``[braket] status_requests_per_second`` (AWS allows GetJob
and SearchJobs 5 each per second per account): when the jobs are so many that a round's pages take
longer than the poll interval, rounds follow each other as the budget allows.

It wakes a trigger when its job's status, queue position or failure reason changed, and when a
read failed and is being retried. Log lines stay per job, read by the trigger itself while its job
runs, on the poller's logs client and within one rate budget for the whole process
(``[braket] log_requests_per_second``). The poller starts with the first trigger of its
connection and stops when the last one leaves.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from airflow_provider_braket.hooks.connection import ConnectionParams, is_transient_error
from airflow_provider_braket.jobs.logs import LogCursor
from airflow_provider_braket.jobs.models import JobListing
from airflow_provider_braket.jobs.progress import Backoff, created_epoch
from airflow_provider_braket.triggers.job_search import RoundSearch
from airflow_provider_braket.triggers.job_watch import JobWatch, RateBudget, Tracked
from airflow_provider_braket.utils.settings import braket_float
from airflow_provider_braket.utils.shielding import set_within

log = logging.getLogger(__name__)

# Triggers that a triggerer starts together register before the first search, and share it: the
# first round waits until none has registered for FIRST_ROUND_DELAY, at most FIRST_ROUND_MAX_DELAY
# (a restarted triggerer resumes thousands over seconds; those late for the first round would wait
# a whole interval for the second).
FIRST_ROUND_DELAY = 0.5
FIRST_ROUND_MAX_DELAY = 10.0
JITTER = 0.1
QUEUE_POSITION_MAX_AGE = 300.0
QUEUE_POSITIONS_PER_ROUND = 2
GET_JOB_CONCURRENCY = 4
# What the triggers read of a job: kept alone, not its tags and device (10,000 jobs: ~10 MiB).
WATCHED_FIELDS = (
    "jobArn",
    "jobName",
    "status",
    "createdAt",
    "startedAt",
    "endedAt",
    "failureReason",
    "queueInfo",
)


# Triggers with equal connection parameters share one poller.
PollerKey = ConnectionParams


class JobPoller:
    """Learns the status of every job its triggers watch, in rounds; see the module docstring.

    :param key: The connection all its triggers share.
    :param log_requests_per_second: CloudWatch Logs calls per second for all log forwarding;
        ``[braket] log_requests_per_second`` unless given.
    :param status_requests_per_second: SearchJobs and GetJob calls per second for all its rounds
        and its triggers' reads; ``[braket] status_requests_per_second`` unless given.
    """

    def __init__(
        self,
        key: PollerKey,
        log_requests_per_second: float | None = None,
        status_requests_per_second: float | None = None,
    ):
        if log_requests_per_second is None:
            log_requests_per_second = braket_float("log_requests_per_second")
        if status_requests_per_second is None:
            status_requests_per_second = braket_float("status_requests_per_second")
        self.key = key
        self.hook = key.make_hook()
        self.log_budget = RateBudget(log_requests_per_second)
        self.status_budget = RateBudget(status_requests_per_second)
        self._tracked: dict[str, Tracked] = {}
        self._task: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._clients_ready = asyncio.Event()
        self._logs_client: Any = None
        self._braket_client: Any = None
        self._get_job_limit = asyncio.Semaphore(GET_JOB_CONCURRENCY)
        self._searches = RoundSearch(self.status_budget)
        self.rounds = 0
        self._registered_at = -math.inf

    @property
    def watched(self) -> int:
        return len(self._tracked)

    # -- registration --------------------------------------------------------------------------

    @asynccontextmanager
    async def watch(
        self,
        job_arn: str,
        waiter_delay: float,
        created_at: float | None = None,
        list_since: float | None = None,
    ) -> AsyncIterator[JobWatch]:
        """Register ``job_arn`` for the duration of the ``async with`` block.

        :param created_at: When the job was created (epoch seconds), if known: it places the job in
            the creation-time window at once instead of costing a search by ARN.
        :param list_since: Have the rounds list every job not ended created since then, for the
            trigger's budgets to read (:meth:`listed_since`).
        """
        watch = JobWatch(job_arn, waiter_delay, self)
        watch.list_since = list_since
        tracked = self._tracked.setdefault(job_arn, Tracked(created_at=created_at))
        tracked.watches.add(watch)
        self._registered_at = time.monotonic()
        if tracked.job is not None:
            watch.job = tracked.job
            watch._wake()
        self._start()
        try:
            yield watch
        finally:
            tracked.watches.discard(watch)
            if not tracked.watches:
                self._tracked.pop(job_arn, None)
            if not self._tracked:
                await self._stop()

    def _start(self) -> None:
        if self._task is not None:
            return
        # An empty context: the triggerer routes log records by context variables, and the poller's
        # own records belong to the triggerer's log, not to the task whose trigger started it.
        loop = asyncio.get_running_loop()
        self._task = contextvars.Context().run(loop.create_task, self._run(), name="braket-job-poller")

    async def _stop(self) -> None:
        self._stopping = True
        _forget(self)
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            # Let it close its clients; asyncio.wait neither raises the task's CancelledError nor
            # swallows one aimed at the caller.
            await asyncio.wait([task], timeout=10)

    # -- logs ----------------------------------------------------------------------------------

    async def iter_log_events(
        self,
        job_name: str,
        job_arn: str,
        cursor: LogCursor,
        urgent: bool = False,
        before_call: Callable[[], Awaitable[None]] | None = None,
        streams: list[str] | None = None,
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """The job's log events past ``cursor``, on the shared logs client and within the budget.

        :param urgent: Go before routine reads (the last read of a job that ended).
        :param before_call: Awaited before each CloudWatch Logs call, before waiting for the
            budget (e.g. to save how far the events handed out so far got).
        :param streams: The job's log streams if known (no DescribeLogStreams then).
        """
        await self._clients_ready.wait()

        async def pace() -> None:
            if before_call is not None:
                await before_call()
            await self.log_budget.spend(urgent=urgent)

        async for item in self.hook.iter_log_events_async(
            job_name, job_arn, cursor, self._logs_client, pace=pace, streams=streams
        ):
            yield item

    def listed_since(self, moment: float, max_age: float) -> JobListing | None:
        """The jobs created since ``moment`` as a round listed them no longer than ``max_age``
        seconds ago (for a trigger that asked with ``list_since``); else None."""
        return self._searches.listed_since(moment, max_age)

    async def get_job(self, job_arn: str) -> dict[str, Any]:
        """GetJob on the poller's client, with the rounds' own GetJob calls under one limit."""
        await self._clients_ready.wait()
        async with self._get_job_limit:
            await self.status_budget.spend()
            return await self.hook.get_job_async(job_arn, self._braket_client)

    # -- rounds --------------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            async with AsyncExitStack() as clients:
                braket = await clients.enter_async_context(await self.hook.get_async_conn())
                self._braket_client = braket
                # Creating a client reads the connection, a sync call: kept off the event loop.
                from asgiref.sync import sync_to_async

                logs_context = await sync_to_async(self.hook.async_logs_client)()
                self._logs_client = await clients.enter_async_context(logs_context)
                self._clients_ready.set()
                await self._poll(braket)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("The Braket job poller stopped.")
            # Triggers that come later get a new poller; the ones here learn why theirs stopped.
            self._stopping = True
            _forget(self)
            for tracked in list(self._tracked.values()):
                tracked.fail(f"{type(error).__name__}: {error}")

    async def _poll(self, braket: Any) -> None:
        backoff = Backoff.from_delay(self._interval())
        await self._registrations_settled()
        delay = 0.0
        while not self._stopping:
            await self._sleep(delay)
            if self._stopping or not self._tracked:
                return
            started = time.monotonic()
            try:
                await self.poll_once(braket)
            except Exception as error:
                delay = backoff.next_delay()
                if not is_transient_error(error):
                    log.exception("A round of the Braket job poller failed.")
                message = f"Reading job status failed ({error}); trying again in {delay:.0f} s."
                for tracked in list(self._tracked.values()):
                    tracked.warn(message)
                continue
            backoff.reset()
            # Rounds start an interval apart: thousands of jobs' pages take much of one.
            took = time.monotonic() - started
            delay = max(0.0, self._interval() * random.uniform(1 - JITTER, 1 + JITTER) - took)

    async def _registrations_settled(self) -> None:
        """Wait until no trigger has registered for FIRST_ROUND_DELAY, at most FIRST_ROUND_MAX_DELAY."""
        deadline = time.monotonic() + FIRST_ROUND_MAX_DELAY
        while True:
            now = time.monotonic()
            quiet_at = self._registered_at + FIRST_ROUND_DELAY
            if now >= min(quiet_at, deadline):
                return
            await self._sleep(min(quiet_at, deadline) - now)

    def _interval(self) -> float:
        intervals = [watch.waiter_delay for t in self._tracked.values() for watch in t.watches]
        return min(intervals, default=30.0)

    async def _sleep(self, seconds: float) -> None:
        await set_within(self._wakeup, seconds)
        self._wakeup.clear()

    async def poll_once(self, braket: Any) -> None:
        """One round: learn the status of every watched job and wake the triggers with news."""
        self.rounds += 1
        # A job that ended stays ended: it costs nothing more while its triggers finish.
        tracked = {arn: entry for arn, entry in self._tracked.items() if not entry.ended}
        floors = [watch.list_since for entry in self._tracked.values() for watch in entry.watches]
        since = min((floor for floor in floors if floor is not None), default=None)
        searches = self._searches
        found = await searches.search(braket, tracked, self._publish_early, since) if searches.works else {}
        details = self._needing_details(tracked, found)
        fetched = await self._get_jobs(braket, details, tracked)
        for arn, entry in tracked.items():
            job = fetched.get(arn) or self._merged(entry, found.get(arn))
            if job is not None:
                _publish(entry, job)

    def _publish_early(self, summaries: dict[str, dict[str, Any]]) -> None:
        """Hand the jobs found ended on a page, or found by ARN (most often: ended since the last
        round), to their triggers at once; a FAILED one waits for its ``failureReason`` (a GetJob
        later in the round)."""
        for arn, summary in summaries.items():
            entry = self._tracked.get(arn)
            if entry is not None and summary["status"] != "FAILED":
                _publish(entry, self._merged(entry, summary) or summary)

    def _needing_details(self, tracked: dict[str, Tracked], found: dict[str, dict[str, Any]]) -> list[str]:
        """Jobs to read with GetJob: not found by a search, FAILED, or due a queue-position update."""
        missing = [arn for arn in tracked if arn not in found]
        failed = [arn for arn, summary in found.items() if summary["status"] == "FAILED"]
        stale_before = time.monotonic() - QUEUE_POSITION_MAX_AGE
        queued = sorted(
            (
                arn
                for arn, summary in found.items()
                if summary["status"] == "QUEUED" and tracked[arn].queue_checked <= stale_before
            ),
            key=lambda arn: tracked[arn].queue_checked,
        )
        return missing + failed + queued[:QUEUE_POSITIONS_PER_ROUND]

    async def _get_jobs(
        self, braket: Any, arns: list[str], tracked: dict[str, Tracked]
    ) -> dict[str, dict[str, Any]]:
        """GetJob (with the queue position) for each of ``arns``, a few at a time."""
        fetched: dict[str, dict[str, Any]] = {}

        async def get(arn: str) -> None:
            async with self._get_job_limit:
                await self.status_budget.spend()
                try:
                    fetched[arn] = await self.hook.get_job_async(arn, braket)
                except Exception as error:
                    if is_transient_error(error):
                        tracked[arn].warn(f"Reading job {arn} failed ({error}); trying again.")
                    else:
                        tracked[arn].fail(f"{type(error).__name__}: {error}")
                    return
                tracked[arn].queue_checked = time.monotonic()

        await asyncio.gather(*(get(arn) for arn in arns))
        return fetched

    @staticmethod
    def _merged(entry: Tracked, summary: dict[str, Any] | None) -> dict[str, Any] | None:
        """A summary, keeping the queue position last read while the job is still QUEUED."""
        if summary is None:
            return None
        job = dict(summary)
        previous = entry.job or {}
        if summary["status"] == "QUEUED" and previous.get("queueInfo"):
            job["queueInfo"] = previous["queueInfo"]
        return job


def _publish(entry: Tracked, job: dict[str, Any]) -> None:
    entry.created_at = created_epoch(job) or entry.created_at
    entry.publish({name: job[name] for name in WATCHED_FIELDS if name in job})


# -- one poller per event loop and connection ----------------------------------------------------

_pollers: dict[tuple[asyncio.AbstractEventLoop, PollerKey], JobPoller] = {}


def shared_poller(key: PollerKey, make: Callable[[PollerKey], JobPoller] = JobPoller) -> JobPoller:
    """The running event loop's poller for ``key``, created on first use."""
    slot = (asyncio.get_running_loop(), key)
    for stale in [slot for slot in _pollers if slot[0].is_closed()]:
        del _pollers[stale]  # its loop ended before a watch stopped it: it can never run again
    poller = _pollers.get(slot)
    if poller is None:
        poller = _pollers[slot] = make(key)
    return poller


def listing_of(key: PollerKey) -> Callable[[float, float], JobListing | None]:
    """:meth:`JobPoller.listed_since` of the running loop's poller for ``key``, looked up at each
    call and never started by it: None while no trigger watches through that poller."""
    loop = asyncio.get_running_loop()

    def listed_since(moment: float, max_age: float) -> JobListing | None:
        poller = _pollers.get((loop, key))
        return poller.listed_since(moment, max_age) if poller is not None else None

    return listed_since


def _forget(poller: JobPoller) -> None:
    for slot, known in list(_pollers.items()):
        if known is poller:
            del _pollers[slot]
