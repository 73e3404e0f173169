"""The one endpoint of the local service: Braket here, S3/Logs/IAM/STS in moto, admin under /_local/.

Every request but ``/_local/*`` must carry a valid SigV4 signature; the service named in its
credential scope picks the backend, so one ``endpoint_url`` reaches them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from a2wsgi import WSGIMiddleware
from fastapi.responses import Response

from airflow_provider_braket.local.aws_state.clients import SelfClients
from airflow_provider_braket.local.aws_state.images import publish_images
from airflow_provider_braket.local.aws_state.moto_backend import (
    BODY_KEY,
    REGION_KEY,
    SERVICE_KEY,
    PersistentMoto,
)
from airflow_provider_braket.local.aws_state.store import StateStore
from airflow_provider_braket.local.braket.jobs import BraketBackend
from airflow_provider_braket.local.braket.quantum_tasks import QuantumTasks
from airflow_provider_braket.local.braket.responses import build_braket_app, error_response
from airflow_provider_braket.local.config import LocalServiceConfig, make_private, write_admin_token
from airflow_provider_braket.local.devices.table import DeviceTable
from airflow_provider_braket.local.exceptions import (
    AccessDeniedException,
    BraketError,
    InternalServiceException,
    ThrottlingException,
    ValidationException,
)
from airflow_provider_braket.local.execution.containment import Containment
from airflow_provider_braket.local.execution.job_runner import JobRunner
from airflow_provider_braket.local.execution.quantum_task_processes import WorkerPool
from airflow_provider_braket.local.execution.quantum_task_runner import QuantumTaskRunner
from airflow_provider_braket.local.execution.retention import FolderSweeper
from airflow_provider_braket.local.server.admin import build_admin_app
from airflow_provider_braket.local.server.faults import FaultInjector, operation_of
from airflow_provider_braket.local.server.inbound import (
    ReceivedBody,
    RequestTooLarge,
    declared_length,
    read_body,
    replay,
)
from airflow_provider_braket.local.server.legacy_journal import migrate_legacy_journal
from airflow_provider_braket.local.server.sigv4 import SignatureError, check_headers, credential_scope, verify
from airflow_provider_braket.local.storage.jobs import JobStore
from airflow_provider_braket.local.storage.quantum_tasks import QuantumTaskStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger(__name__)

JOBS_ROLE_NAME = "AmazonBraketJobsExecutionRole"
_XML_SERVICES = frozenset({"s3", "iam", "sts"})
_TRUST_POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Principal":{"Service":"braket.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
)


class LocalService:
    """The ASGI application of ``braket-local serve``."""

    def __init__(self, config: LocalServiceConfig) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.config = config
        make_private(config.data_dir)
        self.admin_token = config.admin_token or write_admin_token(config.data_dir)
        self.store = JobStore(config.data_dir / "jobs.sqlite3")
        self.devices = DeviceTable(config.data_dir / "devices.json", home_region=config.region)
        self.clients = SelfClients(config)
        self.quantum_task_store = QuantumTaskStore(config.data_dir / "tasks.sqlite3")
        self.quantum_task_runner = QuantumTaskRunner(
            self.quantum_task_store,
            self._write_result,
            workers=config.quantum_task_workers,
            limits=config.quantum_task_limits,
        )
        self.quantum_task_checkers = WorkerPool(config.quantum_task_limits.checkers, "checker")
        self.containment = Containment.detect(config.python, config.data_dir)
        self.runner = JobRunner(config, self.store, self.clients, self.containment)
        self.sweeper = FolderSweeper(config.data_dir / "jobs", self.store, config.job_retention_seconds)
        quantum_tasks = QuantumTasks(
            config.region,
            config.account_id,
            self.quantum_task_store,
            self.quantum_task_runner,
            self.devices,
            self.store,
            self.quantum_task_checkers,
        )
        self.faults = FaultInjector()
        # Requests served, by "<service>:<operation>": what a client's polling really costs.
        self.calls: Counter[str] = Counter()
        self.ready = threading.Event()
        self.braket = build_braket_app(
            BraketBackend(config, self.store, self.devices, self.runner, quantum_tasks)
        )
        self.admin = build_admin_app(self)
        self.state_store = StateStore(config.data_dir)
        self.moto_wsgi = PersistentMoto(
            DomainDispatcherApplication(create_backend_app),
            self.state_store,
            config.account_id,
            config.region,
            log_events_max=config.log_events_max,
            log_bytes_max=config.log_bytes_max,
        )
        self.moto = WSGIMiddleware(self.moto_wsgi)  # type: ignore[arg-type]

    def _write_result(self, bucket: str, key: str, body: bytes) -> None:
        self.moto_wsgi.put_object(bucket, key, body, "application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"].startswith("/_local/"):
            await self.admin(scope, receive, send)
            return
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
        try:
            self._admit(headers)
            body = await read_body(receive, self.config.max_request_bytes)
        except SignatureError as error:
            await _deny(scope, send, headers, error)
            return
        except RequestTooLarge as error:
            await _too_large(scope, send, headers, error)
            return
        try:
            await self._dispatch(scope, send, headers, body)
        finally:
            body.close()

    def _admit(self, headers: list[tuple[str, str]]) -> None:
        """Refuse, before the body is read, what no body could make acceptable."""
        if self.config.verify_signatures:
            check_headers(headers, self.config.access_key)
        declared = declared_length(headers)
        if declared is not None and declared > self.config.max_request_bytes:
            raise RequestTooLarge(self.config.max_request_bytes)

    async def _dispatch(
        self, scope: Scope, send: Send, headers: list[tuple[str, str]], body: ReceivedBody
    ) -> None:
        try:
            service = self._authenticate(scope, headers, body.sha256)
        except SignatureError as error:
            await _deny(scope, send, headers, error)
            return
        self.calls[_call_name(service, scope, headers)] += 1
        if service == "braket":
            scope[REGION_KEY] = _signed_region(headers)
            await self._braket(scope, replay(body.read_all()), send)
        else:
            scope[SERVICE_KEY] = service
            scope[REGION_KEY] = _signed_region(headers)
            if service != "s3":  # Logs and IAM name what they change in the body: small, JSON or form
                scope[BODY_KEY] = body.read_all()
            await self.moto(scope, replay(body), send)  # type: ignore[arg-type]

    def _authenticate(self, scope: Scope, headers: list[tuple[str, str]], body_sha256: str) -> str:
        if not self.config.verify_signatures:
            named = credential_scope(dict(headers).get("authorization"))
            return named.service if named else "s3"
        verified = verify(
            scope["method"],
            _raw_path(scope),
            scope.get("query_string", b"").decode("latin-1"),
            headers,
            body_sha256,
            self.config.access_key,
            self.config.secret_key,
        )
        return verified.service

    async def _braket(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = operation_of(scope["method"], _raw_path(scope))
        kind, delay = self.faults.decide(operation) if operation else (None, 0.0)
        if delay:
            await asyncio.sleep(delay)
        if kind == "drop" and _drop_connection(send):
            return
        if kind == "throttle":
            await _respond(
                scope, receive, send, error_response(ThrottlingException("Rate exceeded (injected)"))
            )
            return
        if kind == "deny":
            await _respond(
                scope, receive, send, error_response(AccessDeniedException("Not authorized (injected)"))
            )
            return
        if kind in ("error", "drop"):
            await _respond(scope, receive, send, error_response(InternalServiceException("Injected failure")))
            return
        await self.braket(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await asyncio.to_thread(self._restore_state)
                    self.runner.recover()
                    self.quantum_task_runner.recover()
                    threading.Thread(
                        target=self._bootstrap, name="braket-local-bootstrap", daemon=True
                    ).start()
                except Exception as error:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.sweeper.stop()
                await asyncio.to_thread(self.runner.stop)
                await asyncio.to_thread(self.quantum_task_runner.stop)
                self.quantum_task_checkers.stop()
                self.store.close()
                self.quantum_task_store.close()
                self.state_store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _restore_state(self) -> None:
        self.moto_wsgi.restore()
        migrate_legacy_journal(self.config.data_dir, self.moto_wsgi)

    def _bootstrap(self) -> None:
        """Once the socket accepts: create the default jobs role in IAM, then start running jobs."""
        _wait_for_port(self.config.host, self.config.port)
        with contextlib.suppress(self.clients.iam.exceptions.EntityAlreadyExistsException):
            self.clients.iam.create_role(
                RoleName=JOBS_ROLE_NAME, Path="/service-role/", AssumeRolePolicyDocument=_TRUST_POLICY
            )
        publish_images(self.clients.ecr, self.config.python)
        self.runner.start()
        self.quantum_task_runner.start()
        self.sweeper.sweep()
        self.sweeper.start()
        self.ready.set()
        log.info("local Braket service ready at %s", self.config.endpoint_url)


def _raw_path(scope: Scope) -> str:
    """The path as sent, still percent-encoded (job ARNs in paths are)."""
    return str((scope.get("raw_path") or scope["path"].encode()).decode("latin-1"))


def _signed_region(headers: list[tuple[str, str]]) -> str | None:
    named = credential_scope(
        next((value for name, value in headers if name.lower() == "authorization"), None)
    )
    return named.region if named else None


def _call_name(service: str, scope: Scope, headers: list[tuple[str, str]]) -> str:
    """``braket:GetJob``, ``logs:GetLogEvents`` (JSON protocols name it in X-Amz-Target), ``s3:GET``."""
    if service == "braket":
        return f"braket:{operation_of(scope['method'], _raw_path(scope)) or 'unknown'}"
    target = next((value for name, value in headers if name.lower() == "x-amz-target"), None)
    return f"{service}:{target.rsplit('.', 1)[-1] if target else scope['method']}"


async def _respond(scope: Scope, receive: Receive, send: Send, response: Response) -> None:
    await response(scope, receive, send)


async def _deny(scope: Scope, send: Send, headers: list[tuple[str, str]], error: SignatureError) -> None:
    """Refuse in the error format the client's protocol parses: XML for S3/IAM/STS, JSON otherwise."""
    await _refuse(scope, send, headers, error.status, error.code, str(error))


