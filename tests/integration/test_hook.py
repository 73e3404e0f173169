"""BraketHook against the local service over HTTP, with real boto3 and aiobotocore clients."""

from __future__ import annotations

import asyncio
import contextlib
import io
import tarfile
import time
import uuid
from pathlib import Path

import pytest
from helpers import ALGORITHMS_DIR, BUCKET, ROLE, start_job, wait_for

from airflow_provider_braket.hooks.braket import BraketHook
from airflow_provider_braket.jobs.logs import LogCursor
from airflow_provider_braket.jobs.models import RequestValidationError
from airflow_provider_braket.jobs.request import HybridJobSpec, JobLocation

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("braket_connection")]


@pytest.fixture
def hook() -> BraketHook:
    return BraketHook()


def new_job(hook: BraketHook, mode: str = "ok", name: str | None = None) -> dict:
    return start_job(hook, mode, name or f"hook-{mode}-{uuid.uuid4().hex[:8]}")


def finished(hook: BraketHook, job_arn: str) -> dict:
    return wait_for(hook.conn, job_arn)


def test_default_bucket_role_and_sdk_layout(hook: BraketHook, local_service) -> None:
    assert hook.default_bucket() == BUCKET
    assert hook.jobs_role_arn() == ROLE
    location = JobLocation(BUCKET, "layout", "1700000000000")
    uri = hook.upload_source_module(ALGORITHMS_DIR / "vqe_h2.py", location)

    assert uri == f"s3://{BUCKET}/jobs/layout/1700000000000/script/source.tar.gz"
    body = local_service.client("s3").get_object(Bucket=BUCKET, Key=uri.split(f"{BUCKET}/")[1])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert tar.getnames() == ["vqe_h2.py"]  # the SDK's layout: the module's own name at the root


def test_create_get_search_and_results_of_a_job(hook: BraketHook) -> None:
    job = new_job(hook, "metrics")
    done = finished(hook, job["jobArn"])

    assert done["status"] == "COMPLETED"
    assert "queueInfo" in job
    assert hook.get_results(done) == {"mode": "metrics"}
    metrics = hook.get_metrics(done["jobName"], done["jobArn"])
    assert [record["loss"] for record in metrics] == pytest.approx([1.0, 0.5, 1 / 3])
    found = hook.search_jobs([{"name": "jobName", "operator": "EQUAL", "values": [done["jobName"]]}])
    assert [summary["jobArn"] for summary in found] == [done["jobArn"]]


def test_search_jobs_reads_every_page(hook: BraketHook) -> None:
    prefix = f"pages-{uuid.uuid4().hex[:6]}"
    arns = {new_job(hook, "exit3", f"{prefix}-{n}")["jobArn"] for n in range(3)}
    found = hook.search_jobs([{"name": "jobName", "operator": "CONTAINS", "values": [prefix]}], page_size=1)
    assert {summary["jobArn"] for summary in found} == arns


def test_invalid_request_is_refused_before_any_call(hook: BraketHook, local_service) -> None:
    before = len(hook.search_jobs())
    location = JobLocation(BUCKET, "bad_name", "1")
    spec = HybridJobSpec(device="local:x", entry_point="m", job_name="bad_name")
    with pytest.raises(RequestValidationError, match="jobName"):
        hook.create_job(spec.request(location, ROLE, "token"))
    assert len(hook.search_jobs()) == before


def test_cancel_is_idempotent(hook: BraketHook) -> None:
    job = new_job(hook, "sleep")
    wait_for(hook.conn, job["jobArn"], ("RUNNING",))

    assert hook.cancel_job(job["jobArn"]) in ("CANCELLING", "CANCELLED")
    assert finished(hook, job["jobArn"])["status"] == "CANCELLED"
    assert hook.cancel_job(job["jobArn"]) == "CANCELLED"  # already ended: its status, no error


