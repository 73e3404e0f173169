"""How a budget scope's jobs are listed for a read of its cost (:mod:`.scope_costs`).

The first read lists the whole scope. Later reads list only what can have changed: the jobs not
ended, and those created since the last read that have ended; in a triggerer the poller's round
has listed them already (a :class:`~airflow_provider_braket.jobs.models.JobListing`). A read also
notes how far back the next must reach: the oldest job not ended, so that a long sweep's
listings leave out the points that ended long ago.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_braket.jobs.errors import error_code
from airflow_provider_braket.jobs.models import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    JobListing,
    created_since,
    status_filter,
)
from airflow_provider_braket.pricing.quantum_task_usage import MAX_FILTER_VALUES

if TYPE_CHECKING:
    from airflow_provider_braket.hooks.braket import BraketHook

log = logging.getLogger(__name__)


@dataclass
class ScopeState:
    """What one budget scope was found to hold at its last read, and what that cost."""

    read_at: float = float("-inf")
    listed: bool = False
    #: The latest ``createdAt`` any listing returned (AWS's clock): every job created after a
    #: listing is at least as new.
    newest_created: Any = None
    #: The scope's jobs that had not ended, by ARN.
    active: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: How far back the next read's listing must reach (epoch seconds, AWS's clock), once known.
    floor: float | None = None
    #: The scope's ended jobs, and what those read with GetJob cost together.
    ended: set[str] = field(default_factory=set)
    ended_cost: Decimal = Decimal(0)
    #: The scope's ended jobs not read with GetJob yet, each at a bound of its cost.
    bounded: dict[str, Decimal] = field(default_factory=dict)
    running_cost: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.ended_cost + sum(self.bounded.values(), Decimal(0)) + self.running_cost


class ScopeLister:
    """Lists a scope's jobs with SearchJobs, or takes them from a listing made anyway.

    :param hook: The hook of the connection.
    """

    def __init__(self, hook: BraketHook) -> None:
        self.hook = hook
        self._status_filter_works = True

    def jobs_to_read(
        self,
        state: ScopeState,
        filters: list[dict[str, Any]],
        belongs: Callable[[dict[str, Any]], bool],
        listing: Callable[[], JobListing | None] | None,
    ) -> list[dict[str, Any]]:
        """The scope's jobs worth reading: all of them at the first read; then those not ended, and
        those created since the last read that have."""
        if state.listed and self._status_filter_works:
            try:
                jobs = self._since_last_read(state, filters, listing)
            except Exception as error:
                if error_code(error) != "ValidationException":
                    raise
                # AWS's API reference names only jobArn and createdAt as SearchJobs filters.
                log.warning("SearchJobs refused a status filter (%s); budgets list every job.", error)
                self._status_filter_works = False
                jobs = self.hook.search_jobs(filters)
        else:
            jobs = self.hook.search_jobs(filters)
        state.listed = True
        moments = [job["createdAt"] for job in jobs if job.get("createdAt") is not None]
        state.newest_created = max(
            [*moments, state.newest_created] if state.newest_created else moments, default=None
        )
        return [job for job in jobs if belongs(job)]

    def _since_last_read(
        self,
        state: ScopeState,
        filters: list[dict[str, Any]],
        listing: Callable[[], JobListing | None] | None,
    ) -> list[dict[str, Any]]:
        listed = listing() if listing is not None else None
        if listed is not None and listed.complete:
            return list(listed.jobs)  # every job of the scope, of every status
        if listed is not None:
            jobs = list(listed.jobs)
        else:
            jobs = self.hook.search_jobs([*filters, status_filter(ACTIVE_STATUSES)])
        if state.newest_created is not None:
            # Those created since the last read that ended before this one (a job no trigger here
            # watches: one a worker waits for, or one that ended before its task deferred).
            recent = created_since(state.newest_created)
            jobs += self.hook.search_jobs([*recent, status_filter(TERMINAL_STATUSES)])
        return jobs

    def active_and_ended(
        self, state: ScopeState, listed: list[dict[str, Any]]
    ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
        """The scope's jobs not ended, by ARN, and those found ended: on the listing, or, for a job
        not ended at the last read and missing from this one, by ARN (ten a search)."""
        active = {job["jobArn"]: job for job in listed if job["status"] not in TERMINAL_STATUSES}
        ended = [job for job in listed if job["status"] in TERMINAL_STATUSES]
        listed_arns = {job["jobArn"] for job in listed}
        gone = [arn for arn in state.active if arn not in listed_arns and arn not in state.ended]
        for job in self._summaries_by_arn(gone):
            if job["status"] in TERMINAL_STATUSES:
                ended.append(job)
            else:  # listed on neither page while it moved on
                active.setdefault(job["jobArn"], job)
        return active, ended

    def _summaries_by_arn(self, job_arns: list[str]) -> list[dict[str, Any]]:
        summaries = []
        for start in range(0, len(job_arns), MAX_FILTER_VALUES):
            batch = job_arns[start : start + MAX_FILTER_VALUES]
            summaries += self.hook.search_jobs([{"name": "jobArn", "operator": "EQUAL", "values": batch}])
        return summaries


def listing_floor(state: ScopeState) -> float | None:
    """How far back (epoch seconds) the next read's listing must reach: the oldest of the scope's
    jobs not ended, or the newest job the last read saw; None before a read."""
    if state.newest_created is None:
        return None
    moments = [
        job["createdAt"] for job in state.active.values() if isinstance(job.get("createdAt"), datetime)
    ]
    # A second earlier: a listing's createdAt filter is in milliseconds.
    return min([*moments, state.newest_created]).timestamp() - 1.0
