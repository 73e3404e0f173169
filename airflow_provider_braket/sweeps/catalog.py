"""Reading a study by its DAG and name alone, for the UI: whichever store holds it (the built-in
tables or Optuna's), read only, and nothing created when there is none."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_braket.sweeps.storage import database_url
from airflow_provider_braket.sweeps.trials import COMPLETE, Trial

#: The most trials the UI is sent (the newest): a study of years of daily runs stays readable.
MAX_TRIALS = 5_000


@dataclass
class StudyRecord:
    """A study as its store holds it."""

    name: str
    sampler: str
    direction: str
    trials: list[Trial]
    importances: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The study for the UI: every trial, the best so far after each, counts and cost."""
        trials = self.trials[-MAX_TRIALS:]
        maximize = self.direction == "maximize"
        best: Trial | None = None
        best_so_far = []
        for trial in trials:
            if trial.state == COMPLETE and trial.value is not None:
                if best is None or _better(trial.value, best.value, maximize):
                    best = trial
                best_so_far.append({"number": trial.number, "value": best.value, "runId": trial.run_id})
        states: dict[str, int] = {}
        for trial in trials:
            states[trial.state] = states.get(trial.state, 0) + 1
        return {
            "name": self.name,
            "sampler": self.sampler,
            "direction": self.direction,
            "trials": [trial.to_dict() for trial in trials],
            "omitted": len(self.trials) - len(trials),
            "best": best.to_dict() if best else None,
            "bestSoFar": best_so_far,
            "states": states,
            "totalCost": round(sum(trial.cost or 0 for trial in self.trials), 6),
            "importances": self.importances,
        }


def read_study(dag_id: str, name: str, conn_id: str | None) -> StudyRecord | None:
    """The study ``name`` of ``dag_id`` in the database of ``conn_id``; None if there is none."""
    url = database_url(conn_id)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None  # reading must not create the file
    key = f"{dag_id}.{name}"
    return _built_in(url, key, name) or _optuna(url, key, name)


def _built_in(url: str, key: str, name: str) -> StudyRecord | None:
    from sqlalchemy import inspect, select

    from airflow_provider_braket.sweeps.builtin_study import _trial, studies, trials
    from airflow_provider_braket.sweeps.storage import engine_for

    engine = engine_for(url)
    if not inspect(engine).has_table(studies.name):
        return None
    with engine.begin() as connection:
        study = connection.execute(select(studies).where(studies.c.study_key == key)).first()
        if study is None:
            return None
        rows = connection.execute(
            select(trials).where(trials.c.study_id == study.study_id).order_by(trials.c.number)
        ).all()
    return StudyRecord(name, study.sampler, study.direction, [_trial(row) for row in rows])


def _optuna(url: str, key: str, name: str) -> StudyRecord | None:
    try:
        import optuna
    except ImportError:
        return None
    from sqlalchemy import inspect

    from airflow_provider_braket.sweeps.optuna_study import OptunaStudy, _storage
    from airflow_provider_braket.sweeps.storage import engine_for

    if not inspect(engine_for(url)).has_table("studies"):  # Optuna's: making its storage would create it
        return None
    storage = _storage(url)
    try:
        study = optuna.load_study(study_name=key, storage=storage)
    except KeyError:
        return None
    direction = "maximize" if study.direction == optuna.study.StudyDirection.MAXIMIZE else "minimize"
    records = [OptunaStudy._record(trial) for trial in study.get_trials(deepcopy=False)]
    complete = [trial for trial in records if trial.state == COMPLETE]
    importances = None
    if len(complete) >= 2:
        try:
            importances = dict(optuna.importance.get_param_importances(study))
        except (RuntimeError, ValueError):
            importances = None
    return StudyRecord(name, "optuna", direction, records, importances)


def _better(value: float, than: float | None, maximize: bool) -> bool:
    return than is None or (value > than if maximize else value < than)
