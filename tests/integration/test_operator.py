"""CreateHybridJobOperator and CancelHybridJobOperator: dag.test() against the local service."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from dagrun import asset_events, forwarded, load, run, states, xcoms
from helpers import ALGORITHMS_DIR, JOBS_DIR, start_job, wait_for

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
    # Priced from the bundled snapshot: ml.m5.large at USD 0.115 an hour, no quantum tasks.
    assert job["cost"] == {
        "currency": "USD",
        "total": pytest.approx(job["billableDuration"] * 0.115 / 3600, abs=1e-6),
        "instance": pytest.approx(job["billableDuration"] * 0.115 / 3600, abs=1e-6),
        "quantumTasks": 0.0,
        "priceListDate": "2026-11-26",
    }
    output = capfd.readouterr().out
    assert "COMPLETED; cost: USD 0.00" in output
    assert "XCom not found" not in output
    # The job's own lines reach the task log, each exactly once.
    for line in ["mode=metrics", *(f"line {n}" for n in range(40))]:
        assert forwarded(output, line) == 1, line


def test_every_config_can_come_from_xcom_or_jinja() -> None:
    bucket = BraketHook().default_bucket()

    dag_run = run(load("test_configs_from_xcom"), run_conf={"bucket": bucket})

    assert states(dag_run)[("job", -1)] == "success"
    job = BraketHook().get_job(xcoms(dag_run)[("job", -1)]["jobArn"])
    assert job["instanceConfig"]["instanceType"] == "ml.c5.xlarge"
    assert job["instanceConfig"]["volumeSizeInGb"] == 40
    assert job["checkpointConfig"]["s3Uri"] == f"s3://{bucket}/shared-checkpoints/xcom"
    assert job["outputDataConfig"]["s3Path"] == f"s3://{bucket}/xcom-outputs"
    assert job["stoppingCondition"]["maxRuntimeInSeconds"] == 600
    assert job["roleArn"].endswith(":role/service-role/AmazonBraketJobsExecutionRole")
    assert job["tags"]["run"] == dag_run.run_id


def test_copy_checkpoints_from_job_code_location_and_distribution() -> None:
    hook = BraketHook()
    first = start_job(hook, "checkpoint", step=7)
    assert wait_for(hook.conn, first["jobArn"])["status"] == "COMPLETED"
    bucket = hook.default_bucket()

    dag_run = run(
        load("test_resume_from_checkpoints"), run_conf={"from_job": first["jobArn"], "bucket": bucket}
    )

    assert states(dag_run) == {("job", -1): "success"}
    second = xcoms(dag_run)[("job", -1)]
    assert second["results"]["resumed_step"] == 7  # resumed from the first job's checkpoint
    described = hook.get_job(second["jobArn"])
    script = described["algorithmSpecification"]["scriptModeConfig"]["s3Uri"]
    assert script.startswith(f"s3://{bucket}/my-code/")
    assert script.endswith("/source.tar.gz")
    assert described["hyperParameters"]["sagemaker_distributed_dataparallel_enabled"] == "true"
    assert described["hyperParameters"]["sagemaker_instance_type"] == "ml.p3.16xlarge"


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
    output = capfd.readouterr().out
    assert "FAILED: AlgorithmError: ValueError: the algorithm diverged" in output
    # Links and the log cursor are written before Airflow or the trigger reads them: a lookup
    # that is expected to find nothing must not be an error line in the task log.
    assert "XCom not found" not in output


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


@pytest.mark.parametrize("dag_id", ["test_cancel", "test_cancel_deferrable"], ids=["sync", "deferrable"])
def test_cancel_operator_cancels_and_waits(dag_id: str, capfd: pytest.CaptureFixture[str]) -> None:
    hook = BraketHook()
    job_arn = xcoms(run(load("test_no_wait")))[("job", -1)]["jobArn"]

    dag_run = run(load(dag_id), run_conf={"job_arn": job_arn})

    assert xcoms(dag_run)[("cancel", -1)] == "CANCELLED"
    assert hook.get_job(job_arn)["status"] == "CANCELLED"
    if dag_id == "test_cancel_deferrable":
        assert "Pausing task as DEFERRED" in capfd.readouterr().out


def test_cancel_operator_gives_up_after_its_attempts(
    own_service: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # A job whose cancel takes long: it ignores SIGTERM, and SIGKILL comes after a 15 s grace.
    own_service.extra_args = ["--cancel-grace", "15"]
    own_service.start()
    monkeypatch.setenv("AIRFLOW_CONN_BRAKET_DEFAULT", own_service.connection_uri())
    hook = BraketHook()
    job = start_job(hook, "sleep-ignoring-sigterm")
    wait_for(hook.conn, job["jobArn"], ("RUNNING",))
    time.sleep(2)  # the job has set its SIGTERM handler

    dag_run = run(load("test_cancel_bounded"), run_conf={"job_arn": job["jobArn"]})

    assert states(dag_run) == {("cancel", -1): "failed"}
    assert "was still CANCELLING after waiter_max_attempts=2" in capfd.readouterr().out
    assert hook.get_job(job["jobArn"])["status"] == "CANCELLING"
    assert wait_for(hook.conn, job["jobArn"], timeout=60)["status"] == "CANCELLED"


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
    ({"device": "local:braket/braket.local.qbit"}, "did you mean 'local:braket/braket.local.qubit'?"),
    (
        {"device": "arn:aws:braket:::device/quantum-simulator/amazon/sv2"},
        "did you mean 'arn:aws:braket:::device/quantum-simulator/amazon/sv1'?",
    ),
    ({"hyperparameters": {"weights": "0.1," * 1250}}, "pass large data as input_data"),
    (
        {"source_module": str(JOBS_DIR / "algo_pkg"), "entry_point": "run:main"},
        "did you mean entry_point='algo_pkg.run:main'?",
    ),
]


def test_a_missing_connection_is_named_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.common.compat.sdk import AirflowException

    for variable in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    operator = CreateHybridJobOperator(
        task_id="no_conn",
        device=LOCAL_DEVICE,
        source_module=str(JOBS_DIR / "behaviours.py"),
        aws_conn_id="no_such_conn",
    )
    with pytest.raises(
        AirflowException, match=r"connection 'no_such_conn' does not exist.*AIRFLOW_CONN_NO_SUCH_CONN"
    ):
        operator.execute({})


def test_a_misspelt_connection_fails_naming_it_even_with_credentials_about(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found: with ``aws_conn_id="braket_defualt"`` and AWS credentials in the environment, the
    amazon provider only warned "switching to empty": the task failed with NoCredentialsError, or
    on a machine with real credentials would quietly have used them."""
    from airflow.providers.common.compat.sdk import AirflowException

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    operator = CreateHybridJobOperator(
        task_id="misspelt_conn",
        device=LOCAL_DEVICE,
        source_module=str(JOBS_DIR / "behaviours.py"),
        aws_conn_id="braket_defualt",
    )
    jobs_before = len(BraketHook().search_jobs())
    with pytest.raises(AirflowException) as failed:
        operator.execute({})
    message = str(failed.value)
    assert message.startswith("aws_conn_id: the Airflow connection 'braket_defualt' does not exist.")
    assert "AIRFLOW_CONN_BRAKET_DEFUALT" in message
    assert "example-secret" not in message
    assert len(BraketHook().search_jobs()) == jobs_before


