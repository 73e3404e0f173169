"""PublishJobResultsOperator: one asset event for a whole sweep of hybrid jobs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class PublishJobResultsOperator(BaseOperator):
    """
    Publish the jobs of a sweep as one asset event per DAG run, with every point's summary.

    A mapped :class:`~airflow_provider_braket.operators.braket.CreateHybridJobOperator` with
    ``outlets`` would emit one event per point, and a DAG scheduled on the asset would run once
    per point. Put the asset on this task instead, downstream of the sweep::

        qaoa = CreateHybridJobOperator.partial(task_id="qaoa", ...).expand(hyperparameters=points)
        PublishJobResultsOperator(task_id="publish", results=qaoa.output, outlets=[SWEEP_RESULTS])

    The event's extra is ``{"braketSweep": {"points": [...], "count": n, "completed": k}}``; each
    point is ``{"jobArn", "jobName", "status", "device", "mapIndex", "metrics", "outputS3Path",
    "billableDuration", "cost"}``, in map-index order (no results, metric series or
    hyperparameters: everyone who can see the asset sees its events). With the default trigger
    rule the event is published only when every point succeeded; with ``trigger_rule="all_done"``
    it lists the points that have a result. Returns the same dictionary to XCom.

    :param results: The XCom of the sweep's task (``qaoa.output``): a list of job summaries, or one.
    """

    template_fields: Sequence[str] = ("results",)
    ui_color = "#a166ff"

    def __init__(self, *, results: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results = results

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.sdk import Asset

        from airflow_provider_braket.lineage.assets import publish_to_outlets, sweep_event_extra

        if not any(isinstance(outlet, Asset) for outlet in self.outlets or []):
            raise AirflowFailException(
                f"{self.task_id}: outlets must name at least one Asset to publish the sweep's results to"
            )
        outcomes = job_summaries(self.results)
        unreadable = [
            type(item).__name__ for item in outcomes if item is not None and not isinstance(item, Mapping)
        ]
        if unreadable:
            raise AirflowFailException(
                f"results: must be the XCom of a Braket job task (job summaries), got {unreadable[0]} items"
            )
        extra = sweep_event_extra(outcomes)
        published = publish_to_outlets(self.outlets, context, extra)
        sweep = extra["braketSweep"]
        self.log.info(
            "Published %d points (%d COMPLETED) to %d asset(s).",
            sweep["count"],
            sweep["completed"],
            published,
        )
        return extra


def job_summaries(results: Any) -> list[Any]:
    """The job summaries in ``results`` as a list: one, or each of a sequence.

    Use it on a mapped task's output (``pick_best(job_summaries(jobs))``): it reads the XCom by
    index up to its length, where iterating it (``max(jobs, ...)``, ``for job in jobs``) reads
    one past the end, which Airflow's task log reports as an error ("XCom not found ...
    offset=<n>") on a run that succeeds.
    """
    if results is None:
        return []
    if isinstance(results, Mapping):
        return [results]
    if hasattr(results, "__len__") and hasattr(results, "__getitem__"):
        return [results[index] for index in range(len(results))]
    return list(results)
