"""CreateHybridJobOperator and CancelHybridJobOperator: dag.test() against the local service."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Any

import pytest
from dagrun import forwarded, load, run, states, xcoms
from helpers import ALGORITHMS_DIR, JOBS_DIR, wait_for

from airflow_provider_braket.hooks.braket import BraketHook
from airflow_provider_braket.operators.braket import CreateHybridJobOperator

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db", "braket_connection")]
LOCAL_DEVICE = "local:braket/braket.local.qubit"


def mode_of(deferrable: bool) -> str:
    return "deferrable" if deferrable else "sync"


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_job_result_metrics_and_log_lines(deferrable: bool, capfd: pytest.CaptureFixture[str]) -> None:
    dag_run = run(load(f"test_job_{mode_of(deferrable)}"), run_conf={"mode": "metrics"})

    assert states(dag_run) == {("job", -1): "success"}
    job = xcoms(dag_run)[("job", -1)]
    assert job["status"] == "COMPLETED"
    assert job["results"] == {"mode": "metrics"}
    assert job["metrics"] == {"loss": pytest.approx(1 / 3)}
    loss = job["metricSeries"]["loss"]
    assert loss["iteration"] == [0, 1, 2]
    assert loss["value"] == pytest.approx([1, 1 / 2, 1 / 3])
    assert job["jobName"].startswith("job-")
    output = capfd.readouterr().out
    # The job's own lines reach the task log, each exactly once.
    for line in ["mode=metrics", *(f"line {n}" for n in range(40))]:
        assert forwarded(output, line) == 1, line


def test_results_larger_than_the_limit_stay_in_s3_and_the_xcom_says_where() -> None:
    dag_run = run(load("test_big_results"))

    assert states(dag_run) == {("job", -1): "success"}
    job = xcoms(dag_run)[("job", -1)]
    assert job["results"] is None
    assert job["resultsUri"] == f"{job['outputS3Path']}/output/model.tar.gz"
    assert "more than the 65536 bytes read into XCom" in job["resultsOmitted"]
    assert job["resultsUri"] in job["resultsOmitted"]
    full = BraketHook().get_results({"outputDataConfig": {"s3Path": job["outputS3Path"]}}, max_bytes=10 << 20)
    assert full is not None
    assert len(full["samples"]) == 2000


def test_hyperparameters_named_like_secrets_are_masked_in_the_task_log(
    capfd: pytest.CaptureFixture[str],
) -> None:
    password = f"pw-{uuid.uuid4().hex}"

    dag_run = run(load("test_secret_hyperparameter"), run_conf={"password": password})

    assert states(dag_run) == {("job", -1): "success"}
    # dag.test() prints the task's log lines unmasked (in a deployment the supervisor process
    # applies the masker), so what is checked is that the operator registered the value with
    # Airflow's masker, which every deployed task log goes through.
    from airflow.providers.common.compat.sdk import redact

    line = next(line for line in capfd.readouterr().out.splitlines() if "hyperparameters: " in line)
    assert password in line
    assert password not in redact(line)
    assert '"db_password": "***"' in redact(line)
    assert '"mode": "print-hyperparameters"' in redact(line)  # names that are not secret stay readable


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_failed_job_fails_the_task_with_its_reason(
    deferrable: bool, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run(load(f"test_job_{mode_of(deferrable)}"), run_conf={"mode": "fail"})

    assert states(dag_run) == {("job", -1): "failed"}
    assert "FAILED: AlgorithmError: ValueError: the algorithm diverged" in capfd.readouterr().out


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_waiting_out_of_attempts_cancels_the_job(deferrable: bool, capfd: pytest.CaptureFixture[str]) -> None:
    dag_run = run(load(f"test_attempts_{mode_of(deferrable)}"))

    assert states(dag_run) == {("job", -1): "failed"}
    output = capfd.readouterr().out
    assert "did not end within waiter_max_attempts=4" in output
    hook = BraketHook()
    job_arn = next(word for word in output.split() if word.startswith("arn:aws:braket:") and ":job/" in word)
    assert wait_for(hook.conn, job_arn.rstrip(".,;"))["status"] == "CANCELLED"


def test_without_waiting_the_job_is_returned_at_once() -> None:
    dag_run = run(load("test_no_wait"))

    job = xcoms(dag_run)[("job", -1)]
    assert job["status"] in ("QUEUED", "RUNNING")
    assert job["results"] is None
    BraketHook().cancel_job(job["jobArn"])


def test_package_source_module_input_data_and_sdk_config_objects() -> None:
    dag_run = run(load("test_package"))

    job = xcoms(dag_run)[("job", -1)]
    assert job["results"] == {"data": "1 2 3", "mode": "package"}
    described = BraketHook().get_job(job["jobArn"])
    assert described["instanceConfig"] == {
        "instanceType": "ml.c5.xlarge",
        "volumeSizeInGb": 40,
        "instanceCount": 1,
    }
    assert described["stoppingCondition"] == {"maxRuntimeInSeconds": 600}
    assert described["tags"] == {
        "team": "q",
        "airflow:dag_id": "test_package",
        "airflow:task_id": "job",
        "airflow:run_id": dag_run.run_id,
        "airflow:map_index": "-1",
    }
    assert described["inputDataConfig"][0]["channelName"] == "points"


def test_on_kill_in_the_worker_cancels_the_running_job() -> None:
    operator = CreateHybridJobOperator(
        task_id="killed",
        device=LOCAL_DEVICE,
        source_module=str(JOBS_DIR / "behaviours.py"),
        hyperparameters={"mode": "sleep"},
        waiter_delay=0.5,
    )
    failures: list[BaseException] = []

    def execute() -> None:
        try:
            operator.execute({})
        except BaseException as error:  # the cancelled job fails the task, as it should
            failures.append(error)

    worker = threading.Thread(target=execute, daemon=True)
    worker.start()
    hook = BraketHook()
    deadline = datetime.now().timestamp() + 60
    while operator.job_arn_to_cancel is None and datetime.now().timestamp() < deadline:
        threading.Event().wait(0.1)
    job_arn = operator.job_arn_to_cancel
    assert job_arn is not None
    wait_for(hook.conn, job_arn, ("RUNNING",))

    operator.on_kill()

    assert wait_for(hook.conn, job_arn)["status"] == "CANCELLED"
    worker.join(30)
    assert failures
    assert "CANCELLED" in str(failures[0])


def test_cancel_operator_cancels_and_waits() -> None:
    hook = BraketHook()
    job_arn = xcoms(run(load("test_no_wait")))[("job", -1)]["jobArn"]

    dag_run = run(load("test_cancel"), run_conf={"job_arn": job_arn})

    assert xcoms(dag_run)[("cancel", -1)] == "CANCELLED"
    assert hook.get_job(job_arn)["status"] == "CANCELLED"


BAD_INPUTS = [
    ({"job_name": "bad_name"}, "job_name (jobName)"),
    ({"role_arn": "not-a-role"}, "role_arn (roleArn)"),
    (
        {"hyperparameters": {"weights": [0.1, 0.2]}},
        "hyperparameters['weights']: must be a str, int, float or bool",
    ),
    ({"hyperparameters": {f"h{n}": n for n in range(101)}}, "hyperparameters: at most 100"),
    ({"source_module": "missing/algorithm.py"}, "source_module: 'missing/algorithm.py' does not exist"),
    ({"entry_point": "no_such_module"}, "entry_point: module 'no_such_module' is not found"),
    (
        {"source_module": str(ALGORITHMS_DIR / "vqe_h2.py"), "entry_point": "vqe_h2:no_such_function"},
        "entry_point: 'no_such_function' is not defined",
    ),
    (
        {"instance_config": {"instanceType": "ml.quantum.huge", "volumeSizeInGb": 30}},
        "instance_config (instanceConfig.instanceType)",
    ),
    ({"input_data": {"train": "/no/such/folder"}}, "input_data['train']: '/no/such/folder' does not exist"),
]


@pytest.mark.parametrize(
    ("arguments", "message"), BAD_INPUTS, ids=[m.split(":")[0].split(" ")[0] for _, m in BAD_INPUTS]
)
def test_bad_input_fails_before_any_aws_call(arguments: dict[str, Any], message: str, local_service) -> None:
    from airflow.providers.common.compat.sdk import AirflowFailException

    kwargs = {"device": LOCAL_DEVICE, "source_module": str(JOBS_DIR / "behaviours.py"), **arguments}
    operator = CreateHybridJobOperator(task_id=f"bad_{uuid.uuid4().hex[:6]}", **kwargs)
    jobs_before = len(BraketHook().search_jobs())

    with pytest.raises(AirflowFailException) as raised:
        operator.execute({})

    assert message in str(raised.value)
    assert "hook" not in vars(operator)  # no AWS client was even made
    assert len(BraketHook().search_jobs()) == jobs_before
