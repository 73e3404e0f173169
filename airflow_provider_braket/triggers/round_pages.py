"""What a poller's round keeps track of as its SearchJobs pages come (:mod:`.job_search`).

:class:`Tally` counts what the pages held, for choosing the next round's listing and for the
budgets that read it; :class:`PassedJobs` finds the watched jobs the pages went past without
returning, to ask for by ARN.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_braket.jobs.models import ACTIVE_STATUSES
from airflow_provider_braket.jobs.progress import created_epoch
from airflow_provider_braket.triggers.job_watch import Tracked

# A watched job created this much after a page's oldest summary would have been on that page.
PASSED_SLACK_SECONDS = 0.002
# Pages (of 100, paced by the status budget) a job missing from the listing waits for nine more.
PAGES_A_MISSING_JOB_WAITS = 8


def for_budgets(summary: dict[str, Any]) -> dict[str, Any]:
    """What a budget reads of a job it did not list itself: no more, for memory's sake."""
    kept: dict[str, Any] = {
        name: summary[name]
        for name in ("jobArn", "status", "createdAt", "startedAt", "endedAt")
        if name in summary
    }
    kept["tags"] = {
        key: value for key, value in (summary.get("tags") or {}).items() if key.startswith("airflow:")
    }
    return kept


class Tally:
    """What a round's pages held: the jobs not ended and ended (the watched ones among them), the
    summaries kept for budgets, and how many watched jobs were asked for by ARN."""

    def __init__(self, tracked: dict[str, Tracked], keep: bool) -> None:
        self._tracked, self.keep = tracked, keep
        self.not_ended = self.ended_on_pages = self.watched_ended = self.asked = 0
        self.queued = self.watched_queued = 0
        self.listed: list[dict[str, Any]] = []

    def count(self, page: list[dict[str, Any]]) -> None:
        for summary in page:
            if summary["status"] == "QUEUED":
                self.queued += 1
                self.watched_queued += summary["jobArn"] in self._tracked
            if summary["status"] in ACTIVE_STATUSES:
                self.not_ended += 1
            else:
                self.ended_on_pages += 1
                self.watched_ended += summary["jobArn"] in self._tracked
            if self.keep:
                self.listed.append(for_budgets(summary))


class PassedJobs:
    """The watched jobs the pages, newest first, have passed without returning: asked for by ARN
    ten at a time, or sooner when the first has waited a few pages.

    :param placed: The watched jobs' (creation time, ARN), newest first; consumed.
    :param batch: ARNs a search takes.
    """

    def __init__(self, placed: list[tuple[float, str]], batch: int) -> None:
        self._placed, self._batch = placed, batch
        self._waited = 0
        #: Passed and not asked for yet.
        self.missing: list[str] = []

    def due_after(self, page: list[dict[str, Any]], found: dict[str, dict[str, Any]]) -> list[list[str]]:
        """The batches of ARNs to ask for now that ``page`` has been read."""
        oldest = min((created_epoch(summary) or 0.0 for summary in page), default=0.0)
        while self._placed and self._placed[0][0] > oldest + PASSED_SLACK_SECONDS:
            _, arn = self._placed.pop(0)
            if arn not in found:
                self.missing.append(arn)
        self._waited = self._waited + 1 if self.missing else 0
        batches = []
        while len(self.missing) >= self._batch or (
            self.missing and self._waited >= PAGES_A_MISSING_JOB_WAITS
        ):
            batches.append(self.missing[: self._batch])
            self.missing = self.missing[self._batch :]
            self._waited = 0
        return batches


def last_seen_queued(tracked: dict[str, Tracked]) -> dict[str, dict[str, Any]]:
    """The watched jobs whose last summary was QUEUED, by ARN: that summary."""
    return {
        arn: entry.job
        for arn, entry in tracked.items()
        if entry.job is not None and entry.job["status"] == "QUEUED"
    }
