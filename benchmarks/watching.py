"""Watching N hybrid jobs from one triggerer-like asyncio process: the shared poller vs per-job GetJob.

For each N (10, 100, 1,000) and each trigger, N fresh jobs are created on a local service that
runs ``--slots`` of them at a time (each sleeps 5-40 s, printing a line every 2 s) and queues the
rest; during the window the driver cancels a tenth of them at random moments. Then a fresh process
runs N triggers as tasks of one event loop for ``--window`` seconds, as a triggerer does:

- ``shared``: :class:`JobStatusTrigger` (log forwarding on), which registers with the process's
  shared :class:`~airflow_provider_braket.triggers.poller.JobPoller`;
- ``baseline``: :class:`PerJobGetJobTrigger`, the amazon provider's ``AwsBaseWaiterTrigger``
  pattern: each trigger makes its own hook and aiobotocore client and calls GetJob every poll
  interval until its job ends.

Both see the same job schedule (same seed). Printed per run: Braket calls per minute made by the
watching process (GetJob + SearchJobs, counted by the service), peak RSS and CPU seconds per minute
of that process, and, for every job that ended in the window, how long until its trigger fired
(in poll intervals; a job not noticed within two intervals counts as missed).

Targets (issue 5), at N = 1,000: calls per minute at most 1/50 of the baseline's, peak RSS at most
1/5, every terminal state noticed within two poll intervals.

    .venv/bin/python benchmarks/watching.py [--sizes 10 100 1000] [--poll 10] [--window 90]
        [--kinds baseline shared] [--profile-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

BUCKET = "bench-watching"
ROLE = "arn:aws:iam::123456789012:role/bench"
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")
SLEEPER = b"""import json, os, time
seconds = float(json.load(open(os.environ["AMZN_BRAKET_HP_FILE"]))["seconds"])
end, tick = time.time() + seconds, 0
while time.time() < end:
    print(f"tick {tick}", flush=True)
    tick += 1
    time.sleep(max(0.0, min(2.0, end - time.time())))
"""
CANCELLED_SHARE = 0.1


# -- the watching process ------------------------------------------------------------------------


def make_baseline_trigger_class() -> type:
    from airflow.triggers.base import BaseTrigger, TriggerEvent

    class PerJobGetJobTrigger(BaseTrigger):
        """AwsBaseWaiterTrigger's pattern for one Braket job: own hook, own client, GetJob per poll."""

        def __init__(self, job_arn: str, waiter_delay: float, aws_conn_id: str = "braket_default"):
            super().__init__()
            self.job_arn = job_arn
            self.waiter_delay = waiter_delay
            self.aws_conn_id = aws_conn_id

        def serialize(self) -> tuple[str, dict[str, Any]]:
            return f"{__name__}.PerJobGetJobTrigger", {
                "job_arn": self.job_arn,
                "waiter_delay": self.waiter_delay,
                "aws_conn_id": self.aws_conn_id,
            }

        async def run(self) -> AsyncIterator[Any]:
            from airflow_provider_braket.hooks.braket import BraketHook

            hook = BraketHook(aws_conn_id=self.aws_conn_id)
            async with await hook.get_async_conn() as client:
                while True:
                    job = await client.get_job(jobArn=self.job_arn)
                    if job["status"] in TERMINAL:
                        yield TriggerEvent({"status": job["status"], "jobArn": self.job_arn})
                        return
                    await asyncio.sleep(self.waiter_delay)

    return PerJobGetJobTrigger


