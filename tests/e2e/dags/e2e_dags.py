"""DAGs the end-to-end tests trigger in a real Airflow; the job's behaviour comes from params."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_braket.operators.braket import CreateHybridJobOperator
from airflow_provider_braket.sensors.braket import HybridJobSensor

START = datetime(2026, 1, 1)
BEHAVIOURS = "../../integration/jobs/behaviours.py"  # relative to this DAG file's folder
PARAMS = {"mode": "count", "ticks": 20}


def job(**kwargs):
    return CreateHybridJobOperator(
        **{
            "task_id": "job",
            "device": "local:braket/braket.local.qubit",
            "source_module": BEHAVIOURS,
            "hyperparameters": {"mode": "{{ params.mode }}", "ticks": "{{ params.ticks }}"},
            "waiter_delay": 1,
            **kwargs,
        }
    )


with DAG("e2e_deferred", schedule=None, start_date=START, params=PARAMS):
    job(deferrable=True)

with DAG("e2e_sync", schedule=None, start_date=START, params=PARAMS):
    job(deferrable=False, retries=1, retry_delay=timedelta(seconds=1))

with DAG("e2e_deferred_timeout", schedule=None, start_date=START, params={"mode": "sleep", "ticks": 0}):
    job(deferrable=True, execution_timeout=timedelta(seconds=20))

with DAG("e2e_sweep", schedule=None, start_date=START, params={"jobs": 12, "ticks": 3}):
    CreateHybridJobOperator.partial(
        task_id="job",
        device="local:braket/braket.local.qubit",
        source_module=BEHAVIOURS,
        waiter_delay=1,
        deferrable=True,
    ).expand(
        hyperparameters=[{"mode": "count", "ticks": 3, "point": point} for point in range(12)],
    )

with DAG(
    "e2e_task_log", schedule=None, start_date=START, params={"mode": "print-hyperparameters", "password": ""}
):
    # What a deployed task log shows: masked secrets, and no error lines for lookups that are
    # expected to find nothing (links and the log cursor of a task that has none yet).
    job(
        deferrable=True,
        hyperparameters={"mode": "{{ params.mode }}", "db_password": "{{ params.password }}"},
    )

with DAG("e2e_sensor", schedule=None, start_date=START, params={"mode": "count", "ticks": 8}):
    # The docs' pattern: one key of the operator's output feeds a sensor (deferred, logs forwarded).
    started = job(wait_for_completion=False)
    HybridJobSensor(
        task_id="sensor",
        job_arn=started.output["jobArn"],
        deferrable=True,
        forward_logs=True,
        poke_interval=1,
    )
