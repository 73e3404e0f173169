"""What the service's S3, CloudWatch Logs and IAM hold, kept on disk as state.

Moto serves these APIs from memory; this store is what survives a restart. It keeps the
resulting state (buckets, objects, log groups, streams and events, roles), never the requests
that produced it, so a restart does not depend on replaying anything and holds no
credentials or signatures.

- ``state.sqlite3`` (WAL, ``synchronous=FULL``): one row per bucket, object, log event and
  role. Every change is one transaction, committed and fsynced before the client gets its
  answer; SQLite's WAL frames are checksummed, so a torn write is detected and rolled back at
  the next open instead of being read as data.
- Object bodies are content-addressed by their SHA-256 and checked against it when read.
  Bodies up to 64 KiB (task results, job metadata, small inputs: most objects) are kept in
  the ``small_blobs`` table and committed in the same transaction as the row that names them,
  so such a PUT costs one fsync instead of three. Larger ones go to ``blobs/<aa>/<sha256>``:
  written to a temporary file, fsynced and renamed into place before the row that names it is
  committed. Either kind is removed once no row names it, so disk use follows live data.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from airflow_provider_braket.local.aws_state.log_tables import LOG_SCHEMA, LogTables
from airflow_provider_braket.local.sqlite import add_missing_columns, from_row, json_or_none, open_database

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY, region TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, last_modified TEXT NOT NULL, metadata TEXT NOT NULL,
    checksum TEXT, PRIMARY KEY (bucket, key)
);
CREATE INDEX IF NOT EXISTS objects_by_blob ON objects (blob);
CREATE TABLE IF NOT EXISTS roles (name TEXT PRIMARY KEY, document TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS small_blobs (name TEXT PRIMARY KEY, data BLOB NOT NULL);
"""
# Bodies up to this size live in SQLite: one fsync for the whole PUT, where a blob file costs
# three (the file, its directory, the commit). Above it, a file keeps the database small.
INLINE_BLOB_LIMIT = 64 << 10


@dataclass(frozen=True)
class StoredObject:
    """One S3 object as stored; ``metadata`` holds Content-Type and the user's x-amz-meta-*."""

    bucket: str
    key: str
    blob: str
    size: int
    etag: str
    last_modified: str
    metadata: dict[str, str]
    checksum: dict[str, Any] | None = None


