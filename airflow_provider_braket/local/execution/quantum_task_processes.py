"""Warm task worker processes, as the service sees them: start, ask, kill, replace.

Every program a client sends is parsed, checked and simulated in one of these
(:mod:`~airflow_provider_braket.local.execution.quantum_task_worker`), never in the service's process or on
its event loop. A worker that runs past its time, is cancelled, or dies (a crash, the kernel's OOM killer) is
killed and started again; the request that was in it gets :class:`WorkerLost` naming why, and nothing else is
touched.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from airflow_provider_braket.local.execution.quantum_task_worker import FrameError, read_frame, write_frame

log = logging.getLogger(__name__)

#: How long a new worker may take to import the simulators and compile their kernels.
START_TIMEOUT_SECONDS = 120.0
#: How often a waiting caller looks at its cancel flag: a cancel stops a simulation within this.
POLL_SECONDS = 0.05


class WorkerLost(Exception):
    """The worker did not answer: it was stopped (the message says why) or it died.

    :param timed_out: it was killed for running past its time.
    """

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class WorkerProcess:
    """One warm worker process; one request at a time (callers serialise).

    :param name: for logs.
    :param python: interpreter to run it with.
    :param role: ``simulator`` (warms the simulators' kernels at start) or ``checker`` (imports only).
    :param threads: threads the simulator's parallel kernels may use (numba's ``NUMBA_NUM_THREADS``).
    """

    def __init__(
        self, name: str, python: str = sys.executable, role: str = "simulator", threads: int | None = None
    ) -> None:
        self.name = name
        self.python = python
        self.role = role
        self.threads = threads
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Start the process if it is not running, and wait until it is warm."""
        with self._lock:
            self._ensure_started()

    def _ensure_started(self, should_stop: Callable[[], str | None] | None = None) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        process = subprocess.Popen(
            [self.python, "-m", "airflow_provider_braket.local.execution.quantum_task_worker", self.role],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self._environment(),
        )
        self._process = process
        try:
            self._receive(process, START_TIMEOUT_SECONDS, should_stop)
        except WorkerLost:
            self.kill()
            raise
        log.debug("task worker %s ready (pid %d)", self.name, process.pid)

    def _environment(self) -> dict[str, str]:
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if self.threads is not None:
            environment["NUMBA_NUM_THREADS"] = str(self.threads)
        return environment

    def call(
        self, request: dict[str, Any], timeout: float, should_stop: Callable[[], str | None] | None = None
    ) -> dict[str, Any]:
        """Send ``request`` and wait for its answer.

        :param timeout: seconds the request may take; past them the worker is killed.
        :param should_stop: polled while waiting; a reason it returns kills the worker.
        :raises WorkerLost: the worker was killed or died before it answered.
        """
        with self._lock:
            self._ensure_started(should_stop)
            process = self._process
            assert process is not None
            assert process.stdin is not None
            try:
                write_frame(process.stdin, request)
            except (BrokenPipeError, OSError):
                self.kill()
                raise WorkerLost(self._death(process)) from None
            return self._receive(process, timeout, should_stop)

    def kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def _receive(
        self, process: subprocess.Popen[bytes], timeout: float, should_stop: Callable[[], str | None] | None
    ) -> dict[str, Any]:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            readable, _, _ = select.select([process.stdout], [], [], POLL_SECONDS)
            if readable:
                try:
                    return read_frame(process.stdout)
                except (FrameError, ValueError):
                    self.kill()
                    raise WorkerLost(self._death(process)) from None
            reason = should_stop() if should_stop is not None else None
            if reason is not None:
                self.kill()
                raise WorkerLost(reason)
            if time.monotonic() > deadline:
                self.kill()
                raise WorkerLost(f"it ran longer than its limit of {timeout:g} s", timed_out=True)
            if process.poll() is not None:
                self.kill()
                raise WorkerLost(self._death(process))

    @staticmethod
    def _death(process: subprocess.Popen[bytes]) -> str:
        code = process.wait()
        if code < 0:
            name = signal.Signals(-code).name
            cause = " (most often the kernel's out-of-memory killer)" if name == "SIGKILL" else ""
            return f"its worker process was killed by {name}{cause}"
        return f"its worker process exited with status {code}"


class WorkerPool:
    """A few workers handed out one request at a time (CreateQuantumTask's program checks).

    Each starts with the first request it gets: a service that runs no quantum task starts none.

    :param size: workers, hence checks at once.
    :param python: interpreter of the workers.
    """

    def __init__(self, size: int, name: str, python: str = sys.executable) -> None:
        self._workers = [WorkerProcess(f"{name}-{n}", python, role="checker", threads=1) for n in range(size)]
        self._idle: queue.Queue[WorkerProcess] = queue.Queue()
        for worker in self._workers:
            self._idle.put(worker)

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        with self._worker() as worker:
            return worker.call(request, timeout)

    def stop(self) -> None:
        for worker in self._workers:
            worker.kill()

    @property
    def pids(self) -> list[int]:
        return [pid for pid in (worker.pid for worker in self._workers) if pid is not None]

    @contextmanager
    def _worker(self) -> Iterator[WorkerProcess]:
        worker = self._idle.get()
        try:
            yield worker
        finally:
            self._idle.put(worker)
