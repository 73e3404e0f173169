"""Studies through dag.test() against the local service: a study suggests each run's points, hears
each job's score, and carries on in the next run; budgets stop it asking; bad input fails first.

The studies' database is a SQLite file of each test (the connection ``braket_studies_test``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dagrun import load, run, states, xcoms

from airflow_provider_braket.hooks.braket import BraketHook
from airflow_provider_braket.sweeps import FloatRange, IntRange, Objective, SearchSpace, Study

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db", "braket_connection")]


@pytest.fixture
def studies_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "studies.sqlite3"
    monkeypatch.setenv(
        "AIRFLOW_CONN_BRAKET_STUDIES_TEST", json.dumps({"conn_type": "sqlite", "host": str(path)})
    )
    return path


def expected_score(hyperparameters: dict[str, str]) -> float:
    return (float(hyperparameters["x"]) - 0.3) ** 2 + 0.1 * (int(hyperparameters["p"]) - 2) ** 2


@pytest.mark.parametrize("sampler", ["grid", "tpe"])
def test_a_study_suggests_each_run_s_points_and_continues_in_the_next_run(
    sampler: str, studies_db: Path
) -> None:
    dag = load(f"test_study_{sampler}")
    study = dag.get_task("suggest").study
    runs = [run(dag), run(dag)]

    seen: list[dict[str, Any]] = []
    for number, dag_run in enumerate(runs):
        assert set(states(dag_run).values()) == {"success"}, states(dag_run)
        pushed = xcoms(dag_run)
        points = pushed[("suggest", -1)]
        assert len(points) == 3
        # Run 2 sees run 1's trials: its trials are numbered after them.
        assert [point["study_trial"]["number"] for point in points] == [3 * number + n for n in range(3)]
        for index, point in enumerate(points):
            outcome = pushed[("point", index)]
            hyperparameters = point["hyperparameters"]
            assert hyperparameters["mode"] == "objective"  # the space's fixed hyperparameter
            assert outcome["results"]["score"] == pytest.approx(expected_score(hyperparameters))
            assert outcome["trial"]["state"] == "COMPLETE"
            seen.append(point)
    trials = study.open("test_study_" + sampler).trials()
    assert [trial.state for trial in trials] == ["COMPLETE"] * 6
    for trial, point in zip(trials, seen, strict=True):
        assert trial.value == pytest.approx(expected_score(point["hyperparameters"]))
        assert (trial.cost or 0) > 0
        assert (trial.job_arn or "").startswith("arn:aws:braket:")
        assert trial.run_id in {dag_run.run_id for dag_run in runs}
    if sampler == "grid":  # the grid goes on where the last run stopped: six different points
        assert len({json.dumps(trial.params, sort_keys=True) for trial in trials}) == 6
    check_the_study_view(dag.dag_id, runs[1].run_id, sampler, trials)


def check_the_study_view(dag_id: str, run_id: str, sampler: str, trials: list[Any]) -> None:
    """What the Braket Sweep tab reads: the run's jobs name their study; the study over both runs."""
    from airflow_provider_braket.sweeps.catalog import read_study
    from airflow_provider_braket.ui.jobs import JobDirectory
    from airflow_provider_braket.ui.views import sweep_view

    view = sweep_view(JobDirectory(BraketHook()), dag_id, run_id, days=1)
    assert view["study"] == {"name": "quadratic", "connId": "braket_studies_test"}
    record = read_study(dag_id, "quadratic", "braket_studies_test")
    assert record is not None
    answer = record.to_dict()
    assert [trial["number"] for trial in answer["trials"]] == list(range(6))
    assert answer["states"] == {"COMPLETE": 6}
    best = min(trial.value for trial in trials)
    assert answer["best"]["value"] == best
    so_far = [entry["value"] for entry in answer["bestSoFar"]]
    assert so_far == sorted(so_far, reverse=True)  # minimised: the best so far never rises
    assert so_far[-1] == best
    assert answer["totalCost"] == pytest.approx(sum(trial.cost for trial in trials), abs=1e-5)
    assert (answer["importances"] is not None) == (sampler == "tpe")  # Optuna's, for Optuna studies
    assert read_study(dag_id, "no_such_study", "braket_studies_test") is None


