"""Sweeps that learn: a study suggests each run's points, hears how each job scored, may stop a
job early, and carries on across scheduled runs (docs/sweeps.md).

- :mod:`.space`: the hyperparameter space (ranges, choices, log scale), checked when declared;
- :mod:`.objective`: what a point scores (a ``results`` key or a logged metric);
- :mod:`.study`: a study's settings, and which store keeps its trials: :mod:`.builtin_study`
  (grid, random) or :mod:`.optuna_study` (Optuna's samplers and pruners), both after
  :mod:`.trials` (a trial, its states, the stores' interface);
- :mod:`.storage`: which database (an Airflow connection, never Airflow's own);
- :mod:`.reporting`: what a point's task tells its study when its job ends.
"""

from __future__ import annotations

from airflow_provider_braket.sweeps.objective import Objective
from airflow_provider_braket.sweeps.space import Choice, FloatRange, IntRange, SearchSpace
from airflow_provider_braket.sweeps.study import Study

__all__ = ["Choice", "FloatRange", "IntRange", "Objective", "SearchSpace", "Study"]
