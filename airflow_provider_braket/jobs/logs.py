"""Where a hybrid job's log lines live in CloudWatch Logs, and how far a reader has got.

A reader keeps, per stream, the timestamp of the last event it forwarded and how many events it
has already seen at exactly that timestamp (the same position the Braket SDK keeps). Positions
are plain JSON, so a trigger can carry them and a new reader can resume where an old one stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LOG_GROUP = "/aws/braket/jobs"


def job_id_from_arn(job_arn: str) -> str:
    """The ``<id>`` of ``arn:aws:braket:<region>:<account>:job/<id>``."""
    return job_arn.rsplit("/", 1)[-1]


def log_stream_prefix(job_name: str, job_arn: str) -> str:
    """Every stream of one job starts with ``<jobName>/<id>/`` (one stream per instance)."""
    return f"{job_name}/{job_id_from_arn(job_arn)}/"


@dataclass
class StreamPosition:
    """The last forwarded event of one stream: its timestamp and how many share that timestamp."""

    timestamp: int = 0
    skip: int = 0

    def passed(self, event: dict[str, Any]) -> None:
        """Record that ``event`` was handed on; call it for each event, in order, as it goes."""
        if event["timestamp"] == self.timestamp:
            self.skip += 1
        else:
            self.timestamp, self.skip = event["timestamp"], 1


class StreamReader:
    """Reads one stream on from a :class:`StreamPosition`, a GetLogEvents page at a time.

    ``request`` is the next call's keyword arguments; :meth:`take` hands back the new events of
    its answer; ``done`` says the stream has nothing more for now. The position moves only as the
    caller passes each event on (:meth:`StreamPosition.passed`), so a reader stopped half-way
    through a page resumes at the first event it did not pass on.
    """

    def __init__(self, stream: str, position: StreamPosition) -> None:
        self.position = position
        self.request: dict[str, Any] = {
            "logGroupName": LOG_GROUP,
            "logStreamName": stream,
            "startTime": position.timestamp,
            "startFromHead": True,
        }
        self.done = False

    def take(self, page: dict[str, Any]) -> list[dict[str, Any]]:
        events = page["events"]
        position = self.position
        if "nextToken" not in self.request:
            # Only the first page starts at the position's timestamp, led by the events seen there.
            seen = 0
            while seen < min(position.skip, len(events)) and events[seen]["timestamp"] == position.timestamp:
                seen += 1
            events = events[seen:]
        token = page.get("nextForwardToken")
        # AWS answers the end of a stream with the token it was given; moto with no events.
        self.done = not page["events"] or token is None or token == self.request.get("nextToken")
        self.request["nextToken"] = token
        return events


class LogCursor:
    """Read positions for all streams of one job; serialises to a plain dict."""

    def __init__(self, positions: dict[str, dict[str, int]] | None = None) -> None:
        self.positions: dict[str, StreamPosition] = {
            stream: StreamPosition(**position) for stream, position in (positions or {}).items()
        }

    def position(self, stream: str) -> StreamPosition:
        return self.positions.setdefault(stream, StreamPosition())

    def serialize(self) -> dict[str, dict[str, int]]:
        return {
            stream: {"timestamp": position.timestamp, "skip": position.skip}
            for stream, position in self.positions.items()
        }


def format_log_line(stream: str, message: str, streams: int) -> str:
    """One forwarded line; the stream is named only when a job has more than one instance."""
    text = message.rstrip("\n")
    if streams > 1:
        return f"[{stream.rsplit('/', 1)[-1]}] {text}"
    return text
