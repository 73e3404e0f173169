"""A scheduled QAOA study: every day the study suggests the points to try, learns from how they
scored, and stops the ones that lag early.

suggest (SuggestPointsOperator) -> qaoa (CreateHybridJobOperator, mapped with expand_kwargs) -> report

The study (Optuna's TPE sampler and median pruner: ``pip install 'airflow-provider-braket[sweeps]'``)
tunes QAOA's depth ``p``, COBYLA's initial step ``rhobeg`` and the initial angles' ``seed`` for
the largest expected cut of a 6-node graph. It is kept in ``$AIRFLOW_HOME/braket_studies.sqlite3``
(``Study(conn_id=...)`` names another database), so each run continues it: ``report`` prints the
best point so far over every run, and how many points the pruner stopped (docs/sweeps.md).

The jobs run ``algorithms/qaoa_maxcut.py`` on ``params.device`` (the local simulator unless set),
each logging ``expected_cut`` at every evaluation: that is what the pruner watches. ``run_budget``
stops the study asking for points the run cannot pay for.
"""

from __future__ import annotations

import json
from datetime import datetime

from airflow.sdk import Param, dag, get_current_context, task

from airflow_provider_braket.operators.braket import CreateHybridJobOperator
from airflow_provider_braket.operators.sweep import SuggestPointsOperator
from airflow_provider_braket.sweeps import FloatRange, IntRange, Objective, SearchSpace, Study

# The braket_qaoa_sweep example's graph: a ring with two chords, maximum cut 8.
GRAPH = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 0], [0, 3], [1, 4]]

# --8<-- [start:study]
STUDY = Study(
    "qaoa_maxcut",
    SearchSpace(
        {"p": IntRange(1, 3), "rhobeg": FloatRange(0.05, 1.5, log=True), "seed": IntRange(0, 99)},
        fixed={"graph": json.dumps(GRAPH), "maxiter": "30"},
    ),
    Objective("maximize", metric="expected_cut", reduce="max"),
    sampler="tpe",
    seed=11,
    pruner="median",
    # Judge a point only after 8 evaluations, and only once 4 points have finished.
    pruner_options={"n_startup_trials": 4, "n_warmup_steps": 8},
)
# --8<-- [end:study]


@dag(
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["braket", "example"],
    params={
        "device": Param("local:braket/braket.local.qubit", type="string"),
        "points": Param(4, type="integer", minimum=1, maximum=50),
        "run_budget": Param(5, type="number", exclusiveMinimum=0),
    },
)
def braket_qaoa_study():
    # --8<-- [start:dag]
    suggest = SuggestPointsOperator(
        task_id="suggest", study=STUDY, count="{{ params.points }}", run_budget="{{ params.run_budget }}"
    )
    qaoa = CreateHybridJobOperator.partial(
        task_id="qaoa",
        device="{{ params.device }}",
        source_module="algorithms/qaoa_maxcut.py",
        run_budget="{{ params.run_budget }}",
        pool="braket_jobs",
    ).expand_kwargs(suggest.output)
    # --8<-- [end:dag]

    @task(trigger_rule="all_done")
    def report(points: list[dict]) -> dict:
        """The study so far, over every run: the best point, and what pruning saved."""
        dag_id = get_current_context()["dag"].dag_id
        trials = STUDY.open(dag_id).trials()
        complete = [trial for trial in trials if trial.state == "COMPLETE"]
        pruned = [trial for trial in trials if trial.state == "PRUNED"]
        best = max(complete, key=lambda trial: trial.value or 0, default=None)
        summary = {
            "trials": len(trials),
            "complete": len(complete),
            "pruned": len(pruned),
            "cost": round(sum(trial.cost or 0 for trial in trials), 6),
            "best": None if best is None else {"number": best.number, "value": best.value, **best.params},
        }
        print(f"Study {STUDY.name}: {json.dumps(summary)}")
        return summary

    report(qaoa.output)


braket_qaoa_study()
