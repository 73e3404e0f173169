"""Enforcing a CreateHybridJobOperator's cost caps (:mod:`airflow_provider_braket.pricing.cost_limits`).

Before the job is created: the price list must price what the job will use (a cap cannot be
enforced on an unpriced cost), and the run's and month's budgets must not be spent. While the job
runs in a worker: at every poll. While it is deferred: the trigger does the same checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_braket.jobs.models import RequestValidationError
from airflow_provider_braket.jobs.request import DEFAULT_INSTANCE_CONFIG
from airflow_provider_braket.pricing.cost_limits import (
    BudgetScope,
    CostCapReached,
    CostLimits,
    CostWatch,
    cap_outcome,
)
from airflow_provider_braket.pricing.job_cost import qpu_price_name
from airflow_provider_braket.pricing.price_list import PriceList, configured_price_list
from airflow_provider_braket.pricing.scope_costs import shared_scope_costs
from airflow_provider_braket.utils.settings import braket_str

if TYPE_CHECKING:
    from airflow_provider_braket.hooks.braket import BraketHook
    from airflow_provider_braket.jobs.request import HybridJobSpec
    from airflow_provider_braket.utils.identity import TaskIdentity


@dataclass(eq=False)
class CostCapEnforcer:
    """One task's caps.

    :param hook: The task's hook.
    :param limits: The caps.
    :param identity: The task instance (its DAG run and DAG are the budgets' scopes).
    :param log: The task's logger.
    :param fail_after_completion: Fail the task when a cap is found passed only after its job
        COMPLETED (the task succeeds with the job's results otherwise).
    :param connection: The task's connection: the tasks of a process on the same one share what
        they read of costs (:mod:`~airflow_provider_braket.pricing.scope_costs`).
    :param max_age: How old a cost may be at a check (the task's poll interval).
    """

    hook: BraketHook
    limits: CostLimits
    identity: TaskIdentity
    log: Any
    fail_after_completion: bool = False
    connection: Any = None
    max_age: float = 0.0

    @cached_property
    def scope(self) -> BudgetScope:
        return BudgetScope.of(self.identity)

    @cached_property
    def prices(self) -> PriceList:
        return configured_price_list(braket_str("price_list"))

    @cached_property
    def watch(self) -> CostWatch:
        unit = braket_str("billable_duration_unit")
        costs = (
            shared_scope_costs(self.connection, lambda: self.hook, self.prices, unit)
            if self.connection is not None
            else None
        )
        return CostWatch(
            self.hook, self.limits, self.scope, self.prices, unit, shared_costs=costs, max_age=self.max_age
        )

    def before_submit(self, spec: HybridJobSpec) -> None:
        """Fail the task, without retries, if a cap cannot be enforced or a budget is spent."""
        if not self.limits.active:
            return
        missing = self._unpriced(spec)
        if missing:
            raise RequestValidationError(
                f"max_cost/run_budget/monthly_budget: the price list of {self.prices.published} has no "
                f"price for {missing}, so a cost cap cannot be enforced; point [braket] price_list at "
                "AWS's price list (docs/cost.md)",
                [("max_cost", "needs a price for everything the job uses")],
            )
        try:
            self.watch.check_before_submit()
        except CostCapReached as reached:
            raise AirflowFailException(str(reached)) from None

    def on_poll(self, job: dict[str, Any]) -> None:
        """Cancel the job and fail the task once a cap is reached (a job in a worker).

        A job that ended between the cost read and the cancel is not failed for the cap: the
        wait ends on its status at the next look, with its results (see :meth:`after_end`).
        """
        if not self.limits.active:
            return
        reached = self.watch.breach(job["jobArn"])
        if reached:
            message, ended_as = cap_outcome(reached, self.hook.cancel_job(job["jobArn"]))
            if ended_as is None:
                raise AirflowException(message)
            self.after_end(message, ended_as)

    def after_end(self, message: str, ended_as: str) -> None:
        """A cap passed after the job ended: say so; fail only if the task asked for it."""
        if ended_as == "COMPLETED" and self.fail_after_completion:
            raise AirflowException(f"{message}; failing as fail_on_cap_after_completion=True asks")
        self.log.warning("%s", message)

    def trigger_kwargs(self, job: dict[str, Any]) -> dict[str, Any]:
        """What the trigger of ``job`` (a GetJob answer) needs to check the caps."""
        return cost_trigger_kwargs(self.limits, self.scope, job)

    def _unpriced(self, spec: HybridJobSpec) -> str | None:
        region = self.hook.conn_region_name or ""
        instance = {**DEFAULT_INSTANCE_CONFIG, **spec.instance_config}["instanceType"]
        if self.prices.instance_rate(region, instance) is None:
            return f"instance {instance} in {region}"
        device = spec.device
        if "qpu" in device:
            name, device_region = qpu_price_name(device), device.split(":")[3]
            if self.prices.qpu_rates(device_region, name, in_job=True) is None:
                return f"QPU {name} in {device_region}"
        elif "quantum-simulator" in device:
            version = device.split("/")[-1].upper()
            if self.prices.simulator_rate(region, version, in_job=True) is None:
                return f"simulator {version} in {region}"
        return None


def cost_trigger_kwargs(limits: CostLimits, scope: BudgetScope, job: dict[str, Any]) -> dict[str, Any]:
    """The trigger's caps, and the job's ``instanceConfig``: a budget then prices the job's
    instance time from the poller's summaries without a GetJob of its own."""
    if not limits.active:
        return {}
    return {
        "cost_limits": limits.serialize(),
        "budget_scope": scope.serialize(),
        "instance_config": job.get("instanceConfig"),
    }
