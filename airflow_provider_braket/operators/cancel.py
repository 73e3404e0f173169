"""CancelHybridJobOperator: cancel a hybrid job and wait, boundedly, until it has ended."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_braket.hooks.connection import is_transient_error
from airflow_provider_braket.jobs.progress import is_terminal
from airflow_provider_braket.links.braket import BraketJobLink
from airflow_provider_braket.operators.base import BraketBaseOperator, braket_template_fields
from airflow_provider_braket.triggers.events import fail_if_not_watched, read_status_event

if TYPE_CHECKING:
    from airflow.sdk import Context

_T = TypeVar("_T")
# A cancel is seen within seconds on the local service and within a minute or two on AWS; the
# first looks come quickly, then at most every waiter_delay.
FIRST_CHECK_SECONDS = 1.0
DEFAULT_MAX_ATTEMPTS = 60
TRANSIENT_ATTEMPTS = 5


class CancelHybridJobOperator(BraketBaseOperator):
    """
    Cancel a hybrid job; return the status it ended in (``CANCELLED``, or the status it had
    already ended in), or ``CANCELLING`` without ``wait_for_completion``.

    Throttling, 5xx answers and lost connections are retried; the wait is bounded by
    ``waiter_max_attempts`` looks, after which the task fails saying the job is still
    CANCELLING. In deferrable mode the wait happens in the triggerer.

    :param job_arn: The job to cancel (templated).
    :param wait_for_completion: Wait until the job has ended (default True).
    :param waiter_delay: Longest time between two looks at the job. Default: ``[braket]
        waiter_delay`` (2 s against a loopback endpoint); the first looks come sooner (1 s, then
        doubling).
    :param waiter_max_attempts: Looks before giving up (default 60).
    :param kwargs: ``deferrable`` and the connection arguments of
        :class:`~airflow_provider_braket.operators.base.BraketBaseOperator`; ``BaseOperator``'s.
    """

    template_fields: Sequence[str] = braket_template_fields("job_arn")

    def __init__(
        self,
        *,
        job_arn: str,
        wait_for_completion: bool = True,
        waiter_delay: float | None = None,
        waiter_max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job_arn = job_arn
        self.wait_for_completion = wait_for_completion
        self.waiter_delay = self.configured_waiter_delay(waiter_delay)
        self.waiter_max_attempts = waiter_max_attempts
        # Cancelling is this task's purpose; being killed must not "cancel" anything else.
        self.cancel_on_kill = False

    def execute(self, context: Context) -> str:
        self.check_endpoint()
        self.waiter_delay = self.adapt_waiter_delay(self.waiter_delay)
        self.persist_links(context, [BraketJobLink], job_arn=self.job_arn)
        status = self._retrying(lambda: self.hook.cancel_job(self.job_arn))
        if not self.wait_for_completion or status != "CANCELLING":
            return status
        if self.deferrable:
            self._defer()
        return self._wait()

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        """Resume after the trigger fired: the job has ended, or the wait ran out."""
        event = read_status_event(event)
        if event["status"] == "timeout":
            raise AirflowException(self._still_cancelling())
        fail_if_not_watched(event, self.job_arn)
        self.log.info("Hybrid job %s: %s.", self.job_arn, event["status"])
        return str(event["status"])

    def _wait(self) -> str:
        delay = FIRST_CHECK_SECONDS
        for _ in range(self.waiter_max_attempts):
            time.sleep(min(delay, self.waiter_delay))
            delay *= 2
            job = self._retrying(lambda: self.hook.get_job(self.job_arn, queue_info=False))
            if is_terminal(job):
                self.log.info("Hybrid job %s: %s.", self.job_arn, job["status"])
                return str(job["status"])
        raise AirflowException(self._still_cancelling())

    def _defer(self) -> None:
        job = self._retrying(lambda: self.hook.get_job(self.job_arn, queue_info=False))
        if is_terminal(job):
            return
        self.defer(
            trigger=self.status_trigger(
                job,
                self.waiter_delay,
                time.time() + self.waiter_delay * self.waiter_max_attempts,
                cancel_on_kill=False,
                forward_logs=False,
            ),
            method_name="execute_complete",
        )

    def _retrying(self, call: Callable[[], _T]) -> _T:
        """``call()``, tried again after throttling, 5xx answers and lost connections."""
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                return call()
            except Exception as error:
                if attempt == TRANSIENT_ATTEMPTS or not is_transient_error(error):
                    raise
                self.log.warning(
                    "Braket call failed (%s); trying again (%d/%d).", error, attempt, TRANSIENT_ATTEMPTS
                )
                time.sleep(min(2.0**attempt, self.waiter_delay))
        raise AssertionError("unreachable")

    def _still_cancelling(self) -> str:
        waited = self.waiter_delay * self.waiter_max_attempts
        return (
            f"Hybrid job {self.job_arn} was still CANCELLING after waiter_max_attempts="
            f"{self.waiter_max_attempts} looks (about {waited:.0f} s); check it in the Braket console."
        )
