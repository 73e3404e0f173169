"""Early stopping: a running point's objective metric, read from its log lines as they are
forwarded, handed to its study's pruner; a point the pruner stops is cancelled and recorded
PRUNED with what it cost.

Used by the trigger (deferred tasks) and by the worker's wait (the others) alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_braket.jobs.metrics import parse_metric_line
from airflow_provider_braket.sweeps.reporting import StudyTrial
from airflow_provider_braket.sweeps.trials import StudyBackend

#: The SDK's ``log_metric`` column that numbers a metric's records; a line without it is the
#: metric's next record.
STEP_COLUMN = "iteration_number"


class TrialPruning:
    """One running point's metric values not yet reported, and its pruner's verdict.

    :param study_trial: The point's ``study_trial`` (:class:`~.reporting.StudyTrial`).
    """

    def __init__(self, study_trial: Mapping[str, Any]) -> None:
        self.trial = StudyTrial(study_trial)
        self.metric = str(self.trial.study.objective.metric)
        self.unreported: list[tuple[int, float]] = []
        self.records = 0
        self.last_step: int | None = None
        self._backend: StudyBackend | None = None

    @classmethod
    def of(cls, study_trial: Mapping[str, Any] | None) -> TrialPruning | None:
        """Pruning for ``study_trial`` if its study has a pruner; else None."""
        if not study_trial or not (study_trial.get("study") or {}).get("pruner"):
            return None
        return cls(study_trial)

    def observe(self, message: str) -> None:
        """Take one log line: keep the objective metric's value if the line logs it."""
        record = parse_metric_line(message)
        if record is None or self.metric not in record:
            return
        step = record.get(STEP_COLUMN)
        self.unreported.append((int(step) if step is not None else self.records, record[self.metric]))
        self.records += 1

    def should_stop(self) -> bool:
        """Report what was observed since the last call; True once the pruner stops the point.

        A blocking database call: the trigger runs it in a thread.
        """
        if not self.unreported:
            return False
        unreported, self.unreported = self.unreported, []
        if self._backend is None:
            self._backend = self.trial.open()
        verdict = False
        for step, value in unreported:
            verdict = self._backend.report(self.trial.number, step, value)
            self.last_step = step
        return verdict

    def message(self) -> str:
        return (
            f"Trial {self.trial.number} of study {self.trial.study.name} pruned at step {self.last_step} "
            f"of {self.metric}: the pruner ({self.trial.study.pruner}) found it unpromising"
        )
