"""What a point's task tells its study when the job ends: COMPLETE with the objective's value, or
FAIL (or PRUNED) with what the job cost. A trial is told once: a retried or reattached task that
tells it again changes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_braket.jobs.models import RequestValidationError
from airflow_provider_braket.sweeps.objective import ObjectiveMissing
from airflow_provider_braket.sweeps.study import Study
from airflow_provider_braket.sweeps.trials import COMPLETE, FAIL, StudyBackend


class StudyTrial:
    """The trial a point's task runs, as its ``study_trial`` argument names it.

    :param reference: ``{"study": Study.reference(), "dag_id", "number"}``, as
        :class:`~airflow_provider_braket.operators.sweep.SuggestPointsOperator` hands it out.
    """

    def __init__(self, reference: Mapping[str, Any]) -> None:
        try:
            self.study = Study.from_reference(reference["study"])
            self.dag_id = str(reference["dag_id"])
            self.number = int(reference["number"])
        except RequestValidationError:
            raise  # a study setting broke a rule: the error names it
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                "study_trial: must be what SuggestPointsOperator hands out "
                "({'study': ..., 'dag_id': ..., 'number': ...})"
            ) from error

    def open(self) -> StudyBackend:
        return self.study.open(self.dag_id)

    def tell_completed(self, outcome: dict[str, Any], log: Any) -> None:
        """Record a COMPLETED job's score; a missing objective records the trial FAIL, saying why."""
        cost = _total(outcome.get("cost"))
        try:
            value: float | None = self.study.objective.value_of(outcome)
        except ObjectiveMissing as missing:
            log.error("Trial %s of study %s has no objective: %s", self.number, self.study.name, missing)
            value = None
        state = COMPLETE if value is not None else FAIL
        self._tell(state, value, cost, outcome.get("jobArn"), log)
        outcome["trial"] = {"study": self.study.name, "number": self.number, "state": state, "value": value}

    def tell_ended(self, state: str, job_arn: str, cost: Mapping[str, Any] | None, log: Any) -> None:
        """Record a job that did not complete (FAIL) or that the pruner stopped (PRUNED)."""
        self._tell(state, None, _total(cost), job_arn, log)

    def _tell(
        self, state: str, value: float | None, cost: float | None, job_arn: str | None, log: Any
    ) -> None:
        try:
            told = self.open().tell(self.number, state, value, cost, job_arn)
        except Exception as error:
            log.warning("Study %s unreachable: %s", self.study.name, error)  # SQLAlchemy hides passwords
            # Failing the task lets a retry tell it: the retry finds the ended job, runs nothing.
            raise AirflowException(
                f"Trial {self.number} of study {self.study.name} could not be recorded "
                f"({type(error).__name__}); a retry records it without running the job again"
            ) from error
        if told:
            log.info(
                "Study %s: trial %s %s (value %s, cost %s).", self.study.name, self.number, state, value, cost
            )
        else:
            log.info("Study %s: trial %s had already been recorded.", self.study.name, self.number)


#: Tags a point's job carries: the console lists a study's jobs, and the UI finds the study.
STUDY_TAG, TRIAL_TAG, STUDY_CONN_TAG = "airflow:study", "airflow:study_trial", "airflow:study_conn"


def study_tags(reference: Mapping[str, Any] | None) -> dict[str, str]:
    """The tags of a point's job (none without a study); a malformed ``study_trial`` is refused."""
    if not reference:
        return {}
    try:
        trial = StudyTrial(reference)
    except RequestValidationError:
        raise
    except ValueError as error:
        raise RequestValidationError(
            str(error), [("study_trial", "as SuggestPointsOperator hands it out")]
        ) from None
    return {
        STUDY_TAG: trial.study.name,
        TRIAL_TAG: str(trial.number),
        STUDY_CONN_TAG: trial.study.conn_id or "",
    }


def _total(cost: Mapping[str, Any] | None) -> float | None:
    total = (cost or {}).get("total")
    return float(total) if isinstance(total, (int, float)) else None
