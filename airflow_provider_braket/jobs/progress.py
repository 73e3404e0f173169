"""What is worth telling a person watching a job: status changes and queue movement.

Both the worker's wait loop and the trigger feed each GetJob answer to one :class:`JobProgress`
and log what it returns, so the task log reads the same in sync and deferrable mode.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Any

from airflow_provider_braket.jobs.models import TERMINAL_STATUSES, parse_timestamp

LOG_FORWARDING_STATUSES = frozenset({"RUNNING", "CANCELLING"}) | TERMINAL_STATUSES


class JobProgress:
    """Remembers the last status and queue position seen; reports only what changed."""

    def __init__(self, last_status: str | None = None) -> None:
        self.last_status = last_status
        self.last_queue_position: str | None = None

    def update(self, job: dict[str, Any]) -> list[str]:
        messages = []
        status = job["status"]
        if status != self.last_status:
            messages.append(f"Hybrid job {job['jobName']} is {status}.")
            self.last_status = status
        queue = job.get("queueInfo") or {}
        position = queue.get("position") if status == "QUEUED" else None
        if position is not None and position != self.last_queue_position:
            messages.append(f"Queue position: {position} in the {queue.get('queue', 'jobs')} queue.")
        self.last_queue_position = position
        return messages


def is_terminal(job: dict[str, Any]) -> bool:
    return job["status"] in TERMINAL_STATUSES


def wants_logs(job: dict[str, Any]) -> bool:
    """Logs exist only once a job runs; the final read after it ends catches the last lines.

    A job that ended without ever starting (cancelled while QUEUED) has none to read.
    """
    if job["status"] in TERMINAL_STATUSES and not job.get("startedAt"):
        return False
    return job["status"] in LOG_FORWARDING_STATUSES


def created_at(job: dict[str, Any]) -> datetime | None:
    """A job's (or job summary's) ``createdAt`` as an aware datetime, however it came: boto3's
    datetime, an ISO-8601 string (JSON) or epoch seconds; None if it has none."""
    value = job.get("createdAt")
    if value is None:
        return None
    if not isinstance(value, datetime):
        return parse_timestamp(str(value))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def created_epoch(job: dict[str, Any]) -> float | None:
    """A job's (or job summary's) ``createdAt`` in epoch seconds; None if it has none."""
    moment = created_at(job)
    return None if moment is None else moment.timestamp()


class Backoff:
    """Capped exponential backoff with jitter for riding out throttling, 5xx and lost connections."""

    def __init__(self, base: float, cap: float = 300.0) -> None:
        self.base = max(base, 0.1)
        self.cap = max(cap, self.base)
        self.failures = 0

    @classmethod
    def from_delay(cls, delay: float) -> Backoff:
        """The backoff of a task polling every ``delay`` seconds: from at most 5 s to at least 60 s."""
        return cls(base=min(delay, 5.0), cap=max(delay, 60.0))

    def next_delay(self) -> float:
        self.failures += 1
        ceiling = min(self.cap, self.base * 2 ** min(self.failures, 16))
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0
