"""Demo: start the local Braket service, run a real VQE hybrid job on it, print the result.

No AWS account is used: the Braket SDK is pointed at the local service with AWS_ENDPOINT_URL,
exactly as a user would point it at any Braket-compatible endpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from airflow_provider_braket.local.process import LocalServiceProcess

ALGORITHM = Path(__file__).resolve().parents[1] / "example_dags" / "algorithms" / "vqe_h2.py"
# H2 at 0.74 A in a two-qubit reduction: coefficient, Pauli word.
H2 = [[-0.4804, "II"], [0.3435, "ZI"], [-0.4347, "IZ"], [0.5716, "ZZ"], [0.0910, "XX"], [0.0910, "YY"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8975)
    parser.add_argument("--data-dir", type=Path, default=Path(".demo"))
    args = parser.parse_args()

    data_dir = args.data_dir.resolve() / "braket-local"
    with LocalServiceProcess(data_dir, port=args.port) as service:
        print(f"local Braket service ready at {service.endpoint} (data in {data_dir})")
        os.environ.update(
            AWS_ENDPOINT_URL=service.endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
        from braket.aws import AwsQuantumJob

        started = time.monotonic()
        job = AwsQuantumJob.create(
            device="local:braket/braket.local.qubit",
            source_module=str(ALGORITHM),
            hyperparameters={"hamiltonian": json.dumps(H2), "iterations": "30"},
            wait_until_complete=False,
        )
        print(f"created hybrid job {job.arn}")
        while job.state() not in AwsQuantumJob.TERMINAL_STATES:
            time.sleep(0.5)
        if job.state() != "COMPLETED":
            raise SystemExit(f"job {job.state()}: {job.metadata().get('failureReason')}")
        with tempfile.TemporaryDirectory() as scratch:
            os.chdir(scratch)  # result() downloads model.tar.gz into the working directory
            result = job.result(poll_interval_seconds=0.5)
        print(f"job {job.arn} COMPLETED in {time.monotonic() - started:.1f} s")
        print(f"ground-state energy: {result['energy']:.6f} Ha (exact: -1.851199 Ha)")


if __name__ == "__main__":
    main()
