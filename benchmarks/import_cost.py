"""What importing the operator costs a DAG file, next to the amazon provider and the Braket SDK.

Each case is imported in a fresh Python process after ``import airflow.sdk`` (which every DAG
file pays anyway); the process reports the seconds the import took and how many modules it
added. Cases are run round-robin so that a noisy moment of this shared machine hits all alike;
the table has medians.

Targets (issue 5): the operator costs no more than ``SageMakerTrainingOperator`` and under 1/10 of
``import braket.aws``.

    .venv/bin/python benchmarks/import_cost.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CASES = {
    "CreateHybridJobOperator": "from airflow_provider_braket.operators.braket import CreateHybridJobOperator",
    "SageMakerTrainingOperator": (
        "from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator"
    ),
    "import braket.aws": "import braket.aws",
}
PROBE = """
import json, sys, time
import airflow.sdk
before = set(sys.modules)
started = time.perf_counter()
{statement}
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "modules": len(set(sys.modules) - before)}}))
"""


def measure(statement: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    samples: dict[str, list[dict[str, float]]] = {name: [] for name in CASES}
    for _ in range(args.runs):
        for name, statement in CASES.items():
            samples[name].append(measure(statement))

    seconds = {name: statistics.median(s["seconds"] for s in runs) for name, runs in samples.items()}
    modules = {name: statistics.median(s["modules"] for s in runs) for name, runs in samples.items()}
    ours, sagemaker, braket_aws = (seconds[name] for name in CASES)
    print(
        f"| import, after `import airflow.sdk` ({args.runs} fresh processes each) | median | modules added |"
    )
    print("|---|---|---|")
    for name in CASES:
        print(f"| `{name}` | {seconds[name] * 1000:.0f} ms | {modules[name]:.0f} |")
    print()
    print(f"operator / SageMakerTrainingOperator: {ours / sagemaker:.2f} (target <= 1)")
    print(f"operator / import braket.aws:         {ours / braket_aws:.3f} (target < 0.1)")


if __name__ == "__main__":
    main()
