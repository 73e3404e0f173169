"""The quantum task queue of the local service: one priority queue, warm worker processes.

Tasks of a hybrid job (``Priority``) go before tasks sent outside a job (``Normal``), FIFO within each, as AWS
orders a device's queue. A task starts when a worker is free and its memory estimate fits beside the running
tasks' (:mod:`~airflow_provider_braket.local.quantum_task_limits`). Each worker thread owns one worker process
(:mod:`~airflow_provider_braket.local.execution.quantum_task_processes`) and moves a task QUEUED -> RUNNING ->
COMPLETED or FAILED with conditional updates, so a cancel that races with the run leaves one clear outcome.
Cancelling a RUNNING task kills its worker process within
:data:`~airflow_provider_braket.local.execution.quantum_task_processes.POLL_SECONDS`; so does running past the
time limit, and a worker that dies takes only its own task with it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from airflow_provider_braket.local.exceptions import ConflictException
from airflow_provider_braket.local.execution.quantum_task_processes import WorkerLost, WorkerProcess
from airflow_provider_braket.local.quantum_task_limits import QuantumTaskLimits, task_memory_bytes
from airflow_provider_braket.local.storage.jobs import now_ms
from airflow_provider_braket.local.storage.quantum_task_requests import TASK_TERMINAL
from airflow_provider_braket.local.storage.quantum_tasks import QuantumTaskRecord, QuantumTaskStore

log = logging.getLogger(__name__)

RESULTS_FILENAME = "results.json"
ObjectWriter = Callable[[str, str, bytes], None]
_WAITING = ("CREATED", "QUEUED")
#: Runs a task gets: the one it was sent for, and one more if the service died under it.
MAX_ATTEMPTS = 2


class _Waiting(NamedTuple):
    rank: int
    order: int
    task_arn: str
    device_arn: str
    memory: int


class QuantumTaskRunner:
    """Queue and workers of quantum tasks.

    :param store: task records.
    :param write_object: puts ``(bucket, key, body)`` into this service's S3, where results go.
    :param workers: tasks simulated at once, each in a worker process of its own.
    :param limits: memory, time and program limits of a task.
    :param python: interpreter of the worker processes.
    """

    def __init__(
        self,
        store: QuantumTaskStore,
        write_object: ObjectWriter,
        workers: int = 2,
        limits: QuantumTaskLimits | None = None,
        python: str = sys.executable,
    ) -> None:
        self.store = store
        self.write_object = write_object
        self.limits = limits or QuantumTaskLimits()
        self._heap: list[_Waiting] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._ended = threading.Condition()
        self._stopping = False
        self._busy = 0
        self._reserved = 0
        self._cancelled: set[str] = set()
        #: Workers allowed to run at once (``PUT /_local/limits {"quantumTaskWorkers": n}``); 0 holds
        #: every task in the queue, as a device outside its availability window would.
        self.allowed = workers
        # The simulator's kernels run on every core; workers side by side share the cores, or
        # they contend for them (2 workers on 2 cores: 42 12-qubit tasks took 11.3 s, 1 took 7.5 s).
        threads = max(1, (os.cpu_count() or 1) // max(1, workers))
        self.processes = [WorkerProcess(f"simulator-{n}", python, threads=threads) for n in range(workers)]
        self._threads = [
            threading.Thread(target=self._work, args=(process,), name=f"braket-local-tasks-{n}", daemon=True)
            for n, process in enumerate(self.processes)
        ]

    def recover(self) -> None:
        """After a restart: end what was being cancelled, queue again what waited or ran."""
        for record in self.store.with_status(["CANCELLING"]):
            self._end(record.task_arn, "CANCELLED")
        for record in self.store.with_status(["RUNNING"]):
            if record.attempts >= MAX_ATTEMPTS:
                self._end(
                    record.task_arn,
                    "FAILED",
                    failure_reason=f"the local Braket service stopped while this task ran, {record.attempts} "
                    "times; it is not run again",
                )
                continue
            self.store.update(record.task_arn, status="QUEUED")
            self._push(record)
        for record in self.store.with_status(["CREATED", "QUEUED"]):
            self.store.update(record.task_arn, status="QUEUED")
            self._push(record)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the workers; a task they were running goes back to the queue as it was."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        for process in self.processes:
            process.kill()

    def set_allowed(self, workers: int) -> None:
        with self._wake:
            self.allowed = min(workers, len(self._threads))
            self._wake.notify_all()

    # -- requests ----------------------------------------------------------------------------

    def submit(self, record: QuantumTaskRecord) -> None:
        if self.store.update(record.task_arn, only_if=["CREATED"], status="QUEUED"):
            self._push(record)

    def cancel(self, record: QuantumTaskRecord) -> str:
        """CancelQuantumTask: a waiting task ends at once, a running one when its run returns."""
        if record.status in TASK_TERMINAL:
            # AWS's own words for it.
            raise ConflictException(
                f"Amazon Braket cannot cancel a quantum task in the {record.status} status"
            )
        if self._end(record.task_arn, "CANCELLED", only_if=_WAITING):
            self._forget(record.task_arn)
            return "CANCELLED"
        if self.store.update(record.task_arn, only_if=["RUNNING"], status="CANCELLING"):
            with self._wake:
                self._cancelled.add(record.task_arn)
        return "CANCELLING"

    def cancel_job_quantum_tasks(self, job_arn: str) -> int:
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

    def queue_position(self, record: QuantumTaskRecord) -> int | None:
        """1-based place among the waiting tasks of the same device and priority."""
        if record.status not in _WAITING:
            return None
        rank = _rank(record)
        with self._wake:
            waiting = sorted(self._heap)
        ahead = [
            item.task_arn for item in waiting if item.rank == rank and item.device_arn == record.device_arn
        ]
        return ahead.index(record.task_arn) + 1 if record.task_arn in ahead else None

    def queue_depth(self, device_arn: str) -> dict[str, int]:
        """Waiting tasks on a device by priority (GetDevice's deviceQueueInfo)."""
        with self._wake:
            ranks = [item.rank for item in self._heap if item.device_arn == device_arn]
        return {"Priority": ranks.count(0), "Normal": ranks.count(1)}

    # -- internals ---------------------------------------------------------------------------

    def _push(self, record: QuantumTaskRecord) -> None:
        memory = (
            task_memory_bytes(record.method, record.qubit_count, record.shots)
            if record.method and record.qubit_count is not None
            else 0
        )
        with self._wake:
            heapq.heappush(
                self._heap,
                _Waiting(_rank(record), next(self._order), record.task_arn, record.device_arn, memory),
            )
            self._wake.notify()

    def _forget(self, task_arn: str) -> None:
        with self._wake:
            self._heap = [entry for entry in self._heap if entry.task_arn != task_arn]
            heapq.heapify(self._heap)

    def _can_start(self) -> bool:
        if not self._heap or self._busy >= self.allowed:
            return False
        # The head waits until it fits beside the running tasks; alone, it always fits (a task that
        # could never fit was refused at CreateQuantumTask).
        return self._busy == 0 or self._reserved + self._heap[0].memory <= self.limits.memory_bytes

    def _work(self, process: WorkerProcess) -> None:
        # The worker starts with the first task: a service that runs no quantum task starts none.
        while True:
            with self._wake:
                while not self._stopping and not self._can_start():
                    self._wake.wait()
                if self._stopping:
                    return
                waiting = heapq.heappop(self._heap)
                self._busy += 1
                self._reserved += waiting.memory
            try:
                self._run(waiting, process)
            except Exception:
                log.exception("quantum task %s failed inside the local service", waiting.task_arn)
                self._end(
                    waiting.task_arn, "FAILED", failure_reason="InternalServiceError: the task could not run"
                )
            finally:
                with self._wake:
                    self._busy -= 1
                    self._reserved -= waiting.memory
                    self._cancelled.discard(waiting.task_arn)
                    self._wake.notify_all()
            if process.pid is None and not self._stopping:
                self._warm(process)  # killed with its task: ready again before the next one

    def _warm(self, process: WorkerProcess) -> None:
        """Start the worker (again, after a kill) before taking a task, not within one."""
        try:
            process.start()
        except Exception:
            log.exception("task worker %s did not start; its next task starts it again", process.name)

    def _run(self, waiting: _Waiting, process: WorkerProcess) -> None:
        task_arn = waiting.task_arn
        self._warm(process)  # RUNNING means simulating, not a worker starting
        record = self.store.get(task_arn)
        if record is None or not self.store.update(
            task_arn, only_if=["QUEUED"], status="RUNNING", attempts=record.attempts + 1
        ):
            return  # cancelled while it waited
        request = {
            "op": "run",
            "device_arn": record.device_arn,
            "action_type": record.action_type,
            "action": record.action,
            "shots": record.shots,
            "device_parameters": record.device_parameters,
            "task_arn": task_arn,
            "max_statements": self.limits.max_statements,
            "memory_bytes": waiting.memory or self.limits.memory_bytes,
        }
        try:
            answer = process.call(request, self.limits.timeout_seconds, lambda: self._stop_reason(task_arn))
        except WorkerLost as lost:
            self._after_lost_worker(record, lost)
            return
        if not answer.get("ok"):
            reason = str(answer.get("reason") or "the simulation failed")
            if not self._end(task_arn, "FAILED", only_if=["RUNNING"], failure_reason=reason):
                self._end(task_arn, "CANCELLED")
            return
        if self.store.get(task_arn).status == "CANCELLING":  # type: ignore[union-attr]
            self._end(task_arn, "CANCELLED")
            return
        try:
            self._write_result(record, str(answer["value"]).encode())
        except Exception as error:
            reason = f"could not write the result to s3://{record.output_bucket}: {_client_error(error)}"
            self._end(task_arn, "FAILED", only_if=["RUNNING"], failure_reason=reason)
            return
        if not self._end(task_arn, "COMPLETED", only_if=["RUNNING"], successful_shots=record.shots):
            self._end(task_arn, "CANCELLED")

    def _stop_reason(self, task_arn: str) -> str | None:
        if task_arn in self._cancelled:
            return "cancelled"
        if self._stopping:
            return "the local Braket service is stopping"
        return None

    def _after_lost_worker(self, record: QuantumTaskRecord, lost: WorkerLost) -> None:
        task_arn = record.task_arn
        if task_arn in self._cancelled:
            self._end(task_arn, "CANCELLED")
        elif self._stopping:
            # Not a failure of the task: it runs again after the restart, and this run is not counted.
            if not self.store.update(
                task_arn, only_if=["RUNNING"], status="QUEUED", attempts=record.attempts
            ):
                self._end(task_arn, "CANCELLED", only_if=["CANCELLING"])
        else:
            setting = " (braket-local serve --quantum-task-timeout)" if lost.timed_out else ""
            reason = f"The local Braket service stopped the quantum task: {lost}{setting}"
            if not self._end(task_arn, "FAILED", only_if=["RUNNING"], failure_reason=reason):
                self._end(task_arn, "CANCELLED")

    def _write_result(self, record: QuantumTaskRecord, document: bytes) -> None:
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


def _rank(record: QuantumTaskRecord) -> int:
    return 0 if record.priority == "Priority" else 1


def _client_error(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        detail = response.get("Error", {})
        return f"{detail.get('Code', type(error).__name__)}: {detail.get('Message', '')}".strip(": ")
    return type(error).__name__
