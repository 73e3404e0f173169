"""Moto behind the wire, with its state kept in the :class:`StateStore`.

:class:`PersistentMoto` wraps moto's WSGI application. A request that changes S3, Logs or
IAM runs under one lock; once moto has acknowledged it, the state it produced (the object,
the log events, the role: read back from moto's backends, not from the request) is written to
the store, and only then does the client get its answer; an S3 write the store cannot keep is
taken back from moto before the error is answered. At start, :meth:`restore` rebuilds
moto's backends from the store directly, record by record: a record that cannot be restored is
logged and skipped, and nothing else is lost.

Kept: buckets, objects (body, Content-Type and user metadata, ETag, checksum, last-modified),
log groups, streams and events, IAM roles. Not kept (rebuilt or simply lost at a restart, as
documented in docs/local-service.md): bucket configuration such as versioning, tags and
policies, object tags and ACLs, multipart uploads still in progress, other services.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from airflow_provider_braket.local.aws_state.log_limits import KeptLogs
from airflow_provider_braket.local.aws_state.moto_restore import MotoRestorer
from airflow_provider_braket.local.aws_state.store import StateStore, StoredObject
from airflow_provider_braket.local.config import DEFAULT_LOG_BYTES_MAX, DEFAULT_LOG_EVENTS_MAX

log = logging.getLogger(__name__)

# Keys our ASGI front door puts into the request scope (a2wsgi passes it on as "asgi.scope").
SERVICE_KEY = "braket_local.service"
BODY_KEY = "braket_local.body"
REGION_KEY = "braket_local.region"

DIRECT_SERVICES = frozenset({"s3", "logs", "iam", "sts", "ecr"})
_READ_PREFIXES = ("Get", "List", "Describe", "Filter", "Head", "Test", "Start", "Stop")
_CHUNK = 1 << 20

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def is_write(service: str, method: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether a request may change moto's state (reads are not synced)."""
    if service == "s3":
        return method not in ("GET", "HEAD", "OPTIONS")
    target = headers.get("x-amz-target", "")
    if target:  # awsjson (CloudWatch Logs): "Logs_20140328.PutLogEvents"
        return not target.rpartition(".")[2].startswith(_READ_PREFIXES)
    action = parse_qs(body.decode("utf-8", errors="replace")).get("Action", [""])[0]  # query (IAM, STS)
    return bool(action) and not action.startswith((*_READ_PREFIXES, "AssumeRole"))


def stop_tracking_instances() -> None:
    """Stop moto from keeping every model instance it ever made.

    ``moto.core.common_models.BaseModel.__new__`` appends each new instance to a list on its
    class, for moto's dashboard and ``reset()``; nothing ever takes them out. In a long-running
    service that kept every log event and every S3 object version (its body buffer too), deleted
    or overwritten, for the life of the process: about 200 bytes a log line, for good. Neither
    the dashboard nor ``reset()`` is used here.
    """
    from moto.core.common_models import BaseModel

    def new_untracked(cls: type, *args: Any, **kwargs: Any) -> Any:
        return object.__new__(cls)

    BaseModel.__new__ = new_untracked  # type: ignore[method-assign]
    from moto.core.model_instances import reset_model_data

    reset_model_data()  # and let go of what was tracked before


