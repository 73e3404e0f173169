"""A scheduled QAOA parameter sweep: one hybrid job per (depth, seed), then pick the best.

make_sweep -> qaoa (CreateHybridJobOperator, mapped with expand) -> pick_best
                                                                 -> publish_results

``publish_results`` emits one event of the asset ``braket_qaoa_sweep_results`` per run, with
every point's summary; ``braket_sweep_report`` is scheduled on it (docs/chaining.md).

Every mapped job takes a slot of the ``braket_jobs`` pool; give the pool as many slots as your
account's concurrent hybrid job quota (``airflow pools set braket_jobs 3 "Braket job quota"``), so
the sweep does not ask Braket for more jobs than it will run. A job refused for the quota anyway
(another DAG's jobs count too) is not a failure: its task waits and submits again, up to the
operator's ``submit_timeout``. The jobs run
``algorithms/qaoa_maxcut.py`` on ``params.device`` (the local simulator unless set).
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime

from airflow.sdk import Asset, Param, dag, task

from airflow_provider_braket.operators.braket import CreateHybridJobOperator
from airflow_provider_braket.operators.publish import PublishJobResultsOperator, job_summaries

# A 6-node graph: a ring with two chords (bipartite, so its maximum cut is all 8 edges).
GRAPH = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 0], [0, 3], [1, 4]]
POOL = "braket_jobs"
SWEEP_RESULTS = Asset(name="braket_qaoa_sweep_results")


@dag(
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["braket", "example"],
    params={
        "device": Param("local:braket/braket.local.qubit", type="string"),
        "depths": Param([1, 2, 3], type="array"),
        "seeds": Param([1, 2, 3, 4], type="array"),
        "maxiter": Param(40, type="integer", minimum=1),
    },
)
def braket_qaoa_sweep():
    # --8<-- [start:sweep]
    @task
    def make_sweep(params: dict | None = None) -> list[dict[str, str]]:
        """One set of hyperparameters per (depth, seed)."""
        assert params is not None
        return [
            {"graph": json.dumps(GRAPH), "p": str(p), "seed": str(seed), "maxiter": str(params["maxiter"])}
            for p, seed in itertools.product(params["depths"], params["seeds"])
        ]

    qaoa = CreateHybridJobOperator.partial(
        task_id="qaoa",
        device="{{ params.device }}",
        source_module="algorithms/qaoa_maxcut.py",
        pool=POOL,
        tags={"example": "braket_qaoa_sweep"},
    ).expand(hyperparameters=make_sweep())
    # --8<-- [end:sweep]

    @task
    def pick_best(jobs: list[dict]) -> dict:
        """The job with the largest expected cut, next to the true maximum cut (brute force)."""
        nodes = 1 + max(max(edge) for edge in GRAPH)
        max_cut = max(
            sum(1 for u, v in GRAPH if (mask >> u) & 1 != (mask >> v) & 1) for mask in range(2**nodes)
        )
        jobs = job_summaries(jobs)  # no "XCom not found" line: iterating reads one past the end
        best = max(jobs, key=lambda job: job["results"]["expected_cut"])
        results = best["results"]
        print(
            f"{len(jobs)} jobs; best p={results['p']} seed={results['seed']}: expected cut "
            f"{results['expected_cut']:.3f}, sampled cut {results['best_cut']} of max {max_cut}"
        )
        return {
            "jobs": len(jobs),
            "best_job": best["jobArn"],
            "p": results["p"],
            "seed": results["seed"],
            "expected_cut": results["expected_cut"],
            "best_cut": results["best_cut"],
            "max_cut": max_cut,
        }

    pick_best(qaoa.output)
    # --8<-- [start:publish]
    PublishJobResultsOperator(task_id="publish_results", results=qaoa.output, outlets=[SWEEP_RESULTS])
    # --8<-- [end:publish]


braket_qaoa_sweep()
