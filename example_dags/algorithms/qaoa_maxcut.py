"""QAOA for MaxCut, written as a Braket hybrid job script.

Hyperparameters: ``graph`` (JSON list of [u, v] edges), ``p`` (QAOA depth), ``seed`` (for the
initial angles), ``shots`` (for the final sampling), ``maxiter`` (optimizer budget), ``rhobeg``
(COBYLA's initial step, 1.0 unless given). The expected
cut is optimised with COBYLA on exact expectations (shots=0 on a simulator; with a QPU ARN the
same code samples), then the best angles are sampled to find a cut.
"""

import json

import numpy as np
from braket.circuits import Circuit, Observable
from braket.devices import LocalSimulator
from braket.jobs import get_hyperparameters, get_job_device_arn, save_job_result
from braket.jobs.metrics import log_metric
from scipy.optimize import minimize


def qaoa_circuit(nodes: int, edges, gammas, betas) -> Circuit:
    circuit = Circuit().h(range(nodes))
    for gamma, beta in zip(gammas, betas, strict=True):
        for u, v in edges:
            circuit.zz(u, v, 2 * gamma)
        circuit.rx(range(nodes), 2 * beta)
    return circuit


def cut_value(bits: str, edges) -> int:
    return sum(1 for u, v in edges if bits[u] != bits[v])


def device_for(arn: str):
    if arn.startswith("local:"):
        return LocalSimulator()
    from braket.aws import AwsDevice  # only for a managed device: importing braket.aws takes seconds

    return AwsDevice(arn)


def main():
    hp = get_hyperparameters()
    edges = [tuple(edge) for edge in json.loads(hp["graph"])]
    depth, seed = int(hp.get("p", "1")), int(hp.get("seed", "0"))
    shots, maxiter = int(hp.get("shots", "200")), int(hp.get("maxiter", "60"))
    rhobeg = float(hp.get("rhobeg", "1.0"))
    nodes = 1 + max(max(edge) for edge in edges)
    device_arn = get_job_device_arn()
    device = device_for(device_arn)
    exact = device_arn.startswith("local:")
    print(f"QAOA p={depth} seed={seed} on {device_arn}: {nodes} nodes, {len(edges)} edges")
    evaluations = []

    def expected_cut(angles) -> float:
        circuit = qaoa_circuit(nodes, edges, angles[:depth], angles[depth:])
        for u, v in edges:
            circuit.expectation(Observable.Z() @ Observable.Z(), target=[u, v])
        values = device.run(circuit, shots=0 if exact else shots).result().values
        cut = sum((1 - value) / 2 for value in values)
        evaluations.append(cut)
        log_metric(metric_name="expected_cut", value=cut, iteration_number=len(evaluations))
        return -cut

    start = np.random.default_rng(seed).uniform(0, np.pi, 2 * depth)
    best = minimize(expected_cut, start, method="COBYLA", options={"maxiter": maxiter, "rhobeg": rhobeg})
    sample = qaoa_circuit(nodes, edges, best.x[:depth], best.x[depth:])
    counts = device.run(sample, shots=shots).result().measurement_counts
    # Measured bitstrings list qubit 0 first, so bits[u] is node u's side.
    best_bits = max(counts, key=lambda bits: (cut_value(bits, edges), counts[bits]))
    print(f"expected cut {-best.fun:.4f} after {len(evaluations)} evaluations; best sample {best_bits}")
    save_job_result(
        {
            "p": depth,
            "seed": seed,
            "expected_cut": float(-best.fun),
            "best_bitstring": best_bits,
            "best_cut": cut_value(best_bits, edges),
            "angles": [float(angle) for angle in best.x],
            "evaluations": len(evaluations),
        }
    )


if __name__ == "__main__":
    main()
