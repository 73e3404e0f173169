"""Benchmark of quantum task isolation in the local service; prints Markdown tables (issue 23).

- 40 concurrent 12-qubit SV1 tasks (``run_batch``) plus 2 concurrent 12-qubit DM1 tasks, with the
  default ``--quantum-task-workers 2`` and with ``--quantum-task-workers 1``: all COMPLETED? did the service's
  process stay the same? wall time and throughput;
- the 2-qubit SV1 task, CreateQuantumTask to ``result()``: median and p90 (warm workers);
- API latency (GetDevice, every 50 ms) while a 0.5 MiB program for an emulated IonQ QPU is checked
  and while a 300-task ``run_batch`` runs: median, p99, max;
- peak resident memory of a task over its state's size (16 x 2^n or 16 x 4^n bytes), for the
  memory estimate of ``task_limits.PEAK_OVER_STATE``: each size in a fresh worker, VmHWM.

    .venv/bin/python benchmarks/task_isolation.py [--latency-tasks 40] [--batch 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from quantum_tasks import percentile, point_sdk_at  # the sibling benchmark (scripts run from here)

from airflow_provider_braket.local.service_process import LocalServiceProcess

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1 = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"
IONQ = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-Enterprise-1"
BUCKET = "amazon-braket-us-east-1-123456789012"


def start(data_dir: Path, *args: str) -> LocalServiceProcess:
    service = LocalServiceProcess(data_dir, extra_args=list(args)).start()
    point_sdk_at(service)
    import boto3

    s3 = boto3.client("s3")
    if BUCKET not in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    return service


def concurrent_batch(workers: int, root: Path) -> dict[str, Any]:
    from braket.aws import AwsDevice
    from braket.circuits import Circuit

    service = start(root / f"batch-{workers}", "--quantum-task-workers", str(workers))
    try:
        assert service.process is not None
        pid = service.process.pid
        AwsDevice(SV1).run(Circuit().h(0), (BUCKET, "warm"), shots=10).result()  # workers warm
        twelve = Circuit().h(range(12)).cnot(0, 11)
        dm1_states: list[str] = []

        def dm1() -> None:
            task = AwsDevice(DM1).run(twelve, (BUCKET, "dm1"), shots=100)
            task.result()
            dm1_states.append(task.state())

        started = time.perf_counter()
        threads = [threading.Thread(target=dm1) for _ in range(2)]
        for thread in threads:
            thread.start()
        batch = AwsDevice(SV1).run_batch([twelve] * 40, (BUCKET, "sv1"), shots=100, max_parallel=40)
        batch.results()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        states = [task.state() for task in batch.tasks] + dm1_states
        return {
            "workers": workers,
            "completed": states.count("COMPLETED"),
            "tasks": len(states),
            "same_process": service.process.poll() is None and service.process.pid == pid,
            "wall": wall,
        }
    finally:
        service.stop()


def latency(count: int, root: Path) -> list[float]:
    from braket.aws import AwsDevice
    from braket.circuits import Circuit

    service = start(root / "latency")
    try:
        bell = Circuit().h(0).cnot(0, 1)
        device = AwsDevice(SV1)
        device.run(bell, (BUCKET, "warm"), shots=100).result()
        times = []
        for _ in range(count):
            started = time.perf_counter()
            device.run(bell, (BUCKET, "lat"), shots=100).result()
            times.append(time.perf_counter() - started)
        return times
    finally:
        service.stop()


def api_latency_during(load: str, batch: int, root: Path) -> dict[str, Any]:
    import boto3
    from braket.aws import AwsDevice
    from braket.circuits import Circuit

    service = start(root / f"api-{load}")
    braket = boto3.client("braket")
    try:
        AwsDevice(SV1).run(Circuit().h(0), (BUCKET, "warm"), shots=10).result()
        outcome: dict[str, Any] = {}

        def work() -> None:
            started = time.perf_counter()
            try:
                if load == "qpu-program":
                    lines = "".join(f"rz(0.{n % 97 + 1}) q[{n % 30}];\n" for n in range(33_000))
                    source = "OPENQASM 3.0;\nqubit[30] q;\n" + lines
                    outcome["size"] = len(source)
                    action = {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"},
                              "source": source}  # fmt: skip
                    braket.create_quantum_task(
                        deviceArn=IONQ, action=json.dumps(action), shots=100,
                        outputS3Bucket=BUCKET, outputS3KeyPrefix="big",
                    )  # fmt: skip
                    outcome["answer"] = "accepted"
                else:
                    circuits = [Circuit().h(range(4)).cnot(0, 3)] * batch
                    result = AwsDevice(SV1).run_batch(circuits, (BUCKET, "b"), shots=100, max_parallel=100)
                    result.results()
                    outcome["answer"] = f"{sum(t.state() == 'COMPLETED' for t in result.tasks)} completed"
            except Exception as error:
                outcome["answer"] = f"refused: {str(error)[-120:]}"
            outcome["seconds"] = time.perf_counter() - started

        thread = threading.Thread(target=work)
        thread.start()
        latencies = []
        while thread.is_alive():
            started = time.perf_counter()
            braket.get_device(deviceArn=SV1)
            latencies.append(time.perf_counter() - started)
            time.sleep(0.05)
        return {"load": load, "samples": latencies, **outcome}
    finally:
        service.stop()


def peak_factors() -> list[dict[str, Any]]:
    from airflow_provider_braket.local.execution.quantum_task_processes import WorkerProcess

    rows = []
    for method, device, sizes in (("state_vector", SV1, (20, 22, 24)), ("density_matrix", DM1, (9, 10, 11))):
        for qubits in sizes:
            worker = WorkerProcess(f"peak-{qubits}")
            worker.start()
            assert worker.pid is not None
            before = _vm_hwm(worker.pid)
            source = (
                f"OPENQASM 3.0;\nqubit[{qubits}] q;\nh q;\n"
                f"for int i in [0:{qubits - 2}] {{ cnot q[i], q[i+1]; }}\n"
            )
            action = json.dumps({"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"},
                                 "source": source})  # fmt: skip
            answer = worker.call(
                {"op": "run", "device_arn": device, "action_type": "braket.ir.openqasm.program",
                 "action": action, "shots": 1000, "task_arn": "peak", "max_statements": 100_000,
                 "memory_bytes": 0},
                600,
            )  # fmt: skip
            peak = _vm_hwm(worker.pid)
            worker.kill()
            state = 16 * (4**qubits if method == "density_matrix" else 2**qubits)
            rows.append({"method": method, "qubits": qubits, "ok": answer["ok"], "state": state,
                         "growth": peak - before, "factor": (peak - before) / state})  # fmt: skip
    return rows


def _vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-tasks", type=int, default=40)
    parser.add_argument("--batch", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        print("| task workers | tasks | COMPLETED | service process unchanged | wall (s) | tasks/s |")
        print("|---|---|---|---|---|---|")
        for workers in (2, 1):
            row = concurrent_batch(workers, root)
            print(f"| {row['workers']} | {row['tasks']} | {row['completed']} | {row['same_process']} | "
                  f"{row['wall']:.1f} | {row['tasks'] / row['wall']:.2f} |")  # fmt: skip
        times = latency(args.latency_tasks, root)
        median, p90 = statistics.median(times) * 1000, percentile(times, 0.9) * 1000
        print(
            f"\n2-qubit SV1 task, create to result() ({len(times)} tasks): "
            f"median {median:.1f} ms, p90 {p90:.1f} ms"
        )
        print("\n| load | load's outcome | load's time (s) | API calls | median (ms) | p99 (ms) | max (ms) |")
        print("|---|---|---|---|---|---|---|")
        for load in ("qpu-program", "run-batch"):
            row = api_latency_during(load, args.batch, root)
            samples = row["samples"]
            name = f"{load} ({row['size'] / 2**20:.2f} MiB)" if "size" in row else f"{load} of {args.batch}"
            print(f"| {name} | {row.get('answer')} | {row.get('seconds', 0):.1f} | {len(samples)} | "
                  f"{statistics.median(samples) * 1000:.1f} | {percentile(samples, 0.99) * 1000:.1f} | "
                  f"{max(samples) * 1000:.1f} |")  # fmt: skip
    print("\n| method | qubits | state | peak growth of the worker | peak / state |")
    print("|---|---|---|---|---|")
    for row in peak_factors():
        print(f"| {row['method']} | {row['qubits']} | {row['state'] / 2**20:.1f} MiB | "
              f"{row['growth'] / 2**20:.1f} MiB | {row['factor']:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
