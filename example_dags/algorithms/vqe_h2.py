"""A small VQE for H2 in a two-qubit reduction, written as a Braket hybrid job script.

It uses only what a real job uses: braket.jobs helpers, the device ARN it was given, log_metric,
and save_job_result. For a managed device (SV1, DM1, a QPU) every energy is a quantum task on
``AwsDevice(AMZN_BRAKET_DEVICE_ARN)``, with the job's priority; ``local:<provider>/<name>`` means
"simulate inside the job" with the SDK's LocalSimulator, as on AWS.
"""

import json
import math

from braket.circuits import Circuit, Observable
from braket.devices import LocalSimulator
from braket.jobs import get_hyperparameters, get_job_device_arn, save_job_result
from braket.jobs.metrics import log_metric

PAULI = {"I": Observable.I, "X": Observable.X, "Y": Observable.Y, "Z": Observable.Z}


def ansatz(theta: float) -> Circuit:
    # cos(theta/2)|01> + sin(theta/2)|10>: the particle-conserving subspace holding H2's ground state.
    return Circuit().ry(0, theta).cnot(0, 1).x(1)


# --8<-- [start:device]
def device_for(arn: str):
    if arn.startswith("local:"):
        return LocalSimulator()
    from braket.aws import AwsDevice  # only for a managed device: importing braket.aws takes seconds

    return AwsDevice(arn)
    # --8<-- [end:device]


def energy(device, hamiltonian, theta: float) -> float:
    circuit = ansatz(theta)
    terms = [(coefficient, word) for coefficient, word in hamiltonian if word != "II"]
    for _, word in terms:
        observable = PAULI[word[0]]() @ PAULI[word[1]]()
        circuit.expectation(observable, target=[0, 1])
    values = device.run(circuit, shots=0).result().values
    constant = sum(coefficient for coefficient, word in hamiltonian if word == "II")
    return constant + sum(coefficient * value for (coefficient, _), value in zip(terms, values, strict=False))


def main():
    hyperparameters = get_hyperparameters()
    hamiltonian = json.loads(hyperparameters["hamiltonian"])
    iterations = int(hyperparameters.get("iterations", "30"))
    device_arn = get_job_device_arn()
    print(f"VQE on {device_arn} with {len(hamiltonian)} Pauli terms")
    device = device_for(device_arn)
    # Golden-section search on one angle: E(theta) is a single sinusoid, so it converges.
    low, high = -math.pi, math.pi
    ratio = (math.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = energy(device, hamiltonian, a), energy(device, hamiltonian, b)
    for iteration in range(iterations):
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = energy(device, hamiltonian, a)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = energy(device, hamiltonian, b)
        log_metric(metric_name="energy", value=min(fa, fb), iteration_number=iteration)
    theta = a if fa < fb else b
    best = min(fa, fb)
    print(f"ground-state energy estimate {best:.6f} at theta={theta:.6f}")
    save_job_result({"energy": best, "theta": theta, "iterations": iterations})


if __name__ == "__main__":
    main()
