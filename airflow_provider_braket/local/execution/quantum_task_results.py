"""A simulator's answer as the ``results.json`` AWS writes: every result type with its value.

- shots > 0: the values of ``expectation``, ``variance``, ``sample`` and ``probability`` are
  computed from the measured shots with the SDK's own formulas
  (``GateModelQuantumTaskResult._calculate_result_types``), as the managed simulators return them.
- shots = 0: the simulator's exact values; complex numbers as ``[re, im]`` and matrices as nested
  lists, as ``braket.task_result`` defines them (``amplitude``, ``state_vector``,
  ``density_matrix``).
- ``adjoint_gradient`` (SV1, shots = 0): ``{"expectation": e, "gradient": {parameter: d}}``. AWS
  computes it with the adjoint method; here each derivative is a central difference of exact
  expectations (step :data:`GRADIENT_STEP`), within 1e-8 of the analytic gradient.

Runs inside a task worker process only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

#: Central-difference step: truncation error ~ step^2, rounding ~ 1e-16 / step; both below 1e-9.
GRADIENT_STEP = 1e-5
_ADJOINT_GRADIENT = re.compile(
    r"^[ \t]*#pragma[ \t]+braket[ \t]+result[ \t]+adjoint_gradient[ \t]+expectation\((?P<observable>.*)\)"
    r"[ \t]*(?P<parameters>[A-Za-z_0-9, \t]*)$",
    re.MULTILINE,
)
_RESULT_PRAGMA = re.compile(r"^[ \t]*#pragma[ \t]+braket[ \t]+result\b", re.MULTILINE)
_TERM = re.compile(
    r"^(?:(?P<coefficient>[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*\*\s*)?(?P<observable>.+)$", re.DOTALL
)


@dataclass(frozen=True)
class GradientRequest:
    """An ``adjoint_gradient`` result pragma: its Hamiltonian's terms and the parameters asked for.

    :param source: the program with the pragma replaced by one ``expectation`` pragma per term.
    :param coefficients: each term's coefficient, in order.
    :param parameters: parameter names, or ``None`` for ``all``.
    :param position: index of the adjoint gradient among the program's result types.
    """

    source: str
    coefficients: tuple[float, ...]
    parameters: tuple[str, ...] | None
    position: int


def adjoint_gradient_request(source: str) -> GradientRequest | None:
    """The program's ``adjoint_gradient`` pragma, if it has one."""
    match = _ADJOINT_GRADIENT.search(source)
    if match is None:
        return None
    terms = [_term(text) for text in _split_terms(match["observable"])]
    names = [name.strip() for name in match["parameters"].split(",") if name.strip()]
    pragmas = "\n".join(f"#pragma braket result expectation {observable}" for _, observable in terms)
    return GradientRequest(
        source=source[: match.start()] + pragmas + source[match.end() :],
        coefficients=tuple(coefficient for coefficient, _ in terms),
        parameters=None if names in ([], ["all"]) else tuple(names),
        position=len(_RESULT_PRAGMA.findall(source[: match.start()])),
    )


def run_adjoint_gradient(simulator: Any, program: Any, request: GradientRequest) -> Any:
    """Run the program and its shifted copies; the first run's result, with the gradient in it."""
    inputs = dict(program.inputs or {})
    names = request.parameters if request.parameters is not None else tuple(sorted(inputs))
    missing = [name for name in names if name not in inputs]
    if missing:
        raise ValueError(f"adjoint_gradient parameters without an input value: {', '.join(missing)}")
    shifted = program.copy(update={"source": request.source})
    base = simulator.run(shifted, shots=0)
    terms = slice(request.position, request.position + len(request.coefficients))

    def expectation(values: dict[str, Any], result: Any = None) -> float:
        result = result or simulator.run(shifted.copy(update={"inputs": values}), shots=0)
        return float(
            sum(
                c * float(rt.value)
                for c, rt in zip(request.coefficients, result.resultTypes[terms], strict=True)
            )
        )

    gradient = {}
    for name in names:
        up = expectation({**inputs, name: float(inputs[name]) + GRADIENT_STEP})
        down = expectation({**inputs, name: float(inputs[name]) - GRADIENT_STEP})
        gradient[name] = (up - down) / (2 * GRADIENT_STEP)
    term_types = [rt.type for rt in base.resultTypes[terms]]
    value = {"expectation": expectation(inputs, base), "gradient": gradient}
    gradient_type = {
        "type": "adjoint_gradient",
        "observable": _hamiltonian(request.coefficients, term_types),
        "targets": [list(rt.targets or []) for rt in term_types],
        "parameters": list(names),
    }
    return base, (terms, {"type": gradient_type, "value": value})


