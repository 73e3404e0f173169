"""What a hybrid job costs: its instances' billable time plus the quantum tasks it sent.

The quantum-task part follows the Braket SDK's ``Tracker`` rule for rule (``braket/tracking``):
a QPU task costs its per-task plus per-shot price unless it FAILED, was CANCELLED or ran in a
reservation; a simulator task its billed duration (execution time, at least 3 s, nothing in a
reservation) at the per-minute price; tasks a job sent are looked up under the "Braket Managed
Jobs" families. So for the same tasks the two agree to the cent. The instance part is
billableDuration x the instance's price x instanceCount. docs/cost.md says what is left out.

A price the price list lacks is never taken as zero: the cost names it in ``unpriced`` and its
``total`` is the known part only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from airflow_provider_braket.pricing.price_list import PriceList

MIN_SIMULATOR_DURATION = timedelta(seconds=3)  # braket.tracking.tracker.MIN_SIMULATOR_DURATION
RESERVATION = "RESERVATION_TIME_WINDOW_ARN"
_UNPAID_QPU_STATUSES = frozenset({"FAILED", "CANCELLED"})
_MILLISECONDS = {"seconds": 1000, "milliseconds": 1}


@dataclass(frozen=True)
class QuantumTaskUsage:
    """One quantum task, as far as its price goes.

    :param task_arn: The task's ARN (its region picks the price).
    :param device_arn: The device it ran on.
    :param status: Its status.
    :param shots: Shots asked for.
    :param in_job: Whether a hybrid job sent it (GetQuantumTask has a ``jobArn``).
    :param reserved: Whether it ran in a Braket Direct reservation.
    :param execution_ms: A simulator task's execution time in milliseconds, once its result exists.
    """

    task_arn: str
    device_arn: str
    status: str
    shots: int
    in_job: bool
    reserved: bool = False
    execution_ms: int | None = None

    @classmethod
    def from_description(cls, task: dict[str, Any], execution_ms: int | None = None) -> QuantumTaskUsage:
        """From a GetQuantumTask answer (and the result's ``simulatorMetadata.executionDuration``)."""
        return cls(
            task_arn=task["quantumTaskArn"],
            device_arn=task["deviceArn"],
            status=task["status"],
            shots=int(task.get("shots") or 0),
            in_job=bool(task.get("jobArn")),
            reserved=any(item.get("type") == RESERVATION for item in task.get("associations") or []),
            execution_ms=execution_ms,
        )

    @property
    def is_qpu(self) -> bool:
        return "qpu" in self.device_arn

    @property
    def is_simulator(self) -> bool:
        return "simulator" in self.device_arn

    @property
    def region(self) -> str:
        return self.task_arn.split(":")[3]


@dataclass
class JobCost:
    """A job's cost so far, in USD.

    :param instance: Instance time, or None if it could not be priced.
    :param quantum_tasks: The priced tasks.
    :param unpriced: What the price list has no price for (and so is not in the total).
    :param price_list_date: The price list's publication date.
    """

    instance: Decimal | None
    quantum_tasks: Decimal
    price_list_date: str
    unpriced: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return (self.instance or Decimal(0)) + self.quantum_tasks

    def to_dict(self) -> dict[str, Any]:
        """The XCom ``cost``: USD amounts as numbers, to a millionth of a dollar."""
        answer: dict[str, Any] = {
            "currency": "USD",
            "total": _usd(self.total),
            "instance": None if self.instance is None else _usd(self.instance),
            "quantumTasks": _usd(self.quantum_tasks),
            "priceListDate": self.price_list_date,
        }
        if self.unpriced:
            answer["unpriced"] = list(self.unpriced)
        return answer

    def describe(self) -> str:
        """One line for the task log."""
        instance = "unpriced" if self.instance is None else f"{_usd(self.instance):.4f}"
        text = (
            f"USD {_usd(self.total):.4f} (instance {instance}, quantum tasks {_usd(self.quantum_tasks):.4f}; "
            f"prices of {self.price_list_date})"
        )
        if self.unpriced:
            text += "; not priced: " + ", ".join(self.unpriced)
        return text


def job_cost(
    prices: PriceList, job: dict[str, Any], tasks: Iterable[QuantumTaskUsage], duration_unit: str = "seconds"
) -> JobCost:
    """The cost of ``job`` (a GetJob answer) and its ``tasks`` under ``prices``.

    :param duration_unit: The unit of ``billableDuration``: ``seconds`` or ``milliseconds``.
    """
    unpriced: list[str] = []
    instance = instance_cost(prices, job, duration_unit, unpriced)
    quantum = sum((task_cost(prices, task, unpriced) for task in tasks), Decimal(0))
    return JobCost(instance, quantum, prices.published.isoformat(), sorted(set(unpriced)))


def instance_cost(
    prices: PriceList, job: dict[str, Any], duration_unit: str, unpriced: list[str]
) -> Decimal | None:
    """Billable time x the instance price x the instance count; None if the price is unknown."""
    config = job.get("instanceConfig") or {}
    instance_type = str(config.get("instanceType", ""))
    region = str(job["jobArn"]).split(":")[3]
    seconds = billable_seconds(job, duration_unit)
    rate = prices.instance_rate(region, instance_type)
    if rate is None:
        if seconds:
            unpriced.append(f"instance {instance_type} in {region}")
            return None
        return Decimal(0)
    return rate.for_duration(seconds) * int(config.get("instanceCount") or 1)


def billable_seconds(job: dict[str, Any], duration_unit: str = "seconds") -> Decimal:
    """The job's billable seconds: ``billableDuration`` once AWS reports it, and until then, for a
    job that has started, the time since ``startedAt`` (what a running job has cost so far)."""
    if duration_unit not in _MILLISECONDS:
        raise ValueError(
            f"billable_duration_unit: must be 'seconds' or 'milliseconds' (got {duration_unit!r})"
        )
    billable = job.get("billableDuration")
    if billable:
        return Decimal(billable) * _MILLISECONDS[duration_unit] / 1000
    started = job.get("startedAt")
    if isinstance(started, datetime) and not job.get("endedAt"):
        now = datetime.now(started.tzinfo or timezone.utc)
        return Decimal(str(max(0.0, (now - started).total_seconds())))
    return Decimal(0)


def instance_time_bound(summary: dict[str, Any]) -> int | None:
    """Seconds that bound what an ended job's instance can be billed for, from its summary: the
    time from its creation to its end, a minute more, in whole minutes (AWS bills no instance time
    before a job is asked for or after it has ended; the minute and the rounding leave room for
    per-minute billing and the instance's release). None without both times."""
    created, ended = summary.get("createdAt"), summary.get("endedAt")
    if not isinstance(created, datetime) or not isinstance(ended, datetime):
        return None
    return 60 * (math.ceil(max(0.0, (ended - created).total_seconds()) / 60) + 1)


def task_cost(prices: PriceList, task: QuantumTaskUsage, unpriced: list[str]) -> Decimal:
    """One task's cost, by the SDK Tracker's rules."""
    if task.is_qpu:
        if task.status in _UNPAID_QPU_STATUSES or task.reserved:
            return Decimal(0)
        name = qpu_price_name(task.device_arn)
        rates = prices.qpu_rates(task.region, name, task.in_job)
        if rates is None:
            unpriced.append(f"QPU {name} in {task.region}")
            return Decimal(0)
        per_task, per_shot = rates
        return per_task.amount + per_shot.amount * task.shots
    if task.is_simulator:
        if task.reserved or not task.execution_ms:
            return Decimal(0)
        version = task.device_arn.split("/")[-1].upper()
        rate = prices.simulator_rate(task.region, version, task.in_job)
        if rate is None:
            unpriced.append(f"simulator {version} in {task.region}")
            return Decimal(0)
        billed_ms = max(task.execution_ms, int(MIN_SIMULATOR_DURATION.total_seconds() * 1000))
        return rate.for_duration(Decimal(billed_ms) / 1000)
    return Decimal(0)


def qpu_price_name(device_arn: str) -> str:
    """The name the price list knows a QPU by, derived from its ARN as the SDK's Tracker does."""
    name = device_arn.split("/")[-1]
    name = name[:1].upper() + name[1:]
    if "Ibex" in name:
        return name.replace("Ibex", "IBEX")
    if "2000Q" in name:
        return "2000Q"
    if "Advantage_system" in name:
        return "Advantage_system"
    return name


def _usd(amount: Decimal) -> float:
    return float(amount.quantize(Decimal("0.000001")))
