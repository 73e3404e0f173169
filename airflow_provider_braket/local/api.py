"""The Braket operations of the local service, as botocore's rest-json protocol speaks them."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_braket.jobs.models import (
    ACTIVE_STATUSES,
    JOB_ARN_PATTERN,
    RequestValidationError,
    validate_create_job,
    validate_search_devices,
    validate_search_jobs,
    validate_tag_resource,
)
from airflow_provider_braket.local.config import LocalServiceConfig
from airflow_provider_braket.local.devices import DeviceTable
from airflow_provider_braket.local.errors import (
    BraketError,
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    ValidationException,
)
from airflow_provider_braket.local.records import request_fingerprint
from airflow_provider_braket.local.runner import JobRunner
from airflow_provider_braket.local.store import JobRecord, JobStore, now_ms
from airflow_provider_braket.local.task_api import QuantumTasks, task_routes
from airflow_provider_braket.local.workspace import check_local_algorithm


@dataclass
class ServiceState:
    """Everything the operations act on."""

    config: LocalServiceConfig
    store: JobStore
    devices: DeviceTable
    runner: JobRunner
    tasks: QuantumTasks


def error_response(error: BraketError) -> Response:
    return Response(
        content=error.body(),
        status_code=error.status,
        headers={name.decode(): value.decode() for name, value in error.headers()},
    )


def build_braket_app(state: ServiceState) -> FastAPI:
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

    app.include_router(_routes(state))
    app.include_router(task_routes(state.tasks, _json))
    return app


def _routes(state: ServiceState) -> APIRouter:
    router = APIRouter()
    store, runner = state.store, state.runner

    @router.post("/job", status_code=201)
    async def create_job(request: Request) -> Response:
        body = await _json(request)
        record = _create(state, body)
        return JSONResponse({"jobArn": record.job_arn}, status_code=201)

    @router.get("/job/{job_arn:path}/cancel")
    async def _cancel_wrong_method(job_arn: str) -> Response:
        raise ValidationException("CancelJob is PUT /job/{jobArn}/cancel")

    @router.put("/job/{job_arn:path}/cancel")
    async def cancel_job(job_arn: str) -> Response:
        record = _job(store, job_arn)
        status = runner.cancel(record)
        state.tasks.runner.cancel_job_tasks(record.job_arn)
        return JSONResponse({"jobArn": record.job_arn, "cancellationStatus": status})

    @router.get("/job/{job_arn:path}")
    async def get_job(job_arn: str, request: Request) -> Response:
        record = _job(store, job_arn)
        description = record.description()
        if "QueueInfo" in request.query_params.getlist("additionalAttributeNames"):
            description["queueInfo"] = _queue_info(record, runner)
        return JSONResponse(description)

    @router.post("/jobs")
    async def search_jobs(request: Request) -> Response:
        query = validate_search_jobs(await _json(request))
        try:
            records, token = store.search(query.filters, query.maxResults or 100, query.nextToken)
        except ValueError as error:
            raise ValidationException(f"nextToken: {error}") from None
        answer: dict[str, Any] = {"jobs": [record.summary() for record in records]}
        if token:
            answer["nextToken"] = token
        return JSONResponse(answer)

    @router.get("/device/{device_arn:path}")
    async def get_device(device_arn: str) -> Response:
        description = state.devices.describe(device_arn)
        jobs_waiting = sum(1 for job in store.with_status(["QUEUED"]) if job.device == device_arn)
        description["deviceQueueInfo"] = state.tasks.device_queue_info(device_arn, jobs_waiting)
        return JSONResponse(description)

    @router.post("/devices")
    async def search_devices(request: Request) -> Response:
        query = validate_search_devices(await _json(request))
        devices = [
            {"deviceArn": arn, **settings} for arn, settings in sorted(state.devices.describable().items())
        ]
        for item in query.filters:
            devices = [device for device in devices if device.get(item.name) in item.values]
        start = _device_offset(query.nextToken)
        limit = query.maxResults or 100
        answer: dict[str, Any] = {"devices": devices[start : start + limit]}
        if start + limit < len(devices):
            answer["nextToken"] = str(start + limit)
        return JSONResponse(answer)

    @router.post("/tags/{resource_arn:path}")
    async def tag_resource(resource_arn: str, request: Request) -> Response:
        tags = validate_tag_resource(await _json(request)).tags
        current = _tags_of(state, resource_arn)
        _set_tags(state, resource_arn, {**current, **tags})
        return JSONResponse({})

    @router.delete("/tags/{resource_arn:path}")
    async def untag_resource(resource_arn: str, request: Request) -> Response:
        keys = request.query_params.getlist("tagKeys")
        if not keys:
            raise ValidationException("tagKeys: at least 1 tag key is required")
        current = _tags_of(state, resource_arn)
        _set_tags(state, resource_arn, {k: v for k, v in current.items() if k not in keys})
        return JSONResponse({})

    @router.get("/tags/{resource_arn:path}")
    async def list_tags(resource_arn: str) -> Response:
        return JSONResponse({"tags": _tags_of(state, resource_arn)})

    return router


def _create(state: ServiceState, body: dict[str, Any]) -> JobRecord:
    """CreateJob: validate, honour the client token, check device and quota, then queue."""
    request = validate_create_job(body).wire()
    token = request.pop("clientToken")
    fingerprint = request_fingerprint(request)
    existing = state.store.get_by_token(token)
    if existing is not None:
        if existing.request_hash != fingerprint:
            raise ConflictException(
                f"clientToken {token!r} was already used for job {existing.job_arn} with a different request"
            )
        return existing
    check_local_algorithm(request["algorithmSpecification"])
    state.devices.check_runnable(request["deviceConfig"]["device"])
    active = state.store.count_with_status(ACTIVE_STATUSES)
    if active >= state.config.concurrent_job_quota:
        raise ServiceQuotaExceededException(
            f"Concurrent hybrid job quota exceeded: {active} jobs are queued or running and the quota is "
            f"{state.config.concurrent_job_quota}"
        )
    config = state.config
    job_id = str(uuid.uuid4())
    created = now_ms()
    record = JobRecord(
        job_arn=f"arn:aws:braket:{config.region}:{config.account_id}:job/{job_id}",
        job_id=job_id,
        job_name=request["jobName"],
        status="QUEUED",
        device=request["deviceConfig"]["device"],
        created_at=created,
        client_token=token,
        request_hash=fingerprint,
        request=request,
        tags=request.get("tags", {}),
        events=[],
    )
    state.store.insert(record)
    state.store.add_event(record.job_arn, "QUEUED_FOR_EXECUTION", "Job queued for execution", created)
    state.runner.enqueue(record.job_arn)
    return record


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


def _job(store: JobStore, job_arn: str) -> JobRecord:
    if not re.match(JOB_ARN_PATTERN, job_arn):
        raise ValidationException(f"jobArn: {job_arn!r} does not match the pattern {JOB_ARN_PATTERN}")
    record = store.get(job_arn)
    if record is None:
        raise ResourceNotFoundException(f"Job {job_arn} not found")
    return record


def _tags_of(state: ServiceState, resource_arn: str) -> dict[str, str]:
    """Tags of a job or a quantum task: the two resources the local service keeps."""
    task = state.tasks.store.get(resource_arn)
    if task is not None:
        return task.tags
    job = state.store.get(resource_arn)
    if job is None:
        raise ResourceNotFoundException(f"Resource {resource_arn} not found")
    return job.tags


def _set_tags(state: ServiceState, resource_arn: str, tags: dict[str, str]) -> None:
    if state.tasks.store.get(resource_arn) is not None:
        state.tasks.store.update(resource_arn, tags=tags)
    else:
        state.store.update(resource_arn, tags=tags)


def _queue_info(record: JobRecord, runner: JobRunner) -> dict[str, Any]:
    position = runner.queue_position(record.job_arn) if record.status == "QUEUED" else None
    if position is None:
        return {
            "queue": "JOBS_QUEUE",
            "position": "None",
            "message": (
                f"Job is in {record.status} status. "
                "AmazonBraket does not show queue position for this status."
            ),
        }
    return {"queue": "JOBS_QUEUE", "position": str(position)}


def _device_offset(token: str | None) -> int:
    if not token:
        return 0
    # Offsets this service issues are small: a long run of digits is forged (and int() of it a 500).
    if not token.isdecimal() or len(token) > 9:
        raise ValidationException("nextToken: not a token this service issued")
    return int(token)
