"""What the "Braket Jobs" page shows: the hybrid jobs this Airflow launched, found by their tags.

Every job the operator creates carries ``airflow:dag_id``, ``airflow:run_id``, ``airflow:task_id``
and ``airflow:map_index``. One paged SearchJobs over the last days lists them; GetJob adds the
queue position and billable duration. A job that ended never changes again, so its GetJob answer
is kept in memory and not asked for twice.
"""

from __future__ import annotations

import math
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from airflow_provider_braket.jobs.endpoints import is_aws_endpoint
from airflow_provider_braket.jobs.errors import error_code
from airflow_provider_braket.jobs.logs import LOG_GROUP
from airflow_provider_braket.jobs.metrics import latest_values, metric_series, plot
from airflow_provider_braket.jobs.models import TERMINAL_STATUSES, created_since
from airflow_provider_braket.utils.identity import TAG_PREFIX, airflow_tag
from airflow_provider_braket.utils.masking import mask_values, secret_values

if TYPE_CHECKING:
    from airflow_provider_braket.hooks.braket import BraketHook

T = TypeVar("T")

DEFAULT_DAYS = 7
MAX_ROWS = 50
# Ended jobs remembered (GetJob answers and plots): the api-server runs for months.
MAX_REMEMBERED = 2000
# Log lines a task instance's view shows: the end of the story, not the log (the task's own log
# in Airflow has it all).
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a list keeps, by what SearchJobs already tells (no GetJob per job to decide).

    :param dag_id: Only this DAG's jobs.
    :param status: Only jobs in this status (``RUNNING``, ``COMPLETED``...).
    :param device: Only jobs on this device ARN.
    """

    dag_id: str | None = None
    status: str | None = None
    device: str | None = None

    def keeps(self, summary: dict[str, Any]) -> bool:
        return (
            (self.dag_id is None or airflow_tag(summary, "dag_id") == self.dag_id)
            and (self.status is None or summary.get("status") == self.status)
            and (self.device is None or summary.get("device") == self.device)
        )


@dataclass
class JobRow:
    """One job on the page."""

    job_arn: str
    job_name: str
    status: str
    device: str
    queue_position: str | None
    billable_seconds: int | None
    created_at: datetime | None
    ended_at: datetime | None
    failure_reason: str | None
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    console_url: str
    started_at: datetime | None = None
    # What is wrong with the job's airflow:* tags (set by hand, or by another tool): shown as
    # such on the page instead of failing it for everyone.
    tag_problems: list[str] = field(default_factory=list)
    # The XCom-shaped cost (BraketHook.job_cost); None when it could not be read.
    cost: dict[str, Any] | None = None

    def dag_run_path(self) -> str:
        return f"dags/{quote(self.dag_id, safe='')}/runs/{quote(self.run_id, safe='')}"

    def task_instance_path(self) -> str:
        path = f"{self.dag_run_path()}/tasks/{quote(self.task_id, safe='')}"
        return f"{path}/mapped/{self.map_index}" if self.map_index >= 0 else path


#: How a results key is named beside the metrics (``results.energy``).
RESULTS_PREFIX = "results."


class JobDirectory:
    """Lists Airflow's hybrid jobs and draws their metrics, remembering what cannot change.

    :param hook: The Braket hook of the connection to list jobs from.
    """

    def __init__(self, hook: BraketHook) -> None:
        self.hook = hook
        self._ended_jobs: dict[str, dict[str, Any]] = {}
        self._ended_plots: dict[str, bytes | None] = {}
        self._ended_series: dict[str, dict[str, dict[str, list[float | None]]]] = {}
        self._ended_tails: dict[str, list[dict[str, Any]]] = {}
        self._ended_costs: dict[str, dict[str, Any] | None] = {}
        self._ended_metrics: dict[str, dict[str, float]] = {}
        self._ended_results: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def rows(
        self,
        dag_ids: set[str] | None,
        days: int = DEFAULT_DAYS,
        limit: int = MAX_ROWS,
        match: JobFilter | None = None,
    ) -> list[JobRow]:
        """The newest jobs with Airflow tags created in the last ``days``, of the given DAGs only,
        and of those the ones ``match`` keeps (before ``limit`` counts them)."""
        match = match or JobFilter()
        kept = [summary for summary in self.airflow_summaries(dag_ids, days) if match.keeps(summary)]
        return [self.row(summary) for summary in kept[:limit]]

    def airflow_summaries(self, dag_ids: set[str] | None, days: int) -> list[dict[str, Any]]:
        """SearchJobs summaries of the jobs with Airflow tags of the given DAGs, newest first."""
        since = datetime.now(timezone.utc) - timedelta(days=days)
        summaries = self.hook.search_jobs(created_since(since))
        ours = [
            summary
            for summary in summaries
            if (dag_id := airflow_tag(summary, "dag_id")) is not None
            and (dag_ids is None or dag_id in dag_ids)
        ]
        ours.sort(key=lambda summary: summary["createdAt"], reverse=True)
        return ours

    def job(self, job_arn: str) -> dict[str, Any]:
        with self._lock:
            known = self._ended_jobs.get(job_arn)
        if known is not None:
            return known
        job = dict(self.hook.get_job(job_arn))
        if job["status"] in TERMINAL_STATUSES:
            with self._lock:
                _remember(self._ended_jobs, job_arn, job)
        return job

    def job_or_none(self, job_arn: str) -> dict[str, str] | None:
        """The job's tags, or None if there is no such job (or the ARN is not a job's)."""
        from botocore.exceptions import ClientError

        try:
            return dict(self.job(job_arn).get("tags") or {})
        except ClientError as error:
            if error_code(error) in (
                "ResourceNotFoundException",
                "ValidationException",
            ):
                return None
            raise

    def metric_series(self, job_arn: str) -> dict[str, dict[str, list[float | None]]]:
        """Every value of each metric the job logged so far (:func:`~..jobs.metrics.metric_series`)."""
        return self._read(self._ended_series, job_arn, self._read_metric_series)

    def log_tail(self, job_arn: str, lines: int = LOG_TAIL_LINES) -> list[dict[str, Any]]:
        """The job's last ``lines`` log events (``timestamp`` in ms, ``message``), oldest first, with
        the values of its secret-looking hyperparameters replaced by ``***``."""
        return self._read(self._ended_tails, job_arn, lambda job: self._read_log_tail(job, lines))[-lines:]

    def metrics_svg(self, job_arn: str) -> bytes | None:
        """The job's metrics drawn as SVG; None if it logged none."""
        return self._read(self._ended_plots, job_arn, self._draw_metrics)

    def cost(self, job_arn: str) -> dict[str, Any] | None:
        """The job's cost so far (``BraketHook.job_cost``), or None if it cannot be read."""
        return self._read(self._ended_costs, job_arn, self._read_cost)

    def final_metrics(self, job_arn: str) -> dict[str, float]:
        """The last value of each metric the job logged."""
        return self._read(
            self._ended_metrics,
            job_arn,
            lambda job: latest_values(self.hook.get_metrics(job["jobName"], job["jobArn"])),
        )

    def final_scores(self, job_arn: str) -> dict[str, float]:
        """What a sweep can rank a job by: the last value of each metric it logged, and each
        numeric key of the results it saved, as ``results.<key>``."""
        results = {f"{RESULTS_PREFIX}{name}": value for name, value in self.numeric_results(job_arn).items()}
        return {**self.final_metrics(job_arn), **results}

    def numeric_results(self, job_arn: str) -> dict[str, float]:
        """The numeric top-level values of the results a COMPLETED job saved (``save_job_result``)."""
        return self._read(self._ended_results, job_arn, self._read_numeric_results)

    def _read(self, ended: dict[str, T], job_arn: str, read: Callable[[dict[str, Any]], T]) -> T:
        """``read(job)``, kept in ``ended`` once the job has ended (it cannot change again)."""
        with self._lock:
            if job_arn in ended:
                return ended[job_arn]
        job = self.job(job_arn)
        value = read(job)
        if job["status"] in TERMINAL_STATUSES:
            with self._lock:
                _remember(ended, job_arn, value)
        return value

    def _read_metric_series(self, job: dict[str, Any]) -> dict[str, dict[str, list[float | None]]]:
        return metric_series(self.hook.get_metrics(job["jobName"], job["jobArn"]))

    def _read_log_tail(self, job: dict[str, Any], lines: int) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for stream in self.hook.job_log_streams(job["jobName"], job["jobArn"]):
            page = self.hook.logs_client.get_log_events(
                logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=False, limit=lines
            )
            events += [{"timestamp": e["timestamp"], "message": e["message"]} for e in page["events"]]
        events.sort(key=lambda event: event["timestamp"])
        return mask_values(events[-lines:], secret_values(job.get("hyperParameters") or {}))

    def _draw_metrics(self, job: dict[str, Any]) -> bytes | None:
        series = self.metric_series(job["jobArn"])
        if not series:
            return None
        with tempfile.TemporaryDirectory() as folder:
            (written,) = plot(series, Path(folder) / "metrics", title=job["jobName"], formats=["svg"])
            return written.read_bytes()

    def _read_cost(self, job: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return self.hook.job_cost(job["jobArn"]).to_dict()
        except Exception:
            # A page of jobs is still worth showing without one job's cost (a missing permission).
            return None

    def _read_numeric_results(self, job: dict[str, Any]) -> dict[str, float]:
        if job["status"] != "COMPLETED":
            return {}
        try:
            results = self.hook.get_results(job) or {}
        except Exception:
            # Unreadable results (too large, pickled, a missing permission) only leave the job
            # ranked by its metrics.
            return {}
        return {
            name: float(value)
            for name, value in results.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        }

    def tagged_jobs(self, days: int, **tags: str) -> list[dict[str, Any]]:
        """Summaries of the jobs created in the last ``days`` whose ``airflow:`` tags match ``tags``."""
        since = datetime.now(timezone.utc) - timedelta(days=days)
        summaries = self.hook.search_jobs(created_since(since))
        return [
            summary
            for summary in summaries
            if all(airflow_tag(summary, name) == value for name, value in tags.items())
        ]

    def row(self, summary: dict[str, Any]) -> JobRow:
        """The row of a job from its SearchJobs summary (GetJob adds what the summary lacks)."""
        job = self.job(summary["jobArn"])
        queue = job.get("queueInfo") or {}
        tag = airflow_tag(summary, "map_index")
        map_index, problems = _map_index("-1" if tag is None else tag)
        return JobRow(
            job_arn=job["jobArn"],
            job_name=job["jobName"],
            status=job["status"],
            device=(job.get("deviceConfig") or {}).get("device") or summary.get("device", ""),
            queue_position=queue.get("position") if job["status"] == "QUEUED" else None,
            billable_seconds=job.get("billableDuration"),
            created_at=job.get("createdAt"),
            started_at=job.get("startedAt"),
            ended_at=job.get("endedAt"),
            failure_reason=job.get("failureReason"),
            cost=self.cost(job["jobArn"]),
            dag_id=airflow_tag(summary, "dag_id") or "",
            run_id=airflow_tag(summary, "run_id") or "",
            task_id=airflow_tag(summary, "task_id") or "",
            map_index=map_index,
            console_url=self._console_url(job["jobArn"]),
            tag_problems=problems,
        )

    def _console_url(self, job_arn: str) -> str:
        from airflow_provider_braket.links.braket import BraketJobLink

        # arn:<partition>:braket:<region>:<account>:job/<id>
        _, partition, _, region, *_ = job_arn.split(":")
        link = BraketJobLink()
        if not self._on_aws:
            return ""  # the local service has no console: the job's row on this page is its view
        return link.format_link(
            aws_domain=link.get_aws_domain(partition), region_name=region, job_arn=job_arn
        )

    @cached_property
    def _on_aws(self) -> bool:
        return is_aws_endpoint(self.hook.conn_config.get_service_endpoint_url(service_name="braket"))


def _map_index(tag: str) -> tuple[int, list[str]]:
    try:
        return int(tag), []
    except ValueError:
        return -1, [f"tag {TAG_PREFIX}map_index is not an integer"]


def _remember(memory: dict[str, Any], key: str, value: Any) -> None:
    """Keep ``value``, forgetting the oldest entries beyond :data:`MAX_REMEMBERED`."""
    memory[key] = value
    while len(memory) > MAX_REMEMBERED:
        del memory[next(iter(memory))]
