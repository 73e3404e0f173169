"""The SearchJobs calls of a poller's round: what it asks for, page by page, within its budget.

A round lists the jobs in the window of the watched jobs' creation times (100 summaries a page,
newest first), then asks by ARN, ten a call, for the watched jobs the listing did not return:
those whose creation time is not known yet, and, when the listing holds only the jobs that have
not ended (``status`` QUEUED, RUNNING or CANCELLING), those that ended since the last round. Which
listing a round makes is whichever cost fewer calls by the last round's counts: every status while
few of the window's jobs have ended (no ARN asks), only the jobs not ended once a long sweep's ended
points outnumber what ends per round (no page for each hundred of them). A round of every status
lists the ended jobs first, then the others, when that costs no call more, and on a poller's
first round over more than a page of jobs (a restarted triggerer's ends may have waited a round
already). A job that ended is asked for as soon as the pages have passed its creation time, not
after the last page, so that with thousands of jobs its trigger hears of it a page later rather
than a whole listing later.

A sweep under Braket's concurrent-job quota (3 by default) has nearly all its points QUEUED for
most of its run, and a queued job can only leave the queue by being listed again: as RUNNING,
CANCELLING, or ended. So a round may list every status but QUEUED, when that costs fewer calls: a
watched job last seen QUEUED and not on those pages is still QUEUED (its last summary is kept),
and only the few running and the ended ones are paged through. The budgets that read a round's
listing get the queued jobs as the last listing of them showed them; at most
:data:`RECOUNT_ROUNDS` rounds in a row leave QUEUED out.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any

from airflow_provider_braket.hooks.connection import is_transient_error
from airflow_provider_braket.jobs.errors import error_code
from airflow_provider_braket.jobs.models import (
    ACTIVE_STATUSES,
    JOB_STATUSES,
    TERMINAL_STATUSES,
    JobListing,
    format_timestamp,
    status_filter,
)
from airflow_provider_braket.jobs.progress import created_epoch
from airflow_provider_braket.triggers.job_watch import RateBudget, Tracked
from airflow_provider_braket.triggers.round_pages import PassedJobs, Tally, for_budgets, last_seen_queued

log = logging.getLogger(__name__)

PAGE_SIZE = 100
ARNS_PER_SEARCH = 10  # SearchJobs takes at most 10 values per filter
# Creation times come back with millisecond precision; a little slack keeps the window's ends in.
WINDOW_SLACK_SECONDS = 1.0
# Rounds of only the jobs not ended between two that count the window's ended jobs again.
RECOUNT_ROUNDS = 30
#: Every status a job leaves the queue for.
NOT_QUEUED_STATUSES = frozenset(JOB_STATUSES) - {"QUEUED"}

#: Called with the summaries found so far, as they come.
Found = Callable[[dict[str, dict[str, Any]]], None]


class RoundSearch:
    """The searches of one poller's rounds, and what it learned of the endpoint's answers.

    :param budget: The poller's status budget, spent before every call.
    """

    def __init__(self, budget: RateBudget) -> None:
        self.budget = budget
        #: False once SearchJobs was refused (e.g. a role without braket:SearchJobs).
        self.works = True
        self._status_filter_works = True
        # The window's jobs by the last round, for choosing between its listings; of those not
        # ended, the QUEUED ones (the unwatched among them as last listed).
        self._not_ended = self._ended_in_window = self._ending = 0
        self._queued = self._queued_unwatched = 0
        self._rounds_without_queued = 0
        # For budgets: the window's QUEUED jobs as the last listing of them showed them, kept while
        # no page shows them leaving the queue.
        self._queued_listed: dict[str, dict[str, Any]] = {}
        self._queued_listed_since: float | None = None  # the window they were listed in
        self._learned = False
        # Where the last round of every status began its window, and how many rounds ago.
        self._counted_since = -math.inf
        self._rounds_since_count = 0
        #: The last round's listing for budgets: (monotonic time, since, listing).
        self._listing: tuple[float, float, JobListing] | None = None

    def listed_since(self, moment: float, max_age: float) -> JobListing | None:
        """The jobs created since ``moment`` (epoch seconds) as the last round listed them, if it
        listed that far back no longer than ``max_age`` seconds ago; else None."""
        listing = self._listing
        if listing is None or listing[1] > moment or time.monotonic() - listing[0] > max_age:
            return None
        return listing[2]

    async def search(
        self, braket: Any, tracked: dict[str, Tracked], found_so_far: Found, list_since: float | None = None
    ) -> dict[str, dict[str, Any]]:
        """Summaries of the watched jobs that SearchJobs returns, by ARN.

        :param found_so_far: Handed the watched jobs found ended as each page comes, and those found
            by ARN as each answer comes.
        :param list_since: Also list every job not ended created since then (epoch seconds), up to
            now, and keep them for :meth:`active_since` (the triggers' budgets read their scopes
            from it instead of listing them again).
        """
        found: dict[str, dict[str, Any]] = {}
        try:
            placed = sorted(
                ((entry.created_at, arn) for arn, entry in tracked.items() if entry.created_at is not None),
                reverse=True,
            )
            listed = None
            if placed or list_since is not None:
                listed = await self._window(braket, placed, tracked, found, found_so_far, list_since)
            await self._by_arn(
                braket, [arn for arn in tracked if arn not in found], tracked, found, found_so_far
            )
        except Exception as error:
            if is_transient_error(error):
                raise
            log.warning("SearchJobs failed (%s); the poller reads each job with GetJob instead.", error)
            self.works = False
            return {}
        if list_since is not None and listed is not None:
            self._keep_for_budgets(*listed, found)
        return found

    def _keep_for_budgets(
        self, since: float, jobs: list[dict[str, Any]], complete: bool, found: dict[str, dict[str, Any]]
    ) -> None:
        """Keep the round's listing for the triggers' budgets, with the watched jobs found ended
        by ARN: a budget then needs no search of its own for how they ended."""
        on_pages = {job["jobArn"] for job in jobs}
        ended_by_arn = [
            for_budgets(summary)
            for arn, summary in found.items()
            if arn not in on_pages and summary["status"] not in ACTIVE_STATUSES
        ]
        self._listing = (time.monotonic(), since, JobListing(jobs + ended_by_arn, complete))

    async def _window(
        self,
        braket: Any,
        placed: list[tuple[float, str]],
        tracked: dict[str, Tracked],
        found: dict[str, dict[str, Any]],
        found_so_far: Found,
        list_since: float | None = None,
    ) -> tuple[float, list[dict[str, Any]], bool]:
        """List the window's jobs; returns how far back it listed, the summaries a budget reads
        (every job not ended, the queued ones as last listed on a round that leaves them out; the
        ended ones too on a listing that holds them), and whether that listing had every ended one."""
        starts = [placed[-1][0] - WINDOW_SLACK_SECONDS] if placed else []
        since = min([*starts, list_since] if list_since is not None else starts)
        until = None if list_since is not None else placed[0][0] + WINDOW_SLACK_SECONDS
        created = _created_filter(since, until)
        listings, only_active, skips_queued = self._listings(
            created, since, len(placed), list_since is not None
        )
        tally = Tally(tracked, keep=list_since is not None)
        # Off a listing without QUEUED, a watched job last seen QUEUED is still QUEUED.
        still_queued = last_seen_queued(tracked) if skips_queued else {}
        passing = PassedJobs([job for job in placed if job[1] not in still_queued], ARNS_PER_SEARCH)
        try:
            for filters in listings:
                # Only a listing that holds the jobs not ended can show one missing from it.
                shows_missing = _has_active_jobs(filters)
                async for page in self._pages(braket, filters):
                    tally.count(page)
                    on_page = {summary["jobArn"]: summary for summary in page if summary["jobArn"] in tracked}
                    found.update(on_page)
                    # An end is handed over now, not after the round's last page: at thousands of
                    # jobs that is most of an interval later. (Other news waits: a queued job's
                    # position is read later in the round.)
                    found_so_far(
                        {arn: job for arn, job in on_page.items() if job["status"] not in ACTIVE_STATUSES}
                    )
                    if shows_missing:
                        for batch in passing.due_after(page, found):
                            tally.asked += len(batch)
                            await self._by_arn(braket, batch, tracked, found, found_so_far)
        except Exception as error:
            filtered = any(item["name"] == "status" for filters in listings for item in filters)
            if not filtered or is_transient_error(error):
                raise
            if error_code(error) != "ValidationException":
                raise
            # AWS's API reference names only jobArn and createdAt as SearchJobs filters (the
            # service's OpenAPI document adds status).
            log.warning(
                "SearchJobs refused a status filter (%s); the poller lists jobs of every status.", error
            )
            self._status_filter_works = False
            return await self._window(braket, placed, tracked, found, found_so_far, list_since)
        tally.asked += len(passing.missing)
        await self._by_arn(braket, passing.missing, tracked, found, found_so_far)
        if skips_queued:
            kept = {arn: job for arn, job in still_queued.items() if arn not in found}
            found.update(kept)
            queued = len(kept) + self._queued_unwatched
            listed = self._queued_left_out(tally, found, since)
        else:
            queued = tally.queued
            listed = self._queued_seen(tally, since)
        ending = tally.asked if only_active else tally.watched_ended
        not_ended = tally.not_ended + (queued if skips_queued else 0)
        self._learn(not_ended, tally.ended_on_pages, ending, only_active, since, queued=queued)
        return since, listed, not only_active

    def _queued_seen(self, tally: Tally, since: float) -> list[dict[str, Any]]:
        """Learn from a round that listed the QUEUED jobs; the summaries a budget reads."""
        self._rounds_without_queued = 0
        self._queued_unwatched = tally.queued - tally.watched_queued
        self._queued_listed = {job["jobArn"]: job for job in tally.listed if job["status"] == "QUEUED"}
        self._queued_listed_since = since if tally.keep else None
        return tally.listed

    def _queued_left_out(
        self, tally: Tally, found: dict[str, dict[str, Any]], since: float
    ) -> list[dict[str, Any]]:
        """Learn from a round that left QUEUED out; the summaries a budget reads, the queued ones
        as last listed."""
        self._rounds_without_queued += 1
        if not tally.keep:
            return []
        queued = self._queued_listed
        for job in tally.listed:
            queued.pop(job["jobArn"], None)  # it has left the queue
        for arn, job in found.items():
            # Asked for by ARN (not placed before), or, without tags, kept from the last round.
            if job["status"] == "QUEUED" and "tags" in job:
                queued.setdefault(arn, for_budgets(job))
        for arn in [arn for arn, job in queued.items() if (created_epoch(job) or since) < since]:
            del queued[arn]
        return tally.listed + list(queued.values())

    def _listings(
        self, created: dict[str, Any], since: float, watched: int, budgets_read: bool
    ) -> tuple[list[list[dict[str, Any]]], bool, bool]:
        """The round's SearchJobs filters, one list per listing, whether they hold only the jobs
        not ended, and whether they leave out the QUEUED ones.

        :param budgets_read: Whether budgets read the round's listing: it may leave out only the
            QUEUED jobs a listing for budgets has shown, over a window reaching as far back.
        """
        if not self._status_filter_works:
            return [[created]], False, False
        remembered = self._queued_listed_since is not None and self._queued_listed_since <= since
        if (remembered or not budgets_read) and self._skipping_queued_pays(since):
            return [[created, status_filter(NOT_QUEUED_STATUSES)]], False, True
        if self._status_filter_pays(since):
            return [[created, status_filter(ACTIVE_STATUSES)]], True, False
        if self._ended_first_pays(watched):
            return (
                [
                    [created, status_filter(TERMINAL_STATUSES)],
                    [created, status_filter(ACTIVE_STATUSES)],
                ],
                False,
                False,
            )
        return [[created]], False, False

    def _skipping_queued_pays(self, since: float) -> bool:
        """Whether listing every status but QUEUED costs fewer calls, by the last round, than
        either other listing: while the window's queued jobs outnumber its ended ones, as in a
        sweep far larger than the concurrent-job quota. Never on a poller's first round, which
        has not seen the queued jobs yet, nor after :data:`RECOUNT_ROUNDS` rounds without them (the
        unwatched ones are counted, and remembered for budgets, off the pages that list them)."""
        if not self._learned or self._rounds_without_queued >= RECOUNT_ROUNDS:
            return False
        every_status = _calls(self._not_ended + self._ended_in_window)
        not_ended = _calls(self._not_ended) + math.ceil(self._ending / ARNS_PER_SEARCH)
        not_queued = _calls(self._not_ended - self._queued + self._ended_in_window)
        return not_queued < min(every_status, not_ended)

    def _ended_first_pays(self, watched: int) -> bool:
        """Whether a round of every status should list the ended jobs first, then those not ended:
        whenever the split costs no call more by the last round's counts (each listing is a call at
        least, an empty page included), and on a poller's first round over more than a page of
        watched jobs (a restarted triggerer's, whose jobs may have ended while none watched them).
        Listed newest first in one listing, an end among the oldest jobs waits for its last page.

        :param watched: How many jobs the round watches.
        """
        if not self._learned:
            return watched > PAGE_SIZE
        split = _calls(self._ended_in_window) + _calls(self._not_ended)
        return split <= _calls(self._not_ended + self._ended_in_window)

    def _status_filter_pays(self, since: float) -> bool:
        """Whether listing only the jobs not ended (and asking by ARN, ten a call, for the watched
        ones that ended since) costs fewer calls than listing every status, by the last round.

        The ended jobs are counted only on a round of every status; once the window's start has
        moved on (its oldest jobs ended, or a budget's scope narrowed) that count is stale, and a
        round of every status, at most one in :data:`RECOUNT_ROUNDS`, counts them again.
        """
        if since > self._counted_since and self._rounds_since_count >= RECOUNT_ROUNDS:
            return False
        every_status = math.ceil((self._not_ended + self._ended_in_window) / PAGE_SIZE)
        not_ended = math.ceil(self._not_ended / PAGE_SIZE) + math.ceil(self._ending / ARNS_PER_SEARCH)
        return not_ended < every_status

    def _learn(
        self,
        not_ended: int,
        ended_on_pages: int,
        ending: int,
        only_active: bool,
        since: float,
        queued: int = 0,
    ) -> None:
        """What the window held this round: the jobs not ended (``queued`` of them QUEUED), the
        ended ones (counted on pages that list them, else grown by those that ended since), and
        how many ended since."""
        self._learned = True
        self._not_ended, self._queued = not_ended, queued
        self._ended_in_window = self._ended_in_window + ending if only_active else ended_on_pages
        self._ending = ending
        if only_active:
            self._rounds_since_count += 1
        else:
            self._counted_since, self._rounds_since_count = since, 0

    async def _by_arn(
        self,
        braket: Any,
        arns: list[str],
        tracked: dict[str, Tracked],
        found: dict[str, dict[str, Any]],
        found_so_far: Found,
    ) -> None:
        for start in range(0, len(arns), ARNS_PER_SEARCH):
            filters = [
                {"name": "jobArn", "operator": "EQUAL", "values": arns[start : start + ARNS_PER_SEARCH]}
            ]
            answered = {
                summary["jobArn"]: summary
                async for page in self._pages(braket, filters)
                for summary in page
                if summary["jobArn"] in tracked
            }
            found.update(answered)
            found_so_far(answered)

    async def _pages(self, braket: Any, filters: list[dict[str, Any]]) -> AsyncIterator[list[dict[str, Any]]]:
        token: str | None = None
        while True:
            await self.budget.spend()
            page = await braket.search_jobs(
                filters=filters, maxResults=PAGE_SIZE, **({"nextToken": token} if token else {})
            )
            yield page["jobs"]
            token = page.get("nextToken")
            if not token:
                return


def _created_filter(since: float, until: float | None) -> dict[str, Any]:
    def stamp(moment: float) -> str:
        return format_timestamp(datetime.fromtimestamp(moment, tz=timezone.utc))

    if until is None:
        return {"name": "createdAt", "operator": "GTE", "values": [stamp(since)]}
    return {"name": "createdAt", "operator": "BETWEEN", "values": [stamp(since), stamp(until)]}


def _calls(jobs: int) -> int:
    """The SearchJobs calls a listing of ``jobs`` summaries costs: an empty one costs one too."""
    return max(1, math.ceil(jobs / PAGE_SIZE))


def _has_active_jobs(filters: list[dict[str, Any]]) -> bool:
    return all(item["name"] != "status" or "RUNNING" in item["values"] for item in filters)
