"""Benchmark of the local Braket service; prints a Markdown table.

- CreateJob -> RUNNING latency of a trivial job (seen by a client polling GetJob every 5 ms,
  and as recorded by the service: startedAt - createdAt);
- end-to-end time of a trivial job (CreateJob -> COMPLETED seen by the client);
- SearchJobs latency over HTTP with 10,000 stored jobs (the store is filled before the service
  starts, through the service's own store class).

Targets (issue 2): under 1 s, under 3 s, under 50 ms.

    .venv/bin/python benchmarks/local_service.py [--jobs 20] [--stored 10000]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tarfile
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from airflow_provider_braket.local.service_process import LocalServiceProcess
from airflow_provider_braket.local.storage.jobs import JobRecord, JobStore

BUCKET = "bench"
TRIVIAL = b"print('trivial job')\n"


def client(service: LocalServiceProcess, name: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client(name, endpoint_url=service.endpoint, config=Config(retries={"mode": "standard"}))


def trivial_request(script_uri: str) -> dict[str, Any]:
    return {
        "clientToken": str(uuid.uuid4()),
        "jobName": "trivial",
        "roleArn": "arn:aws:iam::123456789012:role/bench",
        "algorithmSpecification": {
            "scriptModeConfig": {"entryPoint": "trivial", "s3Uri": script_uri, "compressionType": "GZIP"}
        },
        "outputDataConfig": {"s3Path": f"s3://{BUCKET}/out"},
        "instanceConfig": {"instanceType": "ml.m5.large", "volumeSizeInGb": 30},
        "deviceConfig": {"device": "local:braket/braket.local.qubit"},
    }


def run_trivial_jobs(service: LocalServiceProcess, count: int) -> dict[str, list[float]]:
    braket, s3 = client(service, "braket"), client(service, "s3")
    s3.create_bucket(Bucket=BUCKET)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("trivial.py")
        info.size = len(TRIVIAL)
        archive.addfile(info, io.BytesIO(TRIVIAL))
    s3.put_object(Bucket=BUCKET, Key="trivial.tar.gz", Body=buffer.getvalue())
    timings: dict[str, list[float]] = {"to_running_client": [], "to_running_server": [], "end_to_end": []}
    for _ in range(count):
        started = time.perf_counter()
        job_arn = braket.create_job(**trivial_request(f"s3://{BUCKET}/trivial.tar.gz"))["jobArn"]
        running_at = None
        while True:
            job = braket.get_job(jobArn=job_arn)
            if running_at is None and job["status"] != "QUEUED":
                running_at = time.perf_counter()
            if job["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                break
            time.sleep(0.005)
        finished = time.perf_counter()
        assert job["status"] == "COMPLETED", job.get("failureReason")
        timings["to_running_client"].append(running_at - started)
        timings["to_running_server"].append((job["startedAt"] - job["createdAt"]).total_seconds())
        timings["end_to_end"].append(finished - started)
    return timings


def fill_store(data_dir: Path, stored: int) -> None:
    store = JobStore(data_dir / "jobs.sqlite3")
    base = int(time.time() * 1000) - stored * 1000
    statuses = ("COMPLETED", "FAILED", "CANCELLED")
    for number in range(stored):
        job_id = str(uuid.uuid4())
        store.insert(
            JobRecord(
                job_arn=f"arn:aws:braket:us-east-1:123456789012:job/{job_id}",
                job_id=job_id,
                job_name=f"sweep-{number % 50}",
                status=statuses[number % 3],
                device="local:braket/braket.local.qubit",
                created_at=base + number * 1000,
                client_token=job_id,
                request_hash="bench",
                request=trivial_request("s3://bench/x.tar.gz"),
                tags={"airflow:dag_id": "sweep", "airflow:map_index": str(number % 12)},
            )
        )
    store.close()


def time_searches(service: LocalServiceProcess, repeats: int) -> dict[str, list[float]]:
    braket = client(service, "braket")
    now = time.time()
    queries = {
        "no filter, 100 per page": [],
        "status EQUAL FAILED": [{"name": "status", "operator": "EQUAL", "values": ["FAILED"]}],
        "createdAt BETWEEN (last hour)": [
            {"name": "createdAt", "operator": "BETWEEN", "values": [str(now - 3600), str(now)]}
        ],
        "jobName CONTAINS": [{"name": "jobName", "operator": "CONTAINS", "values": ["sweep-4"]}],
    }
    timings: dict[str, list[float]] = {}
    for label, filters in queries.items():
        braket.search_jobs(filters=filters, maxResults=100)  # warm the connection
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            braket.search_jobs(filters=filters, maxResults=100)
            samples.append(time.perf_counter() - started)
        timings[label] = samples
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--stored", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        with LocalServiceProcess(Path(scratch) / "jobs-bench") as service:
            jobs = run_trivial_jobs(service, args.jobs)
        searched_dir = Path(scratch) / "search-bench"
        searched_dir.mkdir()
        fill_store(searched_dir, args.stored)
        with LocalServiceProcess(searched_dir) as service:
            searches = time_searches(service, args.repeats)

    scale = f"{args.jobs} trivial jobs, {args.stored:,} stored jobs"
    print(f"| measure (local service, {scale}) | median | p90 | target |")
    print("|---|---|---|---|")
    rows = [
        ("CreateJob -> RUNNING, seen by the client", jobs["to_running_client"], "< 1 s"),
        ("CreateJob -> RUNNING, recorded by the service", jobs["to_running_server"], "< 1 s"),
        ("trivial job end to end (CreateJob -> COMPLETED)", jobs["end_to_end"], "< 3 s"),
        *[(f"SearchJobs, {label}", samples, "< 50 ms") for label, samples in searches.items()],
    ]
    for label, samples, target in rows:
        ordered = sorted(samples)
        p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        print(f"| {label} | {statistics.median(samples) * 1000:.1f} ms | {p90 * 1000:.1f} ms | {target} |")


if __name__ == "__main__":
    main()
