"""OpenLineage events of real runs: ``airflow dags test`` with the OpenLineage provider's file
transport, against the local service. Each event is checked against the run event's rules
(openlineage_schema.py) and the Braket task's datasets and run facet against what the job did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openlineage_schema import schema_errors

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

pytest.importorskip("airflow.providers.openlineage", reason="the [openlineage] extra is not installed")

SECRET = "hunter2-not-in-lineage"


@pytest.fixture
def braket(local_service: Any) -> Any:
    return local_service.client("braket")


def lineage_of_run(dag_id: str, conf: dict[str, Any], connection: str, folder: Path) -> list[dict[str, Any]]:
    """Run ``dag_id`` with the real CLI and OpenLineage on; the events it emitted, in order."""
    events = folder / "events.jsonl"
    env = {
        **os.environ,
        "AIRFLOW_CONN_BRAKET_DEFAULT": connection,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "braket-tests",
    }
    subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id, "--conf", json.dumps(conf)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert events.exists(), "no OpenLineage event was written"
    return [json.loads(line) for line in events.read_text().splitlines() if line.strip()]


def task_event(events: list[dict[str, Any]], task_id: str, event_type: str) -> dict[str, Any]:
    (event,) = [
        event
        for event in events
        if event.get("eventType") == event_type and event["job"]["name"].endswith(f".{task_id}")
    ]
    return event


def datasets(event: dict[str, Any], side: str) -> set[tuple[str, str]]:
    return {(dataset["namespace"], dataset["name"]) for dataset in event.get(side) or []}


@pytest.fixture(scope="module")
def lineage_events(local_service: Any, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The events of one run of test_lineage: a job that completes (and its sensor), one that fails."""
    folder = tmp_path_factory.mktemp("lineage")
    return lineage_of_run("test_lineage", {"password": SECRET}, local_service.connection_uri(), folder)


def test_a_job_and_its_sensor_report_inputs_outputs_and_the_run_facet(
    lineage_events: list[dict[str, Any]], braket: Any
) -> None:
    events = json.loads(json.dumps(lineage_events))  # a copy: the conf is taken out below
    for event in events:
        assert schema_errors(event) == [], event
    # Hyperparameters by name only. (The OpenLineage provider's own "airflow" facet copies the DAG
    # run's conf, which here holds the secret: that is Airflow's, not this provider's, to redact.)
    for event in events:
        event["run"].get("facets", {}).get("airflow", {}).get("dagRun", {}).pop("conf", None)
    assert SECRET not in json.dumps(events)

    complete = task_event(events, "job", "COMPLETE")
    facet = complete["run"]["facets"]["braketHybridJob"]
    job = braket.get_job(jobArn=facet["jobArn"])
    assert job["status"] == "COMPLETED"
    bucket = job["outputDataConfig"]["s3Path"].removeprefix("s3://").split("/")[0]
    namespace = f"s3://{bucket}"
    channel = job["inputDataConfig"][0]["dataSource"]["s3DataSource"]["s3Uri"]
    source = job["algorithmSpecification"]["scriptModeConfig"]["s3Uri"]
    assert datasets(complete, "inputs") == {
        (namespace, channel.removeprefix(f"{namespace}/").strip("/")),
        (namespace, source.removeprefix(f"{namespace}/")),
    }
    assert datasets(complete, "outputs") == {
        (namespace, job["outputDataConfig"]["s3Path"].removeprefix(f"{namespace}/").strip("/")),
        (namespace, job["checkpointConfig"]["s3Uri"].removeprefix(f"{namespace}/").strip("/")),
    }
    assert facet["device"] == "local:braket/braket.local.qubit"
    assert facet["instanceType"] == job["instanceConfig"]["instanceType"]
    assert facet["billableDuration"] == job.get("billableDuration")
    assert facet["hyperparameterNames"] == ["db_password", "mode"]
    assert facet["metrics"] == {"loss": pytest.approx(1 / 3)}
    assert facet["cost"]["currency"] == "USD"
    assert facet["_producer"].startswith("https://")
    assert facet["_schemaURL"].startswith("https://")

    sensed = task_event(events, "sensor", "COMPLETE")
    assert sensed["run"]["facets"]["braketHybridJob"]["jobArn"] == facet["jobArn"]
    assert datasets(sensed, "outputs") == datasets(complete, "outputs")


def test_a_failed_job_reports_its_failure_and_what_it_read(
    lineage_events: list[dict[str, Any]], braket: Any
) -> None:
    for event in lineage_events:
        assert schema_errors(event) == [], event
    failed = task_event(lineage_events, "failing_job", "FAIL")
    facet = failed["run"]["facets"]["braketHybridJob"]
    assert facet["status"] == "FAILED"
    assert "the algorithm diverged" in facet["failureReason"]
    assert facet["metrics"] == {}
    assert facet["cost"]["currency"] == "USD"  # a failed job is billed too
    assert len(datasets(failed, "inputs")) == 2
    assert braket.get_job(jobArn=facet["jobArn"])["status"] == "FAILED"
