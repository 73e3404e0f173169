"""Jobs that really run on the local service: the Braket SDK unchanged, cancel, failures, limits."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
from helpers import (
    ALGORITHMS_DIR,
    BUCKET,
    H2,
    JOBS_DIR,
    ensure_bucket,
    job_request,
    results,
    tar_gz,
    upload_script,
    wait_for,
)
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration


def exact_ground_energy(hamiltonian: list[list]) -> float:
    paulis = {
        "I": np.eye(2),
        "X": np.array([[0, 1], [1, 0]]),
        "Y": np.array([[0, -1j], [1j, 0]]),
        "Z": np.diag([1, -1]),
    }
    matrix = sum(coefficient * np.kron(paulis[word[0]], paulis[word[1]]) for coefficient, word in hamiltonian)
    return float(np.linalg.eigvalsh(matrix)[0])


@pytest.mark.parametrize(
    "device", ["local:braket/braket.local.qubit", "arn:aws:braket:::device/quantum-simulator/amazon/sv1"]
)
def test_braket_sdk_runs_a_vqe_job_unchanged(
    device: str,
    local_service: LocalServiceProcess,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from braket.aws import AwsQuantumJob, AwsSession

    for name, value in local_service.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # job.result() downloads model.tar.gz into the working directory
    job = AwsQuantumJob.create(
        device=device,
        source_module=str(ALGORITHMS_DIR / "vqe_h2.py"),
        hyperparameters={"hamiltonian": json.dumps(H2), "iterations": "25"},
        aws_session=AwsSession(boto_session=local_service.session()),
        wait_until_complete=False,
    )
    deadline = time.monotonic() + 180
    while job.state() not in AwsQuantumJob.TERMINAL_STATES and time.monotonic() < deadline:
        time.sleep(0.5)
    assert job.state() == "COMPLETED", job.metadata().get("failureReason")

    result = job.result(poll_interval_seconds=0.1)
    assert result["energy"] == pytest.approx(exact_ground_energy(H2), abs=1e-3)
    assert result["energy"] == pytest.approx(-1.851199, abs=1e-3)

    job.logs(poll_interval_seconds=0)
    printed = capsys.readouterr().out
    assert "ground-state energy estimate" in printed
    assert "Running Code As Process" in printed

    logs = local_service.client("logs")
    name = job.metadata()["jobName"]
    streams = logs.describe_log_streams(logGroupName="/aws/braket/jobs", logStreamNamePrefix=f"{name}/")
    stream = streams["logStreams"][0]["logStreamName"]
    assert re.fullmatch(rf"{name}/{job.arn.rsplit('/', 1)[1]}/algo-1-\d+", stream)
    messages = [
        e["message"]
        for e in logs.get_log_events(logGroupName="/aws/braket/jobs", logStreamName=stream)["events"]
    ]
    metric_lines = [line for line in messages if line.startswith("Metrics - ")]
    assert len(metric_lines) == 25
    assert re.search(r"energy=-1\.8\d+;", metric_lines[-1])
    # On SV1 every energy is a quantum task of the job (2 + 25 golden-section steps).
    assert len(job.get_tasks()) == (0 if device.startswith("local:") else 27)


def test_cancel_stops_the_whole_process_tree_within_5s(local_service: LocalServiceProcess) -> None:
    braket, s3 = local_service.client("braket"), local_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    request = job_request(script, "behaviours", hyperParameters={"mode": "spawn"})
    job_arn = braket.create_job(**request)["jobArn"]
    wait_for(braket, job_arn, ("RUNNING",))
    job_dir = local_service.data_dir / "jobs" / job_arn.rsplit("/", 1)[1]
    pids = _wait_for_pids(job_dir / "logs" / "algo-1.log", count=2)
    assert all(psutil.pid_exists(pid) for pid in pids)

    asked = time.monotonic()
    assert braket.cancel_job(jobArn=job_arn)["cancellationStatus"] == "CANCELLING"
    job = wait_for(braket, job_arn, timeout=10)
    assert job["status"] == "CANCELLED"
    assert time.monotonic() - asked < 5
    assert job["events"][-1]["eventType"] == "CANCELLED"
    assert not [pid for pid in pids if _alive(pid)], "a process of the cancelled job is still running"


LOG_GROUP = "/aws/braket/jobs"


def _log_messages(local_service: LocalServiceProcess, job: dict[str, Any]) -> list[str]:
    logs = local_service.client("logs")
    prefix = f"{job['jobName']}/"
    (stream,) = logs.describe_log_streams(logGroupName="/aws/braket/jobs", logStreamNamePrefix=prefix)[
        "logStreams"
    ]
    events = logs.get_log_events(
        logGroupName=LOG_GROUP, logStreamName=stream["logStreamName"], startFromHead=True
    )["events"]
    return [event["message"] for event in events]


def test_the_log_has_the_lines_aws_container_and_toolkit_write(local_service: LocalServiceProcess) -> None:
    """Found: the job's log lacked what AWS's container writes around the code (SageMaker's
    training toolkit names the command and reports SUCCESS or FAILURE; braket_container.py
    prints boto3's version), so a tool reading them worked on AWS only."""
    braket, s3 = local_service.client("braket"), local_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    done = wait_for(braket, braket.create_job(**job_request(script, "behaviours"))["jobArn"])
    assert done["status"] == "COMPLETED", done.get("failureReason")
    lines = _log_messages(local_service, done)
    text = "\n".join(lines)
    toolkit = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} sagemaker-training-toolkit "
    assert re.match(toolkit + "INFO     Invoking user script$", lines[0])
    command = lines[lines.index("Invoking script with the following command:") + 2]
    assert re.fullmatch(r"\S*python\S* \S+/code/braket_container\.py", command)
    assert '"user_entry_point": "braket_container.py"' in text
    assert "SM_USER_ENTRY_POINT=braket_container.py" in text
    order = ["Boto3 Version: ", "Beginning Setup", "Running Code As Process", "Code Run Finished"]
    positions = [next(i for i, line in enumerate(lines) if line.startswith(mark)) for mark in order]
    assert positions == sorted(positions)
    assert re.fullmatch(toolkit + "INFO     Reporting training SUCCESS", lines[-1])
    assert "FAILURE" not in text

    failed = wait_for(
        braket,
        braket.create_job(**job_request(script, "behaviours", hyperParameters={"mode": "fail"}))["jobArn"],
    )
    lines = _log_messages(local_service, failed)
    reported = lines[lines.index(next(line for line in lines if "Reporting training FAILURE" in line)) :]
    assert re.fullmatch(toolkit + "ERROR    Reporting training FAILURE", reported[0])
    assert re.fullmatch(toolkit + "ERROR    ExecuteUserScriptError:", reported[1])
    assert reported[2:4] == ["ExitCode 1", 'ErrorMessage ""']
    assert re.fullmatch(r'Command "\S+ \S+/braket_container\.py"', reported[4])
    assert re.fullmatch(toolkit + "ERROR    Encountered exit_code 1", reported[5])
    assert "Reporting training SUCCESS" not in "\n".join(lines)


