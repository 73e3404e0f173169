"""SuggestPointsOperator: ask a study for this run's points, for a mapped CreateHybridJobOperator."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_braket.jobs.models import RequestValidationError
from airflow_provider_braket.operators.base import BraketBaseOperator, braket_template_fields
from airflow_provider_braket.sweeps.space import as_hyperparameters
from airflow_provider_braket.sweeps.study import Study
from airflow_provider_braket.sweeps.trials import FINISHED_STATES, StudyBackend, Trial
from airflow_provider_braket.utils.identity import TaskIdentity

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_braket.pricing.cost_limits import CostLimits

#: Airflow's ``[core] max_map_length`` is 1024 by default; a study asks for no more than this.
MAX_POINTS = 10_000


class SuggestPointsOperator(BraketBaseOperator):
    """
    Ask a study for ``count`` points and return them for ``CreateHybridJobOperator`` to expand.

    .. code-block:: python

        points = SuggestPointsOperator(task_id="suggest", study=study, count=8)
        CreateHybridJobOperator.partial(task_id="point", ...).expand_kwargs(points.output)

    Each item is ``{"hyperparameters": {...}, "study_trial": {...}}``: the point's hyperparameters
    (with the space's fixed ones) and the trial it is, which the point's task tells how its job
    ended. The study is kept across runs (its database, :mod:`~airflow_provider_braket.sweeps.storage`),
    so a scheduled DAG's study goes on learning from every earlier run. A retried task gets the
    points its first try got, not new ones.

    With a budget, the study asks only for the points the budget can still pay for: what is left
    of it (the Braket jobs of this DAG run, or of this DAG this month, as the operator counts them)
    divided by the mean cost of the study's finished points; none when it cannot pay for one. A
    study with no finished point yet asks for ``count``.

    :param study: The :class:`~airflow_provider_braket.sweeps.study.Study`.
    :param count: How many points to ask for (1 to 10,000; the expanded task's map length).
    :param run_budget: USD the Braket jobs of this DAG run may cost together.
    :param monthly_budget: USD the Braket jobs of this DAG may cost in a calendar month (UTC).
    :param kwargs: The connection arguments (read only for a budget) and ``BaseOperator``'s.
    """

    template_fields: Sequence[str] = braket_template_fields("count", "run_budget", "monthly_budget")

    def __init__(
        self,
        *,
        study: Study,
        count: int | str,
        run_budget: float | str | None = None,
        monthly_budget: float | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(study, Study):
            raise TypeError(
                f"study: must be an airflow_provider_braket.sweeps.Study (got {type(study).__name__})"
            )
        self.study = study
        self.count = count
        self.run_budget = run_budget
        self.monthly_budget = monthly_budget

    def execute(self, context: Context) -> list[dict[str, Any]]:
        identity = TaskIdentity.from_context(context, self.task_id)
        try:
            count = _count(self.count)
            limits = self._limits()
            study = self.study.open(identity.dag_id)
        except RequestValidationError as error:
            raise AirflowFailException(str(error)) from error
        affordable = self._affordable(study, limits, identity) if limits.active else None
        ask_key = f"{identity.dag_id}/{identity.run_id}/{identity.task_id}/{identity.map_index}"
        trials = study.ask(count if affordable is None else min(count, affordable), ask_key, identity.run_id)
        if not trials:
            self.log.warning("Study %s asked for no point this run.", self.study.name)
        for trial in trials:
            self.log.info("Study %s, trial %s: %s", self.study.name, trial.number, trial.params)
        return [self._point(identity.dag_id, trial) for trial in trials]

    def _point(self, dag_id: str, trial: Trial) -> dict[str, Any]:
        return {
            "hyperparameters": as_hyperparameters(self.study.space, trial.params),
            "study_trial": {"study": self.study.reference(), "dag_id": dag_id, "number": trial.number},
        }

    def _limits(self) -> CostLimits:
        from airflow_provider_braket.pricing.cost_limits import CostLimits

        return CostLimits.of(run_budget=self.run_budget, monthly_budget=self.monthly_budget)

    def _affordable(self, study: StudyBackend, limits: CostLimits, identity: TaskIdentity) -> int | None:
        """How many more points the budgets pay for, at the mean cost of the finished ones."""
        costs = [trial.cost for trial in study.trials() if trial.state in FINISHED_STATES and trial.cost]
        if not costs:
            self.log.info("No finished point of study %s has a cost yet: asking for all.", self.study.name)
            return None
        mean = Decimal(str(sum(costs) / len(costs)))
        from airflow_provider_braket.pricing.cost_limits import BudgetScope, CostWatch
        from airflow_provider_braket.pricing.price_list import configured_price_list
        from airflow_provider_braket.utils.settings import braket_str

        prices = configured_price_list(braket_str("price_list"))
        watch = CostWatch(
            self.hook, limits, BudgetScope.of(identity), prices, braket_str("billable_duration_unit")
        )
        affordable = []
        for name, budget, spent, where in watch.spending():
            points = max(0, math.floor((budget - spent) / mean))
            self.log.info(
                "%s=%s USD: the jobs of %s have cost %.4f; at %.4f a point it pays for %d more.",
                name, budget, where, spent, mean, points,
            )  # fmt: skip
            affordable.append(points)
        return min(affordable)


def _count(value: Any) -> int:
    rule = f"must be a whole number from 1 to {MAX_POINTS}"
    try:
        if isinstance(value, bool):
            raise TypeError
        count = int(str(value).strip()) if isinstance(value, str) else int(value)
        if count != value and not isinstance(value, str):
            raise ValueError
    except (TypeError, ValueError):
        raise RequestValidationError(f"count: {rule} (got {value!r})", [("count", rule)]) from None
    if not 1 <= count <= MAX_POINTS:
        raise RequestValidationError(f"count: {rule} (got {count})", [("count", rule)])
    return count
