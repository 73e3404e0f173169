"""SQLite as every store of the local service opens and reads it.

One connection per database, shared by the event loop and worker threads (each store holds a lock
around it), in WAL mode; tables gain columns added since a data dir was first written; rows become
records through their dataclass's fields, so a new column is read by adding a field.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

_R = TypeVar("_R")


def open_database(
    path: Path, schema: str, synchronous: str = "NORMAL", when_new: Iterable[str] = ()
) -> sqlite3.Connection:
    """Open (or create) ``path`` with ``schema``.

    :param synchronous: ``NORMAL``: a commit survives a kill -9 of the service at any instant, and
        after a power loss the last changes may be rolled back (never torn); ``FULL``: a commit
        survives a power loss too (docs/local-service.md, Durability).
    :param when_new: statements run before the schema when the file did not exist yet (pragmas
        that only a new database takes).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    database = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    database.row_factory = sqlite3.Row
    if new:
        for statement in when_new:
            database.execute(statement)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute(f"PRAGMA synchronous={synchronous}")
    database.executescript(schema)
    return database


def add_missing_columns(database: sqlite3.Connection, table: str, columns: Mapping[str, str]) -> None:
    """Add the columns a table gained since the data dir was written (``CREATE TABLE IF NOT
    EXISTS`` leaves an existing table as it was)."""
    present = {row["name"] for row in database.execute(f"PRAGMA table_info({table})")}
    for name, declaration in columns.items():
        if name not in present:
            database.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


def from_row(
    record_type: type[_R], row: sqlite3.Row, decode: Mapping[str, Callable[[Any], Any]] | None = None
) -> _R:
    """The ``record_type`` dataclass whose fields are the row's columns of the same names.

    :param decode: per field, how its column's text becomes the value (JSON, a list of pairs, ...).
    """
    decoders = decode or {}
    values = {
        field.name: decoders.get(field.name, _as_stored)(row[field.name])
        for field in dataclasses.fields(record_type)  # type: ignore[arg-type]
    }
    return record_type(**values)


def json_or_none(text: str | None) -> Any:
    """A JSON column's value; NULL (or an empty text) is None."""
    return json.loads(text) if text else None


def _as_stored(value: Any) -> Any:
    return value
