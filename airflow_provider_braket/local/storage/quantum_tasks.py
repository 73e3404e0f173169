"""Durable quantum task records of the local service, in SQLite next to the job records.

As in :mod:`~airflow_provider_braket.local.storage.jobs`, every status change is one conditional UPDATE, so
the runner, CancelQuantumTask and a cancelled job race safely and a restart finds whole records.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_braket.local.storage.jobs import iso
from airflow_provider_braket.local.storage.quantum_task_requests import SearchQuantumTasksFilter
from airflow_provider_braket.local.storage.records import (
    conditional_update,
    filter_clauses,
    keyset_search,
    open_database,
    readable,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS quantum_tasks (
    task_arn TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    status TEXT NOT NULL,
    device_arn TEXT NOT NULL,
    shots INTEGER NOT NULL,
    output_bucket TEXT NOT NULL,
    output_directory TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    ended_at INTEGER,
    client_token TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    action TEXT NOT NULL,
    action_type TEXT NOT NULL,
    device_parameters TEXT,
    tags TEXT NOT NULL,
    job_arn TEXT,
    associations TEXT,
    failure_reason TEXT,
    successful_shots INTEGER,
    qubit_count INTEGER,
    method TEXT,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tasks_created ON quantum_tasks (created_at, task_arn);
CREATE INDEX IF NOT EXISTS tasks_job ON quantum_tasks (job_arn, created_at);
CREATE INDEX IF NOT EXISTS tasks_status ON quantum_tasks (status, created_at);
"""

_COLUMNS = {
    "quantumTaskArn": "task_arn",
    "deviceArn": "device_arn",
    "jobArn": "job_arn",
    "status": "status",
    "createdAt": "created_at",
}


@dataclass
class TaskRecord:
    """One quantum task as the service keeps it; ``action`` is the program as sent."""

    task_arn: str
    task_id: str
    status: str
    device_arn: str
    shots: int
    output_bucket: str
    output_directory: str
    created_at: int
    client_token: str
    request_hash: str
    action: str
    action_type: str
    device_parameters: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    job_arn: str | None = None
    associations: list[dict[str, str]] | None = None
    ended_at: int | None = None
    failure_reason: str | None = None
    successful_shots: int | None = None
    #: What the program check found (a record from before checks were kept has neither).
    qubit_count: int | None = None
    method: str | None = None
    #: Runs started: a task the service died under is run once more, never a third time.
    attempts: int = 0

    @property
    def priority(self) -> str:
        """Tasks of a hybrid job go before others on the device, as on AWS."""
        return "Priority" if self.job_arn else "Normal"

    def summary(self) -> dict[str, Any]:
        """The QuantumTaskSummary of SearchQuantumTasks."""
        item: dict[str, Any] = {
            "quantumTaskArn": self.task_arn,
            "status": self.status,
            "deviceArn": self.device_arn,
            "shots": self.shots,
            "outputS3Bucket": self.output_bucket,
            "outputS3Directory": self.output_directory,
            "createdAt": iso(self.created_at),
            "tags": self.tags,
        }
        if self.ended_at is not None:
            item["endedAt"] = iso(self.ended_at)
        return item

    def description(self) -> dict[str, Any]:
        """The GetQuantumTask response, without ``queueInfo`` (the runner knows the queue)."""
        item = {
            **self.summary(),
            "deviceParameters": self.device_parameters or "{}",
            "actionMetadata": {"actionType": self.action_type},
        }
        optional = {
            "failureReason": self.failure_reason,
            "jobArn": self.job_arn,
            "associations": self.associations,
            "numSuccessfulShots": self.successful_shots,
        }
        item.update({key: value for key, value in optional.items() if value is not None})
        return item


