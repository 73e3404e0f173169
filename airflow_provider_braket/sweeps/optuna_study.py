"""Studies with Optuna's samplers and pruners, in Optuna's own RDB storage.

The study is an ordinary Optuna study in the studies' database (``optuna.load_study`` and
optuna-dashboard read it). Airflow's side lives in each trial's user attributes: the task that
asked for it (``airflow_ask``, so a retried ask returns the same trials), its DAG run, its job
and what the job cost.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_braket.sweeps.storage import after_fork_in_child, engine_options
from airflow_provider_braket.sweeps.trials import FINISHED_STATES, Trial, require_optuna

if TYPE_CHECKING:
    from airflow_provider_braket.sweeps.study import Study

ASK_ATTR, RUN_ATTR, JOB_ATTR, COST_ATTR = "airflow_ask", "airflow_run_id", "braket_job_arn", "cost_usd"
_storages: dict[str, Any] = {}
_storages_lock = threading.Lock()


def _forget_storages() -> None:
    for storage in _storages.values():
        storage.engine.dispose(close=False)
    _storages.clear()


after_fork_in_child.append(_forget_storages)


def _storage(url: str) -> Any:
    """One RDBStorage per database and process: making one checks the schema each time."""
    optuna = require_optuna("an Optuna study")
    with _storages_lock:
        if url not in _storages:
            _storages[url] = optuna.storages.RDBStorage(url, engine_kwargs=engine_options(url))
        return _storages[url]


class OptunaStudy:
    """A study with an Optuna sampler (see :class:`~.study.StudyBackend`)."""

    def __init__(self, study: Study, dag_id: str, url: str) -> None:
        self.optuna = require_optuna(f"sampler={study.sampler!r}")
        self.optuna.logging.set_verbosity(self.optuna.logging.WARNING)
        self.study = study
        self.storage = _storage(url)
        self.key = study.key(dag_id)
        self.handle = self._load(seed_offset=0)

    def _load(self, seed_offset: int) -> Any:
        return self.optuna.create_study(
            storage=self.storage,
            study_name=self.key,
            direction=self.study.objective.direction,
            sampler=self._sampler(seed_offset),
            pruner=self._pruner(),
            load_if_exists=True,
        )

    def _sampler(self, seed_offset: int) -> Any:
        samplers = self.optuna.samplers
        # A fixed seed would repeat a run's first draws in every run: offset by the trials so far.
        seed = None if self.study.seed is None else self.study.seed + seed_offset
        if self.study.sampler == "tpe":
            return samplers.TPESampler(seed=seed, constant_liar=True)  # points asked together differ
        if self.study.sampler == "cmaes":
            return samplers.CmaEsSampler(seed=seed)
        if self.study.sampler == "qmc":
            return samplers.QMCSampler(seed=self.study.seed, scramble=True)  # a sequence: one seed
        return samplers.RandomSampler(seed=seed)

    def _pruner(self) -> Any:
        pruners = self.optuna.pruners
        options = dict(self.study.pruner_options)
        if self.study.pruner == "median":
            return pruners.MedianPruner(**options)
        if self.study.pruner == "successive_halving":
            return pruners.SuccessiveHalvingPruner(**options)
        return pruners.NopPruner()

    def _distributions(self) -> dict[str, Any]:
        from airflow_provider_braket.sweeps.space import Choice, FloatRange

        distributions = self.optuna.distributions
        made = {}
        for name, parameter in self.study.space.items():
            if isinstance(parameter, Choice):
                made[name] = distributions.CategoricalDistribution(list(parameter.values))
            elif isinstance(parameter, FloatRange):
                made[name] = distributions.FloatDistribution(
                    parameter.low, parameter.high, log=parameter.log, step=parameter.step
                )
            else:
                made[name] = distributions.IntDistribution(
                    parameter.low, parameter.high, log=parameter.log, step=parameter.step
                )
        return made

    def ask(self, count: int, ask_key: str, run_id: str | None) -> list[Trial]:
        existing = self.handle.get_trials(deepcopy=False)
        asked = [trial for trial in existing if trial.user_attrs.get(ASK_ATTR) == ask_key]
        handle = self._load(seed_offset=len(existing)) if len(asked) < count else self.handle
        distributions = self._distributions()
        for _ in range(count - len(asked)):
            trial = handle.ask(distributions)
            trial.set_user_attr(ASK_ATTR, ask_key)
            trial.set_user_attr(RUN_ATTR, run_id)
            asked.append(handle._storage.get_trial(trial._trial_id))
        # A retried ask gets the same trials, however many it asks now (none left running unused).
        return [self._record(trial) for trial in sorted(asked, key=lambda trial: trial.number)]

    def tell(
        self, number: int, state: str, value: float | None, cost: float | None, job_arn: str | None
    ) -> bool:
        states = self.optuna.trial.TrialState
        trial_id = self._trial_id(number)
        if self.handle._storage.get_trial(trial_id).state.name in FINISHED_STATES:
            return False
        try:
            self.handle._storage.set_trial_user_attr(trial_id, COST_ATTR, cost)
            self.handle._storage.set_trial_user_attr(trial_id, JOB_ATTR, job_arn)
            self.handle.tell(
                number,
                value if state == "COMPLETE" else None,
                state=states[state],
                skip_if_finished=True,
            )
        except self.optuna.exceptions.UpdateFinishedTrialError:
            return False  # finished by another try at the same moment
        return True

    def report(self, number: int, step: int, value: float) -> bool:
        trial = self.optuna.Trial(self.handle, self._trial_id(number))
        frozen = trial.storage.get_trial(trial._trial_id)
        if frozen.state.name in FINISHED_STATES:
            return False  # told already (a retried task's job): nothing left to stop
        try:
            if step not in frozen.intermediate_values:
                trial.report(value, step)
            return bool(trial.should_prune())
        except self.optuna.exceptions.UpdateFinishedTrialError:
            return False

    def trials(self) -> list[Trial]:
        return [self._record(trial) for trial in self.handle.get_trials(deepcopy=False)]

    def importances(self) -> dict[str, float] | None:
        complete = self.handle.get_trials(deepcopy=False, states=(self.optuna.trial.TrialState.COMPLETE,))
        if len(complete) < 2:
            return None
        try:
            return dict(self.optuna.importance.get_param_importances(self.handle))
        except (RuntimeError, ValueError):  # e.g. every point scored the same
            return None

    def _trial_id(self, number: int) -> int:
        # Optuna names trials by id in its storage API; a study's trials by number.
        return int(
            self.handle._storage.get_trial_id_from_study_id_trial_number(self.handle._study_id, number)
        )

    @staticmethod
    def _record(trial: Any) -> Trial:
        return Trial(
            number=trial.number,
            params=dict(trial.params),
            state=trial.state.name,
            value=trial.value if trial.state.name == "COMPLETE" else None,
            cost=trial.user_attrs.get(COST_ATTR),
            job_arn=trial.user_attrs.get(JOB_ATTR),
            run_id=trial.user_attrs.get(RUN_ATTR),
            started_at=_aware(trial.datetime_start),
            ended_at=_aware(trial.datetime_complete),
            intermediate=dict(trial.intermediate_values),
        )


def _aware(moment: datetime | None) -> datetime | None:
    """Optuna keeps local times without a zone; the UI shows UTC."""
    return None if moment is None else moment.astimezone(timezone.utc)
