"""Hostile job inputs meet limits with a clear failureReason; ended jobs' folders do not pile up."""

from __future__ import annotations

import gzip
import io
import tarfile
import time
import uuid
from typing import Any

import pytest
from helpers import BUCKET, ensure_bucket, job_request, upload_script, wait_for
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self._left)
        buffer[:count] = bytes(count)
        self._left -= count
        return count


def _bomb(expanded: int) -> bytes:
    """A gzip tar of a few MB that expands to ``expanded`` bytes of zeros."""
    packed = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=packed, mode="wb", compresslevel=1) as compressed,
        tarfile.open(fileobj=compressed, mode="w|") as tar,
    ):
        tar.addfile(_info("entry.py", 0), io.BytesIO())
        tar.addfile(_info("zeros.bin", expanded), _Zeros(expanded))
    return packed.getvalue()


def _many_files(count: int) -> bytes:
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        for index in range(count):
            tar.addfile(_info(f"f/{index}.py", 0), io.BytesIO())
    return packed.getvalue()


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    return info


def _run_source(service: LocalServiceProcess, archive: bytes, volume_gb: int = 1) -> dict[str, Any]:
    s3, braket = service.client("s3"), service.client("braket")
    ensure_bucket(s3)
    key = f"jobs/hostile/{uuid.uuid4().hex}/source.tar.gz"
    s3.upload_fileobj(io.BytesIO(archive), BUCKET, key)
    request = job_request(
        f"s3://{BUCKET}/{key}",
        "entry",
        instanceConfig={"instanceType": "ml.m5.large", "volumeSizeInGb": volume_gb, "instanceCount": 1},
    )
    return wait_for(braket, braket.create_job(**request)["jobArn"], timeout=180)


def test_a_source_archive_that_expands_past_the_volume_fails_the_job(
    local_service: LocalServiceProcess,
) -> None:
    archive = _bomb((1 << 30) + (64 << 20))
    assert len(archive) < 8 << 20

    job = _run_source(local_service, archive, volume_gb=1)

    assert job["status"] == "FAILED"
    assert "volumeSizeInGb=1" in job["failureReason"]
    assert "zeros.bin" in job["failureReason"]
    source = local_service.data_dir / "jobs" / job["jobArn"].rsplit("/", 1)[1] / "source"
    assert not any(source.iterdir()), "nothing of a refused archive is written"


def test_a_source_archive_of_too_many_files_fails_the_job(local_service: LocalServiceProcess) -> None:
    job = _run_source(local_service, _many_files(20_001), volume_gb=30)

    assert job["status"] == "FAILED"
    assert "more than 20000 members" in job["failureReason"]


def test_ended_jobs_folders_are_removed_after_the_retention_period(own_service: LocalServiceProcess) -> None:
    own_service.extra_args = ["--job-retention-hours", str(2 / 3600)]  # two seconds
    own_service.start()
    braket, s3 = own_service.client("braket"), own_service.client("s3")
    job = braket.create_job(**job_request(upload_script(s3, "behaviours.py"), "behaviours"))
    job = wait_for(braket, job["jobArn"])
    assert job["status"] == "COMPLETED"
    folder = own_service.data_dir / "jobs" / job["jobArn"].rsplit("/", 1)[1]
    assert folder.is_dir()

    deadline = time.monotonic() + 15
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.2)

    assert not folder.exists()
    assert braket.get_job(jobArn=job["jobArn"])["status"] == "COMPLETED"  # the record stays
    logs = own_service.client("logs").describe_log_streams(logGroupName="/aws/braket/jobs")["logStreams"]
    assert any(job["jobName"] in stream["logStreamName"] for stream in logs)  # and its log
