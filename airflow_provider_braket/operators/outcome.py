"""What an ended job's task tells the rest of Airflow: asset events and OpenLineage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_braket.jobs.results import DEFAULT_MAX_RESULTS_BYTES
from airflow_provider_braket.operators.base import JobDidNotComplete, completed_job_outcome

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_braket.hooks.braket import BraketHook


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

    def conclude(
        self,
        context: Context | None,
        job: dict[str, Any],
        allow_pickle: bool = False,
        max_results_bytes: int = DEFAULT_MAX_RESULTS_BYTES,
    ) -> dict[str, Any]:
        """The task's XCom for an ended job; a FAILED or CANCELLED job raises (see
        :func:`~airflow_provider_braket.operators.base.completed_job_outcome`)."""
        self.ended_job = job
        try:
            outcome = completed_job_outcome(self.hook, job, self.log, allow_pickle, max_results_bytes)
        except JobDidNotComplete as ended:
            self.ended_outcome = {"cost": ended.cost}
            raise
        self.ended_outcome = outcome
        if context is not None and self.outlets:
            from airflow_provider_braket.lineage.assets import job_event_extra, publish_to_outlets

            if publish_to_outlets(self.outlets, context, job_event_extra(outcome)) and _is_mapped(context):
                self.log.warning(
                    "Each point of this mapped task emits its own asset event; to publish a sweep "
                    "once per run, put the asset on a PublishJobResultsOperator after it."
                )
        return outcome

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
