"""The "Braket Jobs" page: a FastAPI app the provider's plugin mounts under the api-server at /braket.

- ``GET /braket/jobs``: the page (``?job=<arn>`` selects a job and shows its metric plot);
- ``GET /braket/jobs.json``: the same rows as JSON;
- ``GET /braket/metrics.svg?job=<arn>``: a job's metrics drawn with matplotlib;
- ``GET /braket/sweep?dag_id=&run_id=``: a DAG run's mapped jobs side by side (``&metric=``,
  ``&goal=min|max``, ``&parameter=`` choose the best point and the plot), with
  ``sweep.svg`` (the metric against a hyperparameter) and ``runs.svg`` (the DAG's runs over time).

Callers authenticate as for Airflow's own API: the ``Authorization: Bearer`` token or the UI's
``_token`` cookie, checked by the configured auth manager. They see the jobs of the DAGs they may
read. Jobs are read through ``BraketHook`` and the Airflow connection (``?conn_id=``,
``braket_default`` by default), the same as the operators use: a connection in
``[braket] ui_connections``, or one the auth manager lets the user read. An unknown connection is
a 404, never a fallback to the api-server's own AWS credentials.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from airflow_provider_braket.hooks.connection import DEFAULT_CONN_ID, ConnectionParams
from airflow_provider_braket.ui.jobs import DEFAULT_DAYS, JobDirectory, JobRow
from airflow_provider_braket.ui.sweeps import (
    SweepPoint,
    best_point,
    metric_names,
    parameter_names,
    run_summaries,
    runs_svg,
    sweep_points,
    sweep_svg,
)
from airflow_provider_braket.utils.settings import braket_str

# A sweep's runs are looked for further back than the jobs page's default week.
SWEEP_DAYS = 30
Goal = Literal["min", "max"]

_templates = Environment(
    loader=PackageLoader("airflow_provider_braket.ui", "templates"), autoescape=select_autoescape()
)


async def current_user(request: Request) -> Any:
    """The Airflow user of a request, from its bearer token or the UI's cookie (401/403 otherwise)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from jwt import ExpiredSignatureError, InvalidTokenError

    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
    if not token:
        raise HTTPException(401, "Not authenticated: sign in to Airflow first")
    try:
        return await get_auth_manager().get_user_from_token(token)
    except ExpiredSignatureError:
        raise HTTPException(401, "Token expired") from None
    except InvalidTokenError:
        raise HTTPException(403, "Invalid token") from None


User = Annotated[Any, Depends(current_user)]


def readable_dag_ids(user: Any) -> set[str]:
    from airflow.api_fastapi.app import get_auth_manager

    return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))


def directory_for(user: Any, conn_id: str) -> JobDirectory:
    """The jobs of ``conn_id``, if this user may use that connection and it exists."""
    if conn_id not in allowed_connections() and not _may_read_connection(user, conn_id):
        raise HTTPException(
            403,
            "You may not use this connection: it is not in [braket] ui_connections and you may not read it",
        )
    if not _connection_exists(conn_id):
        raise HTTPException(404, "No such Airflow connection")
    return directory(conn_id)


def allowed_connections() -> set[str]:
    listed = braket_str("ui_connections")
    return {name.strip() for name in listed.split(",") if name.strip()}


def _may_read_connection(user: Any, conn_id: str) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import ConnectionDetails

    return bool(
        get_auth_manager().is_authorized_connection(
            method="GET", details=ConnectionDetails(conn_id=conn_id), user=user
        )
    )


def _connection_exists(conn_id: str) -> bool:
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    try:
        Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        return False
    return True


@functools.lru_cache(maxsize=16)
def directory(conn_id: str) -> JobDirectory:
    return JobDirectory(ConnectionParams(conn_id).make_hook())


def airflow_ui_root() -> str:
    """Where the Airflow UI lives (``[api] base_url``'s path), for links to DAG runs and tasks."""
    from urllib.parse import urlparse

    from airflow.configuration import conf

    path = urlparse(conf.get("api", "base_url", fallback="") or "/").path
    return path.rstrip("/") + "/"


def _page(template: str, **values: Any) -> HTMLResponse:
    """A page of the view, rendered with the Airflow UI's root for its links."""
    return HTMLResponse(_templates.get_template(template).render(ui_root=airflow_ui_root(), **values))


def create_app() -> FastAPI:
    app = FastAPI(title="Braket Jobs", openapi_url=None, docs_url=None, redoc_url=None)

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
        return JSONResponse([_as_json(row) for row in rows])

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
        jobs = _readable_directory(user, conn_id, dag_id)
        points = sweep_points(jobs, dag_id, run_id, days)
        metrics, parameters = metric_names(points), parameter_names(points)
        metric = metric if metric in metrics else (metrics[0] if metrics else None)
        parameter = parameter if parameter in parameters else _varying(points, parameters)
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
        points = sweep_points(_readable_directory(user, conn_id, dag_id), dag_id, run_id, days)
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
        summaries = run_summaries(_readable_directory(user, conn_id, dag_id), dag_id, metric, goal, days)
        if not summaries:
            raise HTTPException(404, "No Braket jobs of this DAG in this period")
        return Response(runs_svg(summaries, metric), media_type="image/svg+xml")

    return app


def _readable_directory(user: Any, conn_id: str, dag_id: str) -> JobDirectory:
    """The connection's jobs, if the user may read ``dag_id`` (a 404 otherwise, as for a job)."""
    jobs = directory_for(user, conn_id)
    if dag_id not in readable_dag_ids(user):
        raise HTTPException(404, "No such DAG among those you may read")
    return jobs


def _varying(points: list[SweepPoint], parameters: list[str]) -> str | None:
    """The first hyperparameter whose value differs between points: what the sweep sweeps."""
    for name in parameters:
        if len({point.hyperparameters.get(name) for point in points}) > 1:
            return name
    return parameters[0] if parameters else None


def run_totals(rows: list[JobRow]) -> list[dict[str, Any]]:
    """The rows grouped by DAG run: jobs, total cost, and whether the run has mapped jobs."""
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        entry = runs.setdefault(
            (row.dag_id, row.run_id),
            {
                "dag_id": row.dag_id,
                "run_id": row.run_id,
                "jobs": 0,
                "cost": 0.0,
                "unpriced": False,
                "mapped": False,
            },
        )
        entry["jobs"] += 1
        entry["mapped"] = entry["mapped"] or row.map_index >= 0
        if row.cost is None or row.cost.get("unpriced"):
            entry["unpriced"] = True
        if row.cost is not None:
            entry["cost"] += row.cost["total"]
    return list(runs.values())


def _as_json(row: JobRow) -> dict[str, Any]:
    return {
        "jobArn": row.job_arn,
        "jobName": row.job_name,
        "status": row.status,
        "device": row.device,
        "queuePosition": row.queue_position,
        "billableSeconds": row.billable_seconds,
        "cost": row.cost,
        "createdAt": row.created_at.isoformat() if row.created_at else None,
        "endedAt": row.ended_at.isoformat() if row.ended_at else None,
        "dagId": row.dag_id,
        "runId": row.run_id,
        "taskId": row.task_id,
        "mapIndex": row.map_index,
        "tagProblems": row.tag_problems,
        "dagRunUrl": airflow_ui_root() + row.dag_run_path(),
        "taskInstanceUrl": airflow_ui_root() + row.task_instance_path(),
        "consoleUrl": row.console_url,
    }
