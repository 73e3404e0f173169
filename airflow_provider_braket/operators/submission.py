"""Submitting a hybrid job when Braket says "not now": quota refusals and throttling wait, not fail.

A parameter sweep meets both: the account runs 3 hybrid jobs at once by default (CreateJob beyond
that is ``ServiceQuotaExceededException``) and CreateJob is allowed once a second. Neither is a
reason to fail a task, so the operator keeps submitting, up to ``submit_timeout``, sleeping in a
worker or deferring on a timer. :class:`SubmitState` is what it keeps between two submissions;
it is plain JSON so that it survives a deferral.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_provider_braket.hooks.connection import is_transient_error
from airflow_provider_braket.jobs.errors import error_code
from airflow_provider_braket.jobs.progress import Backoff

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
