"""The provider's Airflow plugin: a "Braket Jobs" page in the Airflow 3 UI, served by the api-server.

Registered by the provider package's ``airflow.plugins`` entry point, so installing the package is
all it takes (Airflow loads plugins a provider declares in ``get_provider_info`` only with
``[core] lazy_discover_providers = False``). Every Airflow process loads plugins, so this module
stays light: the FastAPI app (with FastAPI, the hook and matplotlib behind it) is built on the
first request to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]

URL_PREFIX = "/braket"


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
    """Mounts the "Braket Jobs" app at /braket and, on Airflow >= 3.1, adds it to the Browse menu."""

    name = "braket"
    fastapi_apps = [{"app": _AppOnFirstRequest(), "url_prefix": URL_PREFIX, "name": "Braket Jobs"}]
    # Airflow 3.0 has no external views; the page is at /braket/jobs there.
    external_views = [
        {
            "name": "Braket Jobs",
            "href": f"{URL_PREFIX}/jobs",
            "destination": "nav",
            "category": "browse",
            "url_route": "braket-jobs",
        }
    ]