def test_failure_reason_has_the_algorithm_error_form(local_service: LocalServiceProcess) -> None:
    braket, s3 = local_service.client("braket"), local_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    failed = wait_for(
        braket,
        braket.create_job(**job_request(script, "behaviours", hyperParameters={"mode": "fail"}))["jobArn"],
    )
    assert failed["status"] == "FAILED"
    assert failed["failureReason"] == "AlgorithmError: ValueError: the algorithm diverged, exit code: 1"
    # Found: a failed job still uploaded output/model.tar.gz (behaviours.py writes results.json
    # before it fails); AWS's container uploads the results folder only on success.
    bucket, _, prefix = failed["outputDataConfig"]["s3Path"].removeprefix("s3://").partition("/")
    uploaded = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/output/").get("KeyCount", 0)
    assert uploaded == 0
    exited = wait_for(
        braket,
        braket.create_job(**job_request(script, "behaviours", hyperParameters={"mode": "exit3"}))["jobArn"],
    )
    # sys.exit is no Exception to the container: nothing is written to the failure file.
    assert exited["failureReason"] == "AlgorithmError: the process exited with a non-zero code, exit code: 3"
    # A module entry point runs like `python -m`: runpy's ImportError, caught in the child.
    missing = wait_for(braket, braket.create_job(**job_request(script, "no_such_module"))["jobArn"])
    assert (
        missing["failureReason"]
        == "AlgorithmError: ImportError: No module named no_such_module, exit code: 1"
    )