def test_a_stopped_local_service_fails_fast_saying_how_to_start_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.common.compat.sdk import AirflowException

    from airflow_provider_braket.local.service_process import LocalServiceProcess, free_port

    stopped = LocalServiceProcess(Path("/nonexistent"), port=free_port())  # never started
    monkeypatch.setenv("AIRFLOW_CONN_BRAKET_DEFAULT", stopped.connection_uri())
    operator = CreateHybridJobOperator(
        task_id="stopped", device=LOCAL_DEVICE, source_module=str(JOBS_DIR / "behaviours.py")
    )
    started = time.monotonic()
    with pytest.raises(AirflowException) as raised:
        operator.execute({})
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert stopped.endpoint in message
    assert f"braket-local serve --port {stopped.port}" in message


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


def test_a_bad_role_found_at_submission_fails_at_once_naming_it(
    monkeypatch: pytest.MonkeyPatch, local_service
) -> None:
    """The role is looked up only when submitting: the request sent is checked once more then."""
    from airflow.providers.common.compat.sdk import AirflowFailException

    monkeypatch.setenv("BRAKET_JOBS_ROLE_ARN", "my-role")  # a name, not an ARN
    operator = CreateHybridJobOperator(
        task_id=f"bad_role_{uuid.uuid4().hex[:6]}",
        device=LOCAL_DEVICE,
        source_module=str(JOBS_DIR / "behaviours.py"),
    )
    jobs_before = len(BraketHook().search_jobs())

    with pytest.raises(AirflowFailException, match=r"role_arn \(roleArn\)"):  # no retries
        operator.execute({})

    assert len(BraketHook().search_jobs()) == jobs_before


