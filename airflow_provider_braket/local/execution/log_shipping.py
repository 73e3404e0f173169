"""Streams a job's output to a local file and to CloudWatch Logs while the job runs.

CloudWatch Logs' limits, from the PutLogEvents API reference
(docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html, read
2026-11-26): a batch is at most 10,000 events and 1,048,576 bytes, counted as each message's
UTF-8 bytes plus 26; one event is at most 256 KB. A longer line of a job is shipped as several
events, each within the limit, and is read from the job's output at most that much at a time.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from airflow_provider_braket.jobs.errors import error_code

LOG_GROUP = "/aws/braket/jobs"
EVENT_OVERHEAD_BYTES = 26
MAX_BATCH_BYTES = 1_048_576
MAX_BATCH_EVENTS = 10_000
MAX_MESSAGE_BYTES = 256 * 1024 - EVENT_OVERHEAD_BYTES
#: What one job's shipper holds for CloudWatch at most: two full batches by count, four by size
#: (what each event costs in memory, about 200 bytes, is counted on top of its message). A job
#: that prints faster than CloudWatch takes its lines waits, as a container's writes wait on a
#: blocking log driver: its output pipe fills and its next print blocks.
MAX_PENDING_EVENTS = 2 * MAX_BATCH_EVENTS
MAX_PENDING_BYTES = 4 * MAX_BATCH_BYTES
EVENT_MEMORY_BYTES = 200
#: How long the job waits on a CloudWatch that refuses every batch before its oldest pending
#: lines are dropped (counted, and reported in the service's log and the job's stream).
PATIENCE_SECONDS = 10.0
_FLUSH_SECONDS = 0.25
_RETRIED_CODES = frozenset(
    {"ResourceNotFoundException", "ThrottlingException", "ServiceUnavailableException", "RequestTimeout"}
)

log = logging.getLogger(__name__)


class LogShipper:
    """Reads a process's combined output line by line; ships batches to CloudWatch Logs.

    Every line reaches CloudWatch, or is counted: ``shipped`` and ``dropped`` (by reason) say
    which, and a shipper that dropped any says so in the service's log and, as the last line of
    the job's stream, where a user looks first.

    :param logs_client: boto3 CloudWatch Logs client.
    :param stream_name: ``<jobName>/<job-id>/algo-1-<epoch>``, the layout the SDK lists.
    :param local_file: where the same lines are kept in the job folder.
    """

    def __init__(self, logs_client: Any, stream_name: str, local_file: Path) -> None:
        self._logs = logs_client
        self._stream = stream_name
        self._local_file = local_file
        self._pending: deque[dict[str, Any]] = deque()
        self._pending_bytes = 0
        self._room = threading.Condition()
        self._flushing = threading.Lock()
        self._done = threading.Event()
        self._created = False
        self._failing_since: float | None = None
        self._last_error = ""
        self._last_timestamp = 0
        self.shipped = 0
        self.dropped: Counter[str] = Counter()
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
        """Ship what is pending, and report what never reached CloudWatch."""
        self._done.set()
        if self._flusher.is_alive():
            self._flusher.join(timeout=10)
        self._flush()
        with self._room:
            if self._pending:
                self.dropped[
                    f"CloudWatch Logs still refused them when the job ended ({self._last_error})"
                ] += len(self._pending)
                self._pending.clear()
                self._pending_bytes = 0
        if self.dropped:
            self._report_dropped()

    def _read(self, output: IO[bytes]) -> None:
        # A character cut by the read's limit is put together again by the incremental decoder.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        with self._local_file.open("a") as handle:
            for raw in iter(lambda: output.readline(MAX_MESSAGE_BYTES), b""):
                text = decoder.decode(raw)
                if text:
                    handle.write(text)
                    handle.flush()
                    self._add(text.removesuffix("\n"))
            rest = decoder.decode(b"", final=True)
            if rest:
                handle.write(rest)
                self._add(rest)

    def _add(self, line: str) -> None:
        # CloudWatch refuses a batch out of chronological order: a clock stepped back by NTP
        # must not cost the batch, so a line is never stamped before the one ahead of it.
        self._last_timestamp = now = max(int(time.time() * 1000), self._last_timestamp)
        # CloudWatch refuses an empty message (and with it the whole batch): a blank line is " ".
        for piece in message_pieces(line or " "):
            with self._room:
                self._wait_for_room()
                self._pending.append({"timestamp": now, "message": piece})
                self._pending_bytes += event_bytes(piece) + EVENT_MEMORY_BYTES

    def _wait_for_room(self) -> None:
        """Called with the lock held: block while the shipper is full and CloudWatch takes
        batches; once it has refused them for PATIENCE_SECONDS, make room by dropping the oldest."""
        while self._is_full():
            if self._failing_since is not None and time.monotonic() - self._failing_since > PATIENCE_SECONDS:
                reason = (
                    f"CloudWatch Logs refused them for more than {PATIENCE_SECONDS:g} s ({self._last_error})"
                )
                while self._is_full():
                    self._pending_bytes -= (
                        event_bytes(self._pending.popleft()["message"]) + EVENT_MEMORY_BYTES
                    )
                    self.dropped[reason] += 1
                return
            self._room.wait(timeout=_FLUSH_SECONDS)

    def _is_full(self) -> bool:
        return len(self._pending) >= MAX_PENDING_EVENTS or self._pending_bytes >= MAX_PENDING_BYTES

    def _flush_periodically(self) -> None:
        while not self._done.wait(_FLUSH_SECONDS):
            self._flush()

    def _flush(self) -> None:
        # One flush at a time; a batch goes only once CloudWatch took it, so lines stay in order.
        with self._flushing:
            while True:
                with self._room:
                    batch = next_batch(self._pending)
                if not batch:
                    return
                if not self._ship(batch):
                    return
                with self._room:
                    for _ in batch:
                        self._pending_bytes -= (
                            event_bytes(self._pending.popleft()["message"]) + EVENT_MEMORY_BYTES
                        )
                    self._room.notify_all()

    def _ship(self, batch: list[dict[str, Any]]) -> bool:
        """Put ``batch``; True once it is settled (taken, or refused for good and counted)."""
        try:
            if not self._created:
                self._create_stream()
            answer = self._logs.put_log_events(
                logGroupName=LOG_GROUP, logStreamName=self._stream, logEvents=batch
            )
        except Exception as error:
            if error_code(error) == "ResourceNotFoundException":
                self._created = False  # made again with the next try
            if _may_succeed_later(error):
                if self._failing_since is None:
                    self._failing_since = time.monotonic()
                    log.warning("could not ship log lines of %s (%s); will try again", self._stream, error)
                self._last_error = f"{type(error).__name__}: {error}"
                return False
            # Refused as such: it would block every later line, so it is counted and goes.
            self.dropped[f"CloudWatch Logs refused them: {type(error).__name__}: {error}"] += len(batch)
            log.warning("CloudWatch Logs refused %d log lines of %s: %s", len(batch), self._stream, error)
            return True
        self._failing_since = None
        rejected = _rejected(answer, batch)
        for reason, count in rejected.items():
            self.dropped[reason] += count
        self.shipped += len(batch) - sum(rejected.values())
        return True

    def _report_dropped(self) -> None:
        total = sum(self.dropped.values())
        reasons = "; ".join(f"{count} because {reason.rstrip('.')}" for reason, count in self.dropped.items())
        log.warning(
            "%d of %d log lines of %s did not reach CloudWatch Logs: %s. The job's log file %s has them all",
            total,
            total + self.shipped,
            self._stream,
            reasons,
            self._local_file,
        )
        note = (
            f"[local Braket service] {total} log lines of this job did not reach CloudWatch Logs: {reasons}. "
            "The job's folder in the service's data dir has every line (logs/algo-1.log)."
        )
        with contextlib.suppress(Exception):
            if not self._created:
                self._create_stream()
            self._logs.put_log_events(
                logGroupName=LOG_GROUP,
                logStreamName=self._stream,
                logEvents=[
                    {"timestamp": int(time.time() * 1000), "message": piece} for piece in message_pieces(note)
                ],
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
                if error_code(error) != "ResourceAlreadyExistsException":
                    raise
        self._created = True


def next_batch(pending: deque[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first events of ``pending`` that make one PutLogEvents batch within CloudWatch's limits."""
    batch: list[dict[str, Any]] = []
    size = 0
    for event in pending:
        cost = event_bytes(event["message"])
        if len(batch) == MAX_BATCH_EVENTS or size + cost > MAX_BATCH_BYTES:
            break
        batch.append(event)
        size += cost
    return batch