class TaskStore:
    """SQLite-backed quantum task records, shared by the event loop and the task workers."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.RLock()
        self._db = open_database(path, _SCHEMA)
        _add_missing_columns(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get(self, task_arn: str) -> TaskRecord | None:
        return self._one("SELECT * FROM quantum_tasks WHERE task_arn = ?", task_arn)

    def get_by_token(self, client_token: str) -> TaskRecord | None:
        return self._one("SELECT * FROM quantum_tasks WHERE client_token = ?", client_token)

    def with_status(self, statuses: Iterable[str], job_arn: str | None = None) -> list[TaskRecord]:
        """Tasks in any of ``statuses`` (of one job if given), oldest first."""
        wanted = list(statuses)
        sql = f"SELECT * FROM quantum_tasks WHERE status IN ({','.join('?' * len(wanted))})"
        params: list[Any] = wanted
        if job_arn is not None:
            sql += " AND job_arn = ?"
            params = [*wanted, job_arn]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY created_at, rowid", params).fetchall()
        return readable(rows, _record, "quantum task")

    def search(
        self, filters: Sequence[SearchQuantumTasksFilter], limit: int, next_token: str | None
    ) -> tuple[list[TaskRecord], str | None]:
        """Newest first; ``next_token`` is an opaque keyset cursor (raises ValueError if bad)."""
        where = filter_clauses(filters, _COLUMNS)
        with self._lock:
            rows, token = keyset_search(self._db, "quantum_tasks", "task_arn", where, limit, next_token)
        return readable(rows, _record, "quantum task"), token

    def insert(self, record: TaskRecord) -> None:
        values = {
            "task_arn": record.task_arn,
            "task_id": record.task_id,
            "status": record.status,
            "device_arn": record.device_arn,
            "shots": record.shots,
            "output_bucket": record.output_bucket,
            "output_directory": record.output_directory,
            "created_at": record.created_at,
            "client_token": record.client_token,
            "request_hash": record.request_hash,
            "action": record.action,
            "action_type": record.action_type,
            "device_parameters": record.device_parameters,
            "tags": json.dumps(record.tags),
            "job_arn": record.job_arn,
            "associations": json.dumps(record.associations) if record.associations else None,
            "qubit_count": record.qubit_count,
            "method": record.method,
        }
        marks = ",".join("?" * len(values))
        with self._lock:
            self._db.execute(
                f"INSERT INTO quantum_tasks ({','.join(values)}) VALUES ({marks})", list(values.values())
            )

    def update(self, task_arn: str, *, only_if: Iterable[str] | None = None, **values: Any) -> bool:
        """Set columns of one task; with ``only_if``, only while its status is one of those."""
        columns = {name: json.dumps(value) if name == "tags" else value for name, value in values.items()}
        with self._lock:
            return conditional_update(self._db, "quantum_tasks", ("task_arn", task_arn), columns, only_if)

    def _one(self, sql: str, value: str) -> TaskRecord | None:
        with self._lock:
            row = self._db.execute(sql, (value,)).fetchone()
        return _record(row) if row else None


def _record(row: sqlite3.Row) -> TaskRecord:
    return TaskRecord(
        task_arn=row["task_arn"],
        task_id=row["task_id"],
        status=row["status"],
        device_arn=row["device_arn"],
        shots=row["shots"],
        output_bucket=row["output_bucket"],
        output_directory=row["output_directory"],
        created_at=row["created_at"],
        client_token=row["client_token"],
        request_hash=row["request_hash"],
        action=row["action"],
        action_type=row["action_type"],
        device_parameters=row["device_parameters"],
        tags=json.loads(row["tags"]),
        job_arn=row["job_arn"],
        associations=json.loads(row["associations"]) if row["associations"] else None,
        ended_at=row["ended_at"],
        failure_reason=row["failure_reason"],
        successful_shots=row["successful_shots"],
        qubit_count=row["qubit_count"],
        method=row["method"],
        attempts=row["attempts"],
    )


#: Columns added since the first data dirs were written: ``CREATE TABLE IF NOT EXISTS`` leaves an
#: existing table as it was.
_ADDED_COLUMNS = {"qubit_count": "INTEGER", "method": "TEXT", "attempts": "INTEGER NOT NULL DEFAULT 0"}


def _add_missing_columns(database: sqlite3.Connection) -> None:
    present = {row["name"] for row in database.execute("PRAGMA table_info(quantum_tasks)")}
    for name, declaration in _ADDED_COLUMNS.items():
        if name not in present:
            database.execute(f"ALTER TABLE quantum_tasks ADD COLUMN {name} {declaration}")