def result_document(
    result: Any, device_arn: str, shots: int, task_arn: str, created: int, gradient: Any
) -> dict[str, Any]:
    """The ``GateModelTaskResult`` document of a simulator's result."""
    from airflow_provider_braket.local.storage.jobs import iso, now_ms

    if gradient is not None:
        result, (terms, gradient_value) = result
    document: dict[str, Any] = json.loads(result.json(exclude_none=True, exclude={"resultTypes"}))
    # An exact (shots = 0) run has no measurements; the schema forbids an empty list there.
    for empty in [name for name in ("measurements", "measuredQubits") if document.get(name) == []]:
        del document[empty]
    if document.get("measurements"):
        import numpy as np

        document["measurements"] = np.asarray(document["measurements"]).astype(np.int8).tolist()
    result_types = _result_types(result, document, shots)
    if gradient is not None:
        result_types[terms] = [gradient_value]
    if result_types:
        document["resultTypes"] = result_types
    document["taskMetadata"].update(
        id=task_arn, deviceId=device_arn, shots=shots, createdAt=iso(created), endedAt=iso(now_ms())
    )
    return document


def _result_types(result: Any, document: dict[str, Any], shots: int) -> list[dict[str, Any]]:
    asked = list(result.resultTypes or [])
    if shots == 0:
        return [{"type": _type(item.type), "value": jsonable(item.value)} for item in asked]
    if not asked:
        action = document.get("additionalMetadata", {}).get("action", {})
        asked = action.get("results") or []
        specifications = [dict(item) for item in asked]
    else:
        specifications = [_type(item) for item in asked]
    if not specifications or not document.get("measurements"):
        return []
    import numpy as np
    from braket.tasks import GateModelQuantumTaskResult

    values = GateModelQuantumTaskResult._calculate_result_types(
        json.dumps({"results": specifications}),
        np.asarray(document["measurements"], dtype=int),
        document["measuredQubits"],
    )
    return [{"type": _type(item.type), "value": jsonable(item.value)} for item in values]


def jsonable(value: Any) -> Any:
    """A value as JSON carries it: complex as ``[re, im]``, arrays as nested lists."""
    if isinstance(value, complex) or (
        hasattr(value, "imag")
        and getattr(value, "dtype", None) is not None
        and value.dtype.kind == "c"
        and getattr(value, "ndim", 1) == 0
    ):
        return [float(value.real), float(value.imag)]
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def _type(specification: Any) -> dict[str, Any]:
    if isinstance(specification, dict):
        return specification
    loaded: dict[str, Any] = json.loads(specification.json(exclude_none=True))
    return loaded


def _split_terms(expression: str) -> list[str]:
    """``2 * z(q[0]) @ z(q[1]) - 0.5 * x(q[1])`` -> ``['2 * z(q[0]) @ z(q[1])', '-0.5 * x(q[1])']``."""
    terms, depth, start = [], 0, 0
    for index, char in enumerate(expression):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char in "+-" and depth == 0 and index > 0 and expression[index - 1] not in "eE*":
            terms.append(expression[start:index])
            start = index
    terms.append(expression[start:])
    return [term.strip() for term in terms if term.strip() not in ("", "+", "-")]


def _term(text: str) -> tuple[float, str]:
    sign = -1.0 if text.startswith("-") else 1.0
    match = _TERM.match(text.lstrip("+-").strip())
    if match is None:
        raise ValueError(f"adjoint_gradient: cannot read the observable term {text!r}")
    return sign * float(match["coefficient"] or 1.0), match["observable"].strip()


def _hamiltonian(coefficients: tuple[float, ...], term_types: list[Any]) -> str:
    import numpy as np

    parts = []
    for coefficient, term in zip(coefficients, term_types, strict=True):
        factors = term.observable
        if not all(isinstance(factor, str) for factor in factors):
            raise ValueError("adjoint_gradient with a hermitian observable is not run by the local simulator")
        # Positional: the schema's Hamiltonian pattern has no exponents.
        parts.append(f"{np.format_float_positional(coefficient)} * {' @ '.join(factors)}")
    return " + ".join(parts)
