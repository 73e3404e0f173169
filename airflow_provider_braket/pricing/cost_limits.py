"""Cost caps: a job's own ``max_cost``, a DAG run's ``run_budget``, a DAG's ``monthly_budget``.

Budgets are found from the jobs' ``airflow:`` tags (SearchJobs returns them), so they hold across
retries, restarts and workers: the run's jobs are those tagged with its ``dag_id`` and ``run_id``
created since the run began, the month's those tagged with the ``dag_id`` created since the first
of the calendar month (UTC). A task refuses to submit when its run's or month's budget is spent;
while its job runs, the job is cancelled when its own cost reaches ``max_cost`` or its scope's
cost exceeds a budget. docs/cost.md says how each behaves at its edges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import InitVar, asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import TYPE_CHECKING, Any

from airflow_provider_braket.jobs.models import (
    JobListing,
    RequestValidationError,
    created_since,
    parse_timestamp,
)
from airflow_provider_braket.jobs.progress import created_at
from airflow_provider_braket.pricing.price_list import PriceList
from airflow_provider_braket.pricing.scope_costs import ScopeCosts
from airflow_provider_braket.utils.identity import CLOCK_SKEW, airflow_tag

if TYPE_CHECKING:
    from airflow_provider_braket.hooks.braket import BraketHook
    from airflow_provider_braket.utils.identity import TaskIdentity

#: Larger than any Braket spend a cap could mean; a larger figure is a typo.
MAX_CAP_USD = Decimal(10_000_000)


class CostCapReached(Exception):
    """A cap is reached; the message names it and the cost."""


def cap_outcome(reached: str, cancel_status: str) -> tuple[str, str | None]:
    """What to say once a reached cap's job was cancelled, and the status it had already ended in.

    The cost is read a moment before the cancel: a job may end in between. Then it was not
    cancelled, and saying so ("cancelled (COMPLETED)") would contradict itself.

    :param reached: What :meth:`CostWatch.breach` said.
    :param cancel_status: What CancelJob answered (the job's status if it had already ended).
    :return: The message, and ``COMPLETED``/``FAILED`` when the job had ended before the cancel.
    """
    if cancel_status in ("COMPLETED", "FAILED"):
        return (
            f"{reached}, after the job had already ended ({cancel_status}): it was not cancelled",
            cancel_status,
        )
    return f"{reached}; the job was cancelled ({cancel_status})", None


@dataclass(frozen=True)
class CostLimits:
    """The caps of one task, in USD; None where there is none."""

    max_cost: Decimal | None = None
    run_budget: Decimal | None = None
    monthly_budget: Decimal | None = None

    @classmethod
    def of(cls, max_cost: Any = None, run_budget: Any = None, monthly_budget: Any = None) -> CostLimits:
        """Checked caps from operator arguments (numbers, or strings a template rendered)."""
        return cls(
            _usd("max_cost", max_cost), _usd("run_budget", run_budget), _usd("monthly_budget", monthly_budget)
        )

    @property
    def active(self) -> bool:
        return any(value is not None for value in asdict(self).values())

    def serialize(self) -> dict[str, str | None]:
        return {name: None if value is None else str(value) for name, value in asdict(self).items()}

    @classmethod
    def deserialize(cls, data: dict[str, str | None] | None) -> CostLimits:
        return cls(
            **{name: None if value is None else Decimal(value) for name, value in (data or {}).items()}
        )


@dataclass(frozen=True)
class BudgetScope:
    """The DAG run and DAG whose jobs share a budget."""

    dag_id: str
    run_id: str
    run_started_at: float | None = None

    @classmethod
    def of(cls, identity: TaskIdentity) -> BudgetScope:
        started = identity.run_started_at
        return cls(identity.dag_id, identity.run_id, started.timestamp() if started else None)

    def serialize(self) -> dict[str, Any]:
        return asdict(self)

    def run_search(self) -> tuple[list[dict[str, Any]], Callable[[dict[str, Any]], bool]]:
        since = datetime.fromtimestamp(self.run_started_at or 0, timezone.utc) - CLOCK_SKEW
        return created_since(
            since
        ), lambda job: airflow_tag(job, "dag_id") == self.dag_id and airflow_tag(job, "run_id") == self.run_id

    def month_search(
        self, now: datetime | None = None
    ) -> tuple[list[dict[str, Any]], Callable[[dict[str, Any]], bool]]:
        now = now or datetime.now(timezone.utc)
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        # Jobs created a little before the month began are looked at, and kept only if they were not.
        return (
            created_since(month_start - CLOCK_SKEW),
            lambda job: (
                airflow_tag(job, "dag_id") == self.dag_id
                and (created := created_at(job)) is not None
                and created >= month_start
            ),
        )


@dataclass(eq=False)
class CostWatch:
    """One task's caps, checked against what its job and its scopes have cost so far.

    The costs are read through ``costs``, which the tasks of one process share
    (:mod:`.scope_costs`): an ended job's cost is read once, a scope's total at most once per
    ``max_age`` seconds, and a running job's own cost at every check.

    :param hook: The task's hook.
    :param limits: Its caps.
    :param scope: Its DAG run and DAG.
    :param prices: The price list.
    :param duration_unit: The unit of ``billableDuration`` (``[braket] billable_duration_unit``).
    :param shared_costs: The process's shared reader; one of this watch's own if not given.
    :param max_age: How old a cost may be when a cap is checked: the tasks pass their poll
        interval, so each check sees costs at most one interval old and a scope is read at most
        once per interval, however many tasks share it.
    """

    hook: BraketHook
    limits: CostLimits
    scope: BudgetScope
    prices: PriceList
    duration_unit: str = "seconds"
    shared_costs: InitVar[ScopeCosts | None] = None
    max_age: float = 0.0
    #: Where a scope's jobs may be read without a search: ``(since, max_age)`` -> the jobs
    #: created since then, or None (a triggerer's poller lists them anyway).
    listing: Callable[[float, float], JobListing | None] | None = None
    costs: ScopeCosts = field(init=False)

    def __post_init__(self, shared_costs: ScopeCosts | None) -> None:
        self.costs = shared_costs or ScopeCosts(self.hook, self.prices, self.duration_unit)

    def check_before_submit(self) -> None:
        """Raise :class:`CostCapReached` if the run's or the month's budget is spent (read now:
        a job about to be created is decided on the freshest total)."""
        for name, budget, spent, scope in self._budgets(max_age=0.0):
            if spent >= budget:
                raise CostCapReached(
                    f"{name}={budget} USD is spent: the Braket jobs of {scope} have cost USD {spent:.4f}; "
                    "no job was created"
                )

    def breach(self, job_arn: str) -> str | None:
        """What cap the job has reached, if any (to cancel it); None while all hold."""
        if self.limits.max_cost is not None:
            cost = self.job_cost(job_arn)
            if cost >= self.limits.max_cost:
                cap = self.limits.max_cost
                return f"max_cost={cap} USD reached: hybrid job {job_arn} has cost USD {cost:.4f}"
        for name, budget, spent, scope in self._budgets():
            if spent > budget:
                return f"{name}={budget} USD exceeded: the Braket jobs of {scope} have cost USD {spent:.4f}"
        return None

    def job_cost(self, job_arn: str) -> Decimal:
        return self.costs.job_cost(job_arn, self.max_age)

    def list_since(self) -> float | None:
        """The earliest creation time (epoch seconds) the budgets' next reads need listed; None
        without budgets, or before their first read (which lists its scope itself)."""
        floors = [self.costs.listing_floor(key) for _, _, key, _, _ in self._scopes()]
        return min((floor for floor in floors if floor is not None), default=None)

    def _listing_floor(self, key: str, filters: list[dict[str, Any]]) -> float:
        floor = self.costs.listing_floor(key)
        return floor if floor is not None else _floor(filters)

    def _scopes(self) -> list[tuple[str, Decimal, str, Any, str]]:
        """(argument, budget, scope key, (filters, belongs), description) of each budget."""
        scopes = []
        if self.limits.run_budget is not None:
            run = f"run:{self.scope.dag_id}/{self.scope.run_id}"
            scopes.append(
                (
                    "run_budget",
                    self.limits.run_budget,
                    run,
                    self.scope.run_search(),
                    f"DAG run {self.scope.run_id}",
                )
            )
        if self.limits.monthly_budget is not None:
            month = datetime.now(timezone.utc).strftime("%Y-%m")
            key, where = f"month:{self.scope.dag_id}/{month}", f"DAG {self.scope.dag_id} in {month}"
            scopes.append(
                ("monthly_budget", self.limits.monthly_budget, key, self.scope.month_search(), where)
            )
        return scopes

    def spending(self) -> list[tuple[str, Decimal, Decimal, str]]:
        """(argument, budget, spent, scope) of each budget, read now, to the cent."""
        return self._budgets(max_age=0.0, exact=True)

    def _budgets(
        self, max_age: float | None = None, exact: bool = False
    ) -> list[tuple[str, Decimal, Decimal, str]]:
        """(argument, budget, spent, scope) of each budget. Unless ``exact``, ``spent`` may be an
        upper bound where it is below the budget (ended jobs not yet read with GetJob): the
        comparison with the budget comes out as the exact cost's would."""
        age = self.max_age if max_age is None else max_age
        checks = []
        for name, budget, key, (filters, belongs), where in self._scopes():
            # A round's listing is up to an interval and its own pages old; running jobs' costs
            # are still priced up to now from it.
            listed = (
                partial(self.listing, self._listing_floor(key, filters), 2 * age)
                if self.listing and age > 0
                else None
            )
            limit = None if exact else budget
            spent = self.costs.spent(key, filters, belongs, max_age=age, listing=listed, limit=limit)
            checks.append((name, budget, spent, where))
        return checks


def _floor(filters: list[dict[str, Any]]) -> float:
    """The ``createdAt GTE`` of a scope's filters, in epoch seconds."""
    return parse_timestamp(filters[0]["values"][0]).timestamp()


def _usd(argument: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    rule = f"must be a positive number of US dollars, at most {MAX_CAP_USD}"
    try:
        if isinstance(value, bool):
            raise TypeError
        amount = Decimal(value.strip() if isinstance(value, str) else str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise RequestValidationError(
            f"{argument}: {rule} (got a {type(value).__name__})", [(argument, rule)]
        ) from None
    if not amount.is_finite() or not 0 < amount <= MAX_CAP_USD:
        raise RequestValidationError(f"{argument}: {rule} (got {amount})", [(argument, rule)])
    return amount
