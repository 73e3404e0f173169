"""Studies' parts without Airflow runs: the space and its checks, objectives, the two trial stores
(SQLite files) under concurrent tasks, retries and pruning, and Optuna being optional."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_braket.jobs.models import RequestValidationError
from airflow_provider_braket.sweeps import Choice, FloatRange, IntRange, Objective, SearchSpace, Study
from airflow_provider_braket.sweeps.reporting import StudyTrial

MINIMIZE_SCORE = Objective("minimize", results_key="score")


@pytest.fixture
def studies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "studies.sqlite3"
    monkeypatch.setenv("AIRFLOW_CONN_STUDIES", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return path


def study(sampler: str = "random", **kwargs: Any) -> Study:
    space = kwargs.pop("space", {"x": FloatRange(0.0, 1.0, step=0.25), "p": IntRange(1, 3)})
    return Study(
        kwargs.pop("name", "s"),
        space,
        kwargs.pop("objective", MINIMIZE_SCORE),
        sampler,
        conn_id="studies",
        **kwargs,
    )


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"x": FloatRange(1.0, 0.0)}, r"space\['x'\]: low must be less than high"),
        ({"x": FloatRange(0.0, 1.0, log=True)}, r"space\['x'\]: low must be positive on a log scale"),
        ({"x": FloatRange(0.0, float("nan"))}, r"space\['x'\]: high must be finite"),
        ({"x": FloatRange(0.1, 1.0, log=True, step=0.1)}, r"step and log cannot be combined"),
        ({"x": FloatRange("0", 1.0)}, r"space\['x'\]: low must be a number"),  # type: ignore[arg-type]
        ({"p": IntRange(1, 3, step=0)}, r"space\['p'\]: step must be positive"),
        ({"p": IntRange(1.5, 3)}, r"space\['p'\]: low must be an int"),  # type: ignore[arg-type]
        ({"o": Choice([])}, r"space\['o'\]: choices must be a non-empty list"),
        ({"o": Choice(["a", "a"])}, r"space\['o'\]: choices must be distinct"),
        ({"o": Choice([["nested"]])}, r"each choice must be a str, int, bool or finite float"),
        ({"o": Choice(range(1001))}, r"space\['o'\]: choices must be a non-empty list"),
        ({"o": Choice(list(range(1001)))}, r"space\['o'\]: at most 1000 choices"),
        ({"": Choice([1])}, r"a name must be a string of 1 to 256 characters"),
        ({"x": [0, 1]}, r"space\['x'\]: must be a FloatRange, IntRange or Choice"),
        ({}, r"space: must be a non-empty dict"),
    ],
)
def test_a_bad_space_is_refused_when_declared_naming_the_parameter(parameters: Any, message: str) -> None:
    with pytest.raises(RequestValidationError, match=message):
        SearchSpace(parameters)


def test_a_bad_study_is_refused_when_declared() -> None:
    space = {"x": FloatRange(0.0, 1.0)}
    with pytest.raises(RequestValidationError, match=r"space\['x'\]: a grid needs a step"):
        Study("s", space, MINIMIZE_SCORE, "grid")
    with pytest.raises(RequestValidationError, match=r"study\.sampler: must be one of"):
        Study("s", space, MINIMIZE_SCORE, "annealing")
    with pytest.raises(RequestValidationError, match=r"study\.name: 1-100 letters"):
        Study("../etc", space, MINIMIZE_SCORE)
    with pytest.raises(RequestValidationError, match=r"study\.pruner: needs an objective metric"):
        Study("s", space, MINIMIZE_SCORE, "tpe", pruner="median")
    with pytest.raises(RequestValidationError, match=r"study\.pruner: needs an Optuna sampler"):
        Study("s", space, Objective("minimize", metric="loss"), "random", pruner="median")
    with pytest.raises(RequestValidationError, match=r"objective\.direction: must be one of"):
        Objective("down", results_key="score")
    with pytest.raises(RequestValidationError, match=r"objective: give exactly one of"):
        Objective("minimize", results_key="score", metric="loss")
    with pytest.raises(RequestValidationError, match=r"a grid of 1000000 points is more than 100000"):
        Study("s", {f"p{n}": IntRange(1, 10) for n in range(6)}, MINIMIZE_SCORE, "grid")
    with pytest.raises(RequestValidationError, match="a name cannot be both a parameter and fixed"):
        SearchSpace({"x": FloatRange(0.0, 1.0)}, fixed={"x": 1})


def test_objectives_read_a_results_key_or_a_metric() -> None:
    outcome = {
        "results": {"score": 0.5, "nested": {"cut": 7}, "text": "high"},
        "metricSeries": {"loss": {"iteration": [0, 1, 2], "timestamp": [0, 1, 2], "value": [3.0, 1.0, 2.0]}},
    }
    assert MINIMIZE_SCORE.value_of(outcome) == 0.5
    assert Objective("maximize", results_key="nested.cut").value_of(outcome) == 7.0
    assert Objective("minimize", metric="loss").value_of(outcome) == 2.0
    assert Objective("minimize", metric="loss", reduce="min").value_of(outcome) == 1.0
    from airflow_provider_braket.sweeps.objective import ObjectiveMissing

    with pytest.raises(ObjectiveMissing, match=r"results key 'cut' not found \(keys there: \['nested'"):
        Objective("maximize", results_key="cut").value_of(outcome)
    with pytest.raises(ObjectiveMissing, match="'text' is not a finite number"):
        Objective("maximize", results_key="text").value_of(outcome)
    with pytest.raises(ObjectiveMissing, match=r"metric 'energy' was never logged \(logged: \['loss'\]\)"):
        Objective("minimize", metric="energy").value_of(outcome)


def test_a_grid_is_walked_once_across_runs_and_a_retried_ask_gets_the_same_trials(studies: Path) -> None:
    trials = study("grid").open("dag")
    first = trials.ask(4, "dag/run1/suggest/-1", "run1")
    again = trials.ask(4, "dag/run1/suggest/-1", "run1")  # the task retried
    assert [trial.number for trial in again] == [0, 1, 2, 3]
    assert [trial.params for trial in again] == [trial.params for trial in first]
    rest = trials.ask(20, "dag/run2/suggest/-1", "run2")
    assert len(rest) == 15 - 4  # 5 x 3 grid points in all
    assert len({json.dumps(trial.params, sort_keys=True) for trial in first + rest}) == 15
    assert trials.ask(3, "dag/run3/suggest/-1", "run3") == []  # the grid is done
    # A retry that now asks for fewer (a budget spent since) still gets every trial it had.
    assert len(trials.ask(1, "dag/run1/suggest/-1", "run1")) == 4


def test_a_seeded_random_study_repeats_itself_in_a_new_database_and_differs_run_to_run(
    studies: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = [trial.params for trial in study(seed=5).open("dag").ask(3, "run1", "run1")]
    two = [trial.params for trial in study(seed=5).open("dag").ask(3, "run2", "run2")]
    assert one != two
    monkeypatch.setenv(
        "AIRFLOW_CONN_STUDIES", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "other.sqlite3")})
    )
    assert [trial.params for trial in study(seed=5).open("dag").ask(3, "run1", "run1")] == one


def _tell_from_a_process(arguments: tuple[str, str, int]) -> bool:
    import os

    database, sampler, number = arguments
    os.environ["AIRFLOW_CONN_STUDIES"] = json.dumps({"conn_type": "sqlite", "host": database})
    return study(sampler).open("dag").tell(number, "COMPLETE", float(number), 0.01 * number, f"arn:{number}")


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_concurrent_points_report_without_loss_or_duplicates_and_a_second_tell_changes_nothing(
    studies: Path, sampler: str
) -> None:
    trials = study(sampler).open("dag")
    asked = trials.ask(12, "dag/run/suggest/-1", "run")
    numbers = [trial.number for trial in asked]
    # Twelve workers at once (processes, as Airflow's are), each telling its own trial, twice.
    with ProcessPoolExecutor(4) as pool:
        first = list(pool.map(_tell_from_a_process, [(str(studies), sampler, n) for n in numbers]))
    with ThreadPoolExecutor(6) as pool:
        second = list(pool.map(lambda n: trials.tell(n, "FAIL", None, 9.0, "arn:retry"), numbers))
    assert first == [True] * 12
    assert second == [False] * 12  # a retried or reattached task does not count twice
    told = study(sampler).open("dag").trials()
    assert [(trial.state, trial.value, trial.job_arn) for trial in told] == [
        ("COMPLETE", float(n), f"arn:{n}") for n in numbers
    ]
    assert [trial.cost for trial in told] == pytest.approx([0.01 * n for n in numbers])


def test_a_point_s_task_tells_its_trial_once_with_its_score_or_its_failure(studies: Path) -> None:
    import logging

    trials = study().open("dag")
    one, two = trials.ask(2, "dag/run/suggest/-1", "run")
    reference = {"study": study().reference(), "dag_id": "dag"}
    log = logging.getLogger("test")
    outcome = {"jobArn": "arn:1", "results": {"score": 0.25}, "cost": {"total": 0.002}}
    StudyTrial({**reference, "number": one.number}).tell_completed(outcome, log)
    assert outcome["trial"] == {"study": "s", "number": one.number, "state": "COMPLETE", "value": 0.25}
    StudyTrial({**reference, "number": one.number}).tell_completed({**outcome, "results": {"score": 9}}, log)
    missing = {"jobArn": "arn:2", "results": {"other": 1}, "cost": None}
    StudyTrial({**reference, "number": two.number}).tell_completed(missing, log)
    assert missing["trial"]["state"] == "FAIL"  # no score: the study must not learn a made-up one
    told = trials.trials()
    assert [(trial.state, trial.value, trial.cost) for trial in told] == [
        ("COMPLETE", 0.25, 0.002),
        ("FAIL", None, None),
    ]
    with pytest.raises(ValueError, match="study_trial: must be what SuggestPointsOperator hands out"):
        StudyTrial({"number": "x"})


def test_an_optuna_pruner_stops_a_point_whose_metric_lags_the_others(studies: Path) -> None:
    pruned = study(
        "tpe",
        objective=Objective("minimize", metric="loss"),
        pruner="median",
        pruner_options={"n_startup_trials": 2, "n_warmup_steps": 1},
    ).open("dag")
    good, better, bad = pruned.ask(3, "dag/run/suggest/-1", "run")
    for trial, losses in ((good, [1.0, 0.8, 0.6]), (better, [0.9, 0.5, 0.4])):
        for step, loss in enumerate(losses):
            assert not pruned.report(trial.number, step, loss)
        pruned.tell(trial.number, "COMPLETE", losses[-1], 0.01, None)
    assert not pruned.report(bad.number, 0, 5.0)  # warm-up step
    assert pruned.report(bad.number, 1, 5.0)  # worse than the median of the others at step 1
    assert pruned.report(bad.number, 1, 5.0)  # the same step again: not counted twice
    assert pruned.tell(bad.number, "PRUNED", None, 0.004, "arn:bad")
    (record,) = [trial for trial in pruned.trials() if trial.number == bad.number]
    assert (record.state, record.cost, record.intermediate) == ("PRUNED", 0.004, {0: 5.0, 1: 5.0})


def test_without_optuna_grid_and_random_work_and_optuna_samplers_name_the_extra(tmp_path: Path) -> None:
    script = f"""