def test_user_modules_named_like_service_modules_win_inside_the_job(
    local_service: LocalServiceProcess,
) -> None:
    """The job sees its own code and installed packages, never the service's modules."""
    braket, s3 = local_service.client("braket"), local_service.client("s3")
    ensure_bucket(s3)
    folder = JOBS_DIR / "shadowing"
    key = f"jobs/shadowing/{uuid.uuid4().hex}/source.tar.gz"
    s3.put_object(Bucket=BUCKET, Key=key, Body=tar_gz({p.name: p.read_bytes() for p in folder.glob("*.py")}))
    job = wait_for(
        braket, braket.create_job(**job_request(f"s3://{BUCKET}/{key}", "shadow_main:run"))["jobArn"]
    )
    assert job["status"] == "COMPLETED", job.get("failureReason")
    saved = results(s3, job)
    assert saved["config"] == saved["errors"] == "user"
    assert saved["psutil"] == "installed"
    assert saved["service_visible"] is False
    assert saved["source_last_on_path"] is True
    assert saved["cwd"].endswith("/source")


def test_max_runtime_is_enforced(local_service: LocalServiceProcess) -> None:
    braket, s3 = local_service.client("braket"), local_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    request = job_request(
        script, "behaviours", hyperParameters={"mode": "sleep"}, stoppingCondition={"maxRuntimeInSeconds": 2}
    )
    job = wait_for(braket, braket.create_job(**request)["jobArn"], timeout=20)
    assert job["status"] == "FAILED"
    assert "maximum runtime of 2 seconds" in job["failureReason"]
    assert "MAX_RUNTIME_EXCEEDED" in [event["eventType"] for event in job["events"]]
    assert 2 <= job["billableDuration"] <= 8


def test_job_contract_entry_function_channels_and_checkpoints(local_service: LocalServiceProcess) -> None:
    braket, s3 = local_service.client("braket"), local_service.client("s3")
    script = upload_script(s3, "typed_entry.py")
    for name in ("a.csv", "b.csv"):
        s3.put_object(Bucket=BUCKET, Key=f"inputs/train/{name}", Body=b"1,2\n")
    s3.put_object(Bucket=BUCKET, Key="checkpoints/contract/old.json", Body=b"{}")
    request = job_request(
        script,
        "typed_entry:run",
        hyperParameters={"count": "3", "scale": "1.5", "verbose": "true"},
        inputDataConfig=[
            {"channelName": "train", "dataSource": {"s3DataSource": {"s3Uri": f"s3://{BUCKET}/inputs/train"}}}
        ],
        checkpointConfig={"s3Uri": f"s3://{BUCKET}/checkpoints/contract"},
    )
    job = wait_for(braket, braket.create_job(**request)["jobArn"])
    assert job["status"] == "COMPLETED", job.get("failureReason")
    saved = results(s3, job)
    assert saved["product"] == 4.5
    assert saved["verbose"] is True
    assert saved["label"] == "none"
    assert saved["channel_files"] == ["a.csv", "b.csv"]
    assert saved["restored"] == ["old.json"]
    env = saved["env"]
    assert env["AMZN_BRAKET_JOB_NAME"] == request["jobName"]
    assert env["AMZN_BRAKET_DEVICE_ARN"] == "local:braket/braket.local.qubit"
    assert env["AMZN_BRAKET_OUT_S3_BUCKET"] == BUCKET
    assert env["AMZN_BRAKET_TASK_RESULTS_S3_URI"] == f"s3://{BUCKET}/jobs/{request['jobName']}/tasks"
    assert env["AMZN_BRAKET_SCRIPT_ENTRY_POINT"] == "typed_entry:run"
    assert env["AMZN_BRAKET_SCRIPT_COMPRESSION_TYPE"] == "GZIP"
    for name in (
        "AMZN_BRAKET_HP_FILE",
        "AMZN_BRAKET_INPUT_DIR",
        "AMZN_BRAKET_JOB_RESULTS_DIR",
        "AMZN_BRAKET_CHECKPOINT_DIR",
    ):
        assert Path(env[name]).is_relative_to(local_service.data_dir)
    uploaded = s3.list_objects_v2(Bucket=BUCKET, Prefix="checkpoints/contract/")["Contents"]
    assert {item["Key"] for item in uploaded} == {
        "checkpoints/contract/old.json",
        "checkpoints/contract/progress.json",
    }


