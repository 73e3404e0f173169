"""One-time migration of a data dir written by versions that journaled raw requests.

Those versions appended every S3/Logs/IAM write request, headers included, to
``moto-journal.jsonl`` and replayed it at start. The state store replaced that; a journal found
at start is replayed once, entry by entry (an entry that fails is logged and skipped), into
moto and so into the store, then deleted: it holds Authorization headers.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

from airflow_provider_braket.local.aws_state.moto_backend import BODY_KEY, REGION_KEY, SERVICE_KEY
from airflow_provider_braket.local.server.sigv4 import credential_scope

log = logging.getLogger(__name__)

LEGACY_JOURNAL = "moto-journal.jsonl"


def migrate_legacy_journal(data_dir: Path, app: Any) -> int:
    """Replay ``moto-journal.jsonl`` into ``app`` (a PersistentMoto) and delete it; return the
    number of entries replayed."""
    path = data_dir / LEGACY_JOURNAL
    if not path.exists():
        return 0
    from werkzeug.test import Client

    client = Client(app)
    replayed = skipped = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                _replay_entry(client, json.loads(line))
                replayed += 1
            except Exception as error:
                log.warning("%s line %d skipped: %s", path.name, number, type(error).__name__)
                skipped += 1
    path.unlink()
    log.info(
        "migrated %s: %d entries replayed into the state store, %d skipped", path.name, replayed, skipped
    )
    return replayed


def _replay_entry(client: Any, entry: dict[str, Any]) -> None:
    headers = [
        (name, value)
        for name, value in entry["headers"]
        if name.lower() not in ("content-length", "transfer-encoding")
    ]
    scope = credential_scope(
        next((value for name, value in headers if name.lower() == "authorization"), None)
    )
    body = base64.b64decode(entry["body"])
    raw_uri = entry["path"] + (f"?{entry['query']}" if entry["query"] else "")
    client.open(
        path=entry["path"],
        method=entry["method"],
        query_string=entry["query"],
        headers=headers,
        data=body,
        environ_overrides={
            "RAW_URI": raw_uri,
            SERVICE_KEY: scope.service if scope else "s3",
            BODY_KEY: body,
            REGION_KEY: scope.region if scope else None,
        },
    )
