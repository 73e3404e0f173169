"""kill -9 of the service mid-job: every record survives, the interrupted job is FAILED, no orphan,
and quantum tasks that waited in the queue run after the restart."""

from __future__ import annotations

import re
import time
from typing import Any

import psutil
import pytest
from helpers import BUCKET, ensure_bucket, job_request, results, upload_script, wait_for
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration


def test_restart_after_kill_keeps_records_and_fails_the_interrupted_job(
    own_service: LocalServiceProcess,
) -> None:
    own_service.extra_args = ["--job-slots", "1", "--job-quota", "5"]
    own_service.start()
    braket, s3 = own_service.client("braket"), own_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    done = braket.create_job(**job_request(script, "behaviours"))["jobArn"]
    wait_for(braket, done)
    interrupted = braket.create_job(**job_request(script, "behaviours", hyperParameters={"mode": "sleep"}))[
        "jobArn"
    ]
    queued = braket.create_job(**job_request(script, "behaviours"))["jobArn"]
    wait_for(braket, interrupted, ("RUNNING",))
    log_file = own_service.data_dir / "jobs" / interrupted.rsplit("/", 1)[1] / "logs" / "algo-1.log"
    deadline = time.monotonic() + 20
    while "pid=" not in (log_file.read_text() if log_file.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.1)
    job_pid = int(re.search(r"pid=(\d+)", log_file.read_text())[1])  # type: ignore[index]
    done_task, waiting_tasks = _tasks_done_and_waiting(own_service)

    own_service.kill()
    own_service.start()
    braket = own_service.client("braket")

    records = {job["jobArn"]: job for job in braket.search_jobs(filters=[])["jobs"]}
    assert set(records) == {done, interrupted, queued}
    assert records[done]["status"] == "COMPLETED"
    failed = braket.get_job(jobArn=interrupted)
    assert failed["status"] == "FAILED"
    assert "local Braket service restarted" in failed["failureReason"]
    assert failed["events"][-1]["eventType"] == "FAILED"
    assert "endedAt" in failed
    assert not _alive(job_pid), "the interrupted job's process outlived the restart"
    # The job that was only queued is not lost: it runs after the restart, from the script that
    # S3 restored from the state store, and the results of the job done before the crash are readable.
    assert wait_for(braket, queued)["status"] == "COMPLETED"
    assert results(own_service.client("s3"), braket.get_job(jobArn=done)) == {"mode": "ok"}
    _check_tasks_after_restart(own_service, done_task, waiting_tasks)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


TASK_PROGRAM = (
    '{"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, '
    '"source": "OPENQASM 3.0;\\nbit[1] b;\\nqubit[1] q;\\nx q[0];\\nb[0] = measure q[0];"}'
)


def _create_task(braket: Any) -> str:
    return str(
        braket.create_quantum_task(
            deviceArn="arn:aws:braket:::device/quantum-simulator/amazon/sv1",
            action=TASK_PROGRAM,
            shots=5,
            outputS3Bucket=BUCKET,
            outputS3KeyPrefix="restart",
        )["quantumTaskArn"]
    )


def _until_status(braket: Any, arns: list[str], status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while {braket.get_quantum_task(quantumTaskArn=arn)["status"] for arn in arns} != {status}:
        assert time.monotonic() < deadline, f"tasks did not reach {status}"
        time.sleep(0.1)


def _tasks_done_and_waiting(service: LocalServiceProcess) -> tuple[str, list[str]]:
    """One task run to the end, then two held in the queue (no task worker allowed)."""
    braket = service.client("braket")
    ensure_bucket(service.client("s3"))
    done = _create_task(braket)
    _until_status(braket, [done], "COMPLETED")  # the first task imports the simulator
    service.admin("PUT", "/_local/limits", b'{"quantumTaskWorkers": 0}')
    waiting = [_create_task(braket), _create_task(braket)]
    _until_status(braket, waiting, "QUEUED")
    return done, waiting


def _check_tasks_after_restart(service: LocalServiceProcess, done: str, waiting: list[str]) -> None:
    braket, s3 = service.client("braket"), service.client("s3")
    assert braket.get_quantum_task(quantumTaskArn=done)["status"] == "COMPLETED"
    _until_status(braket, waiting, "COMPLETED")
    for arn in (done, *waiting):
        folder = braket.get_quantum_task(quantumTaskArn=arn)["outputS3Directory"]
        body = s3.get_object(Bucket=BUCKET, Key=f"{folder}/results.json")["Body"].read()
        assert b'"measurements": [[1]' in body  # integers, as AWS writes them


def _escaped_pid(service: LocalServiceProcess, job_arn: str) -> int:
    log_file = service.data_dir / "jobs" / job_arn.rsplit("/", 1)[1] / "logs" / "algo-1.log"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"escaped pid=(\d+)", log_file.read_text() if log_file.exists() else "")
        if found:
            return int(found[1])
        time.sleep(0.1)
    raise TimeoutError(f"no escaped process in {log_file}")


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_a_completed_job_leaves_no_process_behind(own_service: LocalServiceProcess) -> None:
    own_service.start()
    braket, s3 = own_service.client("braket"), own_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    job = braket.create_job(**job_request(script, "behaviours", hyperParameters={"mode": "escape"}))

    escaped = _escaped_pid(own_service, job["jobArn"])
    assert wait_for(braket, job["jobArn"])["status"] == "COMPLETED"
    assert _gone_within(escaped, 10), "a process of a COMPLETED job is still alive"


def test_after_kill_9_a_restart_stops_every_process_of_the_job(own_service: LocalServiceProcess) -> None:
    own_service.start()
    braket, s3 = own_service.client("braket"), own_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    job = braket.create_job(
        **job_request(script, "behaviours", hyperParameters={"mode": "escape-then-sleep"})
    )
    escaped = _escaped_pid(own_service, job["jobArn"])
    leader = braket.get_job(jobArn=job["jobArn"])  # RUNNING, its leader recorded
    assert leader["status"] == "RUNNING"

    own_service.kill()
    assert _alive(escaped), "the escaped grandchild should outlive the service's kill -9"
    own_service.start()

    assert _gone_within(escaped, 15), "a process of the interrupted job outlived the restart"
    assert own_service.client("braket").get_job(jobArn=job["jobArn"])["status"] == "FAILED"


def test_a_second_service_on_the_same_data_dir_is_refused_until_the_first_is_gone(
    own_service: LocalServiceProcess,
) -> None:
    """Found: two services started on one data dir both ran, each resuming the other's jobs as its
    own and writing the same records. The second is refused, naming the first; a killed first
    service leaves no lock behind."""
    own_service.start()
    assert own_service.process is not None
    second = LocalServiceProcess(own_service.data_dir)
    with pytest.raises(RuntimeError, match="local service exited") as refused:
        second.start(timeout=30)
    assert f"is in use by another braket-local (pid {own_service.process.pid})" in str(refused.value)
    assert second.process is not None
    assert second.process.returncode == 2
    own_service.client("braket").search_jobs(filters=[])  # the first one is undisturbed

    own_service.kill()  # kill -9: the kernel drops the lock with the process
    second.start(timeout=60)
    try:
        assert second.client("braket").search_jobs(filters=[])["jobs"] == []
    finally:
        second.stop()