def test_input_channels_take_every_key_that_starts_with_their_prefix(
    local_service: LocalServiceProcess,
) -> None:
    """SageMaker's S3Prefix: ``.../requirements`` takes ``requirements.txt``; paths are relative to
    the prefix when it names a folder, else to its parent (the Braket SDK's local mode's rule)."""
    braket, s3 = local_service.client("braket"), local_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    for key in (
        "channels/reqs/requirements.txt",
        "channels/train/a.csv",
        "channels/train/sub/b.csv",
        "channels/training-extra/c.csv",
    ):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"1\n")

    def channel(name: str, key: str) -> dict[str, Any]:
        return {"channelName": name, "dataSource": {"s3DataSource": {"s3Uri": f"s3://{BUCKET}/{key}"}}}

    request = job_request(
        script,
        "behaviours",
        hyperParameters={"mode": "list-inputs"},
        inputDataConfig=[
            channel("deps", "channels/reqs/requirements"),
            channel("folder", "channels/reqs"),
            channel("slash", "channels/train/"),
            channel("mixed", "channels/tr"),
        ],
    )
    job = wait_for(braket, braket.create_job(**request)["jobArn"])
    assert job["status"] == "COMPLETED", job.get("failureReason")
    assert results(s3, job)["files"] == [
        "deps/requirements.txt",
        "folder/requirements.txt",
        "mixed/train/a.csv",
        "mixed/train/sub/b.csv",
        "mixed/training-extra/c.csv",
        "slash/a.csv",
        "slash/sub/b.csv",
    ]

    empty = job_request(script, "behaviours", inputDataConfig=[channel("none", "channels/nothing-here")])
    failed = wait_for(braket, braket.create_job(**empty)["jobArn"])
    assert failed["status"] == "FAILED"
    assert (
        f"no S3 objects found under S3 URL 's3://{BUCKET}/channels/nothing-here'" in failed["failureReason"]
    )


def test_single_file_source_without_compression(local_service: LocalServiceProcess) -> None:
    braket, s3 = local_service.client("braket"), local_service.client("s3")
    ensure_bucket(s3)
    s3.put_object(Bucket=BUCKET, Key="plain/behaviours.py", Body=(JOBS_DIR / "behaviours.py").read_bytes())
    request = job_request(f"s3://{BUCKET}/plain/behaviours.py", "behaviours")
    request["algorithmSpecification"]["scriptModeConfig"]["compressionType"] = "NONE"
    assert wait_for(braket, braket.create_job(**request)["jobArn"])["status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("member", "kind"),
    [
        ("../escape.txt", "file"),
        ("/tmp/braket-local-absolute.txt", "file"),
        ("link", "symlink"),
        ("dev", "device"),
    ],
)
def test_unsafe_tarballs_are_refused_and_write_nothing_outside(
    local_service: LocalServiceProcess, member: str, kind: str
) -> None:
    import io
    import tarfile

    braket, s3 = local_service.client("braket"), local_service.client("s3")
    ensure_bucket(s3)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        safe = tarfile.TarInfo("behaviours.py")
        code = (JOBS_DIR / "behaviours.py").read_bytes()
        safe.size = len(code)
        archive.addfile(safe, io.BytesIO(code))
        info = tarfile.TarInfo(member)
        if kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, "../../../../outside.txt"
            archive.addfile(info)
        elif kind == "device":
            info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
            archive.addfile(info)
        else:
            info.size = 4
            archive.addfile(info, io.BytesIO(b"evil"))
    key = f"unsafe/{kind}/source.tar.gz"
    s3.put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue())
    job = wait_for(braket, braket.create_job(**job_request(f"s3://{BUCKET}/{key}", "behaviours"))["jobArn"])
    assert job["status"] == "FAILED"
    assert "refused archive member" in job["failureReason"]
    source = local_service.data_dir / "jobs" / job["jobArn"].rsplit("/", 1)[1] / "source"
    assert list(source.iterdir()) == []  # refused whole: not even the safe member was written
    assert not Path("/tmp/braket-local-absolute.txt").exists()
    assert not (local_service.data_dir / "jobs" / "escape.txt").exists()


