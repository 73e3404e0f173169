"""The sweep view of the "Braket Jobs" page: one DAG run's mapped jobs side by side, and the DAG's
runs over time.

A point is one map index of a mapped CreateHybridJobOperator: its hyperparameters (secret-looking
ones hidden), the last value of each metric its job logged and each numeric key of the results it
saved (``results.<key>``: what the job answered, ranked first), its status and cost. The best
point by a chosen one of these is marked, and two plots are drawn: it against one hyperparameter
across the points, and, across the DAG's runs, its best value and the total cost of each run.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_braket.jobs.metrics import literal_text, new_figure
from airflow_provider_braket.utils.identity import airflow_tag
from airflow_provider_braket.utils.masking import looks_secret

if TYPE_CHECKING:
    from airflow_provider_braket.ui.jobs import JobDirectory

HIDDEN = "***"
GOALS = ("min", "max")


@dataclass
class SweepPoint:
    """One map index of a sweep: its newest job (a retried point has several)."""

    map_index: int
    task_id: str
    job_arn: str
    job_name: str
    status: str
    hyperparameters: dict[str, str]
    #: The last value of each metric, and each numeric results key as ``results.<key>``.
    metrics: dict[str, float]
    cost: dict[str, Any] | None
    #: The study the point is a trial of (``airflow:study``, ``airflow:study_conn`` tags), if any.
    study: tuple[str, str] | None = None


@dataclass
class RunSummary:
    """One DAG run of a sweep DAG: when it started, its best metric and what its jobs cost."""

    run_id: str
    started: datetime
    jobs: int
    best: float | None
    cost: float


def sweep_points(jobs: JobDirectory, dag_id: str, run_id: str, days: int) -> list[SweepPoint]:
    """The mapped jobs of one DAG run, one per (task, map index), by map index."""
    newest: dict[tuple[str, int], dict[str, Any]] = {}
    for summary in jobs.tagged_jobs(days, dag_id=dag_id, run_id=run_id):
        key = (_tag(summary, "task_id"), _map_index(summary))
        if key[1] >= 0 and (key not in newest or summary["createdAt"] > newest[key]["createdAt"]):
            newest[key] = summary
    points = []
    for (task_id, map_index), summary in sorted(newest.items(), key=lambda item: (item[0][0], item[0][1])):
        job = jobs.job(summary["jobArn"])
        points.append(
            SweepPoint(
                map_index=map_index,
                task_id=task_id,
                job_arn=job["jobArn"],
                job_name=job["jobName"],
                status=job["status"],
                hyperparameters=visible_hyperparameters(job.get("hyperParameters") or {}),
                metrics=jobs.final_scores(job["jobArn"]),
                cost=jobs.cost(job["jobArn"]),
                study=(_tag(summary, "study"), _tag(summary, "study_conn"))
                if _tag(summary, "study")
                else None,
            )
        )
    return points


def visible_hyperparameters(hyperparameters: dict[str, str]) -> dict[str, str]:
    """The hyperparameters to show: secret-looking names keep their name, not their value."""
    return {name: HIDDEN if looks_secret(name) else value for name, value in sorted(hyperparameters.items())}


def best_point(points: Sequence[SweepPoint], metric: str, goal: str) -> SweepPoint | None:
    """The point with the smallest (``min``) or largest (``max``) final ``metric``."""
    scored = [point for point in points if metric in point.metrics]
    if not scored:
        return None
    choose = min if goal == "min" else max
    return choose(scored, key=lambda point: point.metrics[metric])


def metric_names(points: Iterable[SweepPoint]) -> list[str]:
    """What the points can be ranked by, the view's default first: results keys (the jobs'
    answers) before metrics, and among them a key the jobs also logged as a metric (their
    objective, as ``expected_cut`` in the QAOA example) before the rest (``p``, ``seed``)."""
    names = {name for point in points for name in point.metrics}
    logged = {name for name in names if not name.startswith("results.")}

    def order(name: str) -> tuple[int, str]:
        if name.startswith("results."):
            return (0 if name.removeprefix("results.") in logged else 1), name
        return 2, name

    return sorted(names, key=order)


def parameter_names(points: Iterable[SweepPoint]) -> list[str]:
    return sorted(
        {name for point in points for name, value in point.hyperparameters.items() if value != HIDDEN}
    )


def run_summaries(jobs: JobDirectory, dag_id: str, metric: str, goal: str, days: int) -> list[RunSummary]:
    """Every run of ``dag_id`` with Braket jobs in the last ``days``, oldest first."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for summary in jobs.tagged_jobs(days, dag_id=dag_id):
        runs.setdefault(_tag(summary, "run_id"), []).append(summary)
    summaries = []
    for run_id, members in runs.items():
        values = [jobs.final_scores(job["jobArn"]).get(metric) for job in members]
        scored = [value for value in values if value is not None]
        costs = [jobs.cost(job["jobArn"]) for job in members]
        summaries.append(
            RunSummary(
                run_id=run_id,
                started=min(job["createdAt"] for job in members),
                jobs=len(members),
                best=(min if goal == "min" else max)(scored) if scored else None,
                cost=sum(cost["total"] for cost in costs if cost),
            )
        )
    summaries.sort(key=lambda summary: summary.started)
    return summaries