def watch(kind: str, jobs: list[dict[str, Any]], poll: float, window: float, endpoint: str) -> dict[str, Any]:
    """Run the triggers for ``window`` seconds; return what was measured in this process."""
    from airflow_provider_braket.triggers.braket import JobStatusTrigger

    baseline = make_baseline_trigger_class()

    def trigger_for(job: dict[str, Any]) -> Any:
        if kind == "baseline":
            return baseline(job["jobArn"], poll)
        # As the operator defers it: the job's secret-looking hyperparameter names (none here).
        return JobStatusTrigger(
            job_arn=job["jobArn"],
            job_name=job["jobName"],
            waiter_delay=poll,
            created_at=job["createdAt"],
            secret_hyperparameters=[],
        )

    fired: dict[str, float] = {}

    async def one(trigger: Any, job_arn: str) -> None:
        async for _ in trigger.run():
            fired[job_arn] = time.time()
            return

    async def all_of_them() -> None:
        tasks = [asyncio.ensure_future(one(trigger_for(job), job["jobArn"])) for job in jobs]
        await asyncio.sleep(window)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    admin(endpoint, "DELETE", "/_local/calls")
    cpu_before, rss_before = cpu_seconds(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.time()
    asyncio.run(all_of_them())
    elapsed = time.time() - started
    calls = json.loads(admin(endpoint, "GET", "/_local/calls"))
    return {
        "started": started,
        "elapsed": elapsed,
        "fired": fired,
        "calls": calls,
        "cpu": cpu_seconds() - cpu_before,
        "rss_before_mib": rss_before / 1024,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_main(args: argparse.Namespace) -> None:
    from airflow_provider_braket.local.config import ADMIN_TOKEN_HEADER

    ADMIN_HEADERS[ADMIN_TOKEN_HEADER] = os.environ.get("BRAKET_LOCAL_ADMIN_TOKEN", "")
    jobs = json.loads(Path(args.jobs_file).read_text())
    import airflow.sdk  # noqa: F401  (a triggerer has Airflow loaded before any trigger runs)

    Path(args.ready_file).touch()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(watch, args.kind, jobs, args.poll, args.window, args.endpoint)
        profiler.dump_stats(args.profile)
    else:
        result = watch(args.kind, jobs, args.poll, args.window, args.endpoint)
    Path(args.out).write_text(json.dumps(result))


# -- the driver --------------------------------------------------------------------------------


#: The service's admin token (read from its data dir once it has started): PUT and DELETE need it.
ADMIN_HEADERS: dict[str, str] = {}


def admin(endpoint: str, method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{endpoint}{path}",
        data=data,
        method=method,
        headers={"content-type": "application/json", **ADMIN_HEADERS},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return bytes(answer.read())


def clients(endpoint: str) -> tuple[Any, Any]:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    config = Config(retries={"mode": "standard", "max_attempts": 10}, max_pool_connections=20)
    return (
        session.client("braket", endpoint_url=endpoint, config=config),
        session.client("s3", endpoint_url=endpoint, config=config),
    )


def upload_sleeper(s3: Any, scratch: Path) -> str:
    from airflow_provider_braket.jobs.source import pack_source_module

    script = scratch / "sleeper.py"
    script.write_bytes(SLEEPER)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="sleeper.tar.gz", Body=pack_source_module(script))
    return f"s3://{BUCKET}/sleeper.tar.gz"


def create_jobs(braket: Any, script: str, count: int, seed: int) -> list[dict[str, Any]]:
    schedule = random.Random(seed)
    arns = []
    for number in range(count):
        name = f"watch-{number}-{uuid.uuid4().hex[:6]}"
        arns.append(
            braket.create_job(
                clientToken=uuid.uuid4().hex,
                jobName=name,
                roleArn=ROLE,
                algorithmSpecification={
                    "scriptModeConfig": {"entryPoint": "sleeper", "s3Uri": script, "compressionType": "GZIP"}
                },
                outputDataConfig={"s3Path": f"s3://{BUCKET}/out/{name}"},
                instanceConfig={"instanceType": "ml.m5.large", "volumeSizeInGb": 30},
                deviceConfig={"device": "local:braket/braket.local.qubit"},
                hyperParameters={"seconds": f"{schedule.uniform(5, 40):.1f}"},
            )["jobArn"]
        )
    return [summary_of(braket, arn) for arn in arns]


def summary_of(braket: Any, job_arn: str) -> dict[str, Any]:
    job = braket.get_job(jobArn=job_arn)
    return {"jobArn": job_arn, "jobName": job["jobName"], "createdAt": job["createdAt"].timestamp()}


def cancel_some_during(braket: Any, jobs: list[dict[str, Any]], window: float, seed: int) -> threading.Thread:
    """Cancel a tenth of the jobs at random moments in the first 70 % of the window."""
    schedule = random.Random(seed + 1)
    chosen = schedule.sample(jobs, max(1, int(len(jobs) * CANCELLED_SHARE)))
    moments = sorted(schedule.uniform(0, window * 0.7) for _ in chosen)

    def run() -> None:
        start = time.time()
        for job, moment in zip(chosen, moments, strict=True):
            time.sleep(max(0.0, start + moment - time.time()))
            with contextlib.suppress(braket.exceptions.ClientError):  # it ended first
                braket.cancel_job(jobArn=job["jobArn"])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def cancel_everything(braket: Any, jobs: list[dict[str, Any]]) -> None:
    for job in jobs:
        with contextlib.suppress(braket.exceptions.ClientError):
            braket.cancel_job(jobArn=job["jobArn"])
    deadline = time.time() + 120
    while time.time() < deadline:
        active = braket.search_jobs(
            filters=[{"name": "status", "operator": "EQUAL", "values": ["QUEUED", "RUNNING", "CANCELLING"]}],
            maxResults=1,
        )["jobs"]
        if not active:
            return
        time.sleep(1)


def ended_at(braket: Any, jobs: list[dict[str, Any]]) -> dict[str, float]:
    ended = {}
    for job in jobs:
        answer = braket.get_job(jobArn=job["jobArn"])
        if answer["status"] in TERMINAL and answer.get("endedAt"):
            ended[job["jobArn"]] = answer["endedAt"].timestamp()
    return ended


def run_one(
    kind: str, count: int, args: argparse.Namespace, endpoint: str, scratch: Path, script: str
) -> dict[str, Any]:
    braket, _ = clients(endpoint)
    admin(endpoint, "PUT", "/_local/limits", {"concurrentJobQuota": count + 10, "jobSlots": args.slots})
    jobs = create_jobs(braket, script, count, args.seed)
    jobs_file, ready, out = (scratch / f"{kind}-{count}.{ext}" for ext in ("json", "ready", "out"))
    jobs_file.write_text(json.dumps(jobs))
    env = {
        **os.environ,
        "AIRFLOW_CONN_BRAKET_DEFAULT": connection_uri(endpoint),
        # The watcher resets and reads the service's call counts, which need the admin token.
        "BRAKET_LOCAL_ADMIN_TOKEN": next(iter(ADMIN_HEADERS.values()), ""),
    }
    profile = ["--profile", str(Path(args.profile_dir) / f"{kind}-{count}.prof")] if args.profile_dir else []
    with open(scratch / f"{kind}-{count}.log", "wb") as log_file:
        child = subprocess.Popen(
            [sys.executable, __file__, "child", "--kind", kind, "--jobs-file", str(jobs_file),
             "--poll", str(args.poll), "--window", str(args.window), "--endpoint", endpoint,
             "--ready-file", str(ready), "--out", str(out), *profile],
            stdout=log_file, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        while not ready.exists() and child.poll() is None:
            time.sleep(0.05)
        cancel_some_during(braket, jobs, args.window, args.seed)
        if child.wait() != 0:
            tail = Path(log_file.name).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the {kind} watcher failed:\n{tail}")
    result = json.loads(out.read_text())
    result["ended"] = ended_at(braket, jobs)
    cancel_everything(braket, jobs)
    return result


def connection_uri(endpoint: str) -> str:
    extra = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    return json.dumps({"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra})


def summarise(kind: str, count: int, result: dict[str, Any], poll: float) -> dict[str, Any]:
    minutes = result["elapsed"] / 60
    reads = sum(result["calls"].get(name, 0) for name in ("braket:GetJob", "braket:SearchJobs"))
    watch_start, watch_end = result["started"], result["started"] + result["elapsed"]
    latencies, considered, missed = [], 0, 0
    for job_arn, ended in result["ended"].items():
        if ended > watch_end - 2 * poll:
            continue  # ended too late in the window to count either way
        considered += 1
        fired = result["fired"].get(job_arn)
        latency = (fired - max(ended, watch_start)) / poll if fired is not None else float("inf")
        if fired is not None:
            latencies.append(latency)
        missed += latency > 2
    return {
        "kind": kind,
        "count": count,
        "calls_per_min": reads / minutes,
        "peak_rss_mib": result["peak_rss_mib"],
        "rss_before_mib": result["rss_before_mib"],
        "cpu_per_min": result["cpu"] / minutes,
        "ended": considered,
        "median_latency": statistics.median(latencies) if latencies else float("nan"),
        "max_latency": max(latencies) if latencies else float("nan"),
        "missed": missed,
    }


def print_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\n| N | trigger | Braket calls/min | peak RSS (MiB) | CPU s/min | jobs ended | "
        f"noticed after (median / max, poll intervals of {args.poll:g} s) | later than 2 intervals |"
    )
    print("|---|---|---|---|---|---|---|---|")
    by_count: dict[int, dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_count.setdefault(row["count"], {})[row["kind"]] = row
        print(
            f"| {row['count']} | {row['kind']} | {row['calls_per_min']:.1f} | {row['peak_rss_mib']:.0f} "
            f"(start {row['rss_before_mib']:.0f}) | {row['cpu_per_min']:.2f} | {row['ended']} | "
            f"{row['median_latency']:.2f} / {row['max_latency']:.2f} | {row['missed']} |"
        )
    print("\n| N | calls/min, shared / baseline | peak RSS, shared / baseline | CPU, shared / baseline |")
    print("|---|---|---|---|")
    for count, pair in sorted(by_count.items()):
        if {"shared", "baseline"} <= pair.keys():
            shared, baseline = pair["shared"], pair["baseline"]
            print(
                f"| {count} | 1/{baseline['calls_per_min'] / max(shared['calls_per_min'], 1e-9):.0f} | "
                f"1/{baseline['peak_rss_mib'] / shared['peak_rss_mib']:.1f} | "
                f"1/{baseline['cpu_per_min'] / max(shared['cpu_per_min'], 1e-9):.1f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    child = sub.add_parser("child")
    child.add_argument("--kind", choices=["shared", "baseline"], required=True)
    for name in ("--jobs-file", "--endpoint", "--ready-file", "--out"):
        child.add_argument(name, required=True)
    child.add_argument("--poll", type=float, required=True)
    child.add_argument("--window", type=float, required=True)
    child.add_argument("--profile", help="write a cProfile of the watching to this file")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--poll", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=90.0)
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--kinds", nargs="+", choices=["baseline", "shared"], default=["baseline", "shared"])
    parser.add_argument(
        "--profile-dir", help="write a cProfile of each watching process here (<kind>-<N>.prof)"
    )
    args = parser.parse_args()
    if args.command == "child":
        child_main(args)
        return
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the baseline holds a socket per job
    from airflow_provider_braket.local.config import ADMIN_TOKEN_HEADER, read_admin_token
    from airflow_provider_braket.local.service_process import LocalServiceProcess

    rows = []
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        with LocalServiceProcess(scratch / "service") as service:
            ADMIN_HEADERS[ADMIN_TOKEN_HEADER] = read_admin_token(service.data_dir) or ""
            _, s3 = clients(service.endpoint)
            script = upload_sleeper(s3, scratch)
            for count in args.sizes:
                for kind in args.kinds:
                    result = run_one(kind, count, args, service.endpoint, scratch, script)
                    rows.append(summarise(kind, count, result, args.poll))
                    row = rows[-1]
                    print(
                        f"N={count} {kind}: {row['calls_per_min']:.1f} calls/min, "
                        f"{row['peak_rss_mib']:.0f} MiB, {row['cpu_per_min']:.2f} CPU s/min, "
                        f"{row['ended']} ended, max {row['max_latency']:.2f} intervals, {row['missed']} late",
                        flush=True,
                    )
    print_table(rows, args)


if __name__ == "__main__":
    main()
