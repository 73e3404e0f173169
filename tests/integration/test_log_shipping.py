"""The local service's log shipper against real CloudWatch Logs (moto behind the service's endpoint).

Found in CI: three jobs of a sweep started at once, their shippers shared one fresh logs client, and
one shipper lost its job's first six lines ("count 0" among them) to a CreateLogGroup race.
"""

from __future__ import annotations

import io
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_braket.local.execution.log_shipping import (
    LOG_GROUP,
    MAX_MESSAGE_BYTES,
    LogShipper,
    batches,
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


def test_a_batch_cloudwatch_can_never_take_is_dropped_and_later_lines_still_go(
    local_service: Any, tmp_path: Path
) -> None:
    logs, stream, shipper = one_shipper(local_service, tmp_path, "refused")
    shipper.write("first")
    shipper._flush()
    shipper.write("")  # an empty message: botocore refuses to send it, now and always
    shipper._flush()
    shipper.write("after")
    shipper.close()

    assert lines_of(logs, stream) == ["first", "after"]


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
    events = [largest] * 9 + [smallest] * 1200
    sent = list(batches(events))
    assert [event for batch in sent for event in batch] == events
    for batch in sent:
        assert len(batch) <= 10_000
        assert sum(len(event["message"].encode()) + 26 for event in batch) <= 1_048_576