def test_a_budget_stops_the_study_asking_for_points_it_cannot_pay_for(
    studies_db: Path, braket_connection: str
) -> None:
    from airflow_provider_braket.operators.sweep import SuggestPointsOperator

    study = Study(
        "budgeted",
        {"x": FloatRange(0.0, 1.0)},
        Objective("minimize", results_key="score"),
        seed=1,
        conn_id="braket_studies_test",
    )
    trials = study.open("-")  # the DAG id of a task run outside Airflow
    for trial in trials.ask(2, "earlier-run", "earlier-run"):
        trials.tell(trial.number, "COMPLETE", 1.0, 0.01, None)  # USD 0.01 a point so far
    calls_before = len(BraketHook().search_jobs())

    def ask(**budgets: Any) -> list[dict[str, Any]]:
        operator = SuggestPointsOperator(task_id=f"suggest_{len(budgets)}", study=study, count=5, **budgets)
        return operator.execute({})  # a new run: nothing spent in it yet

    assert len(ask(run_budget="0.025")) == 2  # USD 0.025 pays for two points at 0.01
    assert ask(run_budget="0.005") == []  # not even one
    assert len(ask()) == 5  # no budget: as many as asked
    assert len(BraketHook().search_jobs()) == calls_before  # no job created by asking


def test_bad_input_fails_the_ask_naming_the_field_before_any_trial(studies_db: Path) -> None:
    from airflow.providers.common.compat.sdk import AirflowFailException

    from airflow_provider_braket.operators.sweep import SuggestPointsOperator

    space = SearchSpace({"p": IntRange(1, 3)})
    study = Study("strict", space, Objective("maximize", results_key="cut"), conn_id="braket_studies_test")
    for count, rule in (("many", "count: must be a whole number"), (0, "count: must be a whole number")):
        with pytest.raises(AirflowFailException, match=rule):
            SuggestPointsOperator(task_id="suggest", study=study, count=count).execute({})
    with pytest.raises(AirflowFailException, match="run_budget: must be a positive number"):
        SuggestPointsOperator(task_id="suggest", study=study, count=2, run_budget="-1").execute({})
    assert study.open("-").trials() == []


@pytest.mark.parametrize("mode", ["sync", "deferrable"])
def test_a_point_the_pruner_stops_is_cancelled_and_recorded_pruned_with_its_cost(
    mode: str, studies_db: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    dag = load(f"test_study_pruned_{mode}")
    trials = dag.get_task("suggest").study.open(dag.dag_id)
    for trial in trials.ask(2, "earlier-run", "earlier-run"):  # two points far better at every step
        for step in range(30):
            trials.report(trial.number, step, -100.0)
        trials.tell(trial.number, "COMPLETE", -100.0, 0.01, None)

    dag_run = run(dag)

    assert states(dag_run) == {("suggest", -1): "success", ("point", 0): "success"}
    outcome = xcoms(dag_run)[("point", 0)]
    assert outcome["trial"]["state"] == "PRUNED"
    assert outcome["cost"]["total"] > 0
    job = BraketHook().get_job(outcome["jobArn"])
    assert job["status"] in ("CANCELLING", "CANCELLED")
    (pruned,) = [trial for trial in trials.trials() if trial.number == 2]
    assert pruned.state == "PRUNED"
    assert pruned.cost == pytest.approx(outcome["cost"]["total"])
    assert pruned.job_arn == outcome["jobArn"]
    # Stopped after its warm-up step, long before its 30 steps (15 s) were done.
    assert 1 <= max(pruned.intermediate) < 15, pruned.intermediate
    assert "Trial 2 of study pruned pruned at step" in capfd.readouterr().out
