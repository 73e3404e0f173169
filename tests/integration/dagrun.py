"""Run a DAG with ``dag.test()`` (tasks and triggers in this process) and read what it left."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from airflow.models.xcom import XComModel
from airflow.utils.session import create_session

TEST_DAGS = Path(__file__).parent / "dags" / "provider_test_dags.py"


@cache
def _bag(path: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(path))
    assert not bag.import_errors, bag.import_errors
    return bag


def load(dag_id: str, path: Path = TEST_DAGS) -> Any:
    """A DAG of a file in one of the session's bundles (dag.test() runs no other)."""
    return _bag(path).get_dag(dag_id)


def run(dag: Any, **kwargs: Any) -> Any:
    """``dag.test()``; returns the DagRun."""
    return dag.test(**kwargs)


def xcoms(dag_run: Any, key: str = "return_value") -> dict[tuple[str, int], Any]:
    """``{(task_id, map_index): value}`` of every XCom ``key`` the run pushed."""
    with create_session() as session:
        rows = session.scalars(
            XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id, key=key)
        ).all()
        return {(row.task_id, row.map_index): XComModel.deserialize_value(row) for row in rows}


def states(dag_run: Any) -> dict[tuple[str, int], str]:
    """``{(task_id, map_index): state}`` of every task instance of the run."""
    with create_session() as session:
        return {
            (ti.task_id, ti.map_index): str(getattr(ti.state, "value", ti.state))
            for ti in dag_run.get_task_instances(session=session)
        }


def forwarded(output: str, message: str) -> int:
    """How many task-log rows carry ``message`` as a whole word (rows read ``<time> [info ] <message>``)."""
    pattern = re.compile(rf"\] {re.escape(message)}(\s|$)")
    return sum(1 for row in output.splitlines() if pattern.search(row))


def asset_events(dag_run: Any) -> list[tuple[str, dict[str, Any]]]:
    """``[(asset name, extra)]`` of the asset events the run's tasks emitted, oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetModel.name, AssetEvent.extra)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_dag_id == dag_run.dag_id, AssetEvent.source_run_id == dag_run.run_id)
            .order_by(AssetEvent.id)
        ).all()
        return [(name, dict(extra or {})) for name, extra in rows]
