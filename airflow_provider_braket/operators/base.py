"""What every Braket task shares: its connection arguments, its hook, and cancel on kill."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_braket.hooks.connection import (
    DEFAULT_CONN_ID,
    LOOPBACK_WAITER_DELAY,
    ConnectionParams,
    unreachable_endpoint,
)
from airflow_provider_braket.jobs.endpoints import is_loopback_endpoint
from airflow_provider_braket.jobs.metrics import latest_values, metric_series
from airflow_provider_braket.jobs.progress import created_epoch
from airflow_provider_braket.jobs.results import DEFAULT_MAX_RESULTS_BYTES, ResultsTooLargeError, results_key
from airflow_provider_braket.triggers.braket import JobStatusTrigger
from airflow_provider_braket.utils.identity import TAG_PREFIX
from airflow_provider_braket.utils.settings import braket_float

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.links.base_aws import BaseAwsLink
    from airflow.sdk import Context

    from airflow_provider_braket.hooks.braket import BraketHook


class BraketTaskMixin:
    """
    Connection arguments, a :class:`BraketHook`, and ``on_kill`` that cancels the watched job.

    ``on_kill`` runs in the worker when a running task is killed (marked failed or success,
    cleared, or timed out). A deferred task has no worker process: its trigger cancels instead
    (see ``JobStatusTrigger``). Both go through the hook's cancel, which accepts a job that
    already ended.
    """

    job_arn_to_cancel: str | None = None
    cancel_on_kill: bool = True

    def init_aws(
        self,
        aws_conn_id: str | None = DEFAULT_CONN_ID,
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
    ) -> None:
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    def connection_params(self) -> ConnectionParams:
        """This task's connection arguments, as rendered (they are templated)."""
        return ConnectionParams.of(self.aws_conn_id, self.region_name, self.verify, self.botocore_config)

    @cached_property
    def hook(self) -> BraketHook:
        return self.connection_params().make_hook()

    @staticmethod
    def min_deferral_seconds() -> float:
        """How long a deferral lasts at least (``[braket] min_deferral_seconds``)."""
        return braket_float("min_deferral_seconds")

    def resume_not_before(self) -> float:
        """Epoch seconds before which a trigger deferred now must not fire."""
        return time.time() + self.min_deferral_seconds()

    def trigger_connection_kwargs(self) -> dict[str, Any]:
        return self.connection_params().as_kwargs()

    def status_trigger(
        self,
        job: dict[str, Any],
        poll_interval: float,
        timeout_at: float | None,
        *,
        cancel_on_kill: bool,
        forward_logs: bool,
        timeout_reason: str = "timeout_at",
        **caps: Any,
    ) -> JobStatusTrigger:
        """The trigger every deferrable Braket task waits on until ``job`` ends (or ``timeout_at``)."""
        return JobStatusTrigger(
            job_arn=job["jobArn"],
            job_name=job["jobName"],
            poll_interval=poll_interval,
            created_at=created_epoch(job),
            timeout_at=timeout_at,
            timeout_reason=timeout_reason,
            not_before=self.resume_not_before(),
            cancel_on_kill=cancel_on_kill,
            forward_logs=forward_logs,
            **caps,
            **self.trigger_connection_kwargs(),
        )

    waiter_delay_given: bool = True

    def configured_waiter_delay(self, given: float | None) -> float:
        """``given``, else ``[braket] waiter_delay``; remembers which, for :meth:`adapt_waiter_delay`."""
        self.waiter_delay_given = given is not None
        if given is not None:
            return float(given)
        return braket_float("waiter_delay")

    def adapt_waiter_delay(self, delay: float) -> float:
        """A delay the user did not give, shortened against a loopback endpoint (the local service)."""
        if self.waiter_delay_given or not is_loopback_endpoint(self.braket_endpoint()):
            return delay
        return min(delay, LOOPBACK_WAITER_DELAY)

    def braket_endpoint(self) -> str | None:
        return self.hook.conn_config.get_service_endpoint_url(service_name="braket")

    def check_endpoint(self) -> None:
        """Fail at once, naming the endpoint (and how to start the local service), if the
        connection's custom endpoint does not answer; a task would otherwise retry for a minute."""
        reason = unreachable_endpoint(self.braket_endpoint())
        if reason:
            raise AirflowException(f"Airflow connection {self.aws_conn_id!r}: {reason}")

    def reserve_links(self, context: Context, links: Sequence[type[BaseAwsLink]]) -> None:
        """Empty link XComs at the start of a try: Airflow reads every link's XCom when a task
        ends, and an absent one is logged at error level (``XCom not found``) although a task
        that failed before creating a job has, rightly, no link."""
        push = getattr(context.get("ti"), "xcom_push", None)
        if push is None or not self.do_xcom_push:  # type: ignore[attr-defined]
            return
        for link in links:
            push(key=link.key, value={})

    def start_log_cursor(self, context: Context, job_arn: str) -> None:
        """Write the trigger's log cursor before deferring, so that the trigger finds one (an
        absent XCom is logged at error level) and forwards the job's log lines from the start."""
        from airflow_provider_braket.triggers.braket import LOG_CURSOR_XCOM_KEY

        push = getattr(context.get("ti"), "xcom_push", None)
        if push is not None:
            push(key=LOG_CURSOR_XCOM_KEY, value={"jobArn": job_arn, "positions": {}})

    def persist_links(self, context: Context, links: Sequence[type[BaseAwsLink]], **fields: str) -> None:
        """Store what the console links of this task need (region, partition, job) in XCom."""
        for link in links:
            link.persist(
                context=context,
                operator=self,
                region_name=self.hook.conn_region_name,
                aws_partition=self.hook.conn_partition,
                **fields,
            )

    def on_kill(self) -> None:
        job_arn = self.job_arn_to_cancel
        if not job_arn:
            return
        if not self.cancel_on_kill:
            self.hook.log.info("cancel_on_kill is off; hybrid job %s keeps running.", job_arn)
            return
        self.hook.log.info("Task killed; cancelling hybrid job %s.", job_arn)
        self.hook.cancel_job(job_arn)


