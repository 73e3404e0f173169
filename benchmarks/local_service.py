"""Benchmark of the local Braket service; prints a Markdown table.

- CreateJob -> RUNNING latency of a trivial job (seen by a client polling GetJob every 5 ms,
  and as recorded by the service: startedAt - createdAt);
- end-to-end time of a trivial job (CreateJob -> COMPLETED seen by the client);
- SearchJobs latency over HTTP with 10,000 stored jobs (the store is filled before the service
  starts, through the service's own store class);
- ``--live N``: N jobs made through CreateJob from 4 client threads as fast as the service takes
  them (short sleepers, ``--job-slots 8`` running, the rest queued): the sustained CreateJob rate,
  then, with all N queued or running, the searches a triggerer's poller and budgets make.

Targets (issues 2 and 27): under 1 s, under 3 s, under 50 ms; at 10,000 live jobs, CreateJob at a
sustained 20/s and those searches under 50 ms.

    .venv/bin/python benchmarks/local_service.py [--jobs 20] [--stored 10000] [--live 10000]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tarfile
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from airflow_provider_braket.local.service_process import LocalServiceProcess
from airflow_provider_braket.local.storage.jobs import JobRecord, JobStore

BUCKET = "bench"
TRIVIAL = b"print('trivial job')\n"
SLEEPER = b"import time\ntime.sleep(5)\n"
CREATE_THREADS = 4


def client(service: LocalServiceProcess, name: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client(name, endpoint_url=service.endpoint, config=Config(retries={"mode": "standard"}))


def trivial_request(script_uri: str, name: str = "trivial") -> dict[str, Any]:
    return {
        "clientToken": str(uuid.uuid4()),
        "jobName": name,
        "roleArn": "arn:aws:iam::123456789012:role/bench",
        "algorithmSpecification": {
            "scriptModeConfig": {"entryPoint": "trivial", "s3Uri": script_uri, "compressionType": "GZIP"}
        },
        "outputDataConfig": {"s3Path": f"s3://{BUCKET}/out"},
        "instanceConfig": {"instanceType": "ml.m5.large", "volumeSizeInGb": 30},
        "deviceConfig": {"device": "local:braket/braket.local.qubit"},
    }


def upload_script(service: LocalServiceProcess, name: str, source: bytes) -> str:
    s3 = client(service, "s3")
    s3.create_bucket(Bucket=BUCKET)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo(f"{name}.py")
        info.size = len(source)
        archive.addfile(info, io.BytesIO(source))
    s3.put_object(Bucket=BUCKET, Key=f"{name}.tar.gz", Body=buffer.getvalue())
    return f"s3://{BUCKET}/{name}.tar.gz"


def run_trivial_jobs(service: LocalServiceProcess, count: int) -> dict[str, list[float]]:
    braket = client(service, "braket")
    upload_script(service, "trivial", TRIVIAL)
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
        assert running_at is not None
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
    return time_queries(braket, queries, repeats)


def time_queries(braket: Any, queries: dict[str, list[Any]], repeats: int) -> dict[str, list[float]]:
    """Seconds each SearchJobs (a page of 100) took, ``repeats`` times after one to warm up."""
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


def create_live_jobs(service: LocalServiceProcess, count: int) -> tuple[float, list[float], datetime]:
    """Create ``count`` sleepers from :data:`CREATE_THREADS` threads; return the sustained rate
    (jobs/s over the whole run), the rate of each 10 s stretch, and when the first was created."""
    script = upload_script(service, "sleeper", SLEEPER)
    service.admin("PUT", "/_local/limits", f'{{"concurrentJobQuota": {count + 10}, "jobSlots": 8}}'.encode())
    clients = [client(service, "braket") for _ in range(CREATE_THREADS)]
    created: list[float] = []
    since = datetime.now(timezone.utc)

    def create(number: int) -> None:
        request = trivial_request(script, f"live-{number}")
        request["algorithmSpecification"]["scriptModeConfig"]["entryPoint"] = "sleeper"
        request["tags"] = {
            "airflow:dag_id": "live",
            "airflow:run_id": "run",
            "airflow:map_index": str(number),
        }
        clients[number % CREATE_THREADS].create_job(**request)
        created.append(time.monotonic())

    started = time.monotonic()
    with ThreadPoolExecutor(CREATE_THREADS) as pool:
        list(pool.map(create, range(count)))
    elapsed = time.monotonic() - started
    stretches = [
        sum(1 for moment in created if begin <= moment - started < begin + 10) / 10
        for begin in range(0, int(elapsed) - 9, 10)
    ]
    return count / elapsed, stretches, since


def time_live_searches(service: LocalServiceProcess, since: datetime, repeats: int) -> dict[str, list[float]]:
    braket = client(service, "braket")
    after = since.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    newest = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    some = [job["jobArn"] for job in braket.search_jobs(filters=[], maxResults=10)["jobs"]]
    active = {"name": "status", "operator": "EQUAL", "values": ["CANCELLING", "QUEUED", "RUNNING"]}
    queries = {
        "the poller's window, jobs not ended (createdAt BETWEEN + status)": [
            {"name": "createdAt", "operator": "BETWEEN", "values": [after, newest]},
            active,
        ],
        "a budget's scope, jobs not ended (createdAt GTE + status)": [
            {"name": "createdAt", "operator": "GTE", "values": [after]},
            active,
        ],
        "a budget's jobs ended since its last read (createdAt GTE now + status)": [
            {"name": "createdAt", "operator": "GTE", "values": [newest]},
            {"name": "status", "operator": "EQUAL", "values": ["CANCELLED", "COMPLETED", "FAILED"]},
        ],
        "10 jobs by ARN (jobArn EQUAL)": [{"name": "jobArn", "operator": "EQUAL", "values": some}],
    }
    return time_queries(braket, queries, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--stored", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--live", type=int, default=0, help="also: this many live jobs (0: not run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        with LocalServiceProcess(Path(scratch) / "jobs-bench") as service:
            jobs = run_trivial_jobs(service, args.jobs)
        searched_dir = Path(scratch) / "search-bench"
        searched_dir.mkdir()
        fill_store(searched_dir, args.stored)
        with LocalServiceProcess(searched_dir) as service:
            searches = time_searches(service, args.repeats)
        live_searches: dict[str, list[float]] = {}
        if args.live:
            with LocalServiceProcess(Path(scratch) / "live-bench") as service:
                rate, stretches, since = create_live_jobs(service, args.live)
                live_searches = time_live_searches(service, since, args.repeats)
                print(
                    f"CreateJob, {args.live:,} jobs from {CREATE_THREADS} threads: {rate:.1f}/s sustained; "
                    f"slowest 10 s stretch {min(stretches, default=rate):.1f}/s"
                )

    scale = f"{args.jobs} trivial jobs, {args.stored:,} stored jobs"
    print(f"| measure (local service, {scale}) | median | p90 | target |")
    print("|---|---|---|---|")
    rows = [
        ("CreateJob -> RUNNING, seen by the client", jobs["to_running_client"], "< 1 s"),
        ("CreateJob -> RUNNING, recorded by the service", jobs["to_running_server"], "< 1 s"),
        ("trivial job end to end (CreateJob -> COMPLETED)", jobs["end_to_end"], "< 3 s"),
        *[(f"SearchJobs, {label}", samples, "< 50 ms") for label, samples in searches.items()],
        *[
            (f"SearchJobs with {args.live:,} live jobs, {label}", samples, "< 50 ms")
            for label, samples in live_searches.items()
        ],
    ]
    for label, samples, target in rows:
        ordered = sorted(samples)
        p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        print(f"| {label} | {statistics.median(samples) * 1000:.1f} ms | {p90 * 1000:.1f} ms | {target} |")


if __name__ == "__main__":
    main()
