"""Durable quantum task records of the local service, in SQLite next to the job records.

As in :mod:`~airflow_provider_braket.local.storage.jobs`, every status change is one conditional UPDATE, so
the runner, CancelQuantumTask and a cancelled job race safely and a restart finds whole records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_braket.local.storage.jobs import iso
from airflow_provider_braket.local.storage.records import RecordStore

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
class QuantumTaskRecord:
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


class QuantumTaskStore(RecordStore[QuantumTaskRecord]):
    """SQLite-backed quantum task records, shared by the event loop and the task workers."""

    record_type = QuantumTaskRecord
    table = "quantum_tasks"
    key_column = "task_arn"
    search_columns = _COLUMNS
    json_fields = frozenset({"tags", "associations"})
    what = "quantum task"

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA, _ADDED_COLUMNS)

    def with_status(self, statuses: Iterable[str], job_arn: str | None = None) -> list[QuantumTaskRecord]:
        """Tasks in any of ``statuses`` (of one job if given), oldest first."""
        wanted = list(statuses)
        sql = f"SELECT * FROM quantum_tasks WHERE status IN ({','.join('?' * len(wanted))})"
        params: list[Any] = wanted
        if job_arn is not None:
            sql += " AND job_arn = ?"
            params = [*wanted, job_arn]
        return self._select(sql + " ORDER BY created_at, rowid", params)

    def insert(self, record: QuantumTaskRecord) -> None:
        names = (
            "task_arn",
            "task_id",
            "status",
            "device_arn",
            "shots",
            "output_bucket",
            "output_directory",
            "created_at",
            "client_token",
            "request_hash",
            "action",
            "action_type",
            "device_parameters",
            "tags",
            "job_arn",
            "qubit_count",
            "method",
        )
        values = {name: getattr(record, name) for name in names}
        values["associations"] = record.associations or None
        self._insert(values)


#: Columns added since the first data dirs were written: ``CREATE TABLE IF NOT EXISTS`` leaves an
#: existing table as it was.
_ADDED_COLUMNS = {"qubit_count": "INTEGER", "method": "TEXT", "attempts": "INTEGER NOT NULL DEFAULT 0"}
