"""What the jobs of a budget scope have cost, read once per poll interval for all the tasks that ask.

A sweep of N points with a ``run_budget`` has N tasks checking the same DAG run's spending. Each
reading the whole scope on its own made on the order of N^2 reads over the run (one SearchJobs, a
GetJob and a SearchQuantumTasks per running job, per task, per poll). One :class:`ScopeCosts` per
process and connection (a triggerer's, or a worker's) is shared by every task in it instead:

- a scope's total is read at most once per ``max_age`` seconds (the tasks' poll interval); a task
  asking within it gets the total last read, and two asking at once wait for one read;
- a read lists only what can have changed since the last (:mod:`.scope_listing`); in a triggerer
  the poller's round has listed it already (``listing``): a round of every status holds all of
  it, and one of the jobs not ended holds how the watched ones ended, so a read there makes no
  SearchJobs of its own;
- an ended job's cost never changes and is read once (a GetJob for its ``billableDuration``), and
  only when it matters: until a scope's total comes near its budget, an ended job whose instance
  type is known counts at a bound of its instance time (:func:`instance_time_bound`) and costs no
  call; a job that ended without starting cost nothing and costs no call;
- a running job's instance time is priced from its summary's ``startedAt``, its instance type
  told by the trigger that watches it (:meth:`ScopeCosts.know_instance_config`) or read once;
  its quantum tasks are read incrementally, ten jobs a search, or in one search of every task
  created since when the points sent fewer new tasks than that (:class:`QuantumTaskUsageReader`).

A sweep's budget so costs, per poll interval, one search for its running points' tasks while they
send few (else one per ten running points);
outside a triggerer, a page per 100 running or queued points and one search for the points that
ended since; and near its budget, a GetJob per point that ended: the same at any sweep size.

The decision stays the task's (``CostWatch``); only the reading is shared.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_braket.jobs.models import TERMINAL_STATUSES, JobListing
from airflow_provider_braket.pricing.job_cost import instance_cost, instance_time_bound, job_cost
from airflow_provider_braket.pricing.quantum_task_usage import QuantumTaskUsageReader
from airflow_provider_braket.pricing.scope_listing import ScopeLister, ScopeState, listing_floor

if TYPE_CHECKING:
    from airflow_provider_braket.hooks.braket import BraketHook
    from airflow_provider_braket.pricing.price_list import PriceList

#: Ended jobs whose cost is remembered; a triggerer runs for months.
MAX_ENDED_JOBS = 50_000


@dataclass(frozen=True)
class _Bound:
    """An ended job counted without its GetJob: a bound of its cost, and its quantum tasks' part."""

    cost: Decimal
    quantum_tasks: Decimal


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
        self._bounds: dict[str, _Bound] = {}
        self._running: dict[str, tuple[float, Decimal]] = {}
        self._scopes: dict[str, ScopeState] = {}
        self._instance_configs: dict[str, dict[str, Any]] = {}
        self._lister = ScopeLister(hook)
        self._scope_locks: dict[str, threading.Lock] = {}
        self._job_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def spent(
        self,
        scope: str,
        filters: list[dict[str, Any]],
        belongs: Callable[[dict[str, Any]], bool],
        max_age: float = 0.0,
        listing: Callable[[], JobListing | None] | None = None,
        limit: Decimal | None = None,
    ) -> Decimal:
        """What the jobs of ``scope`` (found by ``filters``, kept by ``belongs``) have cost, read
        again only if the last read is older than ``max_age`` seconds.

        :param scope: A name for the scope (``run:<dag>/<run>``, ``month:<dag>/<yyyy-mm>``).
        :param listing: The scope's jobs as someone listed them anyway (a triggerer's poller), or
            None: then they are searched for.
        :param limit: The budget the total is compared with. Below it, the total may count ended
            jobs at a bound of their cost; at or above it, it is exact (every ended job read with
            GetJob first). None: always exact.
        """
        with self._lock:
            scope_lock = self._scope_locks.setdefault(scope, threading.Lock())
            state = self._scopes.setdefault(scope, ScopeState())
        with scope_lock:
            if time.monotonic() - state.read_at >= max_age:
                self._read(state, filters, belongs, listing)
            if state.bounded and (limit is None or state.total >= limit):
                self._settle(state)
            return state.total

    def _read(
        self,
        state: ScopeState,
        filters: list[dict[str, Any]],
        belongs: Callable[[dict[str, Any]], bool],
        listing: Callable[[], JobListing | None] | None,
    ) -> None:
        read_at = time.monotonic()
        listed = self._lister.jobs_to_read(state, filters, belongs, listing)
        active, ended = self._lister.active_and_ended(state, listed)
        state.active = active
        running = {arn: job for arn, job in active.items() if job.get("startedAt") is not None}
        new = {str(job["jobArn"]): job for job in ended if job["jobArn"] not in state.ended}
        # A job that ended without starting ran no instance and sent no quantum task.
        finished = {arn: job for arn, job in new.items() if job.get("startedAt") is not None}
        with self._lock:
            unknown = {arn: job for arn, job in finished.items() if not self._counted(arn)}
        # One search for the tasks of the running jobs and the last ones of those that ended.
        started = {arn: job["startedAt"] for arn, job in {**running, **unknown}.items()}
        usages = self._usage.jobs_quantum_tasks(started) if started else {}
        for arn, summary in unknown.items():
            if not self._bound(arn, summary, usages[arn]):
                self._remember_final(arn, self.hook.get_job(arn, queue_info=False), usages[arn])
        with self._lock:
            for arn in finished:
                if arn in self._ended:
                    state.ended_cost += self._ended[arn]
                elif arn in self._bounds:
                    state.bounded[arn] = self._bounds[arn].cost
        state.ended |= new.keys()
        state.running_cost = self._running_cost(running, usages)
        state.floor = listing_floor(state)
        state.read_at = read_at

    def listing_floor(self, scope: str) -> float | None:
        """How far back (epoch seconds) a listing must reach for the next read of ``scope``: the
        oldest of its jobs not ended, or the newest job the last read saw; None before a read
        (then the scope's own floor, which allows for clock skew, applies). A long sweep's
        listings so leave out the points that ended long ago, and every job of the minutes
        before the run."""
        state = self._scopes.get(scope)
        return state.floor if state is not None else None

    def _counted(self, job_arn: str) -> bool:
        return job_arn in self._ended or job_arn in self._bounds

    def _bound(self, job_arn: str, summary: dict[str, Any], usage: Any) -> bool:
        """Count an ended job at a bound of its cost, without its GetJob; False if its instance
        type is not known or not priced (then only GetJob tells)."""
        with self._lock:
            config = self._instance_configs.get(job_arn)
        seconds = instance_time_bound(summary)
        if config is None or seconds is None:
            return False
        bound = job_cost(
            self.prices, {"jobArn": job_arn, "instanceConfig": config, "billableDuration": seconds}, usage
        )
        if bound.instance is None:
            return False
        with self._lock:
            self._bounds[job_arn] = _Bound(bound.total, bound.quantum_tasks)
            while len(self._bounds) > MAX_ENDED_JOBS:
                del self._bounds[next(iter(self._bounds))]
            self._usage.forget(job_arn)
            self._instance_configs.pop(job_arn, None)
        return True

    def _settle(self, state: ScopeState) -> None:
        """Read the scope's ended jobs counted at a bound with GetJob: their exact cost."""
        for arn in list(state.bounded):
            with self._lock:
                exact = self._ended.get(arn)
                bound = self._bounds.get(arn)
            if exact is None:
                job = self.hook.get_job(arn, queue_info=False)
                if bound is None:  # forgotten (50,000 ended jobs since): its tasks are read again
                    exact = self._remember_final(arn, job, self._usage.job_quantum_tasks(arn))
                else:
                    instance = instance_cost(self.prices, job, self.duration_unit, []) or Decimal(0)
                    exact = self._remember_exact(arn, instance + bound.quantum_tasks)
            state.ended_cost += exact
            del state.bounded[arn]

    def _remember_final(self, job_arn: str, job: dict[str, Any], usage: Any) -> Decimal:
        return self._remember_exact(job_arn, job_cost(self.prices, job, usage, self.duration_unit).total)

    def _remember_exact(self, job_arn: str, total: Decimal) -> Decimal:
        with self._lock:
            self._bounds.pop(job_arn, None)
            self._ended[job_arn] = total
            while len(self._ended) > MAX_ENDED_JOBS:
                del self._ended[next(iter(self._ended))]
            self._running.pop(job_arn, None)
            self._usage.forget(job_arn)
            self._job_locks.pop(job_arn, None)
            self._instance_configs.pop(job_arn, None)
        return total

    def _running_cost(self, running: dict[str, dict[str, Any]], usages: dict[str, list[Any]]) -> Decimal:
        """What the running jobs have cost so far: instance time since their ``startedAt``, and
        their quantum tasks."""
        total = Decimal(0)
        for arn, summary in running.items():
            job = {**summary, "instanceConfig": self._instance_config(arn)}
            total += job_cost(self.prices, job, usages[arn], self.duration_unit).total
        return total

    def know_instance_config(self, job_arn: str, instance_config: dict[str, Any]) -> None:
        """Take ``instance_config`` as the job's (from whoever created it): no GetJob for it then."""
        with self._lock:
            if job_arn not in self._ended:
                self._instance_configs.setdefault(job_arn, dict(instance_config))

    def _instance_config(self, job_arn: str) -> dict[str, Any]:
        with self._lock:
            known = self._instance_configs.get(job_arn)
        if known is None:
            known = dict(self.hook.get_job(job_arn, queue_info=False).get("instanceConfig") or {})
            with self._lock:
                self._instance_configs[job_arn] = known
                while len(self._instance_configs) > MAX_ENDED_JOBS:
                    del self._instance_configs[next(iter(self._instance_configs))]
        return known

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
            if job["status"] in TERMINAL_STATUSES:
                return self._remember_final(job_arn, job, usage)
            total = job_cost(self.prices, job, usage, self.duration_unit).total
            with self._lock:
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
    """This process's :class:`ScopeCosts` for a connection (``key``), price list and unit.

    The connection is also told apart by what its hook resolved it to (endpoint, access key id):
    a connection edited while a triggerer runs gets a reader of its own instead of the old one's
    clients, which would go on calling where the connection no longer points.
    """
    hook = make_hook()
    config = hook.conn_config
    target = (config.get_service_endpoint_url(service_name="braket"), config.aws_access_key_id)
    slot = (key, target, id(prices), duration_unit)
    with _shared_lock:
        costs = _shared.get(slot)
        if costs is None:
            costs = _shared[slot] = ScopeCosts(hook, prices, duration_unit)
        return costs
