"""The Braket operations of the local service, as botocore's rest-json protocol speaks them.

Routes only: each reads the request's path, query and JSON body, calls the
:class:`~airflow_provider_braket.local.braket.jobs.BraketBackend`, and writes its answer.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_braket.jobs.models import RequestValidationError
from airflow_provider_braket.local.aws_state.moto_backend import REGION_KEY
from airflow_provider_braket.local.braket.jobs import BraketBackend
from airflow_provider_braket.local.braket.quantum_task_responses import task_routes
from airflow_provider_braket.local.exceptions import BraketError, ValidationException


def error_response(error: BraketError) -> Response:
    return Response(
        content=error.body(),
        status_code=error.status,
        headers={name.decode(): value.decode() for name, value in error.headers()},
    )


def build_braket_app(backend: BraketBackend) -> FastAPI:
    app = FastAPI(title="Local Braket Hybrid Jobs service", openapi_url=None, docs_url=None, redoc_url=None)

    @app.exception_handler(BraketError)
    async def _braket_error(_: Request, error: BraketError) -> Response:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> Response:
        return error_response(ValidationException(str(error)))

    @app.exception_handler(OverflowError)
    @app.exception_handler(RecursionError)
    async def _out_of_range(_: Request, error: Exception) -> Response:
        # Input-driven by construction (a number or a nesting no field allows): a client error.
        return error_response(
            ValidationException(f"request: a value is out of range ({type(error).__name__})")
        )

    @app.exception_handler(404)
    async def _unknown(request: Request, _: Exception) -> Response:
        return error_response(
            ValidationException(
                f"{request.method} {request.url.path}: "
                "this operation is not served by the local Braket service"
            )
        )

    app.include_router(_routes(backend))
    app.include_router(task_routes(backend.quantum_tasks, _json))
    return app


def _routes(backend: BraketBackend) -> APIRouter:
    router = APIRouter()

    @router.post("/job", status_code=201)
    async def create_job(request: Request) -> Response:
        record = backend.create_job(await _json(request), request.scope.get(REGION_KEY))
        return JSONResponse({"jobArn": record.job_arn}, status_code=201)

    @router.get("/job/{job_arn:path}/cancel")
    async def _cancel_wrong_method(job_arn: str) -> Response:
        raise ValidationException("CancelJob is PUT /job/{jobArn}/cancel")

    @router.put("/job/{job_arn:path}/cancel")
    async def cancel_job(job_arn: str) -> Response:
        return JSONResponse(backend.cancel_job(job_arn))

    @router.get("/job/{job_arn:path}")
    async def get_job(job_arn: str, request: Request) -> Response:
        names = request.query_params.getlist("additionalAttributeNames")
        return JSONResponse(backend.get_job(job_arn, names))

    @router.post("/jobs")
    async def search_jobs(request: Request) -> Response:
        return JSONResponse(backend.search_jobs(await _json(request)))

    @router.get("/device/{device_arn:path}")
    async def get_device(device_arn: str, request: Request) -> Response:
        return JSONResponse(backend.get_device(device_arn, request.scope.get(REGION_KEY)))

    @router.post("/devices")
    async def search_devices(request: Request) -> Response:
        return JSONResponse(backend.search_devices(await _json(request), request.scope.get(REGION_KEY)))

    @router.post("/tags/{resource_arn:path}")
    async def tag_resource(resource_arn: str, request: Request) -> Response:
        backend.tag_resource(resource_arn, await _json(request))
        return JSONResponse({})

    @router.delete("/tags/{resource_arn:path}")
    async def untag_resource(resource_arn: str, request: Request) -> Response:
        backend.untag_resource(resource_arn, request.query_params.getlist("tagKeys"))
        return JSONResponse({})

    @router.get("/tags/{resource_arn:path}")
    async def list_tags(resource_arn: str) -> Response:
        return JSONResponse({"tags": backend.list_tags(resource_arn)})

    return router


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ValidationException("request body is not valid JSON") from None
    except RecursionError:
        raise ValidationException("request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ValidationException("request body must be a JSON object")
    return body