def _rejected(answer: dict[str, Any], batch: list[dict[str, Any]]) -> Counter[str]:
    """What PutLogEvents' ``rejectedLogEventsInfo`` says it did not take, by reason.

    The API reference calls ``tooOldLogEventEndIndex`` "the index of the last log event that is
    too old" and "exclusive"; moto treats it as inclusive. Either way the events refused are among
    those up to it (from ``tooNewLogEventStartIndex`` on, for too new), so they are counted there
    by CloudWatch's own rule: older than 14 days, or more than 2 hours ahead.
    """
    info = answer.get("rejectedLogEventsInfo") or {}
    rejected: Counter[str] = Counter()
    now = time.time() * 1000
    old_end = max(int(info.get("tooOldLogEventEndIndex", -1)), int(info.get("expiredLogEventEndIndex", -1)))
    too_old = sum(1 for event in batch[: old_end + 1] if event["timestamp"] < now - 14 * 86_400_000)
    if too_old:
        rejected["CloudWatch Logs rejected them as too old (more than 14 days)"] = too_old
    if "tooNewLogEventStartIndex" in info:
        start = int(info["tooNewLogEventStartIndex"])
        too_new = sum(1 for event in batch[start:] if event["timestamp"] > now + 2 * 3_600_000)
        if too_new:
            rejected["CloudWatch Logs rejected them as too new (more than 2 hours ahead)"] = too_new
    return rejected


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


def _may_succeed_later(error: Exception) -> bool:
    if isinstance(error, (BotoConnectionError, HTTPClientError)):
        return True
    if not isinstance(error, ClientError):
        return False  # e.g. a request botocore refuses to send
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return status >= 500 or error_code(error) in _RETRIED_CODES