async def _too_large(
    scope: Scope, send: Send, headers: list[tuple[str, str]], error: RequestTooLarge
) -> None:
    await _refuse(scope, send, headers, 413, "EntityTooLarge", str(error))


async def _refuse(
    scope: Scope, send: Send, headers: list[tuple[str, str]], status: int, code: str, reason: str
) -> None:
    named = credential_scope(dict((name.lower(), value) for name, value in headers).get("authorization"))
    service = named.service if named else None
    error = f"<Error><Code>{code}</Code><Message>{_xml_escape(reason)}</Message></Error>"
    if service == "s3":
        # S3 answers an oversized upload with 400 EntityTooLarge, not 413.
        response: Response = Response(
            error, status_code=400 if status == 413 else status, media_type="application/xml"
        )
    elif service in _XML_SERVICES:
        response = Response(
            f"<ErrorResponse>{error}</ErrorResponse>", status_code=status, media_type="text/xml"
        )
    elif status == 403:
        response = error_response(AccessDeniedException(reason))
    else:
        response = error_response(ValidationException(reason))
    # The body may be unread: close the connection rather than read what we refused.
    response.headers["connection"] = "close"
    await _respond(scope, replay(b""), send, response)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _drop_connection(send: Send) -> bool:
    """Close the TCP connection without answering, as a flaky network would.

    ASGI offers no way to do it, so we reach uvicorn's transport through its bound ``send``;
    if that is not there (another server), the caller answers with a 500 instead.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        return False
    transport.abort()
    return True


def _wait_for_port(host: str, port: int, timeout: float = 60.0) -> None:
    target = "127.0.0.1" if host in ("0.0.0.0", "") else host
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((target, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the local service did not start listening on {target}:{port}")


__all__ = ["BraketError", "LocalService"]
