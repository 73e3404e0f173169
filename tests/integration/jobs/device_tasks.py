"""A hybrid job written the way AWS documents them: AwsDevice of the job's device, quantum tasks."""

import os
import time

from braket.aws import AwsDevice
from braket.circuits import Circuit
from braket.jobs import save_job_result
from braket.tracking import Tracker


def _heavy(qubits):
    circuit = Circuit()
    for layer in range(20):
        for qubit in range(qubits):
            circuit.rx(qubit, 0.1 * (layer + 1))
        for qubit in range(qubits - 1):
            circuit.cnot(qubit, qubit + 1)
    return circuit


def run(mode="bell"):
    device = AwsDevice(os.environ["AMZN_BRAKET_DEVICE_ARN"])
    bell = Circuit().h(0).cnot(0, 1)
    if mode == "bell":
        with Tracker() as tracker:
            task = device.run(bell, shots=200)
            counts = task.result().measurement_counts
            batch = device.run_batch([bell, Circuit().x(0).x(1)], shots=50)
            batch_counts = [dict(result.measurement_counts) for result in batch.results()]
        statistics = tracker.quantum_tasks_statistics()[device.arn]
        save_job_result(
            {
                "cost": str(tracker.simulator_tasks_cost()),
                "counts": dict(counts),
                "batch_counts": batch_counts,
                "task_arns": [task.id, *[t.id for t in batch.tasks]],
                "tracked_shots": statistics["shots"],
                "tracked_tasks": statistics["tasks"],
                "queue_priority": task.queue_position().queue_type.value,
            }
        )
        return
    # mode "hold": one long task and two short ones, then wait to be cancelled.
    tasks = [device.run(_heavy(20), shots=10), device.run(bell, shots=10), device.run(bell, shots=10)]
    for task in tasks:
        print(f"created {task.id}", flush=True)
    time.sleep(600)
