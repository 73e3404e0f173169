"""kill -9 of the service mid-job: every record survives, the interrupted job is FAILED, no orphan."""

from __future__ import annotations

import re
import time

import psutil
import pytest
from helpers import job_request, results, upload_script, wait_for
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
    # the journal restored into S3, and the results of the job done before the crash are readable.
    assert wait_for(braket, queued)["status"] == "COMPLETED"
    assert results(own_service.client("s3"), braket.get_job(jobArn=done)) == {"mode": "ok"}


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
