"""DAGs the integration tests run with dag.test(); behaviour picked by params (run_conf)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG

from airflow_provider_braket.operators.braket import CancelHybridJobOperator, CreateHybridJobOperator
from airflow_provider_braket.operators.sweep import SuggestPointsOperator
from airflow_provider_braket.sensors.braket import HybridJobSensor
from airflow_provider_braket.sweeps import FloatRange, IntRange, SearchSpace, Study

JOBS = Path(__file__).parents[1] / "jobs"
LOCAL_DEVICE = "local:braket/braket.local.qubit"
START = datetime(2026, 1, 1)


def job_task(**kwargs):
    arguments = {
        "task_id": "job",
        "device": LOCAL_DEVICE,
        "source_module": "../jobs/behaviours.py",  # relative to this DAG file's folder
        "hyperparameters": {"mode": "{{ params.mode }}"},
        "waiter_delay": 0.5,
        **kwargs,
    }
    return CreateHybridJobOperator(**arguments)


for mode_name, deferrable in (("sync", False), ("deferrable", True)):
    with DAG(f"test_job_{mode_name}", schedule=None, start_date=START, params={"mode": "ok"}):
        job_task(deferrable=deferrable)

    with DAG(f"test_attempts_{mode_name}", schedule=None, start_date=START, params={"mode": "sleep"}):
        job_task(deferrable=deferrable, waiter_max_attempts=4)

    with DAG(f"test_sensor_{mode_name}", schedule=None, start_date=START, params={"job_arn": ""}):
        HybridJobSensor(
            task_id="sensor", job_arn="{{ params.job_arn }}", deferrable=deferrable, poke_interval=0.5
        )

    with DAG(f"test_output_keys_{mode_name}", schedule=None, start_date=START, params={"mode": "metrics"}):
        # The way Airflow users take one key of an operator's output: job.output["jobArn"].
        started = job_task(wait_for_completion=False, deferrable=deferrable)
        HybridJobSensor(
            task_id="sensor", job_arn=started.output["jobArn"], deferrable=deferrable, poke_interval=0.5
        )

with DAG("test_no_wait", schedule=None, start_date=START, params={"mode": "sleep"}):
    job_task(wait_for_completion=False)

with DAG("test_package", schedule=None, start_date=START, params={"mode": "package"}):
    from braket.jobs.config import InstanceConfig, StoppingCondition

    job_task(
        source_module=str(JOBS / "algo_pkg"),
        entry_point="algo_pkg.run:main",
        input_data={"points": str(JOBS / "points.txt")},
        instance_config=InstanceConfig(instanceType="ml.c5.xlarge", volumeSizeInGb=40),
        stopping_condition=StoppingCondition(maxRuntimeInSeconds=600),
        tags={"team": "q"},
    )

with DAG("test_cancel", schedule=None, start_date=START, params={"job_arn": ""}):
    CancelHybridJobOperator(task_id="cancel", job_arn="{{ params.job_arn }}", waiter_delay=0.5)

with DAG("test_cancel_deferrable", schedule=None, start_date=START, params={"job_arn": ""}):
    CancelHybridJobOperator(
        task_id="cancel", job_arn="{{ params.job_arn }}", waiter_delay=0.5, deferrable=True
    )

with DAG("test_cancel_bounded", schedule=None, start_date=START, params={"job_arn": ""}):
    CancelHybridJobOperator(
        task_id="cancel", job_arn="{{ params.job_arn }}", waiter_delay=0.5, waiter_max_attempts=2
    )

with DAG("test_execution_timeout_sync", schedule=None, start_date=START, params={"mode": "sleep"}):
    job_task(deferrable=False, execution_timeout=timedelta(seconds=6))

with DAG("test_secret_hyperparameter", schedule=None, start_date=START, params={"password": ""}):
    job_task(hyperparameters={"mode": "print-hyperparameters", "db_password": "{{ params.password }}"})

with DAG("test_big_results", schedule=None, start_date=START, params={"mode": "big-results"}):
    job_task(max_results_bytes=64 * 1024)

with DAG("test_configs_from_xcom", schedule=None, start_date=START, params={"bucket": ""}):
    from airflow.sdk import task

    @task(multiple_outputs=True)
    def configs(bucket: str) -> dict:
        # Every config computed upstream, as a DAG author would (sizes from data, paths from a run).
        return {
            "instance_config": {"instanceType": "ml.c5.xlarge", "volumeSizeInGb": 40, "instanceCount": 1},
            "checkpoint_config": {"s3Uri": f"s3://{bucket}/shared-checkpoints/xcom"},
            "output_data_config": {"s3Path": f"s3://{bucket}/xcom-outputs"},
            "stopping_condition": {"maxRuntimeInSeconds": 600},
            "create_job_kwargs": {"associations": []},
        }

    computed = configs("{{ params.bucket }}")
    computed >> job_task(
        hyperparameters={"mode": "ok"},
        instance_config=computed["instance_config"],
        checkpoint_config=computed["checkpoint_config"],
        output_data_config=computed["output_data_config"],
        stopping_condition=computed["stopping_condition"],
        create_job_kwargs=computed["create_job_kwargs"],
        role_arn="arn:aws:iam::123456789012:role/{{ 'service-role/AmazonBraketJobsExecutionRole' }}",
        region_name="{{ 'us-east-1' }}",
        tags={"run": "{{ run_id }}"},
    )

with DAG(
    "test_resume_from_checkpoints", schedule=None, start_date=START, params={"from_job": "", "bucket": ""}
):
    job_task(
        hyperparameters={"mode": "resume"},
        copy_checkpoints_from_job="{{ params.from_job }}",
        code_location="s3://{{ params.bucket }}/my-code/{{ run_id | replace(':', '-') }}",
        distribution="data_parallel",
        instance_config={"instanceType": "ml.p3.16xlarge", "volumeSizeInGb": 30, "instanceCount": 1},
    )

for mode_name, deferrable in (("sync", False), ("deferrable", True)):
    with DAG(f"test_max_cost_{mode_name}", schedule=None, start_date=START, params={"max_cost": "0.0001"}):
        # ml.m5.large at USD 0.115 an hour: USD 0.0001 is about 3 s of a job that sleeps 10 minutes.
        job_task(deferrable=deferrable, hyperparameters={"mode": "sleep"}, max_cost="{{ params.max_cost }}")

with DAG("test_max_cost_quiet", schedule=None, start_date=START, params={"max_cost": "0.0001"}):
    # Deferred without log forwarding: the poller wakes the trigger only on status changes, so
    # the trigger must look at the cost on its own.
    job_task(
        deferrable=True,
        forward_logs=False,
        hyperparameters={"mode": "sleep"},
        max_cost="{{ params.max_cost }}",
    )

with DAG("test_run_budget", schedule=None, start_date=START, params={"budget": "0.0004"}):
    # Six points of a sweep, one after the other, each a job of about 3 s (~USD 0.0001 of
    # ml.m5.large): a budget of USD 0.0004 covers three or four of them.
    CreateHybridJobOperator.partial(
        task_id="sweep",
        device=LOCAL_DEVICE,
        source_module="../jobs/behaviours.py",
        waiter_delay=0.5,
        run_budget="{{ params.budget }}",
        max_active_tis_per_dagrun=1,
    ).expand(hyperparameters=[{"mode": "count", "ticks": "3", "point": str(n)} for n in range(6)])

with DAG("test_unpriced_cap", schedule=None, start_date=START, params={"mode": "ok"}):
    job_task(instance_config={"instanceType": "ml.c5.xlarge", "volumeSizeInGb": 30}, max_cost=1)

with DAG("test_monthly_budget", schedule=None, start_date=START):
    # USD 0.00005 is under 2 s of ml.m5.large: the first run's job exceeds it and is cancelled; a
    # later run of this DAG in the same month finds it spent and creates no job.
    job_task(hyperparameters={"mode": "sleep"}, monthly_budget=0.00005)

with DAG("test_lineage", schedule=None, start_date=START, params={"password": ""}):
    # A job with an input channel and a secret-looking hyperparameter, then a sensor on the same job:
    # both report it to OpenLineage; beside them a job that fails (tests/integration/test_lineage.py).
    # One run for both: most of an `airflow dags test` run's time is its start.
    lineage_job = {"input_data": {"points": str(JOBS / "points.txt")}}
    secret = {"db_password": "{{ params.password }}"}
    job_task(**lineage_job, hyperparameters={"mode": "metrics", **secret}) >> HybridJobSensor(
        task_id="sensor", job_arn="{{ ti.xcom_pull(task_ids='job')['jobArn'] }}", poke_interval=0.5
    )
    job_task(task_id="failing_job", **lineage_job, hyperparameters={"mode": "fail", **secret})

with DAG("test_asset_outlets", schedule=None, start_date=START, params={"mode": "metrics"}):
    from airflow.sdk import Asset

    # One job's task and a sensor on the same job, each publishing the job to an asset.
    job_task(outlets=[Asset(name="test_job_results")]) >> HybridJobSensor(
        task_id="sensor",
        job_arn="{{ ti.xcom_pull(task_ids='job')['jobArn'] }}",
        poke_interval=0.5,
        outlets=[Asset(name="test_sensed_results")],
    )

# Studies (tests/integration/test_sweeps.py): each keeps its trials in the database of the
# connection braket_studies_test, which each test points at a file of its own.


def study_dag(dag_id: str, study: Study, count: int, deferrable: bool, **point: Any) -> None:
    """A DAG that asks ``study`` for ``count`` points and runs a job per point."""
    with DAG(dag_id, schedule=None, start_date=START):
        suggest = SuggestPointsOperator(task_id="suggest", study=study, count=count)
        CreateHybridJobOperator.partial(
            task_id="point",
            device=LOCAL_DEVICE,
            source_module="../jobs/behaviours.py",
            waiter_delay=0.5,
            deferrable=deferrable,
            **point,
        ).expand_kwargs(suggest.output)


QUADRATIC = SearchSpace(
    {"x": FloatRange(0.0, 1.0, step=0.25), "p": IntRange(1, 3)}, fixed={"mode": "objective"}
)
for sampler, deferrable in (("grid", False), ("tpe", True)):
    quadratic = Study(
        "quadratic",
        QUADRATIC,
        {"direction": "minimize", "results_key": "score"},
        sampler=sampler,
        seed=7,
        conn_id="braket_studies_test",
    )
    study_dag(f"test_study_{sampler}", quadratic, 3, deferrable)

# A study with a pruner: one point a run, of 30 half-second steps; test_sweeps.py seeds the study
# with two far better points, so the median pruner stops this one after its warm-up step.
LONG_OBJECTIVE = SearchSpace(
    {"x": FloatRange(0.0, 1.0), "p": IntRange(1, 3)},
    fixed={"mode": "objective", "steps": "30", "tick_seconds": "0.5"},
)
for mode_name, deferrable in (("sync", False), ("deferrable", True)):
    pruned = Study(
        "pruned",
        LONG_OBJECTIVE,
        {"direction": "minimize", "metric": "loss"},
        sampler="optuna-random",
        seed=3,
        pruner="median",
        pruner_options={"n_startup_trials": 2, "n_warmup_steps": 1},
        conn_id="braket_studies_test",
    )
    # Pruning reads the metric whether or not the lines are forwarded.
    study_dag(f"test_study_pruned_{mode_name}", pruned, 1, deferrable, forward_logs=not deferrable)