def test_log_events_resume_from_a_cursor_without_duplicates(hook: BraketHook) -> None:
    done = finished(hook, new_job(hook, "metrics")["jobArn"])
    all_lines = [event["message"] for _, event in hook.iter_log_events(done["jobName"], done["jobArn"])]
    assert [line for line in all_lines if line.startswith("line ")] == [f"line {n}" for n in range(40)]

    cursor = LogCursor()
    first = []
    for _, event in hook.iter_log_events(done["jobName"], done["jobArn"], cursor):
        first.append(event["message"])
        if len(first) == 10:
            break
    # A new reader given the first one's serialised position carries on from the next line.
    resumed = LogCursor(cursor.serialize())
    rest = [event["message"] for _, event in hook.iter_log_events(done["jobName"], done["jobArn"], resumed)]
    assert first + rest == all_lines
    assert list(hook.iter_log_events(done["jobName"], done["jobArn"], resumed)) == []


def test_async_twins_read_and_cancel(hook: BraketHook) -> None:
    job = new_job(hook, "sleep")

    async def scenario() -> tuple[dict, str, list[str]]:
        async with await hook.get_async_conn() as client:
            running = await wait_async(lambda: hook.get_job_async(job["jobArn"], client), "RUNNING")
            await asyncio.sleep(1.5)
            async with hook.async_logs_client() as logs:
                lines = [
                    event["message"]
                    async for _, event in hook.iter_log_events_async(
                        job["jobName"], job["jobArn"], LogCursor(), logs
                    )
                ]
            status = await hook.cancel_job_async(job["jobArn"], client)
            return running, status, lines

    running, status, lines = asyncio.run(scenario())
    assert running["queueInfo"]["queue"]
    assert status in ("CANCELLING", "CANCELLED")
    assert any(line.startswith("mode=sleep") for line in lines)
    assert finished(hook, job["jobArn"])["status"] == "CANCELLED"


async def wait_async(read, status: str, timeout: float = 60) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        job = await read()
        if job["status"] == status:
            return job
        await asyncio.sleep(0.2)
    raise TimeoutError(status)


def test_get_device_and_input_data_upload(hook: BraketHook, tmp_path: Path, local_service) -> None:
    assert hook.get_device("arn:aws:braket:::device/quantum-simulator/amazon/sv1")["deviceStatus"] == "ONLINE"
    (tmp_path / "data" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "a.csv").write_text("1,2\n")
    (tmp_path / "data" / "sub" / "b.csv").write_text("3,4\n")
    location = JobLocation(BUCKET, "inputs", "5")
    prefix = hook.upload_input_data(tmp_path / "data", location, "training")

    assert prefix == f"s3://{BUCKET}/jobs/inputs/5/data/training/data"
    listed = local_service.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="jobs/inputs/5/data/training/")
    assert sorted(item["Key"] for item in listed["Contents"]) == [
        "jobs/inputs/5/data/training/data/a.csv",
        "jobs/inputs/5/data/training/data/sub/b.csv",
    ]


def test_retries_use_botocore_adaptive_mode(hook: BraketHook) -> None:
    retries = hook.conn.meta.config.retries
    assert retries["mode"] == "adaptive"
    assert retries["total_max_attempts"] == 11  # botocore's max_attempts=10 counts the retries


def test_sync_and_async_log_readers_see_every_page_of_streams(hook: BraketHook) -> None:
    from airflow_provider_braket.jobs.logs import LOG_GROUP, log_stream_prefix

    job_name, job_arn = "many-streams", "arn:aws:braket:us-east-1:123456789012:job/many-streams-1"
    logs = hook.logs_client
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=LOG_GROUP)
    prefix = log_stream_prefix(job_name, job_arn)
    # More streams than one DescribeLogStreams page holds (50): the last one must be read too.
    names = [f"{prefix}algo-{index:03d}" for index in range(61)]
    for name in names:
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=name)
    logs.put_log_events(
        logGroupName=LOG_GROUP,
        logStreamName=names[-1],
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "from the last stream"}],
    )

    async def read_async() -> list[str]:
        async with hook.async_logs_client() as client:
            return [
                event["message"]
                async for _, event in hook.iter_log_events_async(job_name, job_arn, LogCursor(), client)
            ]

    assert len(hook.job_log_streams(job_name, job_arn)) == 61
    assert [event["message"] for _, event in hook.iter_log_events(job_name, job_arn)] == [
        "from the last stream"
    ]
    assert asyncio.run(read_async()) == ["from the last stream"]
