"""Demo: start the local Braket service, run the braket_vqe example DAG on it, print the result.

With ``--study-runs N`` it runs the braket_qaoa_study example N times instead (as N daily runs
would), and prints how its study improves from run to run (``make demo-study``).

No AWS account is used. The DAG runs with ``airflow dags test`` in deferrable mode (the job is
watched by its trigger, as the triggerer would), with connection ``braket_default`` pointed at the
local service exactly as a user would point it at any Braket endpoint. The job's device is SV1:
its script sends every energy evaluation as a quantum task to ``AwsDevice(AMZN_BRAKET_DEVICE_ARN)``,
which the local service runs on its state-vector simulator, as AWS would run it on SV1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from airflow_provider_braket.local.service_process import LocalServiceProcess, free_port

REPO = Path(__file__).resolve().parents[1]
DEVICE = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
EXAMPLE_DAGS = REPO / "example_dags"


def airflow_environment(home: Path, connection: str) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
        "AIRFLOW__BRAKET__WAITER_DELAY": "2",
        # `dags test` runs the trigger inline, with no scheduler to race: no need to hold resumes back.
        "AIRFLOW__BRAKET__MIN_DEFERRAL_SECONDS": "0",
        "AIRFLOW_CONN_BRAKET_DEFAULT": connection,
    }


def airflow(*args: str, env: dict[str, str], log: Path) -> int:
    with log.open("a") as handle:
        return subprocess.call(
            [sys.executable, "-m", "airflow", *args], env=env, stdout=handle, stderr=handle
        )


def usable_port(wanted: int) -> int:
    """``wanted`` if nothing listens there, else a free port (said so: ``make demo PORT=...``)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", wanted))
            return wanted
        except OSError:
            pass
    port = free_port()
    print(f"port {wanted} is taken; the local service uses port {port} (choose one: make demo PORT=...)")
    return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8975)
    parser.add_argument("--data-dir", type=Path, default=Path(".demo"))
    parser.add_argument("--study-runs", type=int, default=0, help="run braket_qaoa_study this many times")
    args = parser.parse_args()
    if args.study_runs:
        study_demo(args)
        return

    root, log = prepare(args, "airflow-dags-test.log")
    with LocalServiceProcess(root / "braket-local", port=usable_port(args.port)) as service:
        env = airflow_ready(service, root, log)
        print("running: airflow dags test braket_vqe (deferrable, device SV1) ...", flush=True)
        conf = json.dumps({"device": DEVICE})
        code = airflow("dags", "test", "braket_vqe", "--conf", conf, env=env, log=log)
        plot = fetch_convergence_plot(service, log.read_text(), root)
        job_arn = re.search(r"job (arn:aws:braket:\S+:job/[0-9a-f-]+)", log.read_text())
        tasks = count_job_tasks(service, job_arn.group(1)) if job_arn else 0
    output = log.read_text()
    energy = re.search(r"VQE energy (-?\d+\.\d+) Ha, exact (-?\d+\.\d+) Ha", output)
    if code != 0 or "state=success" not in output or not energy or not job_arn:
        raise SystemExit(f"the braket_vqe run did not succeed (exit {code}); see {log}")
    print(f"hybrid job:          {job_arn.group(1)}")
    print(f"device:              {DEVICE} ({tasks} quantum tasks)")
    print(f"ground-state energy: {float(energy.group(1)):.6f} Ha (exact: {float(energy.group(2)):.6f} Ha)")
    if plot:
        print(f"convergence plot:    {plot}")
    print(f"full Airflow log:    {log}")


def prepare(args: argparse.Namespace, log_name: str) -> tuple[Path, Path]:
    """The demo's folder and its (emptied) Airflow log."""
    root = args.data_dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    log = root / log_name
    log.write_text("")
    return root, log


def airflow_ready(service: LocalServiceProcess, root: Path, log: Path) -> dict[str, str]:
    """Airflow's environment against ``service``, its database migrated."""
    print(f"local Braket service ready at {service.endpoint} (data in {root / 'braket-local'})")
    env = airflow_environment(root / "airflow", service.connection_uri())
    if airflow("db", "migrate", env=env, log=log) != 0:
        raise SystemExit(f"airflow db migrate failed; see {log}")
    return env


def study_demo(args: argparse.Namespace) -> None:
    """Run braket_qaoa_study ``args.study_runs`` times: its study goes on from run to run."""
    root, log = prepare(args, "airflow-dags-test-study.log")
    with LocalServiceProcess(root / "braket-local", port=usable_port(args.port)) as service:
        env = airflow_ready(service, root, log)
        for number in range(1, args.study_runs + 1):
            print(f"run {number}: airflow dags test braket_qaoa_study ...", flush=True)
            seen = len(log.read_text())
            code = airflow("dags", "test", "braket_qaoa_study", env=env, log=log)
            reports = re.findall(r"Study qaoa_maxcut: (\{.*\})", log.read_text()[seen:])
            if code != 0 or not reports:
                raise SystemExit(f"the braket_qaoa_study run did not succeed (exit {code}); see {log}")
            report = json.loads(reports[-1])
            best = report["best"] or {}
            print(
                f"  {report['trials']} points so far ({report['pruned']} stopped early), "
                f"USD {report['cost']:.4f}; best expected cut {best.get('value', float('nan')):.4f} "
                f"(p={best.get('p')}, rhobeg={best.get('rhobeg', 0):.3f}, seed={best.get('seed')})"
            )
    print(f"study: {root / 'airflow' / 'braket_studies.sqlite3'} (optuna.load_study reads it)")
    print(f"full Airflow log: {log}")


def client(service: LocalServiceProcess, name: str) -> Any:
    import boto3

    return boto3.client(
        name,
        endpoint_url=service.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def count_job_tasks(service: LocalServiceProcess, job_arn: str) -> int:
    """The quantum tasks the job sent, found by their job ARN as AwsQuantumJob.get_tasks() does."""
    pages = (
        client(service, "braket")
        .get_paginator("search_quantum_tasks")
        .paginate(filters=[{"name": "jobArn", "operator": "EQUAL", "values": [job_arn]}])
    )
    return sum(len(page["quantumTasks"]) for page in pages)


def fetch_convergence_plot(service: LocalServiceProcess, output: str, root: Path) -> Path | None:
    """Copy the PNG the DAG saved next to the job's results out of the local service's S3."""
    found = re.search(r"convergence plot: (s3://\S+\.png)", output)
    if not found:
        return None
    bucket, _, key = found.group(1).removeprefix("s3://").partition("/")
    s3 = client(service, "s3")
    target = root / "convergence.png"
    s3.download_file(bucket, key, str(target))
    return target


if __name__ == "__main__":
    main()