import json, os, sys
sys.modules["optuna"] = None  # as if the [sweeps] extra were not installed
os.environ["AIRFLOW_CONN_STUDIES"] = json.dumps({{"conn_type": "sqlite", "host": {str(tmp_path / "s.db")!r}}})
from airflow_provider_braket.sweeps import FloatRange, Objective, Study
space = {{"x": FloatRange(0.0, 1.0, step=0.5)}}
for sampler in ("grid", "random"):
    objective = Objective("minimize", results_key="y")
    trials = Study("s" + sampler, space, objective, sampler, conn_id="studies").open("d")
    print(sampler, len(trials.ask(2, "k", "r")))
try:
    Study("t", space, Objective("minimize", results_key="y"), "tpe")
except ValueError as error:
    print(error)
"""
    answer = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.splitlines() == [
        "grid 2",
        "random 2",
        "sampler='tpe' needs Optuna, which is not installed: pip install 'airflow-provider-braket[sweeps]'",
    ]


def test_studies_are_never_kept_in_airflow_s_metadata_database(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.configuration import conf

    metadata = conf.get("database", "sql_alchemy_conn")
    monkeypatch.setenv(
        "AIRFLOW_CONN_STUDIES", json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": metadata}})
    )
    with pytest.raises(RequestValidationError, match="is Airflow's metadata database"):
        study().open("dag")
    postgres = {"conn_type": "postgres", "host": "db", "login": "u", "password": "s3cret-pw", "schema": "x"}
    monkeypatch.setenv("AIRFLOW_CONN_STUDIES", json.dumps(postgres))
    from airflow_provider_braket.sweeps.storage import database_url

    assert database_url("studies") == "postgresql+psycopg2://u:s3cret-pw@db/x"
    monkeypatch.setenv(
        "AIRFLOW_CONN_STUDIES", json.dumps({"conn_type": "http", "host": "x", "password": "s3cret-pw"})
    )
    with pytest.raises(RequestValidationError) as refused:
        study().open("dag")
    assert "s3cret-pw" not in str(refused.value)
    assert "must be a postgres, mysql or sqlite connection" in str(refused.value)
    # Found in a deployed worker: Airflow 3 gives task processes a metadata URL that is not one
    # ("airflow-db-not-allowed:///"); the study opened nothing, failing to parse it.
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "airflow-db-not-allowed:///")
    monkeypatch.setenv("AIRFLOW_CONN_STUDIES", json.dumps(postgres))
    assert database_url("studies") == "postgresql+psycopg2://u:s3cret-pw@db/x"


def test_pruning_reads_the_objective_metric_from_log_lines_and_is_off_without_a_pruner(studies: Path) -> None:
    from airflow_provider_braket.sweeps.pruning import TrialPruning

    with_pruner = study(
        "tpe",
        objective=Objective("minimize", metric="loss"),
        pruner="median",
        pruner_options={"n_startup_trials": 5},
    )
    (trial,) = with_pruner.open("dag").ask(1, "k", "r")
    reference = {"study": with_pruner.reference(), "dag_id": "dag", "number": trial.number}
    assert TrialPruning.of({"study": study().reference(), "dag_id": "dag", "number": 0}) is None
    assert TrialPruning.of(None) is None
    pruning = TrialPruning.of(reference)
    assert pruning is not None
    for line in (
        "Metrics - timestamp=1.0; loss=0.9; iteration_number=4;",
        "Metrics - timestamp=2.0; energy=-1.0;",  # another metric
        "loss=0.1; not a metric line",
        "Metrics - timestamp=3.0; loss=0.7;",  # no step: the metric's next record
        "Metrics - timestamp=4.0; loss=nan-ish; iteration_number=6;",
    ):
        pruning.observe(line)
    assert pruning.unreported == [(4, 0.9), (1, 0.7)]
    assert pruning.should_stop() is False  # fewer finished trials than n_startup_trials
    assert pruning.unreported == []
    assert pruning.should_stop() is False  # nothing new: no database call
    (told,) = with_pruner.open("dag").trials()
    assert told.intermediate == {4: 0.9, 1: 0.7}


def test_a_point_s_job_is_tagged_with_its_study_and_a_malformed_study_trial_is_refused(studies: Path) -> None:
    from airflow_provider_braket.sweeps.reporting import study_tags

    reference = {"study": study().reference(), "dag_id": "dag", "number": 4}
    assert study_tags(reference) == {
        "airflow:study": "s",
        "airflow:study_trial": "4",
        "airflow:study_conn": "studies",
    }
    assert study_tags(None) == {}
    with pytest.raises(
        RequestValidationError, match="study_trial: must be what SuggestPointsOperator hands out"
    ):
        study_tags({"study": {"name": "s"}, "number": 1})
    with pytest.raises(RequestValidationError, match=r"study\.sampler: must be one of"):
        study_tags({**reference, "study": {**reference["study"], "sampler": "evil"}})