def test_a_job_task_and_a_sensor_put_the_jobs_summary_in_their_asset_events() -> None:
    dag_run = run(load("test_asset_outlets"))

    job = xcoms(dag_run)[("job", -1)]
    events = dict(asset_events(dag_run))
    assert set(events) == {"test_job_results", "test_sensed_results"}
    for extra in events.values():
        point = extra["braket"]
        assert (point["jobArn"], point["status"], point["mapIndex"]) == (job["jobArn"], "COMPLETED", -1)
        assert point["metrics"] == job["metrics"] == {"loss": pytest.approx(1 / 3)}
        assert point["cost"] == job["cost"]
        assert point["outputS3Path"] == job["outputS3Path"]
        assert "results" not in point
        assert "metricSeries" not in point


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_job_output_job_arn_feeds_a_sensor(deferrable: bool) -> None:
    """Found: ``job.output["jobArn"]`` failed with ``XComNotFound: ... key="jobArn"``: only the
    whole dict was pushed. Both keys are pushed as soon as the job exists."""
    dag_run = run(load(f"test_output_keys_{mode_of(deferrable)}"))

    assert states(dag_run) == {("job", -1): "success", ("sensor", -1): "success"}
    job = xcoms(dag_run)[("job", -1)]
    keyed = xcoms(dag_run, key="jobArn")[("job", -1)], xcoms(dag_run, key="jobName")[("job", -1)]
    assert keyed == (job["jobArn"], job["jobName"])
    assert xcoms(dag_run)[("sensor", -1)]["jobArn"] == job["jobArn"]
    # On the local service the job's link opens it in Airflow's Braket Jobs page, not the console.
    from airflow_provider_braket.links.braket import BraketJobLink, BraketJobLogsLink

    link = xcoms(dag_run, key=BraketJobLink.key)[("job", -1)]
    assert BraketJobLink().format_link(**link) == f"/braket/jobs?job={quote(job['jobArn'], safe='')}"
    # What the UI shows is the link the task computed as it ended (Airflow 3 keeps it as an XCom):
    # on Airflow >= 3.1, which has the provider's tabs, the task instance's Braket Job tab.
    shown = xcoms(dag_run, key=BraketJobLink().xcom_key)[("job", -1)]
    run_path = f"/dags/{dag_run.dag_id}/runs/{quote(dag_run.run_id, safe='')}"
    assert shown == f"{run_path}/tasks/job/plugin/braket-job"
    assert BraketJobLogsLink().format_link(**xcoms(dag_run, key=BraketJobLogsLink.key)[("job", -1)]) == ""
