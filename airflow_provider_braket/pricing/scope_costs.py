"""What the jobs of a budget scope have cost, read once per poll interval for all the tasks that ask.

A sweep of N points with a ``run_budget`` has N tasks checking the same DAG run's spending. Each
reading the whole scope on its own made on the order of N^2 reads over the run (one SearchJobs, a
GetJob and a SearchQuantumTasks per running job, per task, per poll). One :class:`ScopeCosts` per
process and connection (a triggerer's, or a worker's) is shared by every task in it instead:

- a scope's total is read at most once per ``max_age`` seconds (the tasks' poll interval); a task
  asking within it gets the total last read, and two asking at once wait for one read;
- an ended job's cost never changes and is read once;
- a running job's quantum tasks are read incrementally (:class:`QuantumTaskUsageReader`).

The decision stays the task's (``CostWatch``); only the reading is shared.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_braket.jobs.models import TERMINAL_STATUSES
from airflow_provider_braket.pricing.job_cost import job_cost
from airflow_provider_braket.pricing.quantum_task_usage import QuantumTaskUsageReader

if TYPE_CHECKING:
    from airflow_provider_braket.hooks.braket import BraketHook
    from airflow_provider_braket.pricing.price_list import PriceList

#: Ended jobs whose cost is remembered; a triggerer runs for months.
MAX_ENDED_JOBS = 50_000


class ScopeCosts:
    """Reads and remembers job and scope costs for every task of one process and connection.

    :param hook: The hook of the connection (its clients are thread-safe, as boto3's are).
    :param prices: The price list.
    :param duration_unit: The unit of ``billableDuration``.
    """

    def __init__(self, hook: BraketHook, prices: PriceList, duration_unit: str = "seconds") -> None:
        self.hook = hook
        self.prices = prices
        self.duration_unit = duration_unit
        self._usage = QuantumTaskUsageReader(hook.conn, hook.s3_client)
        self._ended: dict[str, Decimal] = {}
        self._running: dict[str, tuple[float, Decimal]] = {}
        self._totals: dict[str, tuple[float, Decimal]] = {}
        self._scope_locks: dict[str, threading.Lock] = {}
        self._job_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def spent(
        self,
        scope: str,
        filters: list[dict[str, Any]],
        belongs: Callable[[dict[str, Any]], bool],
        max_age: float = 0.0,
    ) -> Decimal:
        """What the jobs of ``scope`` (found by ``filters``, kept by ``belongs``) have cost, read
        again only if the last read is older than ``max_age`` seconds.

        :param scope: A name for the scope (``run:<dag>/<run>``, ``month:<dag>/<yyyy-mm>``).
        """
        with self._lock:
            scope_lock = self._scope_locks.setdefault(scope, threading.Lock())
        with scope_lock:
            known = self._totals.get(scope)
            if known is not None and time.monotonic() - known[0] < max_age:
                return known[1]
            jobs = [job for job in self.hook.search_jobs(filters) if belongs(job)]
            total = sum((self.job_cost(str(job["jobArn"]), max_age) for job in jobs), Decimal(0))
            self._totals[scope] = (time.monotonic(), total)
            return total

    def job_cost(self, job_arn: str, max_age: float = 0.0) -> Decimal:
        """The job's cost so far: read once it has ended; while it runs, read again only if the
        last read is older than ``max_age`` seconds (a scope's read and its own task's ``max_cost``
        check in the same poll interval share one)."""
        with self._lock:
            known = self._known_cost(job_arn, max_age)
            if known is not None:
                return known
            job_lock = self._job_locks.setdefault(job_arn, threading.Lock())
        # One reader of a job's tasks at a time: the incremental reading keeps state per job.
        with job_lock:
            with self._lock:
                known = self._known_cost(job_arn, max_age)
                if known is not None:
                    return known
            job = self.hook.get_job(job_arn, queue_info=False)
            usage = self._usage.job_quantum_tasks(job_arn)
            total = job_cost(self.prices, job, usage, self.duration_unit).total
            with self._lock:
                if job["status"] in TERMINAL_STATUSES:
                    self._ended[job_arn] = total
                    while len(self._ended) > MAX_ENDED_JOBS:
                        del self._ended[next(iter(self._ended))]
                    self._running.pop(job_arn, None)
                    self._usage.forget(job_arn)
                    self._job_locks.pop(job_arn, None)
                else:
                    self._running[job_arn] = (time.monotonic(), total)
                    while len(self._running) > MAX_ENDED_JOBS:  # jobs nobody asked about again
                        del self._running[next(iter(self._running))]
        return total

    def _known_cost(self, job_arn: str, max_age: float) -> Decimal | None:
        if job_arn in self._ended:
            return self._ended[job_arn]
        running = self._running.get(job_arn)
        if running is not None and time.monotonic() - running[0] < max_age:
            return running[1]
        return None


_shared: dict[tuple[Any, ...], ScopeCosts] = {}
_shared_lock = threading.Lock()


def shared_scope_costs(
    key: Any, make_hook: Callable[[], BraketHook], prices: PriceList, duration_unit: str
) -> ScopeCosts:
    """This process's :class:`ScopeCosts` for a connection (``key``), price list and unit."""
    slot = (key, id(prices), duration_unit)
    with _shared_lock:
        costs = _shared.get(slot)
        if costs is None:
            costs = _shared[slot] = ScopeCosts(make_hook(), prices, duration_unit)
        return costs
