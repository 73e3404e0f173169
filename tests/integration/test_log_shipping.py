"""The local service's log shipper against real CloudWatch Logs (moto behind the service's endpoint).

Found in CI: three jobs of a sweep started at once, their shippers shared one fresh logs client, and
one shipper lost its job's first six lines ("count 0" among them) to a CreateLogGroup race.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_braket.local.execution import log_shipping
from airflow_provider_braket.local.execution.log_shipping import (
    LOG_GROUP,
    MAX_MESSAGE_BYTES,
    LogShipper,
    next_batch,
)

pytestmark = pytest.mark.integration


def one_shipper(local_service: Any, tmp_path: Path, kind: str) -> tuple[Any, str, LogShipper]:
    """A logs client, a new stream's name, and a shipper to it whose local file is job.log."""
    logs = local_service.client("logs")
    stream = f"{kind}-{uuid.uuid4().hex[:8]}/id/algo-1"
    return logs, stream, LogShipper(logs, stream, tmp_path / "job.log")


def lines_of(logs: Any, stream: str) -> list[str]:
    events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True)["events"]
    return [event["message"] for event in events]


def all_lines_of(logs: Any, stream: str) -> list[str]:
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=LOG_GROUP, logStreamNames=[stream])
    return [event["message"] for page in pages for event in page["events"]]


def test_shippers_starting_together_on_a_fresh_client_lose_no_line(
    local_service: Any, tmp_path: Path
) -> None:
    # Each round has a client that has never raised anything yet: botocore builds its exception
    # classes on first use, and two threads doing so at once get different classes. Switching
    # threads every microsecond makes that interleaving likely, as a loaded machine does.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        ship_in_parallel(local_service, tmp_path)
    finally:
        sys.setswitchinterval(interval)


