"""Runs queued jobs in a fixed number of slots, FIFO, each in its own process group.

Status moves only through conditional updates of the store (``only_if``), so a cancel that
races with completion, or a restart that races with nothing, always leaves one clear outcome.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from typing import Any

from airflow_provider_braket.local.aws_state.clients import SelfClients
from airflow_provider_braket.local.config import LocalServiceConfig
from airflow_provider_braket.local.exceptions import ConflictException
from airflow_provider_braket.local.execution.containment import (
    Containment,
    kill_cgroup,
)
from airflow_provider_braket.local.execution.job_execution import STOPPED_REASON, JobExecution
from airflow_provider_braket.local.execution.job_processes import (
    scan,
    terminate,
)
from airflow_provider_braket.local.execution.workspace import (
    Workspace,
)
from airflow_provider_braket.local.storage.jobs import JobRecord, JobStore, now_ms

log = logging.getLogger(__name__)

RESTARTED_REASON = (
    "InternalServiceError: the local Braket service restarted while the job was running; "
    "the job's process was stopped"
)


class JobRunner:
    """Queue and slots of the local service.

    :param config: service settings (slots, interpreter, cancel grace period).
    :param store: job records.
    :param clients: boto3 clients to this service's S3 and CloudWatch Logs.
    :param containment: the cgroups and users jobs run in (none by default).
    """

    def __init__(
        self,
        config: LocalServiceConfig,
        store: JobStore,
        clients: SelfClients,
        containment: Containment | None = None,
    ) -> None:
        self.config = config
        self.containment = containment or Containment()
        self.store = store
        self.clients = clients
        self._queue: deque[str] = deque()
        self._running: dict[str, JobExecution] = {}
        self._wake = threading.Condition()
        self._stopping = False
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="braket-local-dispatcher", daemon=True
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def recover(self) -> None:
        """After a restart: stop what ran (FAILED; CANCELLED if it was being cancelled), requeue the rest."""
        for record in self.store.with_status(["RUNNING", "CANCELLING"]):
            for cgroup in self.containment.cgroups_of(record.job_id):
                kill_cgroup(cgroup)
            _kill_leftover(record, self.config.cancel_grace_seconds)
            if self.containment.job_users:
                Workspace.for_job(self.config.data_dir, record.job_id).take_back()
            if record.status == "CANCELLING":
                self._end(
                    record,
                    "CANCELLED",
                    "CANCELLED",
                    "Cancelled: the local service restarted while cancelling",
                )
            else:
                self._end(record, "FAILED", "FAILED", RESTARTED_REASON, failure_reason=RESTARTED_REASON)
        with self._wake:
            self._queue.extend(record.job_arn for record in self.store.with_status(["QUEUED"]))

    def start(self) -> None:
        self._dispatcher.start()

    def stop(self) -> None:
        """Stop dispatching and end running jobs, so no job process outlives the service."""
        with self._wake:
            self._stopping = True
            running = list(self._running.values())
            self._wake.notify_all()
        for execution in running:
            execution.request_stop(STOPPED_REASON)
        for execution in running:
            execution.join(timeout=self.config.cancel_grace_seconds + 10)

    # -- requests from the API ---------------------------------------------------------------

    def enqueue(self, job_arn: str) -> None:
        with self._wake:
            self._queue.append(job_arn)
            self._wake.notify_all()

    def wake(self) -> None:
        """Look at the queue again, e.g. after the number of slots changed."""
        with self._wake:
            self._wake.notify_all()

    def queue_position(self, job_arn: str) -> int | None:
        with self._wake:
            try:
                return self._queue.index(job_arn) + 1
            except ValueError:
                return None

    def cancel(self, record: JobRecord) -> str:
        """Cancel a job: a queued one ends at once, a running one once its processes are gone."""
        if record.status in ("COMPLETED", "FAILED", "CANCELLED"):
            raise ConflictException(
                f"Job {record.job_arn} is already {record.status} and cannot be cancelled"
            )
        with self._wake:
            if record.job_arn in self._queue and self.store.update(
                record.job_arn, only_if=["QUEUED"], status="CANCELLED", ended_at=now_ms()
            ):
                self._queue.remove(record.job_arn)
                self.store.add_event(record.job_arn, "CANCELLED", "Job cancelled while queued")
                return "CANCELLED"
            self.store.update(record.job_arn, only_if=["RUNNING"], status="CANCELLING")
            execution = self._running.get(record.job_arn)
        if execution is not None:
            execution.request_cancel()
        return "CANCELLING"

    # -- internals ---------------------------------------------------------------------------

    def _dispatch(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (not self._queue or len(self._running) >= self.config.job_slots):
                    self._wake.wait()
                if self._stopping:
                    return
                job_arn = self._queue.popleft()
                record = self.store.get(job_arn)
                if record is None or record.status != "QUEUED":
                    continue
                execution = JobExecution(self, record)
                self._running[job_arn] = execution
            execution.start()

    def _finished(self, job_arn: str) -> None:
        with self._wake:
            self._running.pop(job_arn, None)
            self._wake.notify_all()

    def _end(
        self, record: JobRecord, status: str, event: str, message: str, failure_reason: str | None = None
    ) -> bool:
        ended = now_ms()
        started = record.started_at or ended
        values: dict[str, Any] = {
            "status": status,
            "ended_at": ended,
            "billable_seconds": max(1, math.ceil((ended - started) / 1000)) if record.started_at else 0,
        }
        if failure_reason:
            values["failure_reason"] = failure_reason[:1024]
        changed = self.store.update(record.job_arn, only_if=["QUEUED", "RUNNING", "CANCELLING"], **values)
        if changed:
            self.store.add_event(record.job_arn, event, message, ended)
        return changed


def _kill_leftover(record: JobRecord, grace_seconds: float) -> None:
    """Stop every process of a job that outlived a killed service (see job_processes)."""
    if record.process_marker is None:
        return
    leader = (record.pid, record.pid_started) if record.pid and record.pid_started else None
    leftovers = scan(leader, record.process_marker, record.processes)
    if leftovers:
        log.info("stopping %d leftover processes of %s", len(leftovers), record.job_arn)
        terminate(leftovers, grace_seconds)
