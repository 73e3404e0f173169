"""Durable job records of the local service, in SQLite inside the data dir.

Every state change is one transaction, so a service killed at any moment leaves records that
are whole; the runner marks what was running at that moment as FAILED when it starts again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow_provider_braket.local.storage.records import RecordStore

MAX_EVENTS = 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_arn TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    job_name TEXT NOT NULL,
    status TEXT NOT NULL,
    device TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    client_token TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    request TEXT NOT NULL,
    tags TEXT NOT NULL,
    events TEXT NOT NULL,
    failure_reason TEXT,
    billable_seconds INTEGER,
    pid INTEGER,
    pid_started REAL,
    job_token_hash TEXT,
    process_marker TEXT,
    processes TEXT
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at, job_arn);
CREATE INDEX IF NOT EXISTS jobs_status_created ON jobs (status, created_at, job_arn);
"""
# Columns added after the first release: a data dir made by an older version gains them at start.
_ADDED_COLUMNS = {"job_token_hash": "TEXT", "process_marker": "TEXT", "processes": "TEXT"}

_COLUMNS = {
    "jobArn": "job_arn",
    "jobName": "job_name",
    "status": "status",
    "device": "device",
    "createdAt": "created_at",
}


def now_ms() -> int:
    return int(time.time() * 1000)


def hash_job_token(job_token: str) -> str:
    return hashlib.sha256(job_token.encode()).hexdigest()


def iso(ms: int | None) -> str | None:
    """Format epoch milliseconds the way AWS does: ``2026-01-02T03:04:05.123Z``."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass
class JobRecord:
    """One hybrid job as the service keeps it; ``request`` is the validated CreateJob body."""

    job_arn: str
    job_id: str
    job_name: str
    status: str
    device: str
    created_at: int
    client_token: str
    request_hash: str
    request: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    started_at: int | None = None
    ended_at: int | None = None
    failure_reason: str | None = None
    billable_seconds: int | None = None
    pid: int | None = None
    pid_started: float | None = None
    # BRAKET_LOCAL_JOB_RUN of the run, and every (pid, create time) seen in it: how the
    # service finds the job's processes after a kill -9 (see job_processes).
    process_marker: str | None = None
    processes: list[tuple[int, float]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The JobSummary of SearchJobs."""
        item: dict[str, Any] = {
            "jobArn": self.job_arn,
            "jobName": self.job_name,
            "status": self.status,
            "device": self.device,
            "createdAt": iso(self.created_at),
            "tags": self.tags,
        }
        if self.started_at is not None:
            item["startedAt"] = iso(self.started_at)
        if self.ended_at is not None:
            item["endedAt"] = iso(self.ended_at)
        return item

    def description(self) -> dict[str, Any]:
        """The GetJob response, without ``queueInfo`` (the runner knows the queue)."""
        request = self.request
        item: dict[str, Any] = {
            "jobArn": self.job_arn,
            "jobName": self.job_name,
            "status": self.status,
            "roleArn": request["roleArn"],
            "algorithmSpecification": request["algorithmSpecification"],
            "instanceConfig": request["instanceConfig"],
            "outputDataConfig": request["outputDataConfig"],
            "deviceConfig": request["deviceConfig"],
            "createdAt": iso(self.created_at),
            "events": self.events,
            "tags": self.tags,
        }
        for name in (
            "hyperParameters",
            "inputDataConfig",
            "checkpointConfig",
            "stoppingCondition",
            "associations",
        ):
            if name in request:
                item[name] = request[name]
        optional = {
            "startedAt": iso(self.started_at),
            "endedAt": iso(self.ended_at),
            "failureReason": self.failure_reason,
            "billableDuration": self.billable_seconds,
        }
        item.update({key: value for key, value in optional.items() if value is not None})
        return item


class JobStore(RecordStore[JobRecord]):
    """SQLite-backed job records; safe to use from the event loop and the runner threads."""

    record_type = JobRecord
    table = "jobs"
    key_column = "job_arn"
    search_columns = _COLUMNS
    json_fields = frozenset({"request", "tags", "events", "processes"})
    decoders = {
        "processes": lambda text: [(int(pid), float(started)) for pid, started in json.loads(text or "[]")]
    }
    what = "job"

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA, _ADDED_COLUMNS)
        self._db.execute("CREATE INDEX IF NOT EXISTS jobs_token ON jobs (job_token_hash)")

    def get_by_job_token(self, job_token: str) -> JobRecord | None:
        """The job whose process was given ``job_token`` (only its hash is kept)."""
        return self._one("SELECT * FROM jobs WHERE job_token_hash = ?", hash_job_token(job_token))

    def with_status(self, statuses: Iterable[str]) -> list[JobRecord]:
        """Jobs in any of ``statuses``, oldest first (the FIFO order of the queue)."""
        wanted = list(statuses)
        marks = ",".join("?" * len(wanted))
        return self._select(
            f"SELECT * FROM jobs WHERE status IN ({marks}) ORDER BY created_at, rowid", wanted
        )

    def ended_job_ids(self, before_ms: int) -> set[str]:
        """Ids of the jobs that ended before ``before_ms`` (epoch milliseconds)."""
        with self._lock:
            rows = self._db.execute("SELECT job_id FROM jobs WHERE ended_at < ?", (before_ms,)).fetchall()
        return {row[0] for row in rows}

    def count_with_status(self, statuses: Iterable[str]) -> int:
        wanted = list(statuses)
        marks = ",".join("?" * len(wanted))
        with self._lock:
            (count,) = self._db.execute(
                f"SELECT count(*) FROM jobs WHERE status IN ({marks})", wanted
            ).fetchone()
        return int(count)

    # -- writes ------------------------------------------------------------------------------

    def insert(self, record: JobRecord) -> None:
        names = (
            "job_arn",
            "job_id",
            "job_name",
            "status",
            "device",
            "created_at",
            "client_token",
            "request_hash",
            "request",
            "tags",
            "events",
        )
        self._insert({name: getattr(record, name) for name in names})

    def add_event(self, job_arn: str, event_type: str, message: str, at_ms: int | None = None) -> None:
        with self._lock:
            row = self._db.execute("SELECT events FROM jobs WHERE job_arn = ?", (job_arn,)).fetchone()
            if row is None:
                return
            events = json.loads(row["events"])
            events.append(
                {"eventType": event_type, "timeOfEvent": iso(at_ms or now_ms()), "message": message}
            )
            self._db.execute(
                "UPDATE jobs SET events = ? WHERE job_arn = ?", (json.dumps(events[-MAX_EVENTS:]), job_arn)
            )
