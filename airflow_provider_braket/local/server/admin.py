"""The unsigned ``/_local/`` admin endpoints: health, faults, limits, call counts, price list.

Faults and limits change what every user of the service sees, so a request that changes
anything (any method but GET) needs the admin token, sent in the ``X-Braket-Local-Admin-Token``
header, on loopback too: a job's process is on loopback as well. Bound to any other address,
reading needs it too. The token is ``BRAKET_LOCAL_ADMIN_TOKEN`` (the variable
``--admin-token-env`` names) or, when that is unset, one the service makes at start and keeps in
``<data-dir>/admin-token`` (mode 0600), where ``braket-local`` and the test helpers read it;
jobs never see it (their environment is an allow-list, and run as root the service runs them as
another user). Health and the price list stay open: they hold nothing secret, and the SDK reads
the price list without credentials.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_braket.local.aws_state.offer_file import PRICE_LIST_PATH, served_price_list
from airflow_provider_braket.local.config import ADMIN_TOKEN_HEADER
from airflow_provider_braket.local.server.faults import FaultSettings

if TYPE_CHECKING:
    from airflow_provider_braket.local.server.app import LocalService

TOKEN_HEADER = ADMIN_TOKEN_HEADER
Handler = Callable[[Request], Awaitable[Response]]
OPEN_PATHS = frozenset({"/_local/health", PRICE_LIST_PATH})


def _has_token(request: Request, token: str) -> bool:
    return hmac.compare_digest(request.headers.get(TOKEN_HEADER, "").encode(), token.encode())


def build_admin_app(service: LocalService) -> FastAPI:
    """The ``/_local/`` endpoints; see the module's docstring for which need the admin token."""
    admin = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @admin.middleware("http")
    async def require_token(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        token = service.admin_token
        open_here = request.url.path in OPEN_PATHS or (
            request.method in ("GET", "HEAD") and service.config.on_loopback
        )
        if not open_here and not _has_token(request, token):
            return JSONResponse(
                {
                    "message": f"{request.method} {request.url.path} needs the admin token in the header "
                    f"'{TOKEN_HEADER}' (BRAKET_LOCAL_ADMIN_TOKEN, or the file admin-token in the data dir)"
                },
                status_code=403,
            )
        return await call_next(request)

    @admin.get("/_local/health")
    async def health() -> Response:
        if not service.ready.is_set():
            return JSONResponse({"status": "starting"}, status_code=503)
        counts = {
            status: service.store.count_with_status([status])
            for status in ("QUEUED", "RUNNING", "CANCELLING")
        }
        return JSONResponse({"status": "ready", "endpoint": service.config.endpoint_url, "jobs": counts})

    @admin.get("/_local/faults")
    async def get_faults() -> Response:
        return JSONResponse({**service.faults.settings.model_dump(), "injected": service.faults.injected})

    @admin.put("/_local/faults")
    async def put_faults(settings: FaultSettings) -> Response:
        try:
            service.faults.configure(settings)
        except ValueError as error:
            return JSONResponse({"message": str(error)}, status_code=400)
        return JSONResponse(service.faults.settings.model_dump())

    price_list = served_price_list(service.config.price_list)

    @admin.get(PRICE_LIST_PATH)
    async def get_price_list() -> Response:
        return Response(price_list, media_type="text/csv")

    @admin.get("/_local/calls")
    async def get_calls() -> Response:
        return JSONResponse(dict(service.calls))

    @admin.delete("/_local/calls")
    async def reset_calls() -> Response:
        service.calls.clear()
        return JSONResponse({})

    @admin.get("/_local/limits")
    async def get_limits() -> Response:
        return JSONResponse(_limits(service))

    @admin.put("/_local/limits")
    async def put_limits(limits: dict[str, int]) -> Response:
        for name, attribute in (("concurrentJobQuota", "concurrent_job_quota"), ("jobSlots", "job_slots")):
            if name in limits:
                if limits[name] < 1:
                    return JSONResponse({"message": f"{name} must be >= 1"}, status_code=400)
                setattr(service.config, attribute, limits[name])
        # "taskWorkers": the former name, still read.
        workers = limits.get("quantumTaskWorkers", limits.get("taskWorkers"))
        if workers is not None:
            if workers < 0:
                return JSONResponse({"message": "quantumTaskWorkers must be >= 0"}, status_code=400)
            service.quantum_task_runner.set_allowed(workers)
        service.runner.wake()
        return JSONResponse(_limits(service))

    return admin


def _limits(service: LocalService) -> dict[str, int]:
    config = service.config
    return {
        "concurrentJobQuota": config.concurrent_job_quota,
        "jobSlots": config.job_slots,
        "quantumTaskWorkers": service.quantum_task_runner.allowed,
    }
