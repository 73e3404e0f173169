"""CloudWatch Logs' part of the :class:`~.store.StateStore`: log groups, streams and events.

A stream's rows, in ``seq`` order, are exactly moto's list of its events: appended at the end,
removed from the head (a cap) or by age (retention) in both at once. ``seq`` only grows, so a
row removed is never written over.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_groups (
    region TEXT NOT NULL, name TEXT NOT NULL, created_ms INTEGER NOT NULL, retention_days INTEGER,
    PRIMARY KEY (region, name)
);
CREATE TABLE IF NOT EXISTS log_streams (
    region TEXT NOT NULL, log_group TEXT NOT NULL, name TEXT NOT NULL, created_ms INTEGER NOT NULL,
    PRIMARY KEY (region, log_group, name)
);
CREATE TABLE IF NOT EXISTS log_events (
    region TEXT NOT NULL, log_group TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
    timestamp INTEGER NOT NULL, ingestion_time INTEGER NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (region, log_group, stream, seq)
);
"""
_STREAM = "region = ? AND log_group = ? AND stream = ?"


@dataclass(frozen=True)
class StoredEvent:
    timestamp: int
    ingestion_time: int
    message: str


class _Database(Protocol):
    _db: sqlite3.Connection
    _lock: threading.RLock

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...


class LogTables:
    """The CloudWatch Logs methods of the state store; each is one transaction."""

    def put_log_group(
        self: _Database, region: str, name: str, created_ms: int, retention_days: int | None
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO log_groups (region, name, created_ms, retention_days) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (region, name) DO UPDATE SET retention_days = excluded.retention_days",
                (region, name, created_ms, retention_days),
            )

    def delete_log_group(self: _Database, region: str, name: str) -> None:
        with self._transaction() as db:
            for table, column in (
                ("log_events", "log_group"),
                ("log_streams", "log_group"),
                ("log_groups", "name"),
            ):
                db.execute(f"DELETE FROM {table} WHERE region = ? AND {column} = ?", (region, name))

    def put_log_stream(self: _Database, region: str, group: str, name: str, created_ms: int) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO log_streams VALUES (?, ?, ?, ?)", (region, group, name, created_ms)
            )

    def delete_log_stream(self: _Database, region: str, group: str, name: str) -> None:
        with self._transaction() as db:
            for table, column in (("log_events", "stream"), ("log_streams", "name")):
                db.execute(
                    f"DELETE FROM {table} WHERE region = ? AND log_group = ? AND {column} = ?",
                    (region, group, name),
                )

    def append_log_events(
        self: _Database, region: str, group: str, stream: str, events: list[StoredEvent]
    ) -> None:
        """Add ``events`` after the stream's last stored event."""
        with self._transaction() as db:
            last = db.execute(f"SELECT MAX(seq) FROM log_events WHERE {_STREAM}", (region, group, stream))
            first_seq = (last.fetchone()[0] or 0) + 1
            db.executemany(
                "INSERT INTO log_events VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        region,
                        group,
                        stream,
                        first_seq + n,
                        event.timestamp,
                        event.ingestion_time,
                        event.message,
                    )
                    for n, event in enumerate(events)
                ],
            )

    def delete_oldest_log_events(self: _Database, region: str, group: str, stream: str, count: int) -> None:
        """Remove the stream's first ``count`` events."""
        with self._transaction() as db:
            db.execute(
                f"DELETE FROM log_events WHERE {_STREAM} AND seq IN "
                f"(SELECT seq FROM log_events WHERE {_STREAM} ORDER BY seq LIMIT ?)",
                (region, group, stream, region, group, stream, count),
            )

    def delete_log_events_before(self: _Database, region: str, group: str, timestamp_ms: int) -> int:
        """Remove the group's events stamped before ``timestamp_ms``; how many went."""
        with self._transaction() as db:
            return db.execute(
                "DELETE FROM log_events WHERE region = ? AND log_group = ? AND timestamp < ?",
                (region, group, timestamp_ms),
            ).rowcount

    def log_groups(self: _Database) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute("SELECT * FROM log_groups"))

    def log_streams(self: _Database, region: str, group: str) -> list[sqlite3.Row]:
        with self._lock:
            return list(
                self._db.execute(
                    "SELECT * FROM log_streams WHERE region = ? AND log_group = ?", (region, group)
                )
            )

    def log_events(self: _Database, region: str, group: str, stream: str) -> list[StoredEvent]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT timestamp, ingestion_time, message FROM log_events WHERE {_STREAM} ORDER BY seq",
                (region, group, stream),
            )
            return [StoredEvent(*row) for row in rows]
