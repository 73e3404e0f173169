"""Durability for what moto keeps in memory: S3 objects, log events, IAM roles.

Every request that changes moto's state is appended to ``moto-journal.jsonl`` in the data dir
before moto answers it; at start the journal is replayed in-process, straight into the moto
WSGI application (no HTTP, no signature check), so a restart, even after ``kill -9``, finds
the buckets, objects and log streams it had. Reads are not journaled.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

log = logging.getLogger(__name__)

_READ_PREFIXES = ("Get", "List", "Describe", "Filter", "Head", "Test", "Start", "Stop")


def _is_write(service: str, method: str, headers: dict[str, str], body: bytes) -> bool:
    if service == "s3":
        return method not in ("GET", "HEAD", "OPTIONS")
    target = headers.get("x-amz-target", "")
    if target:  # awsjson (CloudWatch Logs): "Logs_20140328.PutLogEvents"
        return not target.rpartition(".")[2].startswith(_READ_PREFIXES)
    action = parse_qs(body.decode("utf-8", errors="replace")).get("Action", [""])[0]  # query (IAM, STS)
    return bool(action) and not action.startswith((*_READ_PREFIXES, "AssumeRole"))


class MotoJournal:
    """Append-only log of state-changing moto requests; replayed on start.

    :param path: the journal file in the data dir.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def record(
        self, service: str, scope: MutableMapping[str, Any], headers: list[tuple[str, str]], body: bytes
    ) -> None:
        lowered = {name.lower(): value for name, value in headers}
        if not _is_write(service, scope["method"], lowered, body):
            return
        entry = {
            "method": scope["method"],
            "path": (scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": headers,
            "body": base64.b64encode(body).decode(),
        }
        line = json.dumps(entry) + "\n"
        with self._lock, self._path.open("a") as handle:
            handle.write(line)

    def write_object(self, wsgi_app: Any, bucket: str, key: str, body: bytes, content_type: str) -> None:
        """Put an object into this service's S3 in-process, journaled like any other write.

        The service writes its own outputs (quantum task results) this way rather than through an
        HTTP request to itself: no signing, no round trip, the same durability.
        """
        from werkzeug.test import Client

        path = f"/{bucket}/{key}"
        headers = [("content-type", content_type), ("content-length", str(len(body)))]
        scope = {"method": "PUT", "path": path, "raw_path": quote(path).encode(), "query_string": b""}
        self.record("s3", scope, headers, body)
        # No Authorization header: moto's dispatcher takes an unsigned request to be S3's.
        response = Client(wsgi_app).put(path, data=body, headers=headers)
        if response.status_code >= 300:
            raise OSError(f"S3 answered {response.status_code} writing s3://{bucket}/{key}")

    def replay(self, wsgi_app: Any) -> int:
        """Send every journaled request to ``wsgi_app`` again; return how many were replayed."""
        if not self._path.exists():
            return 0
        from werkzeug.test import Client

        client = Client(wsgi_app)
        count = 0
        with self._path.open() as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by kill -9 while being written
                headers = [
                    (k, v)
                    for k, v in entry["headers"]
                    if k.lower() not in ("content-length", "transfer-encoding")
                ]
                client.open(
                    path=unquote(entry["path"]),
                    method=entry["method"],
                    query_string=entry["query"],
                    headers=headers,
                    data=base64.b64decode(entry["body"]),
                )
                count += 1
        log.info("replayed %d journaled S3/Logs/IAM requests from %s", count, self._path)
        return count
