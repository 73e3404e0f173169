"""Benchmark of studies on a QAOA objective run on the local service; prints Markdown tables.

Each point is a real hybrid job running ``example_dags/algorithms/qaoa_maxcut.py`` (MaxCut of the
examples' 6-node graph, COBYLA with ``maxiter`` evaluations on the local simulator) through the
local service, asked for and told as ``SuggestPointsOperator`` and the point's task do
(:mod:`airflow_provider_braket.sweeps`), ``--batch`` points at a time (one DAG run each), and
waited for by the worker's wait (:func:`~airflow_provider_braket.operators.waiting.wait_in_worker`),
which feeds the pruner.

- Samplers at equal N: the best expected cut after N points for grid, random and TPE, per seed;
- Pruning: the same TPE study with and without the median pruner: billed seconds (the jobs'
  ``billableDuration``) and the best expected cut.

    .venv/bin/python benchmarks/studies.py [--points 16] [--batch 4] [--seeds 1 2 3] [--maxiter 12]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from airflow_provider_braket.local.service_process import LocalServiceProcess

ALGORITHM = Path(__file__).resolve().parents[1] / "example_dags" / "algorithms" / "qaoa_maxcut.py"
GRAPH = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 0], [0, 3], [1, 4]]
DEVICE = "local:braket/braket.local.qubit"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
KINDS = {
    "grid": ("grid", None),
    "random": ("random", None),
    "tpe": ("tpe", None),
    "tpe-median": ("tpe", "median"),
}
log = logging.getLogger("studies")


def make_study(name: str, sampler: str, seed: int, maxiter: int, pruner: str | None, conn_id: str) -> Any:
    from airflow_provider_braket.sweeps import FloatRange, IntRange, Objective, SearchSpace, Study

    space = SearchSpace(
        # A grid needs steps: the same linear space for every sampler (60 points).
        {"p": IntRange(1, 3), "rhobeg": FloatRange(0.05, 1.45, step=0.35), "seed": IntRange(0, 3)},
        fixed={"graph": json.dumps(GRAPH), "maxiter": str(maxiter)},
    )
    return Study(
        name,
        space,
        Objective("maximize", metric="expected_cut", reduce="max"),
        sampler=sampler,
        seed=seed,
        pruner=pruner,
        pruner_options={"n_startup_trials": 4, "n_warmup_steps": max(2, maxiter // 3)} if pruner else None,
        conn_id=conn_id,
    )


def run_point(hook: Any, study: Any, trial: Any, device: str) -> dict[str, Any]:
    """One point: its job created, waited for (pruned or not), its trial told; what it billed."""
    from airflow_provider_braket.jobs.request import HybridJobSpec, JobLocation
    from airflow_provider_braket.operators.outcome import PRUNED_KEY
    from airflow_provider_braket.operators.waiting import wait_in_worker
    from airflow_provider_braket.sweeps.pruning import TrialPruning
    from airflow_provider_braket.sweeps.space import as_hyperparameters

    name = f"{study.name[:30]}-{trial.number}-{uuid.uuid4().hex[:6]}"
    location = JobLocation(hook.default_bucket(), name, "1")
    hook.upload_source_module(ALGORITHM, location)
    spec = HybridJobSpec(
        device=device,
        entry_point="qaoa_maxcut",
        job_name=name,
        hyperparameters=as_hyperparameters(study.space, trial.params),
    )
    job_arn = hook.create_job(spec.request(location, hook.jobs_role_arn(), uuid.uuid4().hex))
    reference = {"study": study.reference(), "dag_id": "bench", "number": trial.number}
    job = wait_in_worker(
        hook, job_arn, name, 1.0, log, forward_logs=False, pruning=TrialPruning.of(reference)
    )
    backend = study.open("bench")
    if job.get(PRUNED_KEY):
        job = wait_for_end(hook, job_arn)
        backend.tell(trial.number, "PRUNED", None, None, job_arn)
        return {"billed": job.get("billableDuration") or 0, "value": None, "state": "PRUNED"}
    records = hook.get_metrics(job["jobName"], job_arn)
    values = [record["expected_cut"] for record in records if "expected_cut" in record]
    value = max(values) if values and job["status"] == "COMPLETED" else None
    backend.tell(trial.number, "COMPLETE" if value is not None else "FAIL", value, None, job_arn)
    return {"billed": job.get("billableDuration") or 0, "value": value, "state": job["status"]}


def wait_for_end(hook: Any, job_arn: str) -> dict[str, Any]:
    import time

    while True:
        job = hook.get_job(job_arn)
        if job["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return job
        time.sleep(0.5)


def run_study(hook: Any, study: Any, points: int, batch: int, device: str) -> dict[str, Any]:
    """``points`` points, ``batch`` at a time, each batch asked as one DAG run asks."""
    backend = study.open("bench")
    outcomes: list[dict[str, Any]] = []
    best_after: list[float | None] = []
    for run in range(0, points, batch):
        trials = backend.ask(min(batch, points - run), f"bench/run{run}/suggest/-1", f"run{run}")
        with ThreadPoolExecutor(len(trials)) as pool:
            outcomes += list(pool.map(lambda trial: run_point(hook, study, trial, device), trials))
        values = [outcome["value"] for outcome in outcomes if outcome["value"] is not None]
        best_after.append(max(values, default=None))
    return {
        "best": best_after[-1],
        "best_after": best_after,
        "billed": sum(outcome["billed"] for outcome in outcomes),
        "pruned": sum(outcome["state"] == "PRUNED" for outcome in outcomes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=16)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--maxiter", type=int, default=12)
    parser.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    parser.add_argument(
        "--sv1-latency-ms",
        type=int,
        default=0,
        help="run the jobs on SV1 (each evaluation a quantum task of the local service), each "
        "CreateQuantumTask this much slower, as a real device's round trip is",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import os

    with tempfile.TemporaryDirectory() as folder:
        os.environ["AIRFLOW_CONN_BENCH_STUDIES"] = json.dumps(
            {"conn_type": "sqlite", "host": str(Path(folder) / "studies.sqlite3")}
        )
        service_args = ["--job-slots", str(args.batch), "--job-quota", str(4 * args.batch)]
        device = DEVICE
        if args.sv1_latency_ms:
            device = SV1
            service_args += ["--fault", f"CreateQuantumTask:latencyMs={args.sv1_latency_ms}"]
        with LocalServiceProcess(Path(folder) / "data", extra_args=service_args) as service:
            os.environ["AIRFLOW_CONN_BRAKET_DEFAULT"] = service.connection_uri()
            from airflow_provider_braket.hooks.braket import BraketHook

            hook = BraketHook()
            results: dict[tuple[str, int], dict[str, Any]] = {}
            for seed in args.seeds:
                for label in args.kinds:
                    sampler, pruner = KINDS[label]
                    study = make_study(
                        f"{label}-{seed}", sampler, seed, args.maxiter, pruner, "bench_studies"
                    )
                    results[(label, seed)] = run_study(hook, study, args.points, args.batch, device)
                    print(f"{label} seed {seed}: {results[(label, seed)]}", flush=True)
    print_tables(results, args)


def print_tables(results: dict[tuple[str, int], dict[str, Any]], args: argparse.Namespace) -> None:
    labels = list(dict.fromkeys(label for label, _ in results))
    print(
        f"\nBest expected cut after N points (maximum 8; {args.batch} points a run, "
        f"maxiter {args.maxiter}):\n"
    )
    steps = [min(args.points, (n + 1) * args.batch) for n in range(-(-args.points // args.batch))]
    print("| study | seed | " + " | ".join(f"N={n}" for n in steps) + " |")
    print("|---|---|" + "---|" * len(steps))
    for (label, seed), result in results.items():
        cells = " | ".join("-" if value is None else f"{value:.3f}" for value in result["best_after"])
        print(f"| {label} | {seed} | {cells} |")
    print(f"\n| study | mean best at N={args.points} | billed s (sum over seeds) | points pruned |")
    print("|---|---|---|---|")
    for label in labels:
        runs = [result for (name, _), result in results.items() if name == label]
        bests = [result["best"] for result in runs if result["best"] is not None]
        mean = statistics.mean(bests) if bests else float("nan")
        billed = sum(result["billed"] for result in runs)
        pruned = sum(result["pruned"] for result in runs)
        print(f"| {label} | {mean:.3f} | {billed} | {pruned} |")


if __name__ == "__main__":
    main()
