"""The limits on how long CreateHybridJobOperator waits, and what it does when one is reached.

Two limits can end a wait: ``waiter_max_attempts`` x ``waiter_delay`` (the job is cancelled and the
task fails) and the task's ``execution_timeout`` (the job is cancelled unless ``cancel_on_kill`` is
off, and the task fails as timed out). Airflow 3 does not bound a deferral by
``execution_timeout``, so a deferred task carries its deadline into the trigger.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowException, AirflowTaskTimeout

from airflow_provider_braket.version_compat import TaskDeferralTimeout

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_braket.hooks.braket import BraketHook
    from airflow_provider_braket.utils.identity import TaskIdentity

# Added to a deferral's own timeout past execution_timeout: the backstop for a triggerer that is
# down, late enough that a running trigger always reports first.
DEFERRAL_BACKSTOP_SECONDS = 30


@dataclass(frozen=True)
class Deferral:
    """How long a deferred wait may last.

    :param timeout_at: Epoch seconds at which the trigger stops waiting, or None.
    :param reason: Which limit ``timeout_at`` is: ``waiter_max_attempts`` or ``execution_timeout``.
    :param backstop: The deferral's own timeout, if execution_timeout is set.
    """

    timeout_at: float | None
    reason: str
    backstop: timedelta | None


@dataclass(frozen=True)
class WaitLimits:
    """The operator's waiting limits. See the operator for each.

    :param waiter_delay: Seconds between two status checks.
    :param waiter_max_attempts: Status checks before giving up, or None for no limit.
    :param execution_timeout: The task's execution_timeout.
    """

    waiter_delay: float
    waiter_max_attempts: int | None
    execution_timeout: timedelta | None

    def attempts_deadline(self) -> float | None:
        """When waiter_max_attempts runs out if the wait starts now (epoch seconds)."""
        if self.waiter_max_attempts is None:
            return None
        return time.time() + self.waiter_delay * self.waiter_max_attempts

    def execution_deadline(self, context: Context) -> float | None:
        """When execution_timeout ends this try (epoch seconds), counted from its start as Airflow does."""
        if not self.execution_timeout:
            return None
        started = getattr(context.get("ti"), "start_date", None)
        start = started.timestamp() if started else time.time()
        return start + self.execution_timeout.total_seconds()

    def deferral(self, execution_deadline: float | None) -> Deferral:
        """The trigger stops at whichever deadline comes first; the task then cancels the job."""
        timeout_at, reason = self.attempts_deadline(), "waiter_max_attempts"
        backstop = None
        if execution_deadline is not None:
            if timeout_at is None or execution_deadline <= timeout_at:
                timeout_at, reason = execution_deadline, "execution_timeout"
            backstop = timedelta(
                seconds=max(0.0, execution_deadline - time.time())
                + 2 * self.waiter_delay
                + DEFERRAL_BACKSTOP_SECONDS
            )
        return Deferral(timeout_at, reason, backstop)

    def cancel_after_attempts(self, hook: BraketHook, job_arn: str) -> NoReturn:
        """Cancel a job that outlasted waiter_max_attempts, and fail saying so."""
        waited = self.waiter_delay * (self.waiter_max_attempts or 0)
        status = hook.cancel_job(job_arn)
        raise AirflowException(
            f"Hybrid job {job_arn} did not end within waiter_max_attempts={self.waiter_max_attempts} "
            f"x waiter_delay={self.waiter_delay} s ({waited:.0f} s); it was cancelled ({status})."
        )

    def fail_after_execution_timeout(
        self,
        hook: BraketHook,
        log: Any,
        identity: TaskIdentity,
        job_arn: str | None,
        cancel_on_kill: bool,
        deferred: bool,
    ) -> NoReturn:
        """Cancel the task's job when execution_timeout ends the task, and fail saying so.

        :param job_arn: The job, if known. If not (a deferred task's, or one whose CreateJob
            answer never came) the task's unfinished jobs are found by their tags.
        :param deferred: Whether the task was deferred (it then fails as a deferral timeout).
        """
        if cancel_on_kill:
            arns = (
                [job_arn] if job_arn else [str(job["jobArn"]) for job in identity.find_jobs(hook).unfinished]
            )
            cancelled = ", ".join(f"{arn} ({hook.cancel_job(arn)})" for arn in arns)
            outcome = f"cancelled hybrid job {cancelled}" if cancelled else "no hybrid job had been created"
        else:
            outcome = f"cancel_on_kill is off, so hybrid job {job_arn or '(if any)'} keeps running"
        where = "while the task was deferred" if deferred else "while the task waited in a worker"
        message = f"execution_timeout={self.execution_timeout} reached {where}; {outcome}."
        log.error(message)
        raise (TaskDeferralTimeout if deferred else AirflowTaskTimeout)(message)
