"""Benchmark of a job's log shipping in the local service; prints a Markdown table (issue 25).

One job per case prints as fast as it can: 200 MiB of 1 KiB lines, and 10 MiB of one-character
lines (5,242,880 lines). For each: lines printed, lines in CloudWatch Logs (counted in the
service's store once it has stopped), lines the shipper reported dropped and the warning it
wrote, job wall time, the service's peak resident memory while the job ran and its resident
memory 5 s after the job ended.

    .venv/bin/python benchmarks/log_shipping.py [--big-mib 200] [--small-mib 10]
"""

from __future__ import annotations

import argparse
import io
import re
import sqlite3
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from airflow_provider_braket.local.service_process import LocalServiceProcess

BUCKET = "amazon-braket-us-east-1-123456789012"
FLOOD = b"""
import json, os, sys
hyperparameters = json.load(open(os.environ["AMZN_BRAKET_HP_FILE"]))
size, total = int(hyperparameters["LINE_BYTES"]), int(hyperparameters["TOTAL_BYTES"])
line = b"x" * (size - 1) + b"\\n"
chunk = line * max(1, 65536 // size)
written = 0
while written < total:
    sys.stdout.buffer.write(chunk)
    written += len(chunk)
sys.stdout.flush()
"""


def script_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("flood.py")
        info.size = len(FLOOD)
        archive.addfile(info, io.BytesIO(FLOOD))
    return buffer.getvalue()


def run_case(
    root: Path, name: str, line_bytes: int, total_bytes: int, service_args: list[str]
) -> dict[str, Any]:
    service = LocalServiceProcess(root / name, extra_args=service_args).start()
    assert service.process is not None
    process = psutil.Process(service.process.pid)
    session = __import__("boto3").session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    s3 = session.client("s3", endpoint_url=service.endpoint)
    braket = session.client("braket", endpoint_url=service.endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="bench/flood.tar.gz", Body=script_archive())
    peak = [process.memory_info().rss]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    job_arn = braket.create_job(
        jobName=f"flood-{name}",
        roleArn="arn:aws:iam::123456789012:role/service-role/AmazonBraketJobsExecutionRole",
        algorithmSpecification={
            "scriptModeConfig": {
                "entryPoint": "flood",
                "s3Uri": f"s3://{BUCKET}/bench/flood.tar.gz",
                "compressionType": "GZIP",
            }
        },
        instanceConfig={"instanceType": "ml.m5.large", "instanceCount": 1, "volumeSizeInGb": 1},
        outputDataConfig={"s3Path": f"s3://{BUCKET}/bench/output"},
        deviceConfig={"device": "local:braket/braket.local.qubit"},
        hyperParameters={"LINE_BYTES": str(line_bytes), "TOTAL_BYTES": str(total_bytes)},
    )["jobArn"]
    while braket.get_job(jobArn=job_arn)["status"] not in ("COMPLETED", "FAILED", "CANCELLED"):
        time.sleep(0.5)
    wall = time.monotonic() - started
    status = braket.get_job(jobArn=job_arn)["status"]
    time.sleep(5)
    after = process.memory_info().rss
    done.set()
    log_text = service.log_path.read_text(errors="replace")
    service.stop()
    with sqlite3.connect(root / name / "state.sqlite3") as database:
        stored = database.execute(
            # The job's own lines (all "x"), not the lines of the container around them.
            "SELECT COUNT(*) FROM log_events WHERE stream LIKE ? AND message LIKE 'x%'",
            (f"flood-{name}/%",),
        ).fetchone()[0]
    dropped = re.search(r"(\d+) of (\d+) log lines of flood-", log_text)
    return {
        "case": name,
        "status": status,
        "printed": total_bytes // line_bytes,
        "stored": stored,
        "dropped": int(dropped.group(1)) if dropped else 0,
        "wall": wall,
        "peak_mib": peak[0] / 2**20,
        "after_mib": after / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=200)
    parser.add_argument("--small-mib", type=int, default=10)
    parser.add_argument(
        "--service-args", default="", help="more `braket-local serve` flags, e.g. --log-events-max 1000"
    )
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        service_args = options.service_args.split()
        if options.big_mib:
            rows.append(run_case(root, "1kib-lines", 1024, options.big_mib << 20, service_args))
        if options.small_mib:
            rows.append(run_case(root, "1-char-lines", 2, options.small_mib << 20, service_args))
    print(
        "| job prints | status | lines printed | lines in CloudWatch | reported dropped | job wall s "
        "| service peak RSS MiB | RSS 5 s after MiB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['case']} | {row['status']} | {row['printed']:,} | {row['stored']:,} "
            f"| {row['dropped']:,} | {row['wall']:.1f} | {row['peak_mib']:.0f} | {row['after_mib']:.0f} |"
        )


if __name__ == "__main__":
    main()
