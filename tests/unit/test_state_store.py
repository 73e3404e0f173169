"""The state store's object bodies: small ones inline in SQLite (one fsync per PUT), large ones
as files, both checked against their hash and dropped when no row names them."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from airflow_provider_braket.local.aws_state.store import INLINE_BLOB_LIMIT, StateStore, StoredObject


def _object(key: str) -> StoredObject:
    return StoredObject(
        bucket="b", key=key, blob="", size=0, etag="e", last_modified="2026-11-26T00:00:00", metadata={}
    )


def _files(root: Path) -> list[Path]:
    return [path for path in (root / "blobs").rglob("*") if path.is_file()]


def _inline_names(root: Path) -> set[str]:
    with sqlite3.connect(root / "state.sqlite3") as db:
        return {row[0] for row in db.execute("SELECT name FROM small_blobs")}


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path)


def test_a_body_up_to_the_limit_is_kept_inline_and_one_byte_more_as_a_file(
    store: StateStore, tmp_path: Path
) -> None:
    at_limit, over = os.urandom(INLINE_BLOB_LIMIT), os.urandom(INLINE_BLOB_LIMIT + 1)
    small = store.put_object(_object("small"), [at_limit[:1000], at_limit[1000:]])
    large = store.put_object(_object("large"), [over[:INLINE_BLOB_LIMIT], over[INLINE_BLOB_LIMIT:]])

    assert (small.size, small.blob) == (len(at_limit), hashlib.sha256(at_limit).hexdigest())
    assert (large.size, large.blob) == (len(over), hashlib.sha256(over).hexdigest())
    assert _inline_names(tmp_path) == {small.blob}
    assert [path.name for path in _files(tmp_path)] == [large.blob]
    assert store.read_blob(small.blob) == at_limit
    assert store.read_blob(large.blob) == over


def test_an_empty_body_is_stored(store: StateStore) -> None:
    empty = store.put_object(_object("empty"), [])
    assert (empty.size, store.read_blob(empty.blob)) == (0, b"")


def test_overwrites_and_deletes_drop_bodies_no_row_names(store: StateStore, tmp_path: Path) -> None:
    store.put_object(_object("k"), [b"small one"])
    store.put_object(_object("k"), [os.urandom(INLINE_BLOB_LIMIT * 2)])
    assert _inline_names(tmp_path) == set()
    store.put_object(_object("k"), [b"small two"])
    assert _files(tmp_path) == []
    store.put_object(_object("shared"), [b"small two"])  # same content, two keys: one body
    store.delete_objects("b", ["k"])
    assert _inline_names(tmp_path) == {hashlib.sha256(b"small two").hexdigest()}
    store.delete_bucket("b")
    assert _inline_names(tmp_path) == set()


def test_a_damaged_inline_body_is_refused_not_served(store: StateStore, tmp_path: Path) -> None:
    stored = store.put_object(_object("k"), [b"the real result"])
    with sqlite3.connect(tmp_path / "state.sqlite3") as db:
        db.execute("UPDATE small_blobs SET data = ? WHERE name = ?", (b"bit rot", stored.blob))
    with pytest.raises(ValueError, match="damaged"):
        store.read_blob(stored.blob)
    store.put_object(_object("again"), [b"the real result"])  # the same body written again repairs it
    assert store.read_blob(stored.blob) == b"the real result"


def test_garbage_collection_removes_inline_bodies_and_files_no_row_names(
    store: StateStore, tmp_path: Path
) -> None:
    kept = store.put_object(_object("kept"), [b"kept"])
    with sqlite3.connect(tmp_path / "state.sqlite3") as db:
        db.execute("INSERT INTO small_blobs VALUES ('stray', x'00')")
    stray_file = tmp_path / "blobs" / "ab" / ("ab" + "0" * 62)
    stray_file.parent.mkdir()
    stray_file.write_bytes(b"left by a kill")

    assert store.collect_garbage() == 2
    assert _inline_names(tmp_path) == {kept.blob}
    assert not stray_file.exists()


def test_a_store_written_before_inline_bodies_moves_its_small_files_inline(tmp_path: Path) -> None:
    """Found (issue 27): a data dir written before inline bodies kept every small body as a file
    (three fsyncs to overwrite, a file each) for good. At start they move into the database;
    a large one, and one whose content no longer matches its name, stay files."""
    body = b"written by an older version, as a file"
    name = hashlib.sha256(body).hexdigest()
    (tmp_path / "blobs" / name[:2]).mkdir(parents=True)
    (tmp_path / "blobs" / name[:2] / name).write_bytes(body)
    large = os.urandom(INLINE_BLOB_LIMIT + 1)
    large_name = hashlib.sha256(large).hexdigest()
    (tmp_path / "blobs" / large_name[:2]).mkdir(parents=True, exist_ok=True)
    (tmp_path / "blobs" / large_name[:2] / large_name).write_bytes(large)
    rotten_name = hashlib.sha256(b"what it was").hexdigest()
    (tmp_path / "blobs" / rotten_name[:2]).mkdir(parents=True, exist_ok=True)
    (tmp_path / "blobs" / rotten_name[:2] / rotten_name).write_bytes(b"bit rot")
    with sqlite3.connect(tmp_path / "state.sqlite3") as db:  # the older schema: no small_blobs table
        db.execute(
            "CREATE TABLE objects (bucket TEXT NOT NULL, key TEXT NOT NULL, blob TEXT NOT NULL, "
            "size INTEGER NOT NULL, etag TEXT NOT NULL, last_modified TEXT NOT NULL, metadata TEXT NOT NULL, "
            "checksum TEXT, PRIMARY KEY (bucket, key))"
        )
        for key, blob, size in (
            ("old", name, len(body)),
            ("large", large_name, len(large)),
            ("rotten", rotten_name, 7),
        ):
            db.execute("INSERT INTO objects VALUES ('b', ?, ?, ?, 'e', 't', '{}', NULL)", (key, blob, size))

    store = StateStore(tmp_path)
    assert store.read_blob(name) == body  # read from its file before the move
    assert store.collect_garbage() == 0  # what the service does at start

    assert _inline_names(tmp_path) == {name}
    assert sorted(path.name for path in _files(tmp_path)) == sorted([large_name, rotten_name])
    assert {
        stored.key: store.read_blob(stored.blob) for stored in store.objects("b") if stored.key != "rotten"
    } == {
        "old": body,
        "large": large,
    }
    with pytest.raises(ValueError, match="damaged"):
        store.read_blob(rotten_name)
    assert StateStore(tmp_path).collect_garbage() == 0  # a second start moves nothing
    assert _inline_names(tmp_path) == {name}


def test_moto_keeps_no_instance_it_made(tmp_path: Path) -> None:
    """Found: moto's ``BaseModel`` appends every instance to a list on its class (for its
    dashboard), so every log event and S3 object version, deleted or not, stayed in the service's
    memory for good: about 200 bytes a log line, 1.1 GB after a job printed 5 million lines."""
    import gc
    import weakref

    from moto.logs.models import LogEvent

    from airflow_provider_braket.local.aws_state.moto_backend import PersistentMoto

    PersistentMoto(lambda environ, start: [], StateStore(tmp_path), "123456789012", "us-east-1")
    event = LogEvent(0, {"timestamp": 0, "message": "x"})
    gone = weakref.ref(event)
    del event
    gc.collect()
    assert gone() is None
    assert LogEvent.instances_tracked == []  # type: ignore[attr-defined]
