"""A production-shaped Airflow: PostgreSQL, Redis, CeleryExecutor, two schedulers, two
triggerers, two Celery workers, an api-server and a dag-processor, against a local Braket service
at the default concurrent-job quota of 3. One deployment per module; the scenarios run in order.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))

from deployment import AirflowDeployment
from servers import LocalServiceProcess
from services import PostgresServer, RedisServer

DAGS = Path(__file__).parent / "dags"
JOB_QUOTA = 3
WORKER_CONCURRENCY = 8


def production_components() -> dict[str, list[str]]:
    worker = ["celery", "worker", "--concurrency", str(WORKER_CONCURRENCY)]
    return {
        "api-server": ["api-server"],
        "dag-processor": ["dag-processor"],
        "scheduler-1": ["scheduler"],
        "scheduler-2": ["scheduler"],
        "triggerer-1": ["triggerer"],
        # Two log servers cannot share a port on one host; the logs are on the shared disk anyway.
        "triggerer-2": ["triggerer", "--skip-serve-logs"],
        "worker-1": [*worker, "--celery-hostname", "worker-1@%h"],
        "worker-2": [*worker, "--celery-hostname", "worker-2@%h", "--skip-serve-logs"],
    }


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def production_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServiceProcess]:
    service = LocalServiceProcess(
        tmp_path_factory.mktemp("production-braket") / "data",
        extra_args=["--job-quota", str(JOB_QUOTA), "--job-slots", str(JOB_QUOTA)],
    ).start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def production(
    production_service: LocalServiceProcess,
    postgres: PostgresServer,
    redis: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[AirflowDeployment]:
    deployment = AirflowDeployment(
        home=tmp_path_factory.mktemp("production-airflow"),
        bundles={"production-dags": DAGS},
        components=production_components(),
        environment={
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": "32",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.url,
            "AIRFLOW__CELERY__BROKER_URL": redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": postgres.celery_result_backend,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            # A worker killed mid-task: the scheduler fails its try this long after the last
            # heartbeat (300 s by default), and the retry starts.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            # At most this many triggers each: a 20-task sweep and the 10 sleepers need both triggerers.
            "AIRFLOW__TRIGGERER__CAPACITY": "8",
            # A triggerer silent this long is taken for dead (30 s by default); two CPU cores
            # shared by eight Airflow processes can delay a heartbeat past 10 s.
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "20",
            # Twenty tasks starting at once on two cores: a worker's first calls to the api-server
            # can time out (5 attempts by default were used up in CI, and the tasks failed).
            "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": "10",
            "AIRFLOW_CONN_BRAKET_DEFAULT": production_service.connection_uri(),
            "AIRFLOW__BRAKET__WAITER_DELAY": "1",
        },
    )
    try:
        yield deployment.start(timeout=240)
    finally:
        deployment.stop()


@pytest.fixture
def braket(production_service: LocalServiceProcess) -> Any:
    return production_service.client("braket")
