"""Streams a job's output to a local file and to CloudWatch Logs while the job runs.

CloudWatch Logs' limits, from the PutLogEvents API reference
(docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html, read
2026-11-26): a batch is at most 10,000 events and 1,048,576 bytes, counted as each message's
UTF-8 bytes plus 26; one event is at most 256 KB. A longer line of a job is shipped as several
events, each within the limit, and is read from the job's output at most that much at a time.
"""

from __future__ import annotations

import codecs
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from airflow_provider_braket.jobs.errors import error_code

LOG_GROUP = "/aws/braket/jobs"
EVENT_OVERHEAD_BYTES = 26
MAX_BATCH_BYTES = 1_048_576
MAX_MESSAGE_BYTES = 256 * 1024 - EVENT_OVERHEAD_BYTES
_BATCH_EVENTS = 500
_FLUSH_SECONDS = 0.25
# Bytes kept for CloudWatch while it refuses them; past this the oldest lines go (the job
# folder's log file still has every line), so a job that prints fast cannot grow the service.
_MAX_PENDING_BYTES = 64 * 1024 * 1024
_RETRIED_CODES = frozenset(
    {"ResourceNotFoundException", "ThrottlingException", "ServiceUnavailableException", "RequestTimeout"}
)

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
        self._pending_bytes = 0
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
        self._add(line)

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
        # A character cut by the read's limit is put together again by the incremental decoder.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        with self._local_file.open("a") as handle:
            for raw in iter(lambda: output.readline(MAX_MESSAGE_BYTES), b""):
                text = decoder.decode(raw)
                if text:
                    handle.write(text)
                    handle.flush()
                    self._add(text.removesuffix("\n") or " ")
            rest = decoder.decode(b"", final=True)
            if rest:
                handle.write(rest)
                self._add(rest)

    def _add(self, line: str) -> None:
        now = int(time.time() * 1000)
        with self._lock:
            for piece in message_pieces(line):
                self._pending.append({"timestamp": now, "message": piece})
                self._pending_bytes += event_bytes(piece)
            self._drop_oldest_over_limit()

    def _flush_periodically(self) -> None:
        while not self._done.wait(_FLUSH_SECONDS):
            self._flush()

    def _flush(self) -> None:
        # One flush at a time: a batch that fails goes back ahead of newer lines, in order.
        with self._flushing:
            with self._lock:
                events, self._pending, self._pending_bytes = self._pending, [], 0
            shipped = 0
            try:
                if not self._created and events:
                    self._create_stream()
                for batch in batches(events):
                    self._logs.put_log_events(
                        logGroupName=LOG_GROUP, logStreamName=self._stream, logEvents=batch
                    )
                    shipped += len(batch)
            except Exception as error:
                # The job must not fail because its logs could not be shipped now. What may work
                # later goes with the next flush (the stream is made again if it was deleted);
                # a batch CloudWatch refuses as such would block every later line, so it goes.
                if error_code(error) == "ResourceNotFoundException":
                    self._created = False
                if _may_succeed_later(error):
                    self._keep_for_next_flush(events[shipped:], error)
                else:
                    log.exception("dropped %d log lines of %s", len(events) - shipped, self._stream)

    def _keep_for_next_flush(self, unshipped: list[dict[str, Any]], error: Exception) -> None:
        with self._lock:
            self._pending = unshipped + self._pending
            self._pending_bytes += sum(event_bytes(event["message"]) for event in unshipped)
            dropped = self._drop_oldest_over_limit()
        log.warning(
            "could not ship %d log lines of %s (%s); will try again%s",
            len(unshipped),
            self._stream,
            error,
            f", {dropped} oldest lines dropped (they are in the job's log file)" if dropped else "",
        )

    def _drop_oldest_over_limit(self) -> int:
        """Called with the lock held; how many events went."""
        dropped = 0
        while self._pending_bytes > _MAX_PENDING_BYTES and self._pending:
            self._pending_bytes -= event_bytes(self._pending.pop(0)["message"])
            dropped += 1
        return dropped

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
                if error_code(error) != "ResourceAlreadyExistsException":
                    raise
        self._created = True


def event_bytes(message: str) -> int:
    """What one event counts towards a batch's size."""
    return len(message.encode()) + EVENT_OVERHEAD_BYTES


def message_pieces(line: str) -> Iterator[str]:
    """``line`` as event messages within CloudWatch's size, cut between characters."""
    data = line.encode()
    while len(data) > MAX_MESSAGE_BYTES:
        cut = MAX_MESSAGE_BYTES
        while data[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: not a character's start
            cut -= 1
        yield data[:cut].decode()
        data = data[cut:]
    yield data.decode()


def batches(events: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """``events`` in order, as PutLogEvents batches within CloudWatch's count and size."""
    batch: list[dict[str, Any]] = []
    size = 0
    for event in events:
        cost = event_bytes(event["message"])
        if batch and (len(batch) == _BATCH_EVENTS or size + cost > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(event)
        size += cost
    if batch:
        yield batch


def _may_succeed_later(error: Exception) -> bool:
    if isinstance(error, (BotoConnectionError, HTTPClientError)):
        return True
    if not isinstance(error, ClientError):
        return False  # e.g. a request botocore refuses to send
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return status >= 500 or error_code(error) in _RETRIED_CODES
