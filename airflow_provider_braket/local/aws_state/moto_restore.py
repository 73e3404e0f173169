"""Moto's S3, Logs and IAM rebuilt from the state store when the service starts.

Record by record: a record that cannot be restored is logged and skipped, and nothing else is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from functools import partial
from typing import Any

from airflow_provider_braket.local.aws_state.store import StateStore, StoredObject

log = logging.getLogger(__name__)


class MotoRestorer:
    """Puts what the store holds back into moto's backends.

    :param store: the state store.
    :param account_id: the account moto files everything under.
    :param s3_backend: moto's S3 backend of that account.
    :param iam_backend: moto's IAM backend of that account.
    """

    def __init__(self, store: StateStore, account_id: str, s3_backend: Any, iam_backend: Any) -> None:
        self._store = store
        self._account = account_id
        self._s3_backend = s3_backend
        self._iam_backend = iam_backend

    def restore(self) -> tuple[int, int]:
        """Rebuild moto's S3, Logs and IAM from the store; return (records restored, skipped)."""
        restored = skipped = 0
        for restore in (self._restore_s3, self._restore_logs, self._restore_roles):
            for ok in restore():
                restored += ok
                skipped += not ok
        removed = self._store.collect_garbage()
        log.info(
            "restored %d S3/Logs/IAM records (%d skipped, %d stray blobs removed)", restored, skipped, removed
        )
        return restored, skipped

    def revert_s3(self, bucket_name: str, key_name: str | None) -> None:
        """Make moto's bucket, or one key of it, what the store holds again: undo an S3 write that
        moto applied but the store could not keep (a full disk), so that it is not seen at all."""
        backend = self._s3_backend
        stored_bucket = next((row for row in self._store.buckets() if row["name"] == bucket_name), None)
        if stored_bucket is None:
            backend.buckets.pop(bucket_name, None)
            return
        bucket = backend.buckets.get(bucket_name) or backend.create_bucket(
            bucket_name, stored_bucket["region"]
        )
        stored_keys = self._store.object_keys(bucket_name)
        live_keys = {name for name, value in bucket.keys.items() if value is not None}
        wanted = {key_name} if key_name is not None else live_keys ^ stored_keys
        for name in wanted:
            stored = self._store.get_object(bucket_name, name)
            if stored is not None:
                self._restore_object(backend, stored)
            elif name in live_keys:
                backend.delete_object(bucket_name, name)

    def _restore_s3(self) -> Iterator[bool]:
        backend = self._s3_backend
        for row in self._store.buckets():
            try:
                bucket = backend.buckets.get(row["name"]) or backend.create_bucket(row["name"], row["region"])
                bucket.creation_date = datetime.fromisoformat(row["created_at"])
            except Exception:
                log.exception("skipped bucket %r: it could not be restored", row["name"])
                yield False
                continue
            yield True
            for stored in self._store.objects(row["name"]):
                yield _logged(
                    f"object s3://{stored.bucket}/{stored.key}",
                    partial(self._restore_object, backend, stored),
                )

    def _restore_object(self, backend: Any, stored: StoredObject) -> None:
        checksum = stored.checksum or {}
        key = backend.put_object(
            stored.bucket,
            stored.key,
            self._store.read_blob(stored.blob),
            etag=stored.etag,
            checksum_value=checksum.get("value"),
            disable_notification=True,
        )
        key.set_metadata(dict(stored.metadata))
        key.last_modified = datetime.fromisoformat(stored.last_modified)
        key.checksum_algorithm = checksum.get("algorithm")
        key.checksum_type = checksum.get("type")
        key.checksum_parts = checksum.get("parts")

    def _restore_logs(self) -> Iterator[bool]:
        from moto.logs.models import logs_backends

        for group_row in self._store.log_groups():
            region, group_name = group_row["region"], group_row["name"]
            try:
                backend = logs_backends[self._account][region]
                group = backend.groups.get(group_name) or backend.create_log_group(group_name, tags={})
                group.creation_time = _from_millis(group_row["created_ms"])
                group.retention_in_days = group_row["retention_days"]
            except Exception:
                log.exception("skipped log group %r: it could not be restored", group_name)
                yield False
                continue
            yield True
            for stream_row in self._store.log_streams(region, group_name):
                yield _logged(
                    f"log stream {group_name}/{stream_row['name']}",
                    partial(
                        self._restore_stream, group, region, stream_row["name"], stream_row["created_ms"]
                    ),
                )

    def _restore_stream(self, group: Any, region: str, name: str, created_ms: int) -> None:
        from moto.logs.models import LogEvent

        if name not in group.streams:
            group.create_log_stream(name)
        stream = group.streams[name]
        stream.creation_time = _from_millis(created_ms)
        events = self._store.log_events(region, group.name, name)
        stream.events = [
            LogEvent(event.ingestion_time, {"timestamp": event.timestamp, "message": event.message})
            for event in events
        ]
        stream.stored_bytes = sum(len(event.message) for event in events)
        stream.upload_sequence_token = len(events)
        if events:
            stream.last_ingestion_time = _from_millis(events[-1].ingestion_time)

    def _restore_roles(self) -> Iterator[bool]:
        backend = self._iam_backend
        for name, document in self._store.roles():

            def restore_role(name: str = name, document: dict[str, Any] = document) -> None:
                role = backend.create_role(
                    role_name=name,
                    assume_role_policy_document=document["assume_role_policy_document"],
                    path=document["path"],
                    permissions_boundary=None,
                    description=document["description"],
                    tags=[],
                    max_session_duration=document["max_session_duration"],
                )
                role.create_date = datetime.fromisoformat(document["create_date"])

            yield _logged(f"IAM role {name}", restore_role)


def _logged(what: str, restore: Callable[[], None]) -> bool:
    try:
        restore()
    except Exception:
        log.exception("skipped %s: it could not be restored", what)
        return False
    return True


def _from_millis(millis: int) -> datetime:
    # moto keeps naive UTC datetimes (its utcnow()).
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc).replace(tzinfo=None)
