"""What the shared poller keeps per job and per trigger, and the rate budget its log reads share.

:class:`JobWatch` is one trigger's view of its job; :class:`Tracked` is the poller's knowledge of
one job, shared by every watch of it; :class:`RateBudget` spaces CloudWatch Logs calls across
all the triggers of a process.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_braket.jobs.models import TERMINAL_STATUSES
from airflow_provider_braket.utils.shielding import set_within

if TYPE_CHECKING:
    from airflow_provider_braket.triggers.poller import JobPoller


class RateBudget:
    """Spaces calls so that all callers together make at most ``per_second`` of them.

    Urgent callers (the last read of a job that ended, which its trigger's event waits for) go
    before the others: routine reads wait while any urgent one does.
    """

    def __init__(self, per_second: float) -> None:
        self.spacing = 1.0 / per_second if per_second > 0 else 0.0
        self._next_slot = 0.0
        self._urgent_waiting = 0

    def backlog(self) -> float:
        """Seconds until a call asked for now could go."""
        return max(0.0, self._next_slot - time.monotonic())

    async def spend(self, urgent: bool = False) -> None:
        self._urgent_waiting += urgent
        try:
            while True:
                now = time.monotonic()
                if now >= self._next_slot and (urgent or not self._urgent_waiting):
                    self._next_slot = now + self.spacing
                    return
                await asyncio.sleep(max(self._next_slot - now, self.spacing / 2))
        finally:
            self._urgent_waiting -= urgent


class JobWatch:
    """What one trigger sees of its job: the latest view of it, and a wake-up when that changes.

    :param job_arn: The job.
    :param waiter_delay: How often the trigger wants its job looked at, in seconds.
    :param poller: The poller it is registered with.
    """

    def __init__(self, job_arn: str, waiter_delay: float, poller: JobPoller) -> None:
        self.job_arn = job_arn
        self.waiter_delay = waiter_delay
        self.poller = poller
        self.job: dict[str, Any] | None = None
        self.error: str | None = None
        self.warnings: list[str] = []
        #: Have the rounds list every job not ended created since then (epoch seconds; budgets).
        self.list_since: float | None = None
        self._changed = asyncio.Event()

    async def changed(self, timeout: float | None = None) -> bool:
        """Wait until the poller has news for this job; False if ``timeout`` passed first."""
        if not await set_within(self._changed, timeout):
            return False
        self._changed.clear()
        return True

    def take_warnings(self) -> list[str]:
        warnings, self.warnings = self.warnings, []
        return warnings

    def _wake(self) -> None:
        self._changed.set()


@dataclass
class Tracked:
    """The poller's knowledge of one watched job."""

    watches: set[JobWatch] = field(default_factory=set)
    created_at: float | None = None  # epoch seconds, as the service stamped it (or the trigger's hint)
    job: dict[str, Any] | None = None
    queue_checked: float = -math.inf  # monotonic time of the last GetJob

    @property
    def ended(self) -> bool:
        return (
            self.job is not None
            and self.job["status"] in TERMINAL_STATUSES
            and (self.job["status"] != "FAILED" or "failureReason" in self.job)
        )

    def publish(self, job: dict[str, Any]) -> None:
        before, self.job = self.job, job
        news = before is None or _news(before) != _news(job)
        for watch in self.watches:
            watch.job = job
            if news:
                watch._wake()

    def fail(self, message: str) -> None:
        for watch in self.watches:
            watch.error = message
            watch._wake()

    def warn(self, message: str) -> None:
        for watch in self.watches:
            watch.warnings.append(message)
            watch._wake()


def _news(job: dict[str, Any]) -> tuple[Any, ...]:
    """What a watching trigger is woken for when it changes."""
    return job["status"], (job.get("queueInfo") or {}).get("position"), job.get("failureReason")
