"""Benchmark of quantum tasks on the local service; prints Markdown tables.

- a 2-qubit Bell circuit on SV1 through the local service, CreateQuantumTask to the result read
  by ``AwsQuantumTask.result()``, against the same circuit on ``LocalSimulator`` in-process;
- ``run_batch`` of N small circuits on SV1: wall time and the service's resident memory before,
  at its peak and after (sampled every 50 ms by psutil);
- the VQE example job (``example_dags/algorithms/vqe_h2.py``) on SV1 (every energy a quantum
  task) against the same job on ``local:braket/braket.local.qubit`` (LocalSimulator in the job).

Targets (issue 12): median under 100 ms and under 5x LocalSimulator; the batch completes with
memory flat; the VQE job on SV1 no more than 2x its LocalSimulator time.

    .venv/bin/python benchmarks/quantum_tasks.py [--tasks 50] [--batch 1000] [--vqe-runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil

from airflow_provider_braket.local.service_process import LocalServiceProcess

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
BUCKET = "amazon-braket-us-east-1-123456789012"
ALGORITHMS = Path(__file__).resolve().parents[1] / "example_dags" / "algorithms"
H2 = [[-0.4804, "II"], [0.3435, "ZI"], [-0.4347, "IZ"], [0.5716, "ZZ"], [0.0910, "XX"], [0.0910, "YY"]]


def point_sdk_at(service: LocalServiceProcess) -> None:
    os.environ.update(
        AWS_ENDPOINT_URL=service.endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def task_latency(count: int, service_pid: int) -> dict[str, list[float]]:
    """Wall time per task both ways, and the CPU seconds the SDK (this process) and the
    service spent on the SV1 tasks: the two run one after the other, so their sum is the wall."""
    from braket.aws import AwsDevice
    from braket.circuits import Circuit
    from braket.devices import LocalSimulator

    bell = Circuit().h(0).cnot(0, 1)
    device, local = AwsDevice(SV1), LocalSimulator()
    device.run(bell, (BUCKET, "warm"), shots=100).result()  # first call imports the simulator
    local.run(bell, shots=100).result()
    service = psutil.Process(service_pid)
    remote, in_process, client_cpu, service_cpu = [], [], [], []
    for _ in range(count):
        started, client_started = time.perf_counter(), time.process_time()
        service_started = sum(service.cpu_times()[:2])
        device.run(bell, (BUCKET, "bench"), shots=100).result()
        remote.append(time.perf_counter() - started)
        client_cpu.append(time.process_time() - client_started)
        service_cpu.append(sum(service.cpu_times()[:2]) - service_started)
        started = time.perf_counter()
        local.run(bell, shots=100).result()
        in_process.append(time.perf_counter() - started)
    return {"sv1": remote, "local": in_process, "client_cpu": client_cpu, "service_cpu": service_cpu}


class MemorySampler:
    """Resident memory of one process, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.samples.append(self.process.memory_info().rss)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def batch_run(service: LocalServiceProcess, count: int) -> dict[str, float]:
    from braket.aws import AwsDevice
    from braket.circuits import Circuit

    assert service.process is not None
    circuits = [Circuit().rx(0, 0.001 * n).cnot(0, 1) for n in range(count)]
    before = psutil.Process(service.process.pid).memory_info().rss
    with MemorySampler(service.process.pid) as sampler:
        started = time.perf_counter()
        batch = AwsDevice(SV1).run_batch(circuits, (BUCKET, "batch"), shots=10, max_parallel=10)
        results = batch.results()
        elapsed = time.perf_counter() - started
    after = psutil.Process(service.process.pid).memory_info().rss
    done = sum(1 for result in results if result is not None)
    return {
        "count": count,
        "completed": done,
        "seconds": elapsed,
        "rss_before": before / 2**20,
        "rss_peak": max(sampler.samples or [after]) / 2**20,
        "rss_after": after / 2**20,
    }


def vqe_job_seconds(device: str) -> tuple[float, int]:
    """Wall time of the VQE example job, CreateJob to COMPLETED, and its number of tasks."""
    from braket.aws import AwsQuantumJob

    started = time.perf_counter()
    job = AwsQuantumJob.create(
        device=device,
        source_module=str(ALGORITHMS / "vqe_h2.py"),
        hyperparameters={"hamiltonian": json.dumps(H2), "iterations": "30"},
        wait_until_complete=False,
    )
    while job.state() not in AwsQuantumJob.TERMINAL_STATES:
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    assert job.state() == "COMPLETED", job.metadata().get("failureReason")
    return elapsed, len(job.get_tasks())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--vqe-runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, LocalServiceProcess(Path(folder) / "data") as service:
        point_sdk_at(service)
        import boto3

        boto3.client("s3").create_bucket(Bucket=BUCKET)
        latency = task_latency(args.tasks, service.process.pid)  # type: ignore[union-attr]
        batch = batch_run(service, args.batch)
        vqe: dict[str, list[float]] = {"local:braket/braket.local.qubit": [], SV1: []}
        tasks = {}
        for _ in range(args.vqe_runs):
            for device in vqe:  # alternate, so both see the same machine load
                seconds, tasks[device] = vqe_job_seconds(device)
                vqe[device].append(seconds)

    sv1, local = statistics.median(latency["sv1"]), statistics.median(latency["local"])
    print(f"\n| 2-qubit Bell, 100 shots ({args.tasks} runs) | median | p90 | target |")
    print("|---|---|---|---|")
    print(
        f"| SV1 via the local service, create to result() | {sv1 * 1000:.1f} ms "
        f"| {percentile(latency['sv1'], 0.9) * 1000:.1f} ms | < 100 ms |"
    )
    local_p90 = percentile(latency["local"], 0.9)
    print(f"| LocalSimulator in-process | {local * 1000:.1f} ms | {local_p90 * 1000:.1f} ms | |")
    print(f"| ratio SV1 / LocalSimulator | {sv1 / local:.2f} | | < 5 |")
    # Means, not medians: the service's CPU times tick in 10 ms steps, so one task's figure is 0,
    # 10 or 20 ms and only the sum over all runs is accurate.
    for name, label in (("client_cpu", "the SDK and boto3 in the caller"), ("service_cpu", "the service")):
        cpu = statistics.fmean(latency[name])
        share = f"{cpu / local:.2f}x LocalSimulator"
        print(f"| of an SV1 task: CPU in {label} (mean) | {cpu * 1000:.1f} ms | | ({share}) |")
    print(f"\n| run_batch of {batch['count']} circuits on SV1 | value |")
    print("|---|---|")
    print(f"| completed | {batch['completed']} of {batch['count']} |")
    print(f"| wall time | {batch['seconds']:.1f} s ({batch['count'] / batch['seconds']:.0f} tasks/s) |")
    print(
        f"| service RSS before / peak / after | {batch['rss_before']:.0f} / {batch['rss_peak']:.0f} / "
        f"{batch['rss_after']:.0f} MiB |"
    )
    if args.vqe_runs < 1:
        return
    print(f"\n| VQE example job, 30 iterations ({args.vqe_runs} runs each) | median | tasks |")
    print("|---|---|---|")
    for device, seconds in vqe.items():
        print(f"| {device} | {statistics.median(seconds):.1f} s | {tasks[device]} |")
    ratio = statistics.median(vqe[SV1]) / statistics.median(vqe["local:braket/braket.local.qubit"])
    print(f"| ratio SV1 / LocalSimulator (target <= 2) | {ratio:.2f} | |")


if __name__ == "__main__":
    main()