def job_summary(job: dict[str, Any]) -> dict[str, Any]:
    """The XCom a task returns for a GetJob answer; results and metrics are filled in on success."""
    return {
        "jobArn": job["jobArn"],
        "jobName": job["jobName"],
        "status": job["status"],
        "device": (job.get("deviceConfig") or {}).get("device"),
        "mapIndex": _map_index(job),
        "results": None,
        "metrics": {},
        "metricSeries": {},
        "billableDuration": job.get("billableDuration"),
        "outputS3Path": job["outputDataConfig"]["s3Path"],
        "resultsUri": results_key(job["outputDataConfig"]["s3Path"]),
    }


class JobDidNotComplete(AirflowException):
    """The job ended FAILED or CANCELLED; ``cost`` is what it cost all the same (None if unknown)."""

    def __init__(self, message: str, cost: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.cost = cost


def _map_index(job: dict[str, Any]) -> int | None:
    """The map index of the Airflow task that created the job (its tag), if one did."""
    tag = (job.get("tags") or {}).get(f"{TAG_PREFIX}map_index")
    return int(tag) if tag is not None and tag.lstrip("-").isdigit() else None


def completed_job_outcome(
    hook: BraketHook,
    job: dict[str, Any],
    log: Any,
    allow_pickle: bool = False,
    max_results_bytes: int = DEFAULT_MAX_RESULTS_BYTES,
) -> dict[str, Any]:
    """What the operator and the sensor return for an ended job: its summary with results,
    metrics and metricSeries; a FAILED or CANCELLED job raises with its failureReason."""
    cost = report_cost(hook, job, log)
    if job["status"] != "COMPLETED":
        raise JobDidNotComplete(
            f"Hybrid job {job['jobArn']} {job['status']}: {job.get('failureReason') or 'no reason given'}",
            cost,
        )
    summary = job_summary(job)
    summary["cost"] = cost
    try:
        summary["results"] = hook.get_results(job, allow_pickle=allow_pickle, max_bytes=max_results_bytes)
    except ResultsTooLargeError as error:
        summary["resultsOmitted"] = f"{error}; read it from {summary['resultsUri']}"
        log.warning("Results of %s not put in XCom: %s", job["jobArn"], summary["resultsOmitted"])
    records = hook.get_metrics(job["jobName"], job["jobArn"])
    summary["metrics"] = latest_values(records)
    summary["metricSeries"] = metric_series(records)
    log.info("Hybrid job %s COMPLETED; results: %s", job["jobArn"], summary["results"])
    return summary


def report_cost(hook: BraketHook, job: dict[str, Any], log: Any) -> dict[str, Any] | None:
    """Log what an ended job cost and return it as the XCom ``cost``; None if it cannot be known.

    Reading the price list or the job's tasks can fail (a missing permission, a bad
    ``[braket] price_list``); the job's own outcome must not, so that is a warning.
    """
    try:
        cost = hook.job_cost(job["jobArn"])
    except Exception as error:
        log.warning("Cost of hybrid job %s not known: %s", job["jobArn"], error)
        return None
    log.info("Hybrid job %s %s; cost: %s", job["jobArn"], job["status"], cost.describe())
    return cost.to_dict()