class StateStore(LogTables):
    """The on-disk state of S3, Logs and IAM; every method is one transaction.

    :param root: the data dir; the store owns ``state.sqlite3`` and ``blobs/`` in it.
    """

    def __init__(self, root: Path) -> None:
        self._blobs = root / "blobs"
        self._blobs.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = threading.RLock()
        # auto_vacuum must precede the first table: it lets free pages go back to the file system.
        self._db = open_database(
            root / "state.sqlite3",
            _SCHEMA + LOG_SCHEMA,
            synchronous="FULL",
            when_new=["PRAGMA auto_vacuum=INCREMENTAL"],
        )
        add_missing_columns(self._db, "log_groups", {"retention_days": "INTEGER"})

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- S3 ----------------------------------------------------------------------------------

    def put_bucket(self, name: str, region: str, created_at: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO buckets VALUES (?, ?, ?)", (name, region, created_at))

    def delete_bucket(self, name: str) -> None:
        with self._transaction() as db:
            blobs = [row[0] for row in db.execute("SELECT blob FROM objects WHERE bucket = ?", (name,))]
            db.execute("DELETE FROM objects WHERE bucket = ?", (name,))
            db.execute("DELETE FROM buckets WHERE name = ?", (name,))
            unreferenced = _forget_unreferenced(db, blobs)
        self._unlink_blob_files(unreferenced)

    def buckets(self) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute("SELECT * FROM buckets ORDER BY created_at"))

    def object_keys(self, bucket: str) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT key FROM objects WHERE bucket = ?", (bucket,))}

    def get_object(self, bucket: str, key: str) -> StoredObject | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
            ).fetchone()
        return _stored_object(row) if row else None

    def objects(self, bucket: str) -> Iterator[StoredObject]:
        with self._lock:
            rows = list(self._db.execute("SELECT * FROM objects WHERE bucket = ? ORDER BY key", (bucket,)))
        for row in rows:
            yield _stored_object(row)

    def put_object(self, stored: StoredObject, chunks: Iterable[bytes] | None) -> StoredObject:
        """Store an object: its body (unless ``chunks`` is None: same body, new attributes)
        durably first, then the row naming it; return it as stored."""
        unreferenced: list[str] = []
        with self._lock:  # a blob must not be collected between its write and its row's commit
            small: bytes | None = None
            if chunks is not None:
                small, rest = _take_small(chunks)
                if small is not None:
                    stored = replace(stored, blob=hashlib.sha256(small).hexdigest(), size=len(small))
                else:
                    blob, size = self._write_blob(rest)
                    stored = replace(stored, blob=blob, size=size)
            with self._transaction() as db:
                if small is not None:
                    # REPLACE, not IGNORE: a damaged copy under the same name is repaired.
                    db.execute("INSERT OR REPLACE INTO small_blobs VALUES (?, ?)", (stored.blob, small))
                old = db.execute(
                    "SELECT blob FROM objects WHERE bucket = ? AND key = ?", (stored.bucket, stored.key)
                ).fetchone()
                db.execute(
                    "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        stored.bucket,
                        stored.key,
                        stored.blob,
                        stored.size,
                        stored.etag,
                        stored.last_modified,
                        json.dumps(stored.metadata),
                        json.dumps(stored.checksum) if stored.checksum else None,
                    ),
                )
                if old and old[0] != stored.blob:
                    unreferenced = _forget_unreferenced(db, [old[0]])
            self._unlink_blob_files(unreferenced)
        return stored

    def _write_blob(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        with tempfile.NamedTemporaryFile(dir=self._blobs, prefix=".incoming-", delete=False) as handle:
            try:
                for chunk in chunks:
                    handle.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            except BaseException:
                os.unlink(handle.name)
                raise
        name = digest.hexdigest()
        target = self._blob_path(name)
        target.parent.mkdir(mode=0o700, exist_ok=True)
        os.replace(handle.name, target)
        _fsync_dir(target.parent)
        return name, size

    def delete_objects(self, bucket: str, keys: Iterable[str]) -> None:
        keys = list(keys)
        with self._transaction() as db:
            blobs = []
            for key in keys:
                row = db.execute(
                    "SELECT blob FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
                ).fetchone()
                if row:
                    blobs.append(row[0])
                    db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
            unreferenced = _forget_unreferenced(db, blobs)
        self._unlink_blob_files(unreferenced)

    def read_blob(self, name: str) -> bytes:
        """The blob's bytes, checked against its name; raises ValueError if it is damaged."""
        with self._lock:
            row = self._db.execute("SELECT data FROM small_blobs WHERE name = ?", (name,)).fetchone()
        data = bytes(row[0]) if row else self._blob_path(name).read_bytes()
        if hashlib.sha256(data).hexdigest() != name:
            raise ValueError(f"blob {name} is damaged: its content no longer matches its hash")
        return data

    def _blob_path(self, name: str) -> Path:
        return self._blobs / name[:2] / name

    def _unlink_blob_files(self, names: Iterable[str]) -> None:
        """Remove the files of blobs no row names any more (after the commit that dropped them:
        a crash before it leaves a stray file for :meth:`collect_garbage`, never a dangling row)."""
        with self._lock:
            for name in names:
                if not self._db.execute("SELECT 1 FROM objects WHERE blob = ? LIMIT 1", (name,)).fetchone():
                    self._blob_path(name).unlink(missing_ok=True)

    def collect_garbage(self) -> int:
        """Remove blobs no row names (left by a kill between writing a blob and its row) and
        give freed database pages back; return how many blobs were removed."""
        self._inline_small_files()
        with self._lock:
            referenced = {row[0] for row in self._db.execute("SELECT DISTINCT blob FROM objects")}
            removed = 0
            for path in self._blobs.glob("*/*"):
                if path.name not in referenced:
                    path.unlink(missing_ok=True)
                    removed += 1
            for path in self._blobs.glob(".incoming-*"):
                path.unlink(missing_ok=True)
            removed += self._db.execute(
                "DELETE FROM small_blobs WHERE name NOT IN (SELECT blob FROM objects)"
            ).rowcount
            self._db.execute("PRAGMA incremental_vacuum")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    def _inline_small_files(self) -> None:
        """Move the small bodies a data dir written before inline bodies keeps as files into the
        database (once: a file is removed only after the commit that holds its copy). A file whose
        content no longer matches its name stays, and is refused as damaged when read."""
        with self._lock:
            named = {row[0] for row in self._db.execute("SELECT DISTINCT blob FROM objects")}
            inline = {row[0] for row in self._db.execute("SELECT name FROM small_blobs")}
        moved = []
        for path in self._blobs.glob("*/*"):
            if path.name not in named or path.name in inline or path.stat().st_size > INLINE_BLOB_LIMIT:
                continue
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != path.name:
                continue
            with self._transaction() as db:
                db.execute("INSERT OR REPLACE INTO small_blobs VALUES (?, ?)", (path.name, data))
            moved.append(path)
        for path in moved:
            path.unlink(missing_ok=True)
        if moved:
            log.info("moved %d small object bodies from blobs/ into state.sqlite3", len(moved))

    # -- IAM ---------------------------------------------------------------------------------

    def put_role(self, name: str, document: dict[str, Any]) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO roles VALUES (?, ?)", (name, json.dumps(document)))

    def delete_role(self, name: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM roles WHERE name = ?", (name,))

    def roles(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return [(row[0], json.loads(row[1])) for row in self._db.execute("SELECT * FROM roles")]


_OBJECT_COLUMNS: dict[str, Callable[[Any], Any]] = {"metadata": json.loads, "checksum": json_or_none}


def _stored_object(row: sqlite3.Row) -> StoredObject:
    return from_row(StoredObject, row, _OBJECT_COLUMNS)


def _forget_unreferenced(db: sqlite3.Connection, blobs: Iterable[str]) -> list[str]:
    """Within a transaction: drop the inline bodies no row names any more; return every such
    blob's name (its file, if it has one, goes after the commit)."""
    unreferenced = []
    for name in set(blobs):
        if not db.execute("SELECT 1 FROM objects WHERE blob = ? LIMIT 1", (name,)).fetchone():
            db.execute("DELETE FROM small_blobs WHERE name = ?", (name,))
            unreferenced.append(name)
    return unreferenced


def _take_small(chunks: Iterable[bytes]) -> tuple[bytes | None, Iterable[bytes]]:
    """The whole body if it is at most :data:`INLINE_BLOB_LIMIT` bytes (else None), and the
    chunks to write to a file otherwise; reads no more than the limit plus one chunk ahead."""
    iterator = iter(chunks)
    head: list[bytes] = []
    size = 0
    for chunk in iterator:
        head.append(chunk)
        size += len(chunk)
        if size > INLINE_BLOB_LIMIT:
            return None, itertools.chain(head, iterator)
    return b"".join(head), ()


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
