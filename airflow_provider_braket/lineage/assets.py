"""What a Braket task tells Airflow's assets about the job it ran or watched.

A task with ``outlets=[Asset(...)]`` gets one asset event when it succeeds; Airflow emits it, and
this module fills its ``extra`` with the job's summary, so a DAG scheduled on the asset can read
which job produced the new data, where it is, and what it measured. A mapped sweep publishes once
per run through :class:`~airflow_provider_braket.operators.publish.PublishJobResultsOperator`,
with every point's summary.

Only summaries go into an event (no results, no metric series, no hyperparameters: an event's
extra is shown to every user who can see the asset, and a hyperparameter may be a password).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import Context

#: The keys of a job's XCom that an asset event carries.
POINT_KEYS = (
    "jobArn",
    "jobName",
    "status",
    "device",
    "mapIndex",
    "metrics",
    "outputS3Path",
    "billableDuration",
    "cost",
)
#: An event's extra is stored in Airflow's database: a sweep lists at most this many points.
MAX_POINTS = 10_000


def job_point(outcome: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a job's XCom (operator or sensor) that an asset event carries."""
    return {key: outcome.get(key) for key in POINT_KEYS}


def job_event_extra(outcome: Mapping[str, Any]) -> dict[str, Any]:
    """The extra of the event a single job's task emits."""
    return {"braket": job_point(outcome)}


def sweep_event_extra(outcomes: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """The extra of the one event a sweep emits: each point's summary, in map-index order.

    :param outcomes: the XComs of the sweep's tasks (``None`` where a point has none).
    """
    points = [job_point(outcome) for outcome in outcomes if outcome]
    points.sort(key=lambda point: (point["mapIndex"] is None, point["mapIndex"] or 0))
    completed = sum(1 for point in points if point["status"] == "COMPLETED")
    sweep: dict[str, Any] = {"points": points[:MAX_POINTS], "count": len(points), "completed": completed}
    if len(points) > MAX_POINTS:
        sweep["truncated"] = True
    return {"braketSweep": sweep}


def publish_to_outlets(outlets: Iterable[Any], context: Context, extra: Mapping[str, Any]) -> int:
    """Put ``extra`` on the event Airflow emits for each asset in ``outlets``; returns how many."""
    from airflow.sdk import Asset

    events = context.get("outlet_events")
    if events is None:  # not run by Airflow's task runner (a bare execute() call)
        return 0
    assets = [outlet for outlet in outlets if isinstance(outlet, Asset)]
    for asset in assets:
        events[asset].extra.update(extra)
    return len(assets)
