"""Which Airflow task a hybrid job belongs to: its tags, its client token, and how to find it again.

Every job the operator creates carries the tags ``airflow:dag_id``, ``airflow:task_id``,
``airflow:run_id`` and ``airflow:map_index``. A new try of the task (after a worker crash, a
retry, a timer deferral) looks for a job with those tags before it creates one, so it can wait on
the job it already started instead of starting a second one. SearchJobs returns tags in its
summaries, so one paged search over the jobs created since the DAG run began finds it, on AWS and
on the local service alike.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_braket.jobs.models import ACTIVE_STATUSES, created_since

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_braket.hooks.braket import BraketHook

TAG_PREFIX = "airflow:"
IDENTITY_TAGS = ("dag_id", "task_id", "run_id", "map_index")
# Jobs are looked for from a little before the DAG run began: the clocks of the Airflow hosts and
# of the Braket service may disagree by that much.
CLOCK_SKEW = timedelta(minutes=10)
# Without a DAG run start (never the case under a scheduler), look this far back.
DEFAULT_LOOKBACK = timedelta(days=7)


def airflow_tag(job: dict[str, Any], name: str) -> str | None:
    """The job's (or job summary's) ``airflow:<name>`` tag: which DAG, run, task or map index."""
    value = (job.get("tags") or {}).get(f"{TAG_PREFIX}{name}")
    return None if value is None else str(value)


@dataclass(frozen=True)
class TaskIdentity:
    """One task instance (all its tries) and the try that runs now.

    :param dag_id: The DAG.
    :param task_id: The task.
    :param run_id: The DAG run.
    :param map_index: The mapped task's index, -1 when not mapped.
    :param try_number: The try that runs now (1 for the first).
    :param run_started_at: When the DAG run began; jobs created before it are not this task's.
    """

    dag_id: str
    task_id: str
    run_id: str
    map_index: int
    try_number: int
    run_started_at: datetime | None = None

    @classmethod
    def from_context(cls, context: Context, task_id: str) -> TaskIdentity:
        """The identity of the running task instance; a one-off one when ``execute`` is called
        outside Airflow (a script, a unit test), which no other call will ever match.
        """
        ti = context.get("ti")
        if ti is None:
            return cls("-", task_id, f"outside-airflow-{uuid.uuid4()}", -1, 1, datetime.now(timezone.utc))
        dag_run = context.get("dag_run")
        started = None
        if dag_run is not None:
            started = getattr(dag_run, "start_date", None) or getattr(dag_run, "run_after", None)
        return cls(
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            run_id=ti.run_id,
            map_index=-1 if ti.map_index is None else int(ti.map_index),
            try_number=int(ti.try_number or 1),
            run_started_at=started,
        )

    def tags(self) -> dict[str, str]:
        """The tags that mark a job as this task's."""
        values = (self.dag_id, self.task_id, self.run_id, str(self.map_index))
        return {f"{TAG_PREFIX}{name}": value for name, value in zip(IDENTITY_TAGS, values, strict=True)}

    def client_token(self) -> str:
        """CreateJob's idempotency token for this try: the same on every resend of this try's
        request (botocore's retries, a resubmission after a quota refusal), new for the next try.
        """
        key = "\x1f".join((*self.tags().values(), str(self.try_number)))
        return hashlib.sha256(key.encode()).hexdigest()

    def find_jobs(self, hook: BraketHook) -> TaskJobs:
        """This task instance's jobs, from one paged SearchJobs over its DAG run's time."""
        return jobs_of(self, hook.search_jobs(self.search_filters()))

    def owns(self, job_summary: dict[str, Any]) -> bool:
        tags = job_summary.get("tags") or {}
        return all(tags.get(key) == value for key, value in self.tags().items())

    def search_filters(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """SearchJobs filters for every job created since this task's DAG run began."""
        now = now or datetime.now(timezone.utc)
        since = self.run_started_at or now - DEFAULT_LOOKBACK
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return created_since(since - CLOCK_SKEW)


@dataclass(frozen=True)
class TaskJobs:
    """The jobs of one task identity, newest first."""

    jobs: list[dict[str, Any]]

    @property
    def active(self) -> dict[str, Any] | None:
        """The newest QUEUED or RUNNING job: the one a new try waits on instead of creating one.

        A CANCELLING job is on its way out (someone cancelled it); it is not waited on.
        """
        return next((job for job in self.jobs if job["status"] in ACTIVE_STATUSES - {"CANCELLING"}), None)

    @property
    def completed(self) -> dict[str, Any] | None:
        return next((job for job in self.jobs if job["status"] == "COMPLETED"), None)

    @property
    def unfinished(self) -> list[dict[str, Any]]:
        """Every job that may still run (and bill), CANCELLING included."""
        return [job for job in self.jobs if job["status"] in ACTIVE_STATUSES]


def jobs_of(identity: TaskIdentity, summaries: list[dict[str, Any]]) -> TaskJobs:
    """The summaries that carry ``identity``'s tags, newest first."""
    owned = [job for job in summaries if identity.owns(job)]
    owned.sort(key=lambda job: str(job.get("createdAt", "")), reverse=True)
    return TaskJobs(owned)
