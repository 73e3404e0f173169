"""Creating a task's hybrid job: at most one per task instance, and waiting while Braket says
"not now".

:class:`JobSubmitter` is what :class:`~airflow_provider_braket.operators.braket.CreateHybridJobOperator`
hands the creation to: it looks for a job of an earlier try first (docs/reliability.md), uploads the
code and local input data once per try, and submits until Braket accepts the job, sleeping or
deferring on a timer between refusals, within ``submit_timeout`` and ``execution_timeout``.

A parameter sweep meets both refusals: the account runs 3 hybrid jobs at once by default (CreateJob
beyond that is ``ServiceQuotaExceededException``) and CreateJob is allowed once a second. Neither
is a reason to fail a task. :class:`SubmitState` is what the operator keeps between two
submissions; it is plain JSON so that it survives a deferral.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, AirflowTaskTimeout

from airflow_provider_braket.hooks.connection import is_transient_error
from airflow_provider_braket.jobs.aws_devices import did_you_mean
from airflow_provider_braket.jobs.errors import error_code
from airflow_provider_braket.jobs.progress import Backoff
from airflow_provider_braket.jobs.request import (
    JobLocation,
    s3_channel,
    validate_for_arguments,
)
from airflow_provider_braket.triggers.braket import ResubmitTrigger
from airflow_provider_braket.utils.identity import TaskIdentity
from airflow_provider_braket.utils.settings import braket_str

if TYPE_CHECKING:
    from airflow_provider_braket.hooks.braket import BraketHook
    from airflow_provider_braket.operators.preparation import PreparedJob


QUOTA_ERROR_CODES = frozenset({"ServiceQuotaExceededException"})
DEFAULT_SUBMIT_TIMEOUT = 3600.0


def is_quota_refusal(error: BaseException) -> bool:
    return error_code(error) in QUOTA_ERROR_CODES


def is_worth_resubmitting(error: BaseException) -> bool:
    """A refusal that passes: over quota, throttled after botocore's retries, 5xx, lost connection.

    Resubmitting is safe: the request keeps its client token, so a job that was created although
    its answer was lost is returned, not created again.
    """
    return is_quota_refusal(error) or is_transient_error(error)


def describe(error: BaseException) -> str:
    code = error_code(error)
    return f"{code}: {error}" if code else f"{type(error).__name__}: {error}"


@dataclass
class SubmitState:
    """One try's submission: what was prepared once (bucket, role, uploads) and how long it has tried.

    :param timestamp: Milliseconds; names the job's S3 prefix and its default name, so every
        resubmission sends the very same request (and its client token stays valid).
    :param started_at: Epoch seconds when this try began to submit (``submit_timeout`` counts from it).
    :param refusals: How many CreateJob calls were refused so far.
    :param bucket: The bucket the job's files went to, once uploaded.
    :param role_arn: The execution role, once looked up.
    :param input_uris: Local input channel name -> the S3 prefix it was uploaded to.
    """

    timestamp: str
    started_at: float = field(default_factory=time.time)
    refusals: int = 0
    bucket: str | None = None
    role_arn: str | None = None
    input_uris: dict[str, str] = field(default_factory=dict)

    @classmethod
    def begin(cls) -> SubmitState:
        return cls(timestamp=str(int(time.time() * 1000)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmitState:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def elapsed(self) -> float:
        return max(0.0, time.time() - self.started_at)

    def next_delay(self, error: BaseException, waiter_delay: float) -> float:
        """How long to wait before submitting again, after ``error``.

        Over quota, a slot frees when some job ends: look again about once a ``waiter_delay``,
        jittered so that a sweep's tasks do not all come back together. Throttled or failing,
        back off exponentially (capped) as botocore does.
        """
        self.refusals += 1
        if is_quota_refusal(error):
            return random.uniform(0.5, 1.5) * waiter_delay
        backoff = Backoff.from_delay(waiter_delay)
        backoff.failures = self.refusals - 1
        return backoff.next_delay()


@dataclass
class JobSubmitter:
    """Creates one task's job. See the operator for what each setting means.

    :param defer: The task's ``defer``, to wait for a resubmission in the triggerer.
    """

    hook: BraketHook
    log: Any
    waiter_delay: float
    submit_timeout: float
    deferrable: bool
    min_deferral_seconds: float
    execution_timeout: timedelta | None
    defer: Callable[..., NoReturn]
    reuse_completed: bool = False
    copy_checkpoints_from_job: str | None = None

    def job_of_earlier_try(self, identity: TaskIdentity) -> dict[str, Any] | None:
        """A job this task started before (a crashed or retried try) that this try should not repeat.

        A QUEUED or RUNNING one is waited on; a COMPLETED one is reused only with
        ``reuse_completed``; a FAILED or CANCELLED one is left alone (a new job is created).
        """
        jobs = identity.find_jobs(self.hook)
        if jobs.active is not None:
            job = jobs.active
            self.log.info(
                "Hybrid job %s (%s) was started by an earlier try of this task; waiting on it "
                "instead of creating another.",
                job["jobArn"],
                job["status"],
            )
            return job
        if self.reuse_completed and jobs.completed is not None:
            job = jobs.completed
            self.log.info(
                "Hybrid job %s of an earlier try COMPLETED; reusing its results (reuse_completed=True).",
                job["jobArn"],
            )
            return job
        return None

    def submit(
        self,
        identity: TaskIdentity,
        job: PreparedJob,
        submit: SubmitState,
        execution_deadline: float | None,
    ) -> str:
        """Create the job; wait (sleeping, or deferred on a timer) while Braket refuses it for now.

        Code and local input data are uploaded once per try (``submit`` remembers where), and the
        request that is sent is checked once more, now with the real bucket, role and prefixes.
        """
        hook, spec = self.hook, job.spec
        bucket, role_arn = submit.bucket, submit.role_arn
        if bucket is None or role_arn is None:
            bucket = braket_str("default_bucket") or hook.default_bucket()
            role_arn = spec.role_arn or hook.jobs_role_arn()
            location = JobLocation(bucket, spec.job_name, submit.timestamp, spec.code_location)
            hook.upload_source_module(job.source, location)
            submit.input_uris = {
                name: hook.upload_input_data(path, location, name)
                for name, path in job.local_channels.items()
            }
            if self.copy_checkpoints_from_job:
                checkpoints = spec.request(location, role_arn, "")["checkpointConfig"]["s3Uri"]
                hook.copy_checkpoints(self.copy_checkpoints_from_job, checkpoints)
            submit.bucket, submit.role_arn = bucket, role_arn
        location = JobLocation(bucket, spec.job_name, submit.timestamp, spec.code_location)
        # Local channels get the S3 prefixes they were uploaded to; the spec itself is not changed.
        uploaded = {name: s3_channel(uri) for name, uri in submit.input_uris.items()}
        spec = replace(spec, input_channels={**spec.input_channels, **uploaded})
        request = validate_for_arguments(
            spec.request(location, role_arn, client_token=identity.client_token())
        )
        while True:
            try:
                return hook.create_job(request)
            except Exception as error:
                if error_code(error) == "ConflictException":
                    return self._job_holding_token(identity, error)
                refused_device = refusal_of_device(error, spec.device)
                if refused_device:
                    # The same request would be refused again: no retries.
                    raise AirflowFailException(refused_device) from error
                if not is_worth_resubmitting(error):
                    raise
                self._wait_to_resubmit(submit, error, execution_deadline)

    def _job_holding_token(self, identity: TaskIdentity, conflict: Exception) -> str:
        # This try's token already made a job from a request that differs (a re-rendered
        # template, say): that job is this try's, whatever its request was.
        jobs = identity.find_jobs(self.hook)
        if jobs.unfinished:
            return str(jobs.unfinished[0]["jobArn"])
        raise conflict

    def _wait_to_resubmit(
        self, submit: SubmitState, error: Exception, execution_deadline: float | None
    ) -> None:
        delay = submit.next_delay(error, self.waiter_delay)
        if self.deferrable:
            delay = max(delay, self.min_deferral_seconds)
        elapsed = submit.elapsed()
        if execution_deadline is not None and time.time() + delay >= execution_deadline:
            raise AirflowTaskTimeout(
                f"execution_timeout={self.execution_timeout} would pass before Braket accepts the job "
                f"(refused {submit.refusals} times; last: {describe(error)}); no job was created."
            )
        if elapsed + delay > self.submit_timeout:
            raise AirflowException(
                f"Hybrid job not created: Braket refused CreateJob {submit.refusals} times in "
                f"{elapsed:.0f} s and submit_timeout={self.submit_timeout:.0f} s is used up. "
                f"Last refusal: {describe(error)}"
            )
        self.log.warning(
            "CreateJob refused (%s); submitting again in %.1f s (refusal %d; %.0f s of "
            "submit_timeout=%.0f s left).",
            describe(error),
            delay,
            submit.refusals,
            self.submit_timeout - elapsed,
            self.submit_timeout,
        )
        if self.deferrable:
            self.defer(
                trigger=ResubmitTrigger(moment=time.time() + delay, submit=submit.to_dict()),
                method_name="execute_resubmit",
            )
        time.sleep(delay)


def refusal_of_device(error: Exception, device: str) -> str | None:
    """Braket's refusal of the job's device, with the closest known device; None for any other error."""
    if error_code(error) not in ("ValidationException", "ResourceNotFoundException"):
        return None
    message = str(getattr(error, "response", {}).get("Error", {}).get("Message") or error)
    if device not in message:
        return None
    return f"device: Braket refused {device!r}: {message}{did_you_mean(device)}"
