"""The quantum task operations as botocore's rest-json protocol speaks them: parse, ask, answer.

CreateQuantumTask, GetQuantumTask, CancelQuantumTask and SearchQuantumTasks; what each does is
:class:`~airflow_provider_braket.local.braket.quantum_tasks.QuantumTasks`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_braket.local.aws_state.moto_backend import REGION_KEY
from airflow_provider_braket.local.braket.quantum_tasks import QuantumTasks
from airflow_provider_braket.local.exceptions import ValidationException


def task_routes(tasks: QuantumTasks, read_json: Callable[[Request], Awaitable[dict[str, Any]]]) -> APIRouter:
    """The four task operations; ``read_json`` parses a request body as the job routes do."""
    router = APIRouter()

    @router.post("/quantum-task", status_code=201)
    async def create_quantum_task(request: Request) -> Response:
        body = await read_json(request)
        # The program check waits on a checker process: never on the event loop.
        task_arn = await asyncio.to_thread(tasks.create_and_wait, body, request.scope.get(REGION_KEY))
        return JSONResponse({"quantumTaskArn": task_arn}, status_code=201)

    @router.put("/quantum-task/{task_arn:path}/cancel")
    async def cancel_quantum_task(task_arn: str, request: Request) -> Response:
        return JSONResponse(tasks.cancel(task_arn, await read_json(request)))

    @router.get("/quantum-task/{task_arn:path}")
    async def get_quantum_task(task_arn: str, request: Request) -> Response:
        wanted = request.query_params.getlist("additionalAttributeNames")
        unknown = [name for name in wanted if name != "QueueInfo"]
        if unknown:
            raise ValidationException(f"additionalAttributeNames: only QueueInfo is allowed, got {unknown}")
        return JSONResponse(tasks.describe(task_arn, "QueueInfo" in wanted))

    @router.post("/quantum-tasks")
    async def search_quantum_tasks(request: Request) -> Response:
        return JSONResponse(tasks.search(await read_json(request)))

    return router
