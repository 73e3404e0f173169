"""Who may see what in the Braket views: the Airflow user of a request and the connections and DAGs
they may read, asked of the configured auth manager as Airflow's own API asks it.

Callers authenticate as for Airflow's own API: the ``Authorization: Bearer`` token or the UI's
``_token`` cookie. Jobs are read through ``BraketHook`` and an Airflow connection (``braket_default``
unless the request names another): one in ``[braket] ui_connections``, or one the auth manager lets
the user read. An unknown connection is a 404, never a fallback to the api-server's own AWS
credentials.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from airflow_provider_braket.hooks.connection import ConnectionParams
from airflow_provider_braket.ui.jobs import JobDirectory
from airflow_provider_braket.utils.settings import braket_str


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


def may_edit_dag(user: Any, dag_id: str) -> bool:
    """Whether ``user`` may change ``dag_id`` (what Airflow asks before it lets a user clear or
    mark its tasks): the right to cancel the DAG's jobs."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    return bool(get_auth_manager().is_authorized_dag(method="PUT", details=DagDetails(id=dag_id), user=user))


def directory_for(user: Any, conn_id: str) -> JobDirectory:
    """The jobs of ``conn_id``, if this user may use that connection and it exists."""
    if conn_id not in allowed_connections() and not may_read_connection(user, conn_id):
        raise HTTPException(
            403,
            "You may not use this connection: it is not in [braket] ui_connections and you may not read it",
        )
    if not _connection_exists(conn_id):
        raise HTTPException(404, "No such Airflow connection")
    return directory(conn_id)


def readable_directory(user: Any, conn_id: str, dag_id: str) -> JobDirectory:
    """The connection's jobs, if the user may read ``dag_id`` (a 404 otherwise, as for a job)."""
    jobs = directory_for(user, conn_id)
    if dag_id not in readable_dag_ids(user):
        raise HTTPException(404, "No such DAG among those you may read")
    return jobs


def allowed_connections() -> set[str]:
    listed = braket_str("ui_connections")
    return {name.strip() for name in listed.split(",") if name.strip()}


def may_read_connection(user: Any, conn_id: str) -> bool:
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
