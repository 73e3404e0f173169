"""What the local service's CloudWatch Logs keeps: retention honoured, and a cap on the rest.

Found: every event any job printed stayed in moto's memory and in the store for good (a job
printing 10 MiB of one-character lines took the service from 483 MB to 1,585 MB), and
``PutRetentionPolicy`` was stored by moto but never applied, nor kept across a restart.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration

GROUP = "/aws/braket/jobs"
DAY_MS = 86_400_000


def messages(logs: Any, stream: str) -> list[str]:
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=GROUP, logStreamNames=[stream])
    return [event["message"] for page in pages for event in page["events"]]


def put(logs: Any, stream: str, texts: list[str], timestamp_ms: int) -> None:
    with_stream = {"logGroupName": GROUP, "logStreamName": stream}
    if not logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=stream)["logStreams"]:
        logs.create_log_stream(**with_stream)
    for start in range(0, len(texts), 1000):
        batch = texts[start : start + 1000]
        logs.put_log_events(
            **with_stream, logEvents=[{"timestamp": timestamp_ms, "message": text} for text in batch]
        )


def restart(service: LocalServiceProcess) -> None:
    service.stop()
    service.start()


def test_retention_deletes_older_events_and_is_kept_across_a_restart(
    own_service: LocalServiceProcess,
) -> None:
    own_service.start()
    logs = own_service.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    now = int(time.time() * 1000)
    put(logs, "old/1", ["three days ago"], now - 3 * DAY_MS)
    put(logs, "mixed/1", ["two days ago"], now - 2 * DAY_MS)
    put(logs, "mixed/1", ["just now"], now)

    logs.put_retention_policy(logGroupName=GROUP, retentionInDays=1)

    assert messages(logs, "old/1") == []
    assert messages(logs, "mixed/1") == ["just now"]
    restart(own_service)
    logs = own_service.client("logs")
    assert logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]["retentionInDays"] == 1
    assert messages(logs, "mixed/1") == ["just now"]
    # Kept from the start again: an event older than the retention that moto takes is gone with the
    # next write's sweep or the next start, not kept for good.
    put(logs, "late/1", ["five days ago"], now - 5 * DAY_MS)
    restart(own_service)
    assert messages(own_service.client("logs"), "late/1") == []


def test_past_the_cap_the_oldest_streams_go_first_and_the_service_says_so(
    own_service: LocalServiceProcess,
) -> None:
    own_service.extra_args = ["--log-events-max", "2000", "--log-mib-max", "64"]
    own_service.start()
    logs = own_service.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    now = int(time.time() * 1000)
    for n, stream in enumerate(("first/1", "second/1", "third/1")):
        put(logs, stream, [f"{stream} {i}" for i in range(1000)], now - (3 - n) * 60_000)

    # 3,000 events against a cap of 2,000: down to 90% (1,800), the oldest stream first.
    assert messages(logs, "first/1") == []
    assert messages(logs, "second/1") == [f"second/1 {i}" for i in range(200, 1000)]
    assert len(messages(logs, "third/1")) == 1000
    text = own_service.log_path.read_text()
    assert "removed the 1200 oldest log events" in text
    assert "at most 2000 events" in text

    restart(own_service)
    logs = own_service.client("logs")
    assert messages(logs, "second/1")[0] == "second/1 200"
    assert len(messages(logs, "third/1")) == 1000
    put(logs, "third/1", ["one more"], now)  # after a restart the count starts from what was kept
    assert messages(logs, "third/1")[-1] == "one more"
    assert len(messages(logs, "second/1")) == 800


def test_the_cap_counts_bytes_too(own_service: LocalServiceProcess) -> None:
    own_service.extra_args = ["--log-events-max", "100000", "--log-mib-max", "1"]
    own_service.start()
    logs = own_service.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    now = int(time.time() * 1000)
    line = "x" * 1023
    # 1.5 MiB of messages against 1 MiB, in two streams that begin in the same millisecond.
    put(logs, "big/1", [line] * 750, now)
    put(logs, "big/2", [line] * 750, now)

    kept = messages(logs, "big/1") + messages(logs, "big/2")
    assert len(kept) * 1023 <= 0.9 * (1 << 20)
    assert len(kept) > 800
