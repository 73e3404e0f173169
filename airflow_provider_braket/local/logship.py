"""Streams a job's output to a local file and to CloudWatch Logs while the job runs."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import ClientError

LOG_GROUP = "/aws/braket/jobs"
_BATCH_LINES = 500
_FLUSH_SECONDS = 0.25
# Lines kept for CloudWatch while it refuses them; past this the oldest go (the job folder's log
# file still has every line), so a job that prints fast cannot grow the service without bound.
_MAX_PENDING_LINES = 50_000

log = logging.getLogger(__name__)


class LogShipper:
    """Reads a process's combined output line by line; ships batches to CloudWatch Logs.

    :param logs_client: boto3 CloudWatch Logs client.
    :param stream_name: ``<jobName>/<job-id>/algo-1-<epoch>``, the layout the SDK lists.
    :param local_file: where the same lines are kept in the job folder.
    """

    def __init__(self, logs_client: Any, stream_name: str, local_file: Path) -> None:
        self._logs = logs_client
        self._stream = stream_name
        self._local_file = local_file
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._done = threading.Event()
        self._created = False
        self._flusher = threading.Thread(
            target=self._flush_periodically, name=f"logs-{stream_name}", daemon=True
        )

    def start(self, output: IO[bytes]) -> threading.Thread:
        self._flusher.start()
        reader = threading.Thread(target=self._read, args=(output,), name=f"read-{self._stream}", daemon=True)
        reader.start()
        return reader

    def write(self, line: str) -> None:
        """Add a line of the service's own (``Beginning Setup`` style) to the job's log."""
        with self._local_file.open("a") as handle:
            handle.write(line + "\n")
        with self._lock:
            self._pending.append({"timestamp": int(time.time() * 1000), "message": line})

    def close(self) -> None:
        self._done.set()
        if self._flusher.is_alive():
            self._flusher.join(timeout=10)
        self._flush()
        if self._pending:
            log.error(
                "%d log lines of %s never reached CloudWatch Logs; the job's log file %s has them",
                len(self._pending),
                self._stream,
                self._local_file,
            )

    def _read(self, output: IO[bytes]) -> None:
        with self._local_file.open("a") as handle:
            for raw in iter(output.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                handle.write(line + "\n")
                handle.flush()
                with self._lock:
                    self._pending.append({"timestamp": int(time.time() * 1000), "message": line or " "})

    def _flush_periodically(self) -> None:
        while not self._done.wait(_FLUSH_SECONDS):
            self._flush()

    def _flush(self) -> None:
        # One flush at a time: a batch that fails goes back ahead of newer lines, in order.
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
            shipped = 0
            try:
                if not self._created and batch:
                    self._create_stream()
                for start in range(0, len(batch), _BATCH_LINES):
                    self._logs.put_log_events(
                        logGroupName=LOG_GROUP,
                        logStreamName=self._stream,
                        logEvents=batch[start : start + _BATCH_LINES],
                    )
                    shipped = start + _BATCH_LINES
            except Exception as error:
                # The job must not fail because its logs could not be shipped now; they go with
                # the next flush (the stream is made again if it was deleted).
                if _error_code(error) == "ResourceNotFoundException":
                    self._created = False
                self._keep_for_next_flush(batch[shipped:], error)

    def _keep_for_next_flush(self, unshipped: list[dict[str, Any]], error: Exception) -> None:
        with self._lock:
            self._pending = unshipped + self._pending
            dropped = len(self._pending) - _MAX_PENDING_LINES
            if dropped > 0:
                del self._pending[:dropped]
        log.warning(
            "could not ship %d log lines of %s (%s); will try again%s",
            len(unshipped),
            self._stream,
            error,
            f", {dropped} oldest lines dropped (they are in the job's log file)" if dropped > 0 else "",
        )

    def _create_stream(self) -> None:
        # Matched by the error code, not by client.exceptions: botocore builds those classes on
        # first use, and two threads doing that at once on one client get different classes.
        for call, kwargs in (
            (self._logs.create_log_group, {"logGroupName": LOG_GROUP}),
            (self._logs.create_log_stream, {"logGroupName": LOG_GROUP, "logStreamName": self._stream}),
        ):
            try:
                call(**kwargs)
            except ClientError as error:
                if _error_code(error) != "ResourceAlreadyExistsException":
                    raise
        self._created = True


def _error_code(error: Exception) -> str | None:
    return error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
