"""A sweep's hyperparameter space, declared once: ranges, choices, log scale.

Each parameter is checked when it is declared (a DAG file that declares a bad one fails to parse,
naming the parameter and the rule), before any study is opened or any job created. A point is a
dict of parameter name -> value; :func:`as_hyperparameters` turns it into the strings Braket
takes, as the SDK does.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_braket.jobs.models import RequestValidationError
from airflow_provider_braket.jobs.request import MAX_HYPERPARAMETERS, normalize_hyperparameters

#: A grid of more points than this is refused: enumerating it would hold the worker.
MAX_GRID_POINTS = 100_000
MAX_CHOICES = 1_000
Scalar = str | int | float | bool


def _refuse(name: str, rule: str, got: Any = None) -> RequestValidationError:
    field = f"space[{name!r}]"
    detail = f" (got {got!r})" if got is not None else ""
    return RequestValidationError(f"{field}: {rule}{detail}", [(field, rule)])


def _number(name: str, part: str, value: Any, integer: bool) -> float:
    kind = "an int" if integer else "a number"
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (integer and not isinstance(value, int))
    ):
        raise _refuse(name, f"{part} must be {kind}", value)
    if not math.isfinite(value):
        raise _refuse(name, f"{part} must be finite", value)
    return value


@dataclass(frozen=True)
class FloatRange:
    """A float from ``low`` to ``high`` (both included), on a log scale if ``log``; in steps of
    ``step`` from ``low`` if given (a grid needs a step)."""

    low: float
    high: float
    log: bool = False
    step: float | None = None

    def check(self, name: str) -> None:
        low = _number(name, "low", self.low, integer=False)
        high = _number(name, "high", self.high, integer=False)
        if not low < high:
            raise _refuse(name, "low must be less than high", (low, high))
        if self.log and low <= 0:
            raise _refuse(name, "low must be positive on a log scale", low)
        if self.step is not None:
            step = _number(name, "step", self.step, integer=False)
            if step <= 0:
                raise _refuse(name, "step must be positive", step)
            if self.log:
                raise _refuse(name, "step and log cannot be combined (as in Optuna)")

    def grid(self) -> list[float] | None:
        if self.step is None:
            return None
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        return [round(self.low + index * self.step, 12) for index in range(count)]

    def draw(self, rng: random.Random) -> float:
        if self.log:
            return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        if self.step is not None:
            return rng.choice(self.grid() or [self.low])
        return rng.uniform(self.low, self.high)

    def describe(self) -> dict[str, Any]:
        return {"type": "float", "low": self.low, "high": self.high, "log": self.log, "step": self.step}


@dataclass(frozen=True)
class IntRange:
    """An int from ``low`` to ``high`` (both included), in steps of ``step``, or on a log scale."""

    low: int
    high: int
    log: bool = False
    step: int = 1

    def check(self, name: str) -> None:
        low = _number(name, "low", self.low, integer=True)
        high = _number(name, "high", self.high, integer=True)
        step = _number(name, "step", self.step, integer=True)
        if not low < high:
            raise _refuse(name, "low must be less than high", (low, high))
        if step <= 0:
            raise _refuse(name, "step must be positive", step)
        if self.log and (low <= 0 or step != 1):
            raise _refuse(name, "a log scale needs low > 0 and step 1 (as in Optuna)")

    def grid(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.step))

    def draw(self, rng: random.Random) -> int:
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
            return min(self.high, math.floor(value))
        return rng.choice(self.grid())

    def describe(self) -> dict[str, Any]:
        return {"type": "int", "low": self.low, "high": self.high, "log": self.log, "step": self.step}


@dataclass(frozen=True)
class Choice:
    """One of ``values`` (strings, ints, floats or bools)."""

    values: tuple[Scalar, ...]

    def __init__(self, values: Any) -> None:
        object.__setattr__(self, "values", tuple(values) if isinstance(values, (list, tuple)) else values)

    def check(self, name: str) -> None:
        if not isinstance(self.values, tuple) or not self.values:
            raise _refuse(name, "choices must be a non-empty list", self.values)
        if len(self.values) > MAX_CHOICES:
            raise _refuse(name, f"at most {MAX_CHOICES} choices", len(self.values))
        for value in self.values:
            if not isinstance(value, (str, int, float, bool)) or (
                isinstance(value, float) and not math.isfinite(value)
            ):
                raise _refuse(name, "each choice must be a str, int, bool or finite float", value)
        if len({(type(value), value) for value in self.values}) != len(self.values):
            raise _refuse(name, "choices must be distinct")

    def grid(self) -> list[Scalar]:
        return list(self.values)

    def draw(self, rng: random.Random) -> Scalar:
        return rng.choice(self.values)

    def describe(self) -> dict[str, Any]:
        return {"type": "choice", "values": list(self.values)}


Parameter = FloatRange | IntRange | Choice


class SearchSpace(Mapping[str, Parameter]):
    """Parameter name -> :class:`FloatRange`, :class:`IntRange` or :class:`Choice`, checked now.

    :param parameters: The space; names become the jobs' hyperparameter names.
    :param fixed: Hyperparameters every point gets unchanged (e.g. the problem instance).
    """

    def __init__(
        self, parameters: Mapping[str, Parameter], fixed: Mapping[str, Scalar] | None = None
    ) -> None:
        if not isinstance(parameters, Mapping) or not parameters:
            raise RequestValidationError(
                "space: must be a non-empty dict of name -> FloatRange, IntRange or Choice",
                [("space", "must be a non-empty dict")],
            )
        for name, parameter in parameters.items():
            if not isinstance(name, str) or not 1 <= len(name) <= 256:
                raise _refuse(str(name), "a name must be a string of 1 to 256 characters")
            if not isinstance(parameter, (FloatRange, IntRange, Choice)):
                raise _refuse(name, "must be a FloatRange, IntRange or Choice", type(parameter).__name__)
            parameter.check(name)
        self.fixed = normalize_hyperparameters(dict(fixed or {}))
        both = sorted(set(parameters) & set(self.fixed))
        if both:
            raise _refuse(both[0], "a name cannot be both a parameter and fixed")
        if len(parameters) + len(self.fixed) > MAX_HYPERPARAMETERS:
            raise RequestValidationError(
                f"space: at most {MAX_HYPERPARAMETERS} hyperparameters with the fixed ones",
                [("space", f"at most {MAX_HYPERPARAMETERS} hyperparameters")],
            )
        self._parameters = dict(parameters)

    def __getitem__(self, name: str) -> Parameter:
        return self._parameters[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def grid_points(self) -> Iterator[dict[str, Scalar]]:
        """Every point of the grid, in a fixed order; refused if a float range has no step."""
        axes: list[list[Scalar]] = []
        for name, parameter in self._parameters.items():
            grid = parameter.grid()
            if grid is None:
                raise _refuse(name, "a grid needs a step for every float range")
            axes.append(list(grid))
        size = math.prod(len(axis) for axis in axes)
        if size > MAX_GRID_POINTS:
            raise RequestValidationError(
                f"space: a grid of {size} points is more than {MAX_GRID_POINTS}",
                [("space", f"a grid has at most {MAX_GRID_POINTS} points")],
            )
        for values in itertools.product(*axes):
            yield dict(zip(self._parameters, values, strict=True))

    def draw(self, rng: random.Random) -> dict[str, Scalar]:
        return {name: parameter.draw(rng) for name, parameter in self._parameters.items()}

    def describe(self) -> dict[str, Any]:
        """The space as JSON (stored with the study, shown in the UI)."""
        return {
            "parameters": {name: p.describe() for name, p in self._parameters.items()},
            "fixed": self.fixed,
        }

    def contains(self, point: Mapping[str, Any]) -> bool:
        """Whether ``point`` names exactly this space's parameters (a study's stored trials)."""
        return set(point) == set(self._parameters)


def as_hyperparameters(space: SearchSpace, point: Mapping[str, Scalar]) -> dict[str, str]:
    """A point as a job's hyperparameters: the fixed ones, then the point's, as strings."""
    return {**space.fixed, **normalize_hyperparameters(dict(point))}


def space_from_description(
    parameters: Mapping[str, Any], fixed: Mapping[str, Any] | None = None
) -> SearchSpace:
    """The space :meth:`SearchSpace.describe` described (a study's reference, read back)."""
    made: dict[str, Parameter] = {}
    for name, spec in parameters.items():
        kind = spec.get("type") if isinstance(spec, Mapping) else None
        if kind == "float":
            made[name] = FloatRange(spec["low"], spec["high"], bool(spec.get("log")), spec.get("step"))
        elif kind == "int":
            made[name] = IntRange(spec["low"], spec["high"], bool(spec.get("log")), spec.get("step", 1))
        elif kind == "choice":
            made[name] = Choice(spec["values"])
        else:
            raise _refuse(str(name), "must be described as a float, int or choice", kind)
    return SearchSpace(made, fixed)
