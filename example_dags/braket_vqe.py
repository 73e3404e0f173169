"""VQE for the H2 molecule as a Braket hybrid job between two ordinary Airflow tasks.

prepare_hamiltonian -> vqe (CreateHybridJobOperator) -> post_process

The job runs ``algorithms/vqe_h2.py`` with priority access to ``params.device``: the local
simulator by default (no AWS account, through the local Braket service), or any Braket device ARN
on AWS, unchanged. Connection ``braket_default`` says where Braket is.
"""

from __future__ import annotations

import json
from datetime import datetime

from airflow.sdk import Param, dag, task

from airflow_provider_braket.operators.braket import CreateHybridJobOperator

# H2 at 0.74 A, reduced to two qubits: (coefficient in Hartree, Pauli word).
H2_HAMILTONIAN = [
    [-0.4804, "II"],
    [0.3435, "ZI"],
    [-0.4347, "IZ"],
    [0.5716, "ZZ"],
    [0.0910, "XX"],
    [0.0910, "YY"],
]


# --8<-- [start:plot]
def save_convergence_plot(job: dict) -> list[str]:
    """Draw the energy per iteration and put the PNG and SVG next to the job's results in S3."""
    import tempfile
    from pathlib import Path

    from airflow_provider_braket.hooks.braket import BraketHook
    from airflow_provider_braket.jobs.metrics import plot

    with tempfile.TemporaryDirectory() as folder:
        try:
            files = plot(
                job["metricSeries"],
                Path(folder) / "convergence",
                metrics=["energy"],
                title=f"VQE for H2: {job['jobName']}",
            )
        except ImportError as missing:  # matplotlib is the optional extra [plots]
            print(f"No convergence plot: {missing}")
            return []
        uris = BraketHook().upload_output_files(job["outputS3Path"], files)
    print(f"convergence plot: {', '.join(uris)}")
    return uris
    # --8<-- [end:plot]


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["braket", "example"],
    params={
        "device": Param("local:braket/braket.local.qubit", type="string"),
        "iterations": Param(30, type="integer", minimum=1, maximum=200),
    },
)
def braket_vqe():
    @task
    def prepare_hamiltonian() -> str:
        """The Hamiltonian as the job reads it: a JSON list of [coefficient, Pauli word]."""
        return json.dumps(H2_HAMILTONIAN)

    # --8<-- [start:operator]
    vqe = CreateHybridJobOperator(
        task_id="vqe",
        device="{{ params.device }}",
        source_module="algorithms/vqe_h2.py",
        hyperparameters={"hamiltonian": prepare_hamiltonian(), "iterations": "{{ params.iterations }}"},
        tags={"example": "braket_vqe"},
    )
    # --8<-- [end:operator]

    @task
    def post_process(job: dict) -> dict:
        """Compare the VQE energy with the exact ground state of the same Hamiltonian."""
        import numpy as np

        pauli = {
            "I": np.eye(2),
            "X": np.array([[0, 1], [1, 0]]),
            "Y": np.array([[0, -1j], [1j, 0]]),
            "Z": np.diag([1, -1]),
        }
        matrix = sum(c * np.kron(pauli[w[0]], pauli[w[1]]) for c, w in H2_HAMILTONIAN)
        exact = float(np.linalg.eigvalsh(matrix)[0])
        energy = float(job["results"]["energy"])
        print(f"VQE energy {energy:.6f} Ha, exact {exact:.6f} Ha, error {abs(energy - exact):.2e} Ha")
        print(f"job {job['jobArn']}, {len(job['metrics'])} metric(s), billed {job['billableDuration']}")
        plots = save_convergence_plot(job)
        return {
            "energy": energy,
            "exact": exact,
            "error": abs(energy - exact),
            "jobArn": job["jobArn"],
            "plots": plots,
        }

    post_process(vqe.output)


braket_vqe()
