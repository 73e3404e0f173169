"""What a sweep optimises: a key of the job's ``results``, or a metric it logged (its last, lowest
or highest value), to be minimised or maximised."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_braket.jobs.models import RequestValidationError

DIRECTIONS = ("minimize", "maximize")
REDUCTIONS = ("last", "min", "max")


class ObjectiveMissing(ValueError):
    """The ended job's outcome holds no value for the objective; the message says what it has."""


@dataclass(frozen=True)
class Objective:
    """A job's score: ``results_key`` (a key of the dict the job saved with ``save_job_result``;
    dots reach into nested dicts) or ``metric`` (a name it logged with ``log_metric``, reduced by
    ``reduce``). ``metric`` is also what early stopping watches while the job runs.

    :param direction: ``minimize`` or ``maximize``.
    """

    direction: str
    results_key: str | None = None
    metric: str | None = None
    reduce: str = "last"

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            rule = f"must be one of {', '.join(DIRECTIONS)}"
            raise RequestValidationError(
                f"objective.direction: {rule} (got {self.direction!r})", [("objective.direction", rule)]
            )
        if (self.results_key is None) == (self.metric is None):
            rule = "give exactly one of results_key and metric"
            raise RequestValidationError(f"objective: {rule}", [("objective", rule)])
        for field, value in (("results_key", self.results_key), ("metric", self.metric)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                rule = "must be a non-empty string"
                raise RequestValidationError(f"objective.{field}: {rule}", [(f"objective.{field}", rule)])
        if self.reduce not in REDUCTIONS:
            rule = f"must be one of {', '.join(REDUCTIONS)}"
            raise RequestValidationError(
                f"objective.reduce: {rule} (got {self.reduce!r})", [("objective.reduce", rule)]
            )

    @classmethod
    def of(cls, value: Objective | Mapping[str, Any]) -> Objective:
        return value if isinstance(value, Objective) else cls(**dict(value))

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "results_key": self.results_key,
            "metric": self.metric,
            "reduce": self.reduce,
        }

    def describe(self) -> str:
        what = f"results[{self.results_key!r}]" if self.results_key else f"{self.reduce} {self.metric}"
        return f"{self.direction} {what}"

    def value_of(self, outcome: Mapping[str, Any]) -> float:
        """The objective's value in a COMPLETED job's task outcome (its XCom).

        :raises ObjectiveMissing: when the outcome holds no finite number for it.
        """
        if self.results_key is not None:
            return _finite(self.results_key, _dig(outcome.get("results"), self.results_key))
        metric = str(self.metric)
        series = ((outcome.get("metricSeries") or {}).get(metric) or {}).get("value") or []
        values = [value for value in series if isinstance(value, (int, float))]
        if not values:
            logged = sorted((outcome.get("metricSeries") or {}).keys())
            raise ObjectiveMissing(f"metric {metric!r} was never logged (logged: {logged or 'none'})")
        reduced = {"last": values[-1], "min": min(values), "max": max(values)}[self.reduce]
        return _finite(metric, reduced)

    def better(self, one: float, other: float) -> bool:
        return one < other if self.direction == "minimize" else one > other


def _dig(results: Any, key: str) -> Any:
    value = results
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            keys = sorted(value.keys()) if isinstance(value, Mapping) else None
            raise ObjectiveMissing(f"results key {key!r} not found (keys there: {keys or 'none'})")
        value = value[part]
    return value


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ObjectiveMissing(f"{name!r} is not a finite number (got {type(value).__name__})")
    return float(value)
