from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent / "integration")]

# Airflow reads its configuration once, at first import: give the whole session its own home
# (SQLite metadata DB, no example DAGs) before anything imports airflow.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="airflow-home-")
_BUNDLES = {
    "example-dags": Path(__file__).parents[1] / "example_dags",
    "test-dags": Path(__file__).parent / "integration" / "dags",
}
os.environ.update(
    AIRFLOW_HOME=_AIRFLOW_HOME,
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__CORE__DAGS_FOLDER=str(_BUNDLES["example-dags"]),
    # dag.test() runs only DAGs it finds in a bundle: the examples, and the tests' own DAGs.
    AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST=json.dumps(
        [
            {
                "name": name,
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(path)},
            }
            for name, path in _BUNDLES.items()
        ]
    ),
    AIRFLOW__BRAKET__WAITER_DELAY="1",
    # dag.test() runs triggers inline, with no scheduler to race: no need to hold resumes back.
    AIRFLOW__BRAKET__MIN_DEFERRAL_SECONDS="0",
)

from servers import LocalServiceProcess  # noqa: E402 - importable once the path is set


@pytest.fixture(scope="session")
def local_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServiceProcess]:
    """The real local service, shared by the tests that do not change its settings."""
    service = LocalServiceProcess(tmp_path_factory.mktemp("braket-local") / "data").start()
    yield service
    service.stop()


@pytest.fixture
def own_service(tmp_path: Path) -> Iterator[LocalServiceProcess]:
    """A service of this test alone (for limits, device tables, restarts)."""
    service = LocalServiceProcess(tmp_path / "data")
    yield service
    service.stop()


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """A migrated Airflow metadata DB for ``dag.test()`` runs; the same AIRFLOW_HOME all session."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return _AIRFLOW_HOME


@pytest.fixture
def braket_connection(local_service: LocalServiceProcess, monkeypatch: pytest.MonkeyPatch) -> str:
    """Connection ``braket_default`` pointing at the session's local service, as a user would set it."""
    monkeypatch.setenv("AIRFLOW_CONN_BRAKET_DEFAULT", local_service.connection_uri())
    return "braket_default"


@pytest.fixture
def sdk(local_service: LocalServiceProcess, monkeypatch: pytest.MonkeyPatch) -> LocalServiceProcess:
    """The SDK pointed at the session's service the way a user does it: environment variables."""
    for name, value in local_service.environment().items():
        monkeypatch.setenv(name, value)
    from helpers import ensure_bucket

    ensure_bucket(local_service.client("s3"))
    return local_service


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from scheduling import slowest_first

    slowest_first(items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "loadfile":
        return None
    from scheduling import longest_first_scheduler

    return longest_first_scheduler(config, log)
