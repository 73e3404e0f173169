"""Studies in PostgreSQL, the database docs/sweeps.md names for workers on several machines: runs
that ask at the same moment get different trials, and points that report at once from many
processes lose nothing (on SQLite writers take turns; here they race).

Found with it: a ``postgres`` connection became ``postgresql://``, whose driver under SQLAlchemy
2.1 is psycopg 3, which Airflow's deployments do not install; the study could not be opened."""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import pytest
from services import PostgresServer

pytestmark = [pytest.mark.production, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def studies_connection(postgres: PostgresServer) -> dict[str, Any]:
    postgres._psql("CREATE DATABASE studies")
    return {
        "conn_type": "postgres",
        "host": "127.0.0.1",
        "port": postgres.port,
        "login": "airflow",
        "schema": "studies",
    }


def make_study(sampler: str) -> Any:
    from airflow_provider_braket.sweeps import FloatRange, IntRange, Objective, Study

    space = {"x": FloatRange(0.0, 1.0, step=0.01), "p": IntRange(1, 5)}
    return Study(
        f"pg-{sampler}", space, Objective("minimize", metric="loss"), sampler, seed=1, conn_id="pg_studies"
    )


def tell(arguments: tuple[dict[str, Any], str, int]) -> bool:
    connection, sampler, number = arguments
    os.environ["AIRFLOW_CONN_PG_STUDIES"] = json.dumps(connection)
    trials = make_study(sampler).open("dag")
    trials.report(number, 0, float(number) + 1)
    return trials.tell(number, "COMPLETE", float(number), 0.001 * number, f"arn:{number}")


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_runs_asking_at_once_get_different_trials_and_concurrent_points_lose_nothing(
    studies_connection: dict[str, Any], monkeypatch: pytest.MonkeyPatch, sampler: str
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_PG_STUDIES", json.dumps(studies_connection))
    study = make_study(sampler)

    def ask(run: int) -> list[int]:
        return [trial.number for trial in study.open("dag").ask(5, f"dag/run{run}/suggest/-1", f"run{run}")]

    with ThreadPoolExecutor(4) as pool:  # four DAG runs asking in the same moment
        asked = list(pool.map(ask, range(4)))
    numbers = sorted(number for run in asked for number in run)
    assert numbers == list(range(20))
    assert [ask(run) for run in range(4)] == asked  # each run's retry gets its own trials again

    with ProcessPoolExecutor(4) as pool:  # twenty points reporting from separate worker processes
        told = list(pool.map(tell, [(studies_connection, sampler, number) for number in numbers]))
    assert told == [True] * 20
    trials = study.open("dag").trials()
    assert [(trial.number, trial.state, trial.value) for trial in trials] == [
        (number, "COMPLETE", float(number)) for number in numbers
    ]
    assert sum(trial.cost or 0 for trial in trials) == pytest.approx(0.001 * sum(numbers))