class PersistentMoto:
    """Moto's WSGI app whose acknowledged writes are on disk before the client hears of them.

    :param app: moto's WSGI application.
    :param store: where the state goes.
    :param account_id: the account moto files everything under.
    :param region: the region of requests that do not name one.
    :param log_events_max: CloudWatch Logs events kept at most (see :mod:`.log_limits`).
    :param log_bytes_max: CloudWatch Logs message bytes kept at most.
    """

    def __init__(
        self,
        app: WsgiApp,
        store: StateStore,
        account_id: str,
        region: str,
        log_events_max: int = DEFAULT_LOG_EVENTS_MAX,
        log_bytes_max: int = DEFAULT_LOG_BYTES_MAX,
    ) -> None:
        stop_tracking_instances()
        self._app = app
        self.logs = KeptLogs(store, account_id, log_events_max, log_bytes_max)
        self._backend_apps: dict[str, WsgiApp] = {}
        self._store = store
        self._account = account_id
        self._region = region
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        scope = environ.get("asgi.scope") or {}
        if scope.get("raw_path") and "RAW_URI" not in environ:
            # Moto reads S3 keys from the path as sent: "a%2Fb" and "q%3Fx" are keys, not "a/b" and "q".
            query = environ.get("QUERY_STRING")
            environ["RAW_URI"] = scope["raw_path"].decode("latin-1") + (f"?{query}" if query else "")
        service = environ.get(SERVICE_KEY) or scope.get(SERVICE_KEY)
        if service == "s3" and "\n" in environ.get("PATH_INFO", ""):
            # Moto routes S3 keys with ".+", which stops at a newline (a 404 for a key AWS takes);
            # it reads the key itself from RAW_URI, so only the routing copy is re-encoded.
            environ["PATH_INFO"] = environ["PATH_INFO"].replace("\n", "%0A")
        body = environ.get(BODY_KEY) or scope.get(BODY_KEY) or b""
        headers = {
            name[5:].replace("_", "-").lower(): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        app = self._app_for(service)
        if not service or not is_write(service, environ["REQUEST_METHOD"], headers, body):
            return app(environ, start_response)
        region = environ.get(REGION_KEY) or scope.get(REGION_KEY) or self._region
        captured: list[Any] = []

        def capture(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, response_headers]
            return lambda data: None

        with self._lock:
            result = app(environ, capture)
            try:
                answer = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
            if int(captured[0].split()[0]) < 300:
                try:
                    self._sync(service, environ, headers, body, region)
                except Exception:
                    log.exception("could not persist a %s write; undoing it and answering 500", service)
                    self._undo(service, environ, headers)
                    start_response("500 Internal Server Error", [("content-type", "text/plain")])
                    return [b"the local service could not persist this write; retry it"]
        start_response(captured[0], captured[1])
        return [answer]

    def _app_for(self, service: str | None) -> WsgiApp:
        """Moto's application of a service we already know from the signature.

        Moto's own dispatcher works the service out again from the host and headers for every
        request (2 ms, under a global lock); a request signed for a service we serve goes
        straight to that service's application.
        """
        if service is None or service not in DIRECT_SERVICES:
            return self._app
        app = self._backend_apps.get(service)
        if app is None:
            from moto.moto_server.werkzeug_app import create_backend_app

            app = self._backend_apps.setdefault(service, create_backend_app(service))  # type: ignore[arg-type]
        return app

    def put_object(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        """Put an object into S3 in-process (no HTTP, no signature), stored like any other write.

        Goes to moto's S3 backend directly, not through its HTTP layer: a quantum task's
        result is written this way, and parsing a request for it cost a millisecond a task.
        """
        from moto.s3.exceptions import MissingBucket

        with self._lock:
            try:
                written = self._s3().put_object(bucket, key, body)
            except MissingBucket:
                raise OSError(f"S3 answered NoSuchBucket writing s3://{bucket}/{key}") from None
            written.set_metadata({"Content-Type": content_type})
            self._sync_object(bucket, key)

    # -- after a write -----------------------------------------------------------------------

    def _sync(
        self, service: str, environ: dict[str, Any], headers: dict[str, str], body: bytes, region: str
    ) -> None:
        if service == "s3":
            self._sync_s3(environ, headers)
        elif service == "logs":
            self._sync_logs(headers.get("x-amz-target", "").rpartition(".")[2], body, region)
        elif service == "iam":
            self._sync_iam(body)

    def _sync_s3(self, environ: dict[str, Any], headers: dict[str, str]) -> None:
        bucket, key = _s3_target(environ, headers)
        if not bucket:
            return
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if key is None:
            self._sync_bucket(bucket, every_key="delete" in query)
        elif "uploads" not in query and not ("uploadId" in query and environ["REQUEST_METHOD"] != "POST"):
            self._sync_object(bucket, key)

    def _undo(self, service: str, environ: dict[str, Any], headers: dict[str, str]) -> None:
        """Take back from moto a write the store could not keep: what a client cannot rely on
        after a restart, it must not see before one either (S3; Logs and IAM writes stay, logged)."""
        if service != "s3":
            return
        bucket, key = _s3_target(environ, headers)
        if not bucket:
            return
        try:
            MotoRestorer(self._store, self._account, self._s3(), self._iam()).revert_s3(bucket, key)
        except Exception:
            log.exception(
                "could not undo an S3 write to %s/%s; it stays visible until a restart", bucket, key
            )

    def _s3(self) -> Any:
        from moto.s3.models import s3_backends

        return s3_backends[self._account]["aws"]

    def _synced_bucket(self, name: str) -> Any | None:
        """Moto's bucket ``name``, recorded in the store; None (and forgotten there) if it is gone."""
        bucket = self._s3().buckets.get(name)
        if bucket is None:
            self._store.delete_bucket(name)
            return None
        self._store.put_bucket(name, bucket.region_name, bucket.creation_date.isoformat())
        return bucket

    def _sync_bucket(self, name: str, every_key: bool) -> None:
        bucket = self._synced_bucket(name)
        if bucket is not None and every_key:  # DeleteObjects: whatever moto no longer has is gone
            live = {key for key, value in bucket.keys.items() if _is_object(value)}
            self._store.delete_objects(name, self._store.object_keys(name) - live)

    def _sync_object(self, bucket_name: str, key_name: str) -> None:
        bucket = self._synced_bucket(bucket_name)
        if bucket is None:
            return
        key = bucket.keys.get(key_name)
        if not _is_object(key):
            self._store.delete_objects(bucket_name, [key_name])
            return
        stored = StoredObject(
            bucket=bucket_name,
            key=key_name,
            blob="",
            size=key.size,
            etag=key.etag.strip('"'),
            last_modified=key.last_modified.isoformat(),
            metadata={str(name): str(value) for name, value in key.metadata.items()},
            checksum=_checksum_of(key),
        )
        existing = self._store.get_object(bucket_name, key_name)
        if existing is not None and _same_body(existing, stored):
            self._store.put_object(StoredObject(**{**stored.__dict__, "blob": existing.blob}), None)
        else:
            self._store.put_object(stored, _body_chunks(key))

    def _sync_logs(self, operation: str, body: bytes, region: str) -> None:
        from moto.logs.models import logs_backends

        request = json.loads(body or b"{}")
        group_name, stream_name = request.get("logGroupName"), request.get("logStreamName")
        if not isinstance(group_name, str):
            return
        group = logs_backends[self._account][region].groups.get(group_name)
        if group is None:
            self._store.delete_log_group(region, group_name)
            self.logs.forget(region, group_name)
            return
        retention = int(group.retention_in_days) if group.retention_in_days else None
        self._store.put_log_group(region, group_name, _millis(group.creation_time), retention)
        if operation == "PutRetentionPolicy":
            self.logs.expire()
        if not isinstance(stream_name, str):
            return
        stream = group.streams.get(stream_name)
        if stream is None:
            self._store.delete_log_stream(region, group_name, stream_name)
            self.logs.forget(region, group_name, stream_name)
            return
        self._store.put_log_stream(region, group_name, stream_name, _millis(stream.creation_time))
        if operation == "PutLogEvents":
            self.logs.appended(region, group, stream)

    def _iam(self) -> Any:
        from moto.iam.models import iam_backends

        return iam_backends[self._account]["global"]

    def _sync_iam(self, body: bytes) -> None:
        form = parse_qs(body.decode("utf-8", errors="replace"))
        name = form.get("RoleName", [""])[0]
        if not name:
            return
        try:
            role = self._iam().get_role(name)
        except Exception:  # moto's NoSuchEntity: the role is gone
            self._store.delete_role(name)
            return
        self._store.put_role(
            name,
            {
                "path": role.path,
                "assume_role_policy_document": role.assume_role_policy_document,
                "description": role.description or "",
                "max_session_duration": role.max_session_duration,
                "create_date": role.create_date.isoformat(),
            },
        )

    # -- at start ----------------------------------------------------------------------------

    def restore(self) -> tuple[int, int]:
        """Rebuild moto's S3, Logs and IAM from the store; return (records restored, skipped)."""
        restored = MotoRestorer(self._store, self._account, self._s3(), self._iam()).restore()
        with self._lock:
            self.logs.restored({row["region"] for row in self._store.log_groups()})
        return restored


def _s3_target(environ: dict[str, Any], headers: dict[str, str]) -> tuple[str | None, str | None]:
    """The bucket and key a request names, read as moto reads them (path or virtual host)."""
    from moto.s3.responses import S3Response
    from werkzeug.wrappers import Request

    raw_path = urlsplit(environ.get("RAW_URI") or quote(environ.get("PATH_INFO", "/"))).path
    if S3Response.subdomain_based_buckets(Request(environ)):
        return headers.get("host", "").split(".", 1)[0] or None, unquote(raw_path[1:]) or None
    bucket, _, key = raw_path.lstrip("/").partition("/")
    return (unquote(bucket) or None), (unquote(key) if key else None)


def _same_body(existing: StoredObject, current: StoredObject) -> bool:
    return (existing.etag, existing.size, existing.last_modified) == (
        current.etag,
        current.size,
        current.last_modified,
    )


def _is_object(value: Any) -> bool:
    from moto.s3.models import FakeKey

    return isinstance(value, FakeKey)


def _checksum_of(key: Any) -> dict[str, Any] | None:
    checksum = {
        name: getattr(key, f"checksum_{name}", None) for name in ("algorithm", "value", "type", "parts")
    }
    return checksum if checksum["algorithm"] or checksum["value"] else None


def _body_chunks(key: Any) -> Iterator[bytes]:
    """The object's body read from moto's spooled buffer a chunk at a time, not all at once."""
    buffer = getattr(key, "_value_buffer", None)
    if buffer is None:
        yield key.value
        return
    with key.lock:
        buffer.seek(0)
        while chunk := buffer.read(_CHUNK):
            yield chunk


def _millis(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)
