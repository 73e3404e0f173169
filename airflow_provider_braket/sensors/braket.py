"""HybridJobSensor: wait for an existing hybrid job to end."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_braket.hooks.connection import is_transient_error
from airflow_provider_braket.jobs.progress import JobProgress, is_terminal
from airflow_provider_braket.jobs.results import DEFAULT_MAX_RESULTS_BYTES
from airflow_provider_braket.links.braket import BraketJobLink
from airflow_provider_braket.operators.base import BraketBaseSensor, braket_template_fields
from airflow_provider_braket.operators.outcome import JobPublisherMixin
from airflow_provider_braket.triggers.events import fail_if_not_watched, read_status_event

if TYPE_CHECKING:
    from airflow.sdk import Context, PokeReturnValue


class HybridJobSensor(JobPublisherMixin, BraketBaseSensor):
    """
    Wait until a hybrid job ends; succeed if it COMPLETED, fail with its failureReason otherwise.

    Returns to XCom what :class:`CreateHybridJobOperator` returns for the same job (results,
    metrics, metricSeries, ...), so fire-and-forget then sense loses nothing.
    Throttling and lost connections only delay a poke. When the task is killed (in a worker, or
    by a user while deferred) the job is cancelled unless ``cancel_on_kill`` is False; a sensor
    timeout fails the task and leaves the job alone. Asset events and OpenLineage as for
    :class:`~airflow_provider_braket.operators.braket.CreateHybridJobOperator`: the sensor is where
    to put ``outlets`` for a job created with ``wait_for_completion=False``.

    :param job_arn: The job to wait for (templated).
    :param cancel_on_kill: Cancel the job when the task is killed (default True).
    :param forward_logs: Copy the job's log lines into the task log while deferred (default False).
    :param allow_pickle: Unpickle results saved in ``pickled_v4`` format (runs code from the job).
    :param max_results_bytes: The largest results.json read into XCom (default 1 MiB).
    :param kwargs: ``deferrable`` and the connection arguments of
        :class:`~airflow_provider_braket.operators.base.BraketBaseSensor`, and
        ``BaseSensorOperator``'s (``timeout``, ``mode``, ...; ``poke_interval`` defaults to
        ``[braket] waiter_delay``).
    """

    template_fields: Sequence[str] = braket_template_fields("job_arn")

    def __init__(
        self,
        *,
        job_arn: str,
        cancel_on_kill: bool = True,
        forward_logs: bool = False,
        allow_pickle: bool = False,
        max_results_bytes: int = DEFAULT_MAX_RESULTS_BYTES,
        **kwargs: Any,
    ) -> None:
        given = kwargs.pop("poke_interval", None)
        super().__init__(poke_interval=self.configured_waiter_delay(given), **kwargs)
        self.job_arn = job_arn
        self.cancel_on_kill = cancel_on_kill
        self.forward_logs = forward_logs
        self.allow_pickle = allow_pickle
        self.max_results_bytes = max_results_bytes
        self._progress = JobProgress()

    def execute(self, context: Context) -> Any:
        self.check_endpoint()
        self.poke_interval = self.adapt_waiter_delay(self.poke_interval_seconds)
        self.job_arn_to_cancel = self.job_arn
        self.persist_links(context, [BraketJobLink], job_arn=self.job_arn)
        if not self.deferrable:
            return super().execute(context)
        job = self.hook.get_job(self.job_arn)
        if is_terminal(job):
            return self._outcome(context, job)
        timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else self.timeout
        self.start_log_cursor(context, self.job_arn)
        self.defer(
            trigger=self.status_trigger(
                job,
                self.poke_interval_seconds,
                time.time() + float(timeout),
                cancel_on_kill=self.cancel_on_kill,
                forward_logs=self.forward_logs,
            ),
            method_name="execute_complete",
        )

    @property
    def poke_interval_seconds(self) -> float:
        interval = self.poke_interval
        return interval.total_seconds() if isinstance(interval, timedelta) else float(interval)

    def poke(self, context: Context) -> bool | PokeReturnValue:
        from airflow.sdk import PokeReturnValue

        try:
            job = self.hook.get_job(self.job_arn)
        except Exception as error:
            if not is_transient_error(error):
                raise
            self.log.warning("Reading job %s failed (%s); will poke again.", self.job_arn, error)
            return False
        for message in self._progress.update(job):
            self.log.info(message)
        if not is_terminal(job):
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._outcome(context, job))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        status = read_status_event(event)["status"]
        if status == "timeout":
            self.job_arn_to_cancel = None
            raise AirflowException(
                f"Hybrid job {self.job_arn} still {event.get('lastStatus')} when the sensor timed out "
                f"after {self.timeout}; the job was left running."
            )
        fail_if_not_watched(event, self.job_arn)
        return self._outcome(context, self.hook.get_job(self.job_arn))

    def _outcome(self, context: Context, job: dict[str, Any]) -> dict[str, Any]:
        self.job_arn_to_cancel = None
        return self.conclude(context, job, self.allow_pickle, self.max_results_bytes)