def sweep_svg(points: Sequence[SweepPoint], metric: str, parameter: str, best: SweepPoint | None) -> bytes:
    """The final ``metric`` of each point against its ``parameter`` (numbers on a numeric axis)."""
    with literal_text():
        drawn = [point for point in points if metric in point.metrics and parameter in point.hyperparameters]
        raw = [point.hyperparameters[parameter] for point in drawn]
        numeric = all(_is_number(value) for value in raw)
        categories = sorted(set(raw))
        x = [float(value) if numeric else float(categories.index(value)) for value in raw]
        y = [point.metrics[metric] for point in drawn]
        figure = new_figure(figsize=(7, 3.6))
        axis = figure.subplots()
        axis.scatter(x, y, s=36, label="points")
        for point, px, py in zip(drawn, x, y, strict=True):
            axis.annotate(
                str(point.map_index), (px, py), textcoords="offset points", xytext=(4, 4), fontsize=8
            )
            if best is not None and point.job_arn == best.job_arn:
                axis.scatter([px], [py], s=160, marker="*", color="#d97706", label="best", zorder=3)
        if not numeric:
            axis.set_xticks(range(len(categories)), categories)
        axis.set_xlabel(parameter)
        axis.set_ylabel(metric)
        axis.grid(True, alpha=0.3)
        axis.legend(loc="best", fontsize=8)
        axis.set_title(f"{metric} by {parameter} (map index beside each point)")
        figure.tight_layout()
        return _svg(figure)


def runs_svg(summaries: Sequence[RunSummary], metric: str) -> bytes:
    """The best ``metric`` and the total cost of each run, in run order."""
    with literal_text():
        figure = new_figure(figsize=(7, 3.6))
        axis = figure.subplots()
        labels = [summary.started.strftime("%m-%d %H:%M") for summary in summaries]
        positions = list(range(len(summaries)))
        best = [summary.best if summary.best is not None else float("nan") for summary in summaries]
        axis.plot(positions, best, marker="o", color="#1d4ed8", label=f"best {metric}")
        axis.set_ylabel(f"best {metric}", color="#1d4ed8")
        cost_axis = axis.twinx()
        cost_axis.bar(
            positions, [summary.cost for summary in summaries], alpha=0.25, color="#b45309", label="cost"
        )
        cost_axis.set_ylabel("total cost (USD)", color="#b45309")
        axis.set_xticks(positions, labels, rotation=30, ha="right", fontsize=8)
        axis.set_xlabel("DAG run (first job created)")
        axis.grid(True, alpha=0.3)
        axis.set_title(f"Best {metric} and cost per run")
        figure.tight_layout()
        return _svg(figure)


def _svg(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg")
    return buffer.getvalue()


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _tag(summary: dict[str, Any], name: str) -> str:
    return airflow_tag(summary, name) or ""


def _map_index(summary: dict[str, Any]) -> int:
    try:
        return int(_tag(summary, "map_index"))
    except ValueError:
        return -1


def varying_parameter(points: Sequence[SweepPoint], parameters: Sequence[str]) -> str | None:
    """The first hyperparameter whose value differs between points: what the sweep sweeps."""
    for name in parameters:
        if len({point.hyperparameters.get(name) for point in points}) > 1:
            return name
    return parameters[0] if parameters else None
