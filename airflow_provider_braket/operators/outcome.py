"""What an ended job's task returns and tells the rest of Airflow: its summary with results and
metrics (the XCom), its cost, asset events and OpenLineage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_braket.jobs.metrics import latest_values, metric_series
from airflow_provider_braket.jobs.results import DEFAULT_MAX_RESULTS_BYTES, ResultsTooLargeError, results_key
from airflow_provider_braket.sweeps.reporting import StudyTrial
from airflow_provider_braket.sweeps.trials import FAIL, PRUNED
from airflow_provider_braket.utils.identity import airflow_tag

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_braket.hooks.braket import BraketHook


#: Set by the worker's wait on a job it cancelled for its study's pruner (:mod:`.waiting`).
PRUNED_KEY = "prunedBecause"


class JobPublisherMixin:
    """Conclude a task on its ended job: XCom, asset events, and the OpenLineage facets.

    The operator and the sensor end through :meth:`conclude`, which remembers the job (even when
    it failed, so ``get_openlineage_facets_on_failure`` can describe it) and fills the extra of
    the event of every asset in the task's ``outlets``.
    """

    hook: BraketHook
    log: Any
    outlets: Any
    ended_job: dict[str, Any] | None = None
    ended_outcome: dict[str, Any] | None = None
    #: The study trial the job is a point of (``SuggestPointsOperator``'s), told how it ended.
    study_trial: dict[str, Any] | None = None

    def conclude(
        self,
        context: Context | None,
        job: dict[str, Any],
        allow_pickle: bool = False,
        max_results_bytes: int = DEFAULT_MAX_RESULTS_BYTES,
    ) -> dict[str, Any]:
        """The task's XCom for an ended job; a FAILED or CANCELLED job raises (see
        :func:`completed_job_outcome`)."""
        self.ended_job = job
        if job.get(PRUNED_KEY):
            return self.conclude_pruned(job, str(job[PRUNED_KEY]))
        try:
            outcome = completed_job_outcome(self.hook, job, self.log, allow_pickle, max_results_bytes)
        except JobDidNotComplete as ended:
            self.ended_outcome = {"cost": ended.cost}
            if self.study_trial:
                StudyTrial(self.study_trial).tell_ended(FAIL, job["jobArn"], ended.cost, self.log)
            raise
        if self.study_trial:
            StudyTrial(self.study_trial).tell_completed(outcome, self.log)
        self.ended_outcome = outcome
        if context is not None and self.outlets:
            from airflow_provider_braket.lineage.assets import job_event_extra, publish_to_outlets

            if publish_to_outlets(self.outlets, context, job_event_extra(outcome)) and _is_mapped(context):
                self.log.warning(
                    "Each point of this mapped task emits its own asset event; to publish a sweep "
                    "once per run, put the asset on a PublishJobResultsOperator after it."
                )
        return outcome

    def conclude_capped(self, job: dict[str, Any], message: str) -> NoReturn:
        """End the task of a job a cost cap cancelled: its cost logged, its trial FAIL."""
        cost = report_cost(self.hook, job, self.log)
        if self.study_trial:
            StudyTrial(self.study_trial).tell_ended(FAIL, job["jobArn"], cost, self.log)
        raise AirflowException(message)

    def conclude_pruned(self, job: dict[str, Any], message: str) -> dict[str, Any]:
        """End the task of a point its study's pruner stopped: the job cancelled (again: the
        trigger's cancel may have failed), its cost so far, the trial PRUNED; the task succeeds."""
        self.hook.cancel_job(job["jobArn"])
        summary = {**job_summary(job), "cost": report_cost(self.hook, job, self.log)}
        self.log.warning("%s; the job was cancelled.", message)
        if self.study_trial:
            trial = StudyTrial(self.study_trial)
            trial.tell_ended(PRUNED, job["jobArn"], summary["cost"], self.log)
            summary["trial"] = {
                "study": trial.study.name,
                "number": trial.number,
                "state": PRUNED,
                "value": None,
            }
        self.ended_job, self.ended_outcome = job, summary
        return summary

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Lineage of the job this task ran or watched (called by the OpenLineage provider)."""
        from airflow_provider_braket.lineage import operator_lineage

        return operator_lineage(self.ended_job, self.ended_outcome)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        """Lineage of a task that failed: its job if it ended FAILED or CANCELLED (none before that)."""
        from airflow_provider_braket.lineage import operator_lineage

        return operator_lineage(self.ended_job, self.ended_outcome)


def _is_mapped(context: Context) -> bool:
    map_index = getattr(context.get("ti"), "map_index", None)
    return map_index is not None and map_index >= 0


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
    tag = airflow_tag(job, "map_index")
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
