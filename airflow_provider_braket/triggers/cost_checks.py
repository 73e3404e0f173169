"""The cost caps a :class:`~airflow_provider_braket.triggers.braket.JobStatusTrigger` checks while
its job runs: costs read through the triggerer's shared reader, at most once per poll interval."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from airflow_provider_braket.hooks.braket import BraketHook
    from airflow_provider_braket.hooks.connection import ConnectionParams
    from airflow_provider_braket.pricing.cost_limits import CostWatch


class _Log(Protocol):  # a trigger's logger: stdlib's, or Airflow's structlog one
    def warning(self, msg: str, /, *args: Any) -> Any: ...
    def log(self, level: int, msg: str, /, *args: Any) -> Any: ...


class TriggerCostChecks:
    """A trigger's caps (``max_cost``, ``run_budget``, ``monthly_budget``) and when to check them.

    :param cost_limits: The caps, serialised (:class:`~.pricing.cost_limits.CostLimits`).
    :param budget_scope: The DAG run and DAG the budgets cover, serialised.
    :param connection: The trigger's connection: readers are shared per connection.
    :param hook: Makes the trigger's hook (created on first use).
    :param waiter_delay: The trigger's poll interval: the longest a cost read may be reused.
    :param job_arn: The trigger's job.
    :param instance_config: Its ``instanceConfig``, if the operator passed it on.
    """

    def __init__(
        self,
        cost_limits: dict[str, str | None] | None,
        budget_scope: dict[str, Any] | None,
        connection: ConnectionParams,
        hook: Callable[[], BraketHook],
        waiter_delay: float,
        job_arn: str = "",
        instance_config: dict[str, Any] | None = None,
    ) -> None:
        self.cost_limits = cost_limits
        self.budget_scope = budget_scope
        self.connection = connection
        self.hook = hook
        self.waiter_delay = waiter_delay
        self.job_arn = job_arn
        self.instance_config = instance_config
        self.checked_at = float("-inf")
        self._floor: float | None = None
        self._floor_checked_at: float | None = None

    @cached_property
    def watch(self) -> CostWatch | None:
        """The caps' reader; None without caps. Built in the triggerer's event loop."""
        if not self.cost_limits or not self.budget_scope:
            return None
        from airflow_provider_braket.pricing.cost_limits import BudgetScope, CostLimits, CostWatch
        from airflow_provider_braket.pricing.price_list import configured_price_list
        from airflow_provider_braket.pricing.scope_costs import shared_scope_costs
        from airflow_provider_braket.triggers.poller import listing_of
        from airflow_provider_braket.utils.settings import braket_str

        prices, unit = configured_price_list(braket_str("price_list")), braket_str("billable_duration_unit")
        # Every trigger of this triggerer on the connection reads costs through one reader:
        # a budget scope's total once per poll interval, however many tasks share it.
        costs = shared_scope_costs(self.connection, self.hook, prices, unit)
        if self.instance_config:
            costs.know_instance_config(self.job_arn, self.instance_config)
        return CostWatch(
            self.hook(),
            CostLimits.deserialize(self.cost_limits),
            BudgetScope(**self.budget_scope),
            prices,
            unit,
            shared_costs=costs,
            max_age=self.waiter_delay,
            listing=listing_of(self.connection),  # the poller's rounds list the jobs not ended
        )

    def list_since(self) -> float | None:
        """How far back the budgets' next reads need jobs listed (epoch seconds), for the poller's
        rounds: worked out again only after a check (it moves forward as the scopes' old jobs end)."""
        if self._floor_checked_at != self.checked_at:
            self._floor = self.watch.list_since() if self.watch is not None else None
            self._floor_checked_at = self.checked_at
        return self._floor

    def next_check_in(self) -> float | None:
        """Seconds until the caps are due again (costs grow without news); None without caps."""
        if not self.cost_limits:
            return None
        return max(0.0, self.checked_at + self.waiter_delay - time.monotonic())

    async def reached(self, job_arn: str, log: _Log) -> dict[str, Any] | None:
        """The ``cost_cap`` event of a job that reached a cap, after cancelling it; None while the
        caps hold or are not due. ``endedAs`` is set when the job had ended before the cancel.

        Costs are read with the sync hook in a thread; a check that fails (throttling, a lost
        connection) is logged and tried at the next look.
        """
        watch = self.watch
        if watch is None or time.monotonic() < self.checked_at + self.waiter_delay:
            return None
        self.checked_at = time.monotonic()
        try:
            breach = await asyncio.to_thread(watch.breach, job_arn)
            if breach is None:
                return None
            status = await asyncio.to_thread(self.hook().cancel_job, job_arn)
        except Exception as error:
            log.warning("Cost caps of %s not checked this time: %s", job_arn, error)
            return None
        from airflow_provider_braket.pricing.cost_limits import cap_outcome

        message, ended_as = cap_outcome(breach, status)
        log.log(logging.WARNING if ended_as else logging.ERROR, "%s", message)
        return {"status": "cost_cap", "jobArn": job_arn, "message": message, "endedAs": ended_as}
