"""Watching N hybrid jobs from one triggerer-like asyncio process: the shared poller vs per-job GetJob.

For each N (10, 100, 1,000) and each trigger, N fresh jobs are created on a local service that
runs ``--slots`` of them at a time (each sleeps 5-40 s, or ``--job-seconds``, printing a line every
2 s) and queues the rest; during the window the driver cancels a tenth of them at random moments.
Then a fresh process runs N triggers as tasks of one event loop for ``--window`` seconds, as a
triggerer does:

- ``shared``: :class:`JobStatusTrigger` (log forwarding on), which registers with the process's
  shared :class:`~airflow_provider_braket.triggers.poller.JobPoller`;
- ``baseline``: :class:`PerJobGetJobTrigger`, the amazon provider's ``AwsBaseWaiterTrigger``
  pattern: each trigger makes its own hook and aiobotocore client and calls GetJob every poll
  interval until its job ends;
- ``budget``: ``shared`` with a ``run_budget`` on every trigger, the N jobs being the points of one
  DAG run's sweep (tagged as the operator tags them): the budget's reads of the run's cost go
  through the process's shared reader (:mod:`airflow_provider_braket.pricing.scope_costs`).

All see the same job schedule (same seed). Halfway through the window every trigger that has not
fired is stopped and made again, as a triggerer restart does (``--restart-at``; 0 turns it off).
Printed per run: Braket calls per minute made by the watching process (every Braket operation but
the driver's CreateJob and CancelJob, counted by the service), peak RSS and CPU seconds per minute
of that process, and, for every job that ended in the window, how long until its trigger fired (in
poll intervals; a job not noticed within two intervals counts as missed).

Targets (issues 5 and 27): at N = 1,000, calls per minute at most 1/50 of the baseline's and CPU at
most 1/15; at N = 10,000 (``--kinds shared --poll 30``), at most 300 calls per minute and peak RSS
under 300 MiB; with a budget, at most 1.2 times the calls of the same sweep without; every
terminal state noticed within two poll intervals.

    .venv/bin/python benchmarks/watching.py [--sizes 10 100 1000] [--poll 10] [--window 90]
        [--kinds baseline shared budget] [--restart-at 0.5] [--baseline-max 1000] [--profile-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
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
#: The DAG the ``budget`` kind's jobs are a sweep of; each set of jobs is a DAG run of its own, so
#: that one kind's budget does not count the jobs another kind left ending.
SWEEP_TAGS = {"airflow:dag_id": "bench_sweep", "airflow:task_id": "point"}
#: Far above what the sleepers cost: the budget is read at every check and never cancels anything.
BUDGET: dict[str, str | None] = {"max_cost": None, "run_budget": "1000000", "monthly_budget": None}
SCOPE = {"dag_id": "bench_sweep"}
INSTANCE_CONFIG = {"instanceType": "ml.m5.large", "volumeSizeInGb": 30}
#: Braket operations the driver makes during the window (creating and cancelling jobs).
DRIVER_OPERATIONS = ("braket:CreateJob", "braket:CancelJob")


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


def watch(
    kind: str, jobs: list[dict[str, Any]], poll: float, window: float, endpoint: str, restart_at: float
) -> dict[str, Any]:
    """Run the triggers for ``window`` seconds; return what was measured in this process."""
    from airflow_provider_braket.triggers.braket import JobStatusTrigger

    baseline = make_baseline_trigger_class()
    sweep_started = min(job["createdAt"] for job in jobs) - 1

    def trigger_for(job: dict[str, Any]) -> Any:
        if kind == "baseline":
            return baseline(job["jobArn"], poll)
        with_budget = kind == "budget"
        return JobStatusTrigger(
            job_arn=job["jobArn"],
            job_name=job["jobName"],
            waiter_delay=poll,
            created_at=job["createdAt"],
            secret_hyperparameters=[],
            cost_limits=BUDGET if with_budget else None,
            budget_scope={**SCOPE, "run_id": job["runId"], "run_started_at": sweep_started}
            if with_budget
            else None,
            # As the operator passes it (cost_trigger_kwargs): the job it created.
            instance_config=INSTANCE_CONFIG if with_budget else None,
        )

    fired: dict[str, float] = {}

    async def one(trigger: Any, job_arn: str) -> None:
        async for _ in trigger.run():
            fired[job_arn] = time.time()
            return

    async def run_triggers(seconds: float) -> None:
        waiting = [job for job in jobs if job["jobArn"] not in fired]
        tasks = [asyncio.ensure_future(one(trigger_for(job), job["jobArn"])) for job in waiting]
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # What a steady round costs: the calls from three intervals after the restart (or the start),
    # once the first rounds and first budget reads are over, to the window's end.
    settled_after = (window * restart_at if 0 < restart_at < 1 else 0.0) + 3 * poll
    settled: dict[str, Any] = {}

    async def count_when_settled() -> None:
        await asyncio.sleep(settled_after)
        counted = await asyncio.to_thread(admin, endpoint, "GET", "/_local/calls")
        settled.update(at=time.time(), calls=json.loads(counted))

    async def all_of_them() -> None:
        counting = asyncio.ensure_future(count_when_settled())
        try:
            await watch_for_the_window()
        finally:
            counting.cancel()
            await asyncio.gather(counting, return_exceptions=True)

    async def watch_for_the_window() -> None:
        if 0 < restart_at < 1:
            await run_triggers(window * restart_at)
            # A triggerer restart: every trigger that has not fired runs again from its serialised
            # form, all at once, on a poller that knows nothing yet.
            await run_triggers(window * (1 - restart_at))
        else:
            await run_triggers(window)

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
        "settled": settled,
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
        result = profiler.runcall(
            watch, args.kind, jobs, args.poll, args.window, args.endpoint, args.restart_at
        )
        profiler.dump_stats(args.profile)
    else:
        result = watch(args.kind, jobs, args.poll, args.window, args.endpoint, args.restart_at)
    Path(args.out).write_text(json.dumps(result))


# -- the driver --------------------------------------------------------------------------------


KINDS = ["baseline", "shared", "budget"]

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


def create_jobs(
    braket: Any, script: str, count: int, seed: int, seconds: tuple[float, float] = (5, 40)
) -> list[dict[str, Any]]:
    schedule = random.Random(seed)
    arns = []
    since = time.time() - 1
    run_id = f"bench_run_{uuid.uuid4().hex[:8]}"
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
                instanceConfig=INSTANCE_CONFIG,
                deviceConfig={"device": "local:braket/braket.local.qubit"},
                hyperParameters={"seconds": f"{schedule.uniform(*seconds):.1f}"},
                tags={**SWEEP_TAGS, "airflow:run_id": run_id, "airflow:map_index": str(number)},
            )["jobArn"]
        )
    summaries = {summary["jobArn"]: summary for summary in summaries_since(braket, since)}
    return [
        {
            "jobArn": arn,
            "jobName": summaries[arn]["jobName"],
            "createdAt": summaries[arn]["createdAt"].timestamp(),
            "runId": run_id,
        }
        for arn in arns
    ]


def summaries_since(braket: Any, since: float) -> list[dict[str, Any]]:
    """Every job created since ``since`` (epoch seconds), with SearchJobs pages (not a GetJob each)."""
    from datetime import datetime, timezone

    moment = datetime.fromtimestamp(since, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    pages = braket.get_paginator("search_jobs").paginate(
        filters=[{"name": "createdAt", "operator": "GTE", "values": [moment]}],
        PaginationConfig={"PageSize": 100},
    )
    return [summary for page in pages for summary in page["jobs"]]


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
    since = min(job["createdAt"] for job in jobs) - 1
    for summary in summaries_since(braket, since):
        if summary["status"] not in TERMINAL:
            with contextlib.suppress(braket.exceptions.ClientError):
                braket.cancel_job(jobArn=summary["jobArn"])
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
    ours = {job["jobArn"] for job in jobs}
    return {
        summary["jobArn"]: summary["endedAt"].timestamp()
        for summary in summaries_since(braket, min(job["createdAt"] for job in jobs) - 1)
        if summary["jobArn"] in ours and summary["status"] in TERMINAL and summary.get("endedAt")
    }


def run_one(
    kind: str, count: int, args: argparse.Namespace, endpoint: str, scratch: Path, script: str
) -> dict[str, Any]:
    braket, _ = clients(endpoint)
    admin(endpoint, "PUT", "/_local/limits", {"concurrentJobQuota": count + 10, "jobSlots": args.slots})
    jobs = create_jobs(braket, script, count, args.seed, tuple(args.job_seconds))
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
             "--restart-at", str(args.restart_at),
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
    if args.keep_results:
        Path(args.keep_results).mkdir(parents=True, exist_ok=True)
        (Path(args.keep_results) / f"{kind}-{count}.json").write_text(json.dumps(result))
    cancel_everything(braket, jobs)
    return result


def connection_uri(endpoint: str) -> str:
    extra = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    return json.dumps({"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra})


def watching_calls(calls: dict[str, int]) -> int:
    """The Braket calls of the watching process, of a count the service made."""
    return sum(
        count for name, count in calls.items() if name.startswith("braket:") and name not in DRIVER_OPERATIONS
    )


def summarise(kind: str, count: int, result: dict[str, Any], poll: float) -> dict[str, Any]:
    minutes = result["elapsed"] / 60
    reads = watching_calls(result["calls"])
    watch_start, watch_end = result["started"], result["started"] + result["elapsed"]
    settled = result.get("settled") or {}
    steady = (
        (reads - watching_calls(settled["calls"])) / ((watch_end - settled["at"]) / 60)
        if settled and watch_end > settled["at"]
        else float("nan")
    )
    latencies, considered, missed, late = [], 0, 0, []
    for job_arn, ended in result["ended"].items():
        if ended > watch_end - 2 * poll:
            continue  # ended too late in the window to count either way
        considered += 1
        fired = result["fired"].get(job_arn)
        latency = (fired - max(ended, watch_start)) / poll if fired is not None else float("inf")
        if fired is not None:
            latencies.append(latency)
        if latency > 2:
            missed += 1
            # Seconds into the window: when it ended and when its trigger fired (None: never).
            late.append(
                (round(ended - watch_start, 1), None if fired is None else round(fired - watch_start, 1))
            )
    return {
        "kind": kind,
        "count": count,
        "calls_per_min": reads / minutes,
        "steady_calls_per_min": steady,
        "peak_rss_mib": result["peak_rss_mib"],
        "rss_before_mib": result["rss_before_mib"],
        "cpu_per_min": result["cpu"] / minutes,
        "ended": considered,
        "median_latency": statistics.median(latencies) if latencies else float("nan"),
        "max_latency": max(latencies) if latencies else float("nan"),
        "missed": missed,
        "late": sorted(late, key=lambda times: (times[0], math.inf if times[1] is None else times[1])),
        "calls": {
            name.split(":", 1)[1]: count
            for name, count in sorted(result["calls"].items())
            if name.startswith("braket:") and name not in DRIVER_OPERATIONS
        },
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
    budgets = [
        (count, pair) for count, pair in sorted(by_count.items()) if {"shared", "budget"} <= pair.keys()
    ]
    if budgets:
        print(
            "\n| N | calls/min, with run_budget / without | settled calls/min, with / without "
            "| CPU, with / without |"
        )
        print("|---|---|---|---|")
        for count, pair in budgets:
            with_budget, without = pair["budget"], pair["shared"]
            print(
                f"| {count} | {with_budget['calls_per_min'] / max(without['calls_per_min'], 1e-9):.2f}x | "
                f"{with_budget['steady_calls_per_min']:.1f} / {without['steady_calls_per_min']:.1f} = "
                f"{with_budget['steady_calls_per_min'] / max(without['steady_calls_per_min'], 1e-9):.2f}x | "
                f"{with_budget['cpu_per_min'] / max(without['cpu_per_min'], 1e-9):.2f}x |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    child = sub.add_parser("child")
    child.add_argument("--kind", choices=KINDS, required=True)
    for name in ("--jobs-file", "--endpoint", "--ready-file", "--out"):
        child.add_argument(name, required=True)
    child.add_argument("--poll", type=float, required=True)
    child.add_argument("--window", type=float, required=True)
    child.add_argument("--restart-at", type=float, required=True)
    child.add_argument("--profile", help="write a cProfile of the watching to this file")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--poll", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=90.0)
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--job-seconds",
        type=float,
        nargs=2,
        default=[5, 40],
        metavar=("MIN", "MAX"),
        help="how long each job sleeps, drawn uniformly (real hybrid jobs run minutes)",
    )
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=["baseline", "shared"])
    parser.add_argument(
        "--baseline-max", type=int, default=1000, help="largest N the per-job baseline is run at"
    )
    parser.add_argument(
        "--restart-at",
        type=float,
        default=0.5,
        help="when in the window (a fraction) the triggers are made again, as a triggerer restart "
        "does; 0: never",
    )
    parser.add_argument(
        "--keep-results", help="write each run's raw timings (when each job ended and fired) here"
    )
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
                    if kind == "baseline" and count > args.baseline_max:
                        continue  # a client and a socket per job: extrapolated from smaller N
                    result = run_one(kind, count, args, service.endpoint, scratch, script)
                    rows.append(summarise(kind, count, result, args.poll))
                    row = rows[-1]
                    print(
                        f"N={count} {kind}: {row['calls_per_min']:.1f} calls/min, "
                        f"{row['peak_rss_mib']:.0f} MiB, {row['cpu_per_min']:.2f} CPU s/min, "
                        f"{row['steady_calls_per_min']:.1f} settled, "
                        f"{row['ended']} ended, max {row['max_latency']:.2f} intervals, "
                        f"{row['missed']} late; calls: {row['calls']}",
                        flush=True,
                    )
                    if row["late"]:
                        restart = (
                            f", restart at {args.restart_at * args.window:.0f} s" if args.restart_at else ""
                        )
                        print(
                            f"  late (ended s, fired s into the window{restart}): {row['late']}", flush=True
                        )
    print_table(rows, args)


if __name__ == "__main__":
    main()