def test_container_images_local_mode_cannot_run_are_refused(local_service: LocalServiceProcess) -> None:
    braket = local_service.client("braket")
    request = job_request(f"s3://{BUCKET}/any.tar.gz", "x")
    request["algorithmSpecification"]["containerImage"] = {
        "uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1"
    }
    with pytest.raises(braket.exceptions.ValidationException, match="local mode cannot run container image"):
        braket.create_job(**request)
    request["algorithmSpecification"]["containerImage"] = {
        "uri": "292282985366.dkr.ecr.us-east-1.amazonaws.com/amazon-braket-base-jobs:latest"
    }
    assert braket.create_job(**request)["jobArn"]


def _wait_for_pids(log_file: Path, count: int, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_file.read_text() if log_file.exists() else ""
        pids = [int(pid) for pid in re.findall(r"pid=(\d+)", text)]
        if len(pids) >= count:
            return pids
        time.sleep(0.1)
    raise TimeoutError(f"fewer than {count} pids in {log_file}")


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_cancel_uploads_checkpoints(local_service: LocalServiceProcess) -> None:
    braket, s3 = local_service.client("braket"), local_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    request = job_request(
        script,
        "behaviours",
        hyperParameters={"mode": "checkpoint-then-sleep"},
        checkpointConfig={"s3Uri": f"s3://{BUCKET}/checkpoints/cancelled"},
    )
    job_arn = braket.create_job(**request)["jobArn"]
    log_file = local_service.data_dir / "jobs" / job_arn.rsplit("/", 1)[1] / "logs" / "algo-1.log"
    deadline = time.monotonic() + 30
    while "checkpoint written" not in (log_file.read_text() if log_file.exists() else ""):
        assert time.monotonic() < deadline, "the job never wrote its checkpoint"
        time.sleep(0.1)
    braket.cancel_job(jobArn=job_arn)
    assert wait_for(braket, job_arn, timeout=10)["status"] == "CANCELLED"
    keys = [
        item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="checkpoints/cancelled/")["Contents"]
    ]
    assert keys == ["checkpoints/cancelled/step.json"]


def test_checkpoints_reach_s3_while_the_job_runs(local_service: LocalServiceProcess) -> None:
    """As on AWS, a checkpoint is in S3 within seconds, so a crash or kill does not lose it."""
    braket, s3 = local_service.client("braket"), local_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    prefix = f"checkpoints/running-{uuid.uuid4().hex[:8]}/"
    request = job_request(
        script,
        "behaviours",
        hyperParameters={"mode": "checkpoint-then-sleep"},
        checkpointConfig={"s3Uri": f"s3://{BUCKET}/{prefix}"},
    )
    job_arn = braket.create_job(**request)["jobArn"]
    deadline = time.monotonic() + 60
    while s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("KeyCount", 0) == 0:
        assert time.monotonic() < deadline, "the checkpoint never reached S3"
        time.sleep(0.2)
    assert braket.get_job(jobArn=job_arn)["status"] == "RUNNING"
    body = s3.get_object(Bucket=BUCKET, Key=f"{prefix}step.json")["Body"].read()
    assert json.loads(body) == {"step": 1}
    # A process killed without warning (as an instance failure would) leaves the checkpoint there.
    job_folder = local_service.data_dir / "jobs" / job_arn.rsplit("/", 1)[1]
    pid = next(
        process.pid
        for process in psutil.process_iter(["cmdline"])
        if str(job_folder / "code") in " ".join(process.info["cmdline"] or [])
    )
    psutil.Process(pid).kill()
    assert wait_for(braket, job_arn, timeout=30)["status"] == "FAILED"
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["KeyCount"] == 1
