"""A study's trials as every store keeps them, and the interface the stores share.

:mod:`.builtin_study` (grid, random) and :mod:`.optuna_study` (Optuna's samplers and pruners)
implement :class:`StudyBackend`; :class:`~.study.Study` opens the one its sampler needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from airflow_provider_braket.jobs.models import RequestValidationError

#: Trial states, as Optuna names them.
RUNNING, COMPLETE, PRUNED, FAIL = "RUNNING", "COMPLETE", "PRUNED", "FAIL"
FINISHED_STATES = (COMPLETE, PRUNED, FAIL)
EXTRA_HINT = "pip install 'airflow-provider-braket[sweeps]'"


@dataclass(frozen=True)
class Trial:
    """One point of a study, as its database holds it."""

    number: int
    params: dict[str, Any]
    state: str = RUNNING
    value: float | None = None
    cost: float | None = None
    job_arn: str | None = None
    run_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    #: Metric values reported while the job ran, by step (what pruning decided on).
    intermediate: dict[int, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "params": self.params,
            "state": self.state,
            "value": self.value,
            "cost": self.cost,
            "jobArn": self.job_arn,
            "runId": self.run_id,
            "startedAt": self.started_at.isoformat() if self.started_at else None,
            "endedAt": self.ended_at.isoformat() if self.ended_at else None,
        }


class StudyBackend(Protocol):
    """Trials of one study in its database; every method is safe to call from concurrent tasks."""

    def ask(self, count: int, ask_key: str, run_id: str | None) -> list[Trial]:
        """``count`` points for the task ``ask_key``; if it asked before, the trials it got then
        (topped up to ``count``): a retried ask leaves no trial unused."""

    def tell(
        self, number: int, state: str, value: float | None, cost: float | None, job_arn: str | None
    ) -> bool:
        """Finish trial ``number``; False (and nothing changed) if it had already finished."""

    def report(self, number: int, step: int, value: float) -> bool:
        """Record a metric value of a running trial; True when the pruner would stop it."""

    def trials(self) -> list[Trial]:
        """Every trial, by number."""

    def importances(self) -> dict[str, float] | None:
        """How much each parameter matters to the objective (Optuna's), or None."""


def require_optuna(what: str) -> Any:
    """Optuna, or an error naming the extra that installs it."""
    try:
        import optuna
    except ImportError:
        raise RequestValidationError(
            f"{what} needs Optuna, which is not installed: {EXTRA_HINT}",
            [(what, f"needs Optuna ({EXTRA_HINT})")],
        ) from None
    return optuna
