"""DAGs of the production-shaped suite: a 20-point deferrable sweep, a sync job, and sleeping
deferrable jobs to mark failed wherever their triggers run."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_braket.operators.braket import CreateHybridJobOperator

START = datetime(2026, 1, 1)
BEHAVIOURS = "../../integration/jobs/behaviours.py"  # relative to this DAG file's folder
SWEEP_POINTS = 20
SLEEPERS = 10
COMMON = {"task_id": "job", "device": "local:braket/braket.local.qubit", "source_module": BEHAVIOURS}

with DAG("prod_sweep", schedule=None, start_date=START, max_active_tasks=SWEEP_POINTS):
    CreateHybridJobOperator.partial(**COMMON, waiter_delay=1, deferrable=True).expand(
        hyperparameters=[{"mode": "count", "ticks": 5, "point": point} for point in range(SWEEP_POINTS)],
    )

with DAG("prod_sync", schedule=None, start_date=START, params={"ticks": 40}):
    CreateHybridJobOperator(
        **COMMON,
        hyperparameters={"mode": "count", "ticks": "{{ params.ticks }}"},
        waiter_delay=1,
        deferrable=False,
        retries=1,
        retry_delay=timedelta(seconds=1),
    )

with DAG("prod_sleepers", schedule=None, start_date=START, max_active_tasks=SLEEPERS):
    CreateHybridJobOperator.partial(**COMMON, waiter_delay=1, deferrable=True).expand(
        hyperparameters=[{"mode": "sleep", "point": point} for point in range(SLEEPERS)],
    )
