"""A study: the space, the objective, how points are chosen, and where trials are kept.

A study is named; with the DAG's id it is the key of its trials in the studies' database, so a
scheduled DAG continues its study at every run. ``grid`` and ``random`` are built in; ``tpe``,
``cmaes``, ``qmc`` and ``optuna-random`` are Optuna's samplers, with Optuna's RDB storage, in the
optional extra ``airflow-provider-braket[sweeps]``; so are the pruners (early stopping).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_braket.jobs.models import RequestValidationError
from airflow_provider_braket.sweeps.objective import Objective
from airflow_provider_braket.sweeps.space import SearchSpace
from airflow_provider_braket.sweeps.trials import StudyBackend, require_optuna

BUILT_IN_SAMPLERS = ("grid", "random")
OPTUNA_SAMPLERS = ("tpe", "cmaes", "qmc", "optuna-random")
PRUNERS = ("median", "successive_halving")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def _refuse(field_name: str, rule: str, got: Any = None) -> RequestValidationError:
    detail = f" (got {got!r})" if got is not None else ""
    return RequestValidationError(f"{field_name}: {rule}{detail}", [(field_name, rule)])


@dataclass(frozen=True)
class Study:
    """A study of one DAG.

    :param name: The study's name (letters, digits, ``_.-``, up to 100): with the DAG id, its key.
    :param space: Parameter name -> range or choice (:mod:`.space`), or a :class:`SearchSpace`.
    :param objective: What a point scores (:class:`~.objective.Objective`, or its dict).
    :param sampler: ``grid``, ``random`` (built in), or Optuna's ``tpe``, ``cmaes``, ``qmc``,
        ``optuna-random``.
    :param seed: Makes the sampler's choices repeatable.
    :param pruner: Early stopping: Optuna's ``median`` or ``successive_halving`` pruner, fed the
        objective's metric as the job logs it; None (the default) never stops a job.
    :param pruner_options: Keyword arguments of the pruner (e.g. ``n_startup_trials``).
    :param conn_id: The Airflow connection of the studies' database (:mod:`.storage`); None: a
        SQLite file under ``AIRFLOW_HOME``.
    """

    name: str
    space: SearchSpace
    objective: Objective
    sampler: str = "random"
    seed: int | None = None
    pruner: str | None = None
    pruner_options: Mapping[str, Any] = field(default_factory=dict)
    conn_id: str | None = None

    def __init__(
        self,
        name: str,
        space: SearchSpace | Mapping[str, Any],
        objective: Objective | Mapping[str, Any],
        sampler: str = "random",
        seed: int | None = None,
        pruner: str | None = None,
        pruner_options: Mapping[str, Any] | None = None,
        conn_id: str | None = None,
    ) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise _refuse("study.name", "1-100 letters, digits, '_', '.' or '-', starting alphanumeric", name)
        if sampler not in BUILT_IN_SAMPLERS + OPTUNA_SAMPLERS:
            raise _refuse(
                "study.sampler", f"must be one of {', '.join(BUILT_IN_SAMPLERS + OPTUNA_SAMPLERS)}", sampler
            )
        if pruner is not None and pruner not in PRUNERS:
            raise _refuse("study.pruner", f"must be None or one of {', '.join(PRUNERS)}", pruner)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise _refuse("study.seed", "must be an int", seed)
        objective = Objective.of(objective)
        if pruner is not None and objective.metric is None:
            raise _refuse("study.pruner", "needs an objective metric: pruning watches it while the job runs")
        if pruner is not None and sampler in BUILT_IN_SAMPLERS:
            raise _refuse(
                "study.pruner", "needs an Optuna sampler (tpe, cmaes, qmc or optuna-random)", sampler
            )
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "space", space if isinstance(space, SearchSpace) else SearchSpace(space))
        object.__setattr__(self, "objective", objective)
        object.__setattr__(self, "sampler", sampler)
        object.__setattr__(self, "seed", seed)
        object.__setattr__(self, "pruner", pruner)
        object.__setattr__(self, "pruner_options", dict(pruner_options or {}))
        object.__setattr__(self, "conn_id", conn_id)
        if sampler == "grid":
            next(iter(self.space.grid_points()))  # a float range without a step is refused now
        if sampler in OPTUNA_SAMPLERS:
            require_optuna(f"sampler={sampler!r}")

    @property
    def uses_optuna(self) -> bool:
        return self.sampler in OPTUNA_SAMPLERS

    def key(self, dag_id: str) -> str:
        """The study's name in its database: one study per DAG and name."""
        return f"{dag_id}.{self.name}"

    def open(self, dag_id: str) -> StudyBackend:
        """The study's trials, in the database of ``conn_id`` (created on first use)."""
        from airflow_provider_braket.sweeps.storage import database_url

        url = database_url(self.conn_id)
        if self.uses_optuna:
            from airflow_provider_braket.sweeps.optuna_study import OptunaStudy

            return OptunaStudy(self, dag_id, url)
        from airflow_provider_braket.sweeps.builtin_study import BuiltInStudy

        return BuiltInStudy(self, dag_id, url)

    def reference(self) -> dict[str, Any]:
        """What a point's task needs to report to the study (plain JSON: it travels in XCom)."""
        return {
            "name": self.name,
            "sampler": self.sampler,
            "seed": self.seed,
            "pruner": self.pruner,
            "pruner_options": dict(self.pruner_options),
            "conn_id": self.conn_id,
            "objective": self.objective.to_dict(),
            "space": self.space.describe()["parameters"],
            "fixed": self.space.fixed,
        }

    @classmethod
    def from_reference(cls, reference: Mapping[str, Any]) -> Study:
        from airflow_provider_braket.sweeps.space import space_from_description

        return cls(
            name=reference["name"],
            space=space_from_description(reference["space"], reference.get("fixed")),
            objective=reference["objective"],
            sampler=reference["sampler"],
            seed=reference.get("seed"),
            pruner=reference.get("pruner"),
            pruner_options=reference.get("pruner_options"),
            conn_id=reference.get("conn_id"),
        )
