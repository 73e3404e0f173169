"""The provider's app in the api-server, mounted at /braket: the React views' JSON API and bundle,
and the server-rendered "Braket Jobs" page that Airflow 3.0 (which has no React plugin views) shows.

- ``/braket/api/...``: the JSON the React views read (``api.py``);
- ``/braket/static/braket-ui.js``: the views' bundle (built by ``make ui`` from ``frontend/``);
- ``GET /braket/jobs``: the page (``?job=<arn>`` selects a job and shows its metric plot);
- ``GET /braket/jobs.json``: the same rows as JSON;
- ``GET /braket/metrics.svg?job=<arn>``: a job's metrics drawn with matplotlib;
- ``GET /braket/sweep?dag_id=&run_id=``: a DAG run's mapped jobs side by side (``&metric=``,
  ``&goal=min|max``, ``&parameter=`` choose the best point and the plot), with
  ``sweep.svg`` (the metric against a hyperparameter) and ``runs.svg`` (the DAG's runs over time).

Who may see what is ``access.py``'s: the jobs of the DAGs the user may read, through a connection
they may use.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from airflow_provider_braket.hooks.connection import DEFAULT_CONN_ID
from airflow_provider_braket.ui.access import (
    User,
    airflow_ui_root,
    directory_for,
    readable_dag_ids,
    readable_directory,
)
from airflow_provider_braket.ui.api import SWEEP_DAYS, create_router
from airflow_provider_braket.ui.jobs import DEFAULT_DAYS
from airflow_provider_braket.ui.sweeps import (
    best_point,
    metric_names,
    parameter_names,
    run_summaries,
    runs_svg,
    sweep_points,
    sweep_svg,
    varying_parameter,
)
from airflow_provider_braket.ui.views import job_json, run_totals

Goal = Literal["min", "max"]

_templates = Environment(
    loader=PackageLoader("airflow_provider_braket.ui", "templates"), autoescape=select_autoescape()
)


def _page(template: str, **values: Any) -> HTMLResponse:
    """A page of the view, rendered with the Airflow UI's root for its links."""
    return HTMLResponse(_templates.get_template(template).render(ui_root=airflow_ui_root(), **values))


def create_app() -> FastAPI:
    app = FastAPI(title="Braket Jobs", openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(create_router())
    # The bundle is code anyone may fetch, as Airflow's own UI assets are; its data needs a user.
    app.mount("/static", StaticFiles(packages=[("airflow_provider_braket.ui", "static")]), name="static")

    @app.get("/jobs", response_class=HTMLResponse)
    def jobs_page(
        user: User,
        job: Annotated[str | None, Query(description="ARN of the job to show")] = None,
        days: Annotated[int, Query(ge=1, le=90)] = DEFAULT_DAYS,
        conn_id: str = DEFAULT_CONN_ID,
    ) -> HTMLResponse:
        rows = directory_for(user, conn_id).rows(readable_dag_ids(user), days=days)
        selected = next((row for row in rows if row.job_arn == job), None)
        return _page(
            "jobs.html", rows=rows, runs=run_totals(rows), selected=selected, days=days, conn_id=conn_id
        )

    @app.get("/jobs.json")
    def jobs_json(
        user: User, days: Annotated[int, Query(ge=1, le=90)] = DEFAULT_DAYS, conn_id: str = DEFAULT_CONN_ID
    ) -> JSONResponse:
        rows = directory_for(user, conn_id).rows(readable_dag_ids(user), days=days)
        return JSONResponse([job_json(row, airflow_ui_root()) for row in rows])

    @app.get("/metrics.svg")
    def metrics_svg(user: User, job: str, conn_id: str = DEFAULT_CONN_ID) -> Response:
        jobs = directory_for(user, conn_id)
        tags = jobs.job_or_none(job)
        if tags is None or tags.get("airflow:dag_id") not in readable_dag_ids(user):
            raise HTTPException(404, "No such job among this Airflow's jobs you may read")
        svg = jobs.metrics_svg(job)
        if svg is None:
            raise HTTPException(404, "The job logged no metrics")
        return Response(svg, media_type="image/svg+xml")

    @app.get("/sweep", response_class=HTMLResponse)
    def sweep_page(
        user: User,
        dag_id: str,
        run_id: str,
        metric: str | None = None,
        goal: Goal = "min",
        parameter: str | None = None,
        days: Annotated[int, Query(ge=1, le=90)] = SWEEP_DAYS,
        conn_id: str = DEFAULT_CONN_ID,
    ) -> HTMLResponse:
        jobs = readable_directory(user, conn_id, dag_id)
        points = sweep_points(jobs, dag_id, run_id, days)
        metrics, parameters = metric_names(points), parameter_names(points)
        metric = metric if metric in metrics else (metrics[0] if metrics else None)
        parameter = parameter if parameter in parameters else varying_parameter(points, parameters)
        best = best_point(points, metric, goal) if metric else None
        return _page(
            "sweep.html",
            dag_id=dag_id,
            run_id=run_id,
            points=points,
            names=sorted({name for point in points for name in point.hyperparameters}),
            metrics=metrics,
            parameters=parameters,
            metric=metric,
            goal=goal,
            parameter=parameter,
            best=best,
            total=sum(point.cost["total"] for point in points if point.cost),
            days=days,
            conn_id=conn_id,
        )

    @app.get("/sweep.svg")
    def sweep_plot(
        user: User,
        dag_id: str,
        run_id: str,
        metric: str,
        parameter: str,
        goal: Goal = "min",
        days: Annotated[int, Query(ge=1, le=90)] = SWEEP_DAYS,
        conn_id: str = DEFAULT_CONN_ID,
    ) -> Response:
        points = sweep_points(readable_directory(user, conn_id, dag_id), dag_id, run_id, days)
        if not any(metric in point.metrics and parameter in point.hyperparameters for point in points):
            raise HTTPException(404, "No point of this run has that metric and hyperparameter")
        svg = sweep_svg(points, metric, parameter, best_point(points, metric, goal))
        return Response(svg, media_type="image/svg+xml")

    @app.get("/runs.svg")
    def runs_plot(
        user: User,
        dag_id: str,
        metric: str,
        goal: Goal = "min",
        days: Annotated[int, Query(ge=1, le=90)] = SWEEP_DAYS,
        conn_id: str = DEFAULT_CONN_ID,
    ) -> Response:
        summaries = run_summaries(readable_directory(user, conn_id, dag_id), dag_id, metric, goal, days)
        if not summaries:
            raise HTTPException(404, "No Braket jobs of this DAG in this period")
        return Response(runs_svg(summaries, metric), media_type="image/svg+xml")

    return app
