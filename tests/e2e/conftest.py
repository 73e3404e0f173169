"""One real Airflow deployment and one local Braket service per e2e module, stopped after it.

The scenarios run one after another against them (starting Airflow costs about half a minute on
this machine); each leaves no job running behind it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The integration suite's helpers build jobs the way the SDK lays them out (e2e scenarios create
# jobs outside Airflow too).
sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))

from deployment import AirflowDeployment
from servers import LocalServiceProcess

E2E_DAGS = Path(__file__).parent / "dags"
EXAMPLE_DAGS = Path(__file__).parents[2] / "example_dags"
# The account's concurrent hybrid job quota, as on AWS by default; the service runs that many at once.
JOB_QUOTA = 3


@pytest.fixture(scope="module")
def e2e_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServiceProcess]:
    service = LocalServiceProcess(
        tmp_path_factory.mktemp("e2e-braket") / "data",
        extra_args=["--job-quota", str(JOB_QUOTA), "--job-slots", str(JOB_QUOTA)],
    ).start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def airflow(
    e2e_service: LocalServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AirflowDeployment]:
    deployment = AirflowDeployment(
        home=tmp_path_factory.mktemp("e2e-airflow"),
        bundles={"e2e-dags": E2E_DAGS, "example-dags": EXAMPLE_DAGS},
        environment={
            "AIRFLOW_CONN_BRAKET_DEFAULT": e2e_service.connection_uri(),
            # A second connection, not in [braket] ui_connections: only users who may read it
            # may list jobs through it on the Braket Jobs page.
            "AIRFLOW_CONN_PROD_AWS": e2e_service.connection_uri(),
            "AIRFLOW__BRAKET__WAITER_DELAY": "1",
            # The example DAGs wait in the triggerer, as most deployments would run them.
            "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
        },
    )
    try:
        yield deployment.start()
    finally:
        deployment.stop()


@pytest.fixture
def braket(e2e_service: LocalServiceProcess) -> Any:
    """A boto3 Braket client on the e2e service, to see what Airflow did to the jobs."""
    return e2e_service.client("braket")
