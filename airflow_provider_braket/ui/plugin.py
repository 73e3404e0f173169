"""The provider's Airflow plugin: Braket views in the Airflow 3 UI, served by the api-server.

On Airflow >= 3.1 the views are React apps in Airflow's own UI (``react_apps``): "Braket Jobs" in
the Browse menu, a "Braket Job" tab on each task instance and a "Braket Sweep" tab on each DAG run,
all drawn by one bundle (``static/braket-ui.js``, built from ``frontend/`` by ``make ui``) that
reads the app's JSON API. Airflow 3.0 has no plugin views: its users open the server-rendered page
at ``/braket/jobs``.

Registered by the provider package's ``airflow.plugins`` entry point, so installing the package is
all it takes (Airflow loads plugins a provider declares in ``get_provider_info`` only with
``[core] lazy_discover_providers = False``). Every Airflow process loads plugins, so this module
stays light: the FastAPI app (with FastAPI, the hook and matplotlib behind it) is built on the
first request to it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_braket.version_compat import AIRFLOW_V_3_1_PLUS

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]

URL_PREFIX = "/braket"
STATIC = Path(__file__).parent / "static"
# The names must be those the bundle registers itself under (frontend/src/main.tsx).
JOBS_VIEW, JOB_VIEW, SWEEP_VIEW = "Braket Jobs", "Braket Job", "Braket Sweep"
JOBS_ROUTE, JOB_ROUTE, SWEEP_ROUTE = "braket-jobs", "braket-job", "braket-sweep"


def bundle_url() -> str:
    """The bundle's URL, versioned by its digest so a browser never runs an old one after an
    upgrade (Airflow's UI imports it as a module, which browsers cache by URL)."""
    try:
        version = json.loads((STATIC / "braket-ui.stamp.json").read_text())["bundle"][:16]
    except (OSError, ValueError, KeyError):
        version = "unversioned"
    return f"{URL_PREFIX}/static/braket-ui.js?v={version}"


def react_apps() -> list[dict[str, Any]]:
    url = bundle_url()
    return [
        {
            "name": JOBS_VIEW,
            "bundle_url": url,
            "destination": "nav",
            "category": "browse",
            "url_route": JOBS_ROUTE,
        },
        {"name": JOB_VIEW, "bundle_url": url, "destination": "task_instance", "url_route": JOB_ROUTE},
        {"name": SWEEP_VIEW, "bundle_url": url, "destination": "dag_run", "url_route": SWEEP_ROUTE},
    ]


class _AppOnFirstRequest:
    """An ASGI app that builds the real one when the first request reaches it."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if self._app is None:
            from airflow_provider_braket.ui.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class BraketJobsPlugin(AirflowPlugin):
    """Mounts the app at /braket and, on Airflow >= 3.1, adds its React views to Airflow's UI."""

    name = "braket"
    fastapi_apps = [{"app": _AppOnFirstRequest(), "url_prefix": URL_PREFIX, "name": "Braket Jobs"}]
    react_apps = react_apps() if AIRFLOW_V_3_1_PLUS else []
