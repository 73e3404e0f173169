"""What the service's CloudWatch Logs keeps: retention as AWS applies it, and a cap on the rest.

Moto keeps every log event in memory, and the store keeps it on disk: without bounds a
long-running service grows with every line any job ever printed (a job printing 10 MiB of
one-character lines took it from 483 MB to 1,585 MB, for good). So:

- **Retention** (``PutRetentionPolicy``, CloudWatch's own setting; AWS keeps events forever by
  default): events older than their group's ``retentionInDays`` are deleted, checked when the
  policy is set, at start, and at most once a minute while events are written (AWS deletes them
  "within 72 hours").
- **A cap**: at most ``max_events`` events and ``max_bytes`` of messages (UTF-8) across every
  stream (``--log-events-max``, ``--log-mib-max``). Past either, the oldest streams' events go
  first, down to 90% of the cap, and the service logs how many; every line of a job stays in its
  folder's ``logs/algo-1.log``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from airflow_provider_braket.local.aws_state.log_tables import StoredEvent
from airflow_provider_braket.local.aws_state.store import StateStore

log = logging.getLogger(__name__)

_LOW_WATER = 0.9
_SWEEP_SECONDS = 60.0
_DAY_MS = 86_400_000

StreamKey = tuple[str, str, str]  # region, group, stream


class KeptLogs:
    """Keeps the store in step with moto's log events, within retention and the cap.

    Every method runs under the moto wrapper's write lock.

    :param store: the state store.
    :param account_id: the account moto files events under.
    :param max_events: events kept at most, over all streams.
    :param max_bytes: message bytes kept at most, over all streams.
    """

    def __init__(self, store: StateStore, account_id: str, max_events: int, max_bytes: int) -> None:
        self._store = store
        self._account = account_id
        self.max_events = max_events
        self.max_bytes = max_bytes
        # Per stream: how many of moto's events are in the store, and their message bytes.
        self._kept: dict[StreamKey, list[int]] = {}
        self.events = 0
        self.bytes = 0
        self._regions: set[str] = set()
        self._last_sweep = 0.0

    def restored(self, regions: set[str]) -> None:
        """Count what the restore put back into moto; apply retention and the cap to it."""
        for region in regions:
            self._regions.add(region)
            for group in self._groups(region):
                for stream in group.streams.values():
                    size = sum(_size(event.message) for event in stream.events)
                    self._kept[(region, group.name, stream.log_stream_name)] = [len(stream.events), size]
                    self.events += len(stream.events)
                    self.bytes += size
        self.expire()
        self._enforce_cap()

    def appended(self, region: str, group: Any, stream: Any) -> None:
        """Store the events moto took since the last call for this stream, then apply the bounds."""
        self._regions.add(region)
        key = (region, group.name, stream.log_stream_name)
        kept = self._kept.setdefault(key, [0, 0])
        new = stream.events[kept[0] :]
        if new:
            self._store.append_log_events(
                region, group.name, stream.log_stream_name,
                [StoredEvent(event.timestamp, event.ingestion_time, event.message) for event in new],
            )  # fmt: skip
            size = sum(_size(event.message) for event in new)
            kept[0] += len(new)
            kept[1] += size
            self.events += len(new)
            self.bytes += size
        if time.monotonic() - self._last_sweep > _SWEEP_SECONDS:
            self.expire()
        self._enforce_cap()

    def forget(self, region: str, group: str, stream: str | None = None) -> None:
        """A stream (or a whole group, ``stream`` None) was deleted: its events no longer count."""
        for key in [key for key in self._kept if key[:2] == (region, group) and stream in (None, key[2])]:
            count, size = self._kept.pop(key)
            self.events -= count
            self.bytes -= size

    def expire(self) -> int:
        """Delete events older than their group's retention; how many went."""
        self._last_sweep = time.monotonic()
        now_ms = int(time.time() * 1000)
        removed = 0
        for region in self._regions:
            for group in self._groups(region):
                days = group.retention_in_days
                if not days:
                    continue
                cutoff = now_ms - int(days) * _DAY_MS
                in_group = 0
                for stream in group.streams.values():
                    expired = [event for event in stream.events if event.timestamp < cutoff]
                    if expired:
                        stream.events = [event for event in stream.events if event.timestamp >= cutoff]
                        self._removed((region, group.name, stream.log_stream_name), stream, expired)
                        in_group += len(expired)
                if in_group:
                    self._store.delete_log_events_before(region, group.name, cutoff)
                    removed += in_group
        if removed:
            log.info("deleted %d log events older than their log group's retention", removed)
        return removed

    def _enforce_cap(self) -> None:
        if self.events <= self.max_events and self.bytes <= self.max_bytes:
            return
        target_events, target_bytes = int(self.max_events * _LOW_WATER), int(self.max_bytes * _LOW_WATER)
        oldest_first = sorted(
            ((stream.events[0].timestamp, region, group.name, stream.log_stream_name), stream)
            for region in self._regions
            for group in self._groups(region)
            for stream in group.streams.values()
            if stream.events
        )  # fmt: skip
        removed_events, removed_bytes, streams = 0, 0, 0
        for (_, region, group_name, _), stream in oldest_first:
            if self.events <= target_events and self.bytes <= target_bytes:
                break
            count, size = 0, 0
            while count < len(stream.events) and (
                self.events - count > target_events or self.bytes - size > target_bytes
            ):
                size += _size(stream.events[count].message)
                count += 1
            expired = stream.events[:count]
            del stream.events[:count]
            self._store.delete_oldest_log_events(region, group_name, stream.log_stream_name, count)
            self._removed((region, group_name, stream.log_stream_name), stream, expired)
            removed_events, removed_bytes, streams = removed_events + count, removed_bytes + size, streams + 1
        log.warning(
            "removed the %d oldest log events (%d bytes) of %d log streams: the service keeps at most "
            "%d events and %d bytes of CloudWatch Logs (--log-events-max, --log-mib-max); every line "
            "of a job stays in its folder's logs/algo-1.log",
            removed_events,
            removed_bytes,
            streams,
            self.max_events,
            self.max_bytes,
        )

    def _removed(self, key: StreamKey, stream: Any, events: list[Any]) -> None:
        size = sum(_size(event.message) for event in events)
        kept = self._kept.setdefault(key, [len(stream.events) + len(events), size])
        kept[0] -= len(events)
        kept[1] -= size
        self.events -= len(events)
        self.bytes -= size
        stream.stored_bytes = max(0, stream.stored_bytes - sum(len(event.message) for event in events))

    def _groups(self, region: str) -> list[Any]:
        from moto.logs.models import logs_backends

        return list(logs_backends[self._account][region].groups.values())


def _size(message: str) -> int:
    return len(message.encode())