def ship_in_parallel(local_service: Any, tmp_path: Path) -> None:
    for trial in range(6):
        logs = local_service.client("logs")
        prefix = f"race-{uuid.uuid4().hex[:8]}"
        streams = [f"{prefix}/{index}/algo-1" for index in range(8)]
        shippers = [LogShipper(logs, name, tmp_path / f"{prefix}-{n}.log") for n, name in enumerate(streams)]
        ready = threading.Barrier(len(shippers))

        def ship(shipper: LogShipper, index: int, ready: threading.Barrier = ready) -> None:
            shipper.write(f"line of shipper {index}")
            ready.wait()
            shipper.close()

        threads = [threading.Thread(target=ship, args=(shipper, n)) for n, shipper in enumerate(shippers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        reader = local_service.client("logs")
        for index, stream in enumerate(streams):
            assert lines_of(reader, stream) == [f"line of shipper {index}"], (trial, index)


def test_a_batch_that_could_not_be_shipped_is_shipped_with_the_next(
    local_service: Any, tmp_path: Path
) -> None:
    logs, stream, shipper = one_shipper(local_service, tmp_path, "deleted")
    shipper.write("first")
    shipper._flush()
    # Someone deletes the stream while the job runs: the next batch is refused (ResourceNotFound).
    logs.delete_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    shipper.write("second")
    shipper._flush()
    shipper.write("third")
    shipper.close()

    assert lines_of(logs, stream) == ["second", "third"]
    assert (tmp_path / "job.log").read_text().splitlines() == ["first", "second", "third"]


def test_a_blank_line_goes_as_a_space_not_as_a_batch_cloudwatch_refuses(
    local_service: Any, tmp_path: Path
) -> None:
    # Found: an empty message made botocore refuse the whole batch, and its lines were dropped.
    logs, stream, shipper = one_shipper(local_service, tmp_path, "blank")
    shipper.write("first")
    shipper.write("")
    shipper.write("after")
    shipper.close()

    assert lines_of(logs, stream) == ["first", " ", "after"]
    assert (shipper.shipped, sum(shipper.dropped.values())) == (3, 0)


def test_lines_cloudwatch_rejects_are_counted_and_reported_in_the_stream(
    local_service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A first line stamped 15 days ago, which CloudWatch rejects (rejectedLogEventsInfo): the clock
    # is the one thing faked, as no job here can print a line in the past.
    logs, stream, shipper = one_shipper(local_service, tmp_path, "rejected")
    now = time.time
    with monkeypatch.context() as patched:  # no flusher runs yet: nothing signs with this clock
        patched.setattr(log_shipping.time, "time", lambda: now() - 15 * 86400)
        shipper.write("fifteen days ago")
    shipper._flush()
    shipper.write("today")
    shipper.write("today again")
    with caplog.at_level(logging.WARNING, logger=log_shipping.__name__):
        shipper.close()

    lines = lines_of(logs, stream)
    assert lines[:2] == ["today", "today again"]
    assert lines[2].startswith("[local Braket service] 1 log lines of this job did not reach CloudWatch Logs")
    assert "too old" in lines[2]
    assert "1 of 3 log lines of" in caplog.text
    assert (tmp_path / "job.log").read_text().splitlines() == ["fifteen days ago", "today", "today again"]


def test_a_cloudwatch_that_stays_down_drops_the_oldest_lines_and_counts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CloudWatch unreachable (a port nobody listens on): the job's writes wait PATIENCE_SECONDS,
    # then the oldest lines go, counted by reason, so a job never hangs on its logs.
    import boto3
    from botocore.config import Config

    from airflow_provider_braket.local.service_process import free_port

    monkeypatch.setattr(log_shipping, "PATIENCE_SECONDS", 0.5)
    monkeypatch.setattr(log_shipping, "MAX_PENDING_EVENTS", 100)
    unreachable = boto3.client(
        "logs",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, connect_timeout=0.2),
    )
    shipper = LogShipper(unreachable, "down/id/algo-1", tmp_path / "job.log")
    output = io.BytesIO(b"".join(f"line {n}\n".encode() for n in range(250)))
    shipper.start(output).join(timeout=60)
    shipper.close()

    assert shipper.shipped == 0
    assert sum(shipper.dropped.values()) == 250
    assert any("refused them for more than 0.5 s" in reason for reason in shipper.dropped)
    assert len((tmp_path / "job.log").read_text().splitlines()) == 250


def test_a_job_printing_faster_than_cloudwatch_takes_waits_and_loses_nothing(
    local_service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found: 65,719 of 204,805 lines of a job printing 200 MiB never reached CloudWatch: pending
    # lines were dropped whenever the shipper fell behind. With the limit at 500 events (not
    # 20,000, so that the test stays small) a 5,000-line burst is 10 times what may wait.
    monkeypatch.setattr(log_shipping, "MAX_PENDING_EVENTS", 500)
    logs, stream, shipper = one_shipper(local_service, tmp_path, "burst")
    output = io.BytesIO(b"".join(f"burst {n:05d} {'x' * 200}\n".encode() for n in range(5000)))
    shipper.start(output).join(timeout=120)
    shipper.close()

    assert (shipper.shipped, sum(shipper.dropped.values())) == (5000, 0)
    messages = all_lines_of(logs, stream)
    assert [message[:11] for message in messages] == [f"burst {n:05d}" for n in range(5000)]


def test_a_line_longer_than_an_event_goes_as_events_within_cloudwatchs_limits(
    local_service: Any, tmp_path: Path
) -> None:
    # A job that prints a 1.2 MB line of 3-byte characters (no read of it may hold more than one
    # event's worth, and no character may be cut in two), then a short line.
    long_line = "€" * 400_000
    output = io.BytesIO(long_line.encode() + b"\nshort\n")
    logs, stream, shipper = one_shipper(local_service, tmp_path, "long")
    shipper.start(output).join(timeout=60)
    shipper.close()

    messages = lines_of(logs, stream)
    assert max(len(message.encode()) for message in messages) <= MAX_MESSAGE_BYTES
    assert "".join(messages[:-1]) == long_line
    assert messages[-1] == "short"
    assert (tmp_path / "job.log").read_text() == long_line + "\nshort\n"


def test_batches_stay_within_cloudwatchs_count_and_size() -> None:
    largest = {"timestamp": 1, "message": "x" * MAX_MESSAGE_BYTES}
    smallest = {"timestamp": 1, "message": "y"}
    pending = deque([largest] * 9 + [smallest] * 12_000)
    sent = []
    while batch := next_batch(pending):
        sent.append(batch)
        for _ in batch:
            pending.popleft()
    assert [len(batch) for batch in sent] == [4, 4, 10_000, 2_001]  # 4 largest make exactly 1 MiB
    for batch in sent:
        assert len(batch) <= 10_000
        assert sum(len(event["message"].encode()) + 26 for event in batch) <= 1_048_576
