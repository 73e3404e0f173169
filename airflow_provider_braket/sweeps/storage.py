"""Where studies are kept: a database named by an Airflow connection, never Airflow's own.

- No connection: a SQLite file under ``AIRFLOW_HOME`` (``braket_studies.sqlite3``), for one
  machine (the scheduler, workers and triggerer share its disk).
- A ``postgres`` (or ``mysql``) connection: that database, for workers on several machines.
- A ``sqlite`` connection: the file in its ``host``.
- Any connection with ``{"sqlalchemy_url": ...}`` in its extra: that URL.

Airflow's metadata database is refused: studies add tables Airflow's migrations know nothing of.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from airflow_provider_braket.jobs.models import RequestValidationError

DEFAULT_FILENAME = "braket_studies.sqlite3"
#: How long a SQLite writer waits for another (concurrent mapped tasks report at once).
SQLITE_BUSY_SECONDS = 60

_engines: dict[str, Any] = {}
_engines_lock = threading.Lock()


def _forget_engines_in_child() -> None:
    # A forked process must not use its parent's pooled connections (found: a study opened in
    # worker processes forked after the parent had opened it answered "error with status
    # PGRES_TUPLES_OK" and hung). SQLAlchemy's advice: dispose without closing them.
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()
    for callback in after_fork_in_child:
        callback()


#: What other caches of connections (Optuna's storages) forget in a forked child.
after_fork_in_child: list[Any] = []
os.register_at_fork(after_in_child=_forget_engines_in_child)


def default_database_url() -> str:
    home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")
    return f"sqlite:///{home / DEFAULT_FILENAME}"


def database_url(conn_id: str | None) -> str:
    """The SQLAlchemy URL of the studies' database for ``conn_id`` (None: the default file)."""
    url = default_database_url() if conn_id is None else _connection_url(conn_id)
    _refuse_airflow_metadata(url, conn_id)
    return url


def _connection_url(conn_id: str) -> str:
    from airflow.sdk import BaseHook

    connection = BaseHook.get_connection(conn_id)
    extra = connection.extra_dejson or {}
    if extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    kind = (connection.conn_type or "").lower()
    if kind == "sqlite":
        if not connection.host:
            raise _refused(conn_id, "a sqlite connection names its file in host")
        return f"sqlite:///{connection.host}"
    dialects = {"postgres": _postgres_dialect(), "postgresql": _postgres_dialect(), "mysql": "mysql"}
    if kind not in dialects:
        raise _refused(conn_id, "must be a postgres, mysql or sqlite connection, or hold sqlalchemy_url")
    from sqlalchemy.engine import URL

    return URL.create(
        dialects[kind],
        username=connection.login or None,
        password=connection.password or None,
        host=connection.host or None,
        port=connection.port or None,
        database=connection.schema or None,
    ).render_as_string(hide_password=False)


def _postgres_dialect() -> str:
    """PostgreSQL with the driver installed: SQLAlchemy 2.1's default is psycopg 3, while Airflow's
    postgres provider (and most deployments) bring psycopg2."""
    import importlib.util

    for module, dialect in (("psycopg2", "postgresql+psycopg2"), ("psycopg", "postgresql+psycopg")):
        if importlib.util.find_spec(module) is not None:
            return dialect
    return "postgresql"  # SQLAlchemy's own error then names the driver to install


def _refuse_airflow_metadata(url: str, conn_id: str | None) -> None:
    from sqlalchemy.engine import make_url

    try:
        from airflow.configuration import conf

        metadata = make_url(conf.get("database", "sql_alchemy_conn", fallback=None) or "")
    except Exception:
        # Airflow 3 hides the metadata database from task processes (its URL is not a URL there):
        # the check is made where it is known (dag.test(), the api-server).
        return
    if _same_database(make_url(url), metadata):
        raise _refused(conn_id, "is Airflow's metadata database; keep studies in a database of their own")


def _same_database(one: Any, other: Any) -> bool:
    if one.get_backend_name() != other.get_backend_name():
        return False
    if one.get_backend_name() == "sqlite":
        return Path(one.database or "").resolve() == Path(other.database or "").resolve()
    return (one.host, one.port or None, one.database) == (other.host, other.port or None, other.database)


def _refused(conn_id: str | None, rule: str) -> RequestValidationError:
    field = f"study storage ({conn_id or 'default'})"
    return RequestValidationError(f"{field}: {rule}", [(field, rule)])


def engine_for(url: str) -> Any:
    """One SQLAlchemy engine per database and process (a pool each, not one per call)."""
    from sqlalchemy import create_engine, event

    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            sqlite = url.startswith("sqlite")
            if sqlite:
                Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, **engine_options(url))
            if sqlite:
                event.listen(engine, "connect", _sqlite_pragmas)
            _engines[url] = engine
        return engine


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}}
    return {"pool_pre_ping": True}


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL: readers (the UI) do not block the mapped tasks that report.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
