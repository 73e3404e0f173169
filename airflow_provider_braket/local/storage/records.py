"""What the SQLite stores of jobs and of quantum tasks share: :class:`RecordStore` (one table of
records, read and written under one lock), conditional updates, search filters and the keyset
cursor behind ``nextToken``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from airflow_provider_braket.jobs.models import parse_timestamp
from airflow_provider_braket.local.sqlite import add_missing_columns, from_row, json_or_none, open_database

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_R = TypeVar("_R")
_COMPARISONS = {"LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}


class SearchFilter(Protocol):
    """A SearchJobs or SearchQuantumTasks filter, as validated by its request model."""

    @property
    def name(self) -> str: ...

    @property
    def operator(self) -> str: ...

    @property
    def values(self) -> list[str]: ...


def readable(rows: Iterable[sqlite3.Row], convert: Callable[[sqlite3.Row], _T], what: str) -> list[_T]:
    """Rows converted to records; a row that cannot be read (damaged by hand or by a disk) is
    logged and skipped, so one bad record never stops a listing or a start."""
    records = []
    for row in rows:
        try:
            records.append(convert(row))
        except (ValueError, TypeError, KeyError) as error:
            log.warning("skipped an unreadable %s record (%s): %s", what, row[0], type(error).__name__)
    return records


def request_fingerprint(request: Mapping[str, Any]) -> str:
    """What tells a retried request (same client token, same request) from a different one."""
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def conditional_update(
    database: sqlite3.Connection,
    table: str,
    key: tuple[str, str],
    values: Mapping[str, Any],
    only_if: Iterable[str] | None = None,
) -> bool:
    """Set columns of one row; with ``only_if``, only while its status is one of those.

    The conditional form is how runners and cancels race safely: whichever moves the status
    first wins and the other sees ``False``.
    """
    key_column, key_value = key
    sql = f"UPDATE {table} SET {', '.join(f'{name} = ?' for name in values)} WHERE {key_column} = ?"
    params = [*values.values(), key_value]
    if only_if is not None:
        allowed = list(only_if)
        sql += f" AND status IN ({','.join('?' * len(allowed))})"
        params += allowed
    return database.execute(sql, params).rowcount == 1


def filter_clauses(
    filters: Sequence[SearchFilter], columns: Mapping[str, str]
) -> tuple[list[str], list[Any]]:
    """SQL conditions for search filters; ``createdAt`` values become epoch milliseconds."""
    clauses: list[str] = []
    params: list[Any] = []
    for item in filters:
        column = columns[item.name]
        values: list[Any] = list(item.values)
        if item.name == "createdAt":
            values = [int(parse_timestamp(value).timestamp() * 1000) for value in values]
        if item.operator == "EQUAL":
            clauses.append(f"{column} IN ({','.join('?' * len(values))})")
        elif item.operator == "CONTAINS":
            clauses.append(f"instr({column}, ?) > 0")
        elif item.operator == "BETWEEN":
            clauses.append(f"{column} BETWEEN ? AND ?")
            values = sorted(values)
        else:
            clauses.append(f"{column} {_COMPARISONS[item.operator]} ?")
        params += values
    return clauses, params


def keyset_search(
    database: sqlite3.Connection,
    table: str,
    key_column: str,
    where: tuple[list[str], list[Any]],
    limit: int,
    next_token: str | None,
) -> tuple[list[sqlite3.Row], str | None]:
    """Rows newest first, ``limit`` at a time; ``next_token`` is an opaque cursor (ValueError if bad)."""
    clauses, params = list(where[0]), list(where[1])
    if next_token:
        created_at, key = decode_cursor(next_token)
        clauses.append(f"(created_at < ? OR (created_at = ? AND {key_column} < ?))")
        params += [created_at, created_at, key]
    condition = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"SELECT * FROM {table} {condition} ORDER BY created_at DESC, {key_column} DESC LIMIT ?"
    rows = database.execute(sql, [*params, limit + 1]).fetchall()
    page = rows[:limit]
    token = encode_cursor(page[-1]["created_at"], page[-1][key_column]) if len(rows) > limit else None
    return page, token


def encode_cursor(created_at: int, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at, key]).encode()).decode()


def decode_cursor(token: str) -> tuple[int, str]:
    try:
        created_at, key = json.loads(base64.urlsafe_b64decode(token.encode()))
        created = int(created_at)
    except (ValueError, TypeError, binascii.Error, OverflowError, RecursionError):
        raise ValueError("nextToken is not a token this service issued") from None
    if not 0 <= created < 2**63:  # SQLite integers are 64-bit; a forged one would be a 500
        raise ValueError("nextToken is not a token this service issued")
    return created, str(key)


class RecordStore(Generic[_R]):
    """One SQLite table of records (dataclasses whose fields are its columns), safe to use from the
    event loop and worker threads.

    A subclass names its table, key column, search columns and the fields stored as JSON.

    :param path: the database file.
    :param schema: ``CREATE TABLE IF NOT EXISTS ...`` statements.
    :param added_columns: columns added since the first data dirs were written, with their types.
    """

    record_type: ClassVar[type]
    table: ClassVar[str]
    key_column: ClassVar[str]
    #: Search filter name -> column.
    search_columns: ClassVar[Mapping[str, str]]
    #: Fields kept as JSON text.
    json_fields: ClassVar[frozenset[str]] = frozenset()
    #: How a field's column becomes its value, where it is not the stored value or plain JSON.
    decoders: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}
    what: ClassVar[str]
    _decode: ClassVar[dict[str, Callable[[Any], Any]]] = {}

    def __init__(self, path: Path, schema: str, added_columns: Mapping[str, str]) -> None:
        self._lock = threading.RLock()
        self._db = open_database(path, schema)
        add_missing_columns(self._db, self.table, added_columns)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get(self, key: str) -> _R | None:
        return self._one(f"SELECT * FROM {self.table} WHERE {self.key_column} = ?", key)

    def get_by_token(self, client_token: str) -> _R | None:
        return self._one(f"SELECT * FROM {self.table} WHERE client_token = ?", client_token)

    def search(
        self, filters: Sequence[SearchFilter], limit: int, next_token: str | None
    ) -> tuple[list[_R], str | None]:
        """Newest first; ``next_token`` is an opaque keyset cursor (raises ValueError if bad)."""
        where = filter_clauses(filters, self.search_columns)
        with self._lock:
            rows, token = keyset_search(self._db, self.table, self.key_column, where, limit, next_token)
        return readable(rows, self._record, self.what), token

    def update(self, key: str, *, only_if: Iterable[str] | None = None, **values: Any) -> bool:
        """Set columns of one record; with ``only_if``, only while its status is one of those.

        The conditional form is how runners and cancels race safely: whichever moves the status
        first wins and the other sees ``False``.
        """
        columns = self._encoded(values)
        with self._lock:
            return conditional_update(self._db, self.table, (self.key_column, key), columns, only_if)

    def _insert(self, values: Mapping[str, Any]) -> None:
        columns = self._encoded(values)
        marks = ",".join("?" * len(columns))
        with self._lock:
            self._db.execute(
                f"INSERT INTO {self.table} ({','.join(columns)}) VALUES ({marks})", list(columns.values())
            )

    def _encoded(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {
            name: json.dumps(value) if name in self.json_fields and value is not None else value
            for name, value in values.items()
        }

    def _select(self, sql: str, params: Sequence[Any]) -> list[_R]:
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return readable(rows, self._record, self.what)

    def _one(self, sql: str, value: str) -> _R | None:
        with self._lock:
            row = self._db.execute(sql, (value,)).fetchone()
        return self._record(row) if row else None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # How each column is read, worked out once per store rather than for every row.
        cls._decode = {name: json_or_none for name in cls.json_fields} | dict(cls.decoders)

    def _record(self, row: sqlite3.Row) -> _R:
        record: _R = from_row(self.record_type, row, self._decode)
        return record
