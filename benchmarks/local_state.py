"""Benchmark of the local service's durable S3 state; prints a Markdown table.

- PutObject of 1 KiB (median and p95 over HTTP): every acknowledged write is fsynced first;
- PutObject of a body at the request limit: the service's RSS growth while it stores it;
- restart (kill -9, then until /_local/health is ready) with N objects stored;
- disk use of ``blobs/`` after overwriting one key many times: it follows live data.

    .venv/bin/python benchmarks/local_state.py [--objects 2000] [--large-mb 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import psutil
from botocore.config import Config

from airflow_provider_braket.local.service_process import LocalServiceProcess

BUCKET = "state-bench"


def client(service: LocalServiceProcess) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client("s3", endpoint_url=service.endpoint, config=Config(retries={"mode": "standard"}))


def put_latency(s3: Any, count: int) -> list[float]:
    timings = []
    for index in range(count):
        body = os.urandom(1024)  # distinct bodies: no two objects share a blob
        started = time.perf_counter()
        s3.put_object(Bucket=BUCKET, Key=f"small/{index}", Body=body)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def large_put_growth(service: LocalServiceProcess, s3: Any, megabytes: int) -> tuple[float, float]:
    assert service.process is not None
    process = psutil.Process(service.process.pid)
    before = process.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample() -> None:  # the peak, not the RSS once the request is over
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    body = os.urandom(megabytes << 20)
    started = time.perf_counter()
    s3.put_object(Bucket=BUCKET, Key="large", Body=body)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    return (peak[0] - before) / (1 << 20), elapsed


def restart_seconds(service: LocalServiceProcess) -> float:
    service.kill()
    started = time.perf_counter()
    service.start(timeout=300)
    return time.perf_counter() - started


def blob_bytes(data_dir: Path) -> int:
    return sum(path.stat().st_size for path in (data_dir / "blobs").rglob("*") if path.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--large-mb", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        service = LocalServiceProcess(Path(folder) / "data").start()
        try:
            s3 = client(service)
            s3.create_bucket(Bucket=BUCKET)
            timings = put_latency(s3, args.objects)
            growth_mb, large_seconds = large_put_growth(service, s3, args.large_mb)
            for _ in range(50):
                s3.put_object(Bucket=BUCKET, Key="churn", Body=os.urandom(1 << 20))
            live = args.objects * 1024 + (args.large_mb << 20) + (1 << 20)
            stored = blob_bytes(service.data_dir)
            restart = restart_seconds(service)
            s3 = client(service)
            listed = sum(
                page.get("KeyCount", 0)
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            )
        finally:
            service.stop()
    cuts = statistics.quantiles(timings, n=20)
    print("| measure | value |")
    print("|---|---|")
    print(f"| PutObject 1 KiB, median | {statistics.median(timings):.1f} ms |")
    print(f"| PutObject 1 KiB, p95 | {cuts[18]:.1f} ms |")
    print(f"| PutObject {args.large_mb} MiB: time | {large_seconds:.2f} s |")
    print(f"| PutObject {args.large_mb} MiB: service RSS growth | {growth_mb:.0f} MiB |")
    print(f"| blobs on disk / live object bytes (after 50 overwrites of a 1 MiB key) | {stored / live:.3f} |")
    print(f"| restart after kill -9 with {listed} objects | {restart:.1f} s |")


if __name__ == "__main__":
    main()
