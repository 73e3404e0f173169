"""The quantum task queue of the local service: one priority queue, a few worker threads.

Tasks of a hybrid job (``Priority``) go before tasks sent outside a job (``Normal``), FIFO within
each, as AWS orders a device's queue. A worker moves a task QUEUED -> RUNNING -> COMPLETED or
FAILED with conditional updates, so a cancel that races with the run leaves one clear outcome: a
task cancelled while RUNNING ends CANCELLED and its result is not written.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from airflow_provider_braket.local.errors import ConflictException
from airflow_provider_braket.local.simulation import TaskFailure, run_program
from airflow_provider_braket.local.store import now_ms
from airflow_provider_braket.local.task_models import TASK_TERMINAL
from airflow_provider_braket.local.task_store import TaskRecord, TaskStore

log = logging.getLogger(__name__)

RESULTS_FILENAME = "results.json"
ObjectWriter = Callable[[str, str, bytes], None]
_WAITING = ("CREATED", "QUEUED")


class QuantumTaskRunner:
    """Queue and workers of quantum tasks.

    :param store: task records.
    :param write_object: puts ``(bucket, key, body)`` into this service's S3, where results go.
    :param workers: tasks simulated at once.
    """

    def __init__(self, store: TaskStore, write_object: ObjectWriter, workers: int = 2) -> None:
        self.store = store
        self.write_object = write_object
        self._heap: list[tuple[int, int, str, str]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._ended = threading.Condition()
        self._stopping = False
        self._busy = 0
        #: Workers allowed to run at once (``PUT /_local/limits {"taskWorkers": n}``); 0 holds
        #: every task in the queue, as a device outside its availability window would.
        self.allowed = workers
        self._threads = [
            threading.Thread(target=self._work, name=f"braket-local-tasks-{n}", daemon=True)
            for n in range(workers)
        ]

    def recover(self) -> None:
        """After a restart: end what was being cancelled, queue again what waited or ran."""
        for record in self.store.with_status(["CANCELLING"]):
            self._end(record.task_arn, "CANCELLED")
        for record in self.store.with_status(["CREATED", "QUEUED", "RUNNING"]):
            self.store.update(record.task_arn, status="QUEUED")
            self._push(record)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()

    def set_allowed(self, workers: int) -> None:
        with self._wake:
            self.allowed = min(workers, len(self._threads))
            self._wake.notify_all()

    # -- requests ----------------------------------------------------------------------------

    def submit(self, record: TaskRecord) -> None:
        if self.store.update(record.task_arn, only_if=["CREATED"], status="QUEUED"):
            self._push(record)

    def cancel(self, record: TaskRecord) -> str:
        """CancelQuantumTask: a waiting task ends at once, a running one when its run returns."""
        if record.status in TASK_TERMINAL:
            raise ConflictException(
                f"Quantum task {record.task_arn} is already {record.status} and cannot be cancelled"
            )
        if self._end(record.task_arn, "CANCELLED", only_if=_WAITING):
            self._forget(record.task_arn)
            return "CANCELLED"
        self.store.update(record.task_arn, only_if=["RUNNING"], status="CANCELLING")
        return "CANCELLING"

    def cancel_job_tasks(self, job_arn: str) -> int:
        """A cancelled or ended hybrid job takes its waiting and running tasks with it."""
        records = self.store.with_status([*_WAITING, "RUNNING"], job_arn=job_arn)
        for record in records:
            self.cancel(record)
        return len(records)

    def wait_until_ended(self, task_arn: str, timeout: float) -> None:
        """Block up to ``timeout`` seconds while the task has not ended.

        CreateQuantumTask waits this long before it answers: a small circuit is done by then, and
        the SDK's first GetQuantumTask finds it COMPLETED instead of sleeping its poll interval
        (1 s) as it would for a task that is still QUEUED.
        """
        deadline = time.monotonic() + timeout
        with self._ended:
            while time.monotonic() < deadline:
                record = self.store.get(task_arn)
                if record is None or record.status in TASK_TERMINAL:
                    return
                self._ended.wait(deadline - time.monotonic())

    def queue_position(self, record: TaskRecord) -> int | None:
        """1-based place among the waiting tasks of the same device and priority."""
        if record.status not in _WAITING:
            return None
        rank = _rank(record)
        with self._wake:
            waiting = sorted(self._heap)
        ahead = [arn for r, _, arn, device in waiting if r == rank and device == record.device_arn]
        return ahead.index(record.task_arn) + 1 if record.task_arn in ahead else None

    def queue_depth(self, device_arn: str) -> dict[str, int]:
        """Waiting tasks on a device by priority (GetDevice's deviceQueueInfo)."""
        with self._wake:
            ranks = [rank for rank, _, _, device in self._heap if device == device_arn]
        return {"Priority": ranks.count(0), "Normal": ranks.count(1)}

    # -- internals ---------------------------------------------------------------------------

    def _push(self, record: TaskRecord) -> None:
        with self._wake:
            heapq.heappush(self._heap, (_rank(record), next(self._order), record.task_arn, record.device_arn))
            self._wake.notify()

    def _forget(self, task_arn: str) -> None:
        with self._wake:
            self._heap = [entry for entry in self._heap if entry[2] != task_arn]
            heapq.heapify(self._heap)

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (not self._heap or self._busy >= self.allowed):
                    self._wake.wait()
                if self._stopping:
                    return
                _, _, task_arn, _ = heapq.heappop(self._heap)
                self._busy += 1
            try:
                self._run(task_arn)
            except Exception:
                log.exception("quantum task %s failed inside the local service", task_arn)
                self._end(task_arn, "FAILED", failure_reason="InternalServiceError: the task could not run")
            finally:
                with self._wake:
                    self._busy -= 1
                    self._wake.notify_all()

    def _run(self, task_arn: str) -> None:
        if not self.store.update(task_arn, only_if=["QUEUED"], status="RUNNING"):
            return  # cancelled while it waited
        record = self.store.get(task_arn)
        assert record is not None
        try:
            document = run_program(
                record.device_arn,
                record.action_type,
                record.action,
                record.shots,
                record.device_parameters,
                record.task_arn,
            )
        except TaskFailure as failure:
            if not self._end(task_arn, "FAILED", only_if=["RUNNING"], failure_reason=str(failure)):
                self._end(task_arn, "CANCELLED")
            return
        if self.store.get(task_arn).status == "CANCELLING":  # type: ignore[union-attr]
            self._end(task_arn, "CANCELLED")
            return
        try:
            self._write_result(record, document)
        except Exception as error:
            reason = f"could not write the result to s3://{record.output_bucket}: {_client_error(error)}"
            self._end(task_arn, "FAILED", only_if=["RUNNING"], failure_reason=reason)
            return
        if not self._end(task_arn, "COMPLETED", only_if=["RUNNING"], successful_shots=record.shots):
            self._end(task_arn, "CANCELLED")

    def _write_result(self, record: TaskRecord, document: bytes) -> None:
        self.write_object(record.output_bucket, f"{record.output_directory}/{RESULTS_FILENAME}", document)

    def _end(
        self, task_arn: str, status: str, only_if: tuple[str, ...] | list[str] | None = None, **values: Any
    ) -> bool:
        allowed = only_if or ("CREATED", "QUEUED", "RUNNING", "CANCELLING")
        changed = self.store.update(task_arn, only_if=allowed, status=status, ended_at=now_ms(), **values)
        if changed:
            with self._ended:
                self._ended.notify_all()
        return changed


def _rank(record: TaskRecord) -> int:
    return 0 if record.priority == "Priority" else 1


def _client_error(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        detail = response.get("Error", {})
        return f"{detail.get('Code', type(error).__name__)}: {detail.get('Message', '')}".strip(": ")
    return type(error).__name__
