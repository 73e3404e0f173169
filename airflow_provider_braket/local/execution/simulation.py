"""Check and run one quantum task's program: what a task worker process does (never the service).

SV1 runs on amazon-braket-default-simulator's state-vector simulator, DM1 on its density-matrix simulator
(noise instructions honoured), an emulated QPU on the density-matrix simulator with the device's noise
(:mod:`~airflow_provider_braket.local.devices.emulation`). :func:`check_program` is what CreateQuantumTask
asks before it makes a record (AWS refuses such a program at once); :func:`run_program` returns the
``GateModelTaskResult`` document AWS writes to ``results.json``
(:mod:`~airflow_provider_braket.local.execution.quantum_task_results`).

Both run only inside a task worker process
(:mod:`~airflow_provider_braket.local.execution.quantum_task_worker`), which the service kills when a program
runs too long, is cancelled, or takes more memory than its budget.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from functools import cache, cached_property, lru_cache
from typing import Any

from airflow_provider_braket.local.devices.qpus import QPUS, EmulatedQpu
from airflow_provider_braket.local.devices.simulators import SIMULATORS
from airflow_provider_braket.local.execution.quantum_task_results import (
    adjoint_gradient_request,
    result_document,
    run_adjoint_gradient,
)
from airflow_provider_braket.local.storage.jobs import now_ms

#: Parse trees kept for programs sent again (a parametric circuit of a VQE loop is the same text
#: with new inputs): the OpenQASM parser is the largest part of a small task's time. Only short
#: sources are kept, so the cache stays a few MiB whatever clients send.
PARSE_CACHE_ENTRIES = 64
PARSE_CACHE_MAX_SOURCE = 8 * 1024
OPENQASM = "braket.ir.openqasm.program"
JAQCD = "braket.ir.jaqcd.program"
_MEASURE = re.compile(r"\bmeasure\b")


class TaskFailure(Exception):
    """The program cannot run; the message becomes the task's failureReason."""


class ProgramRefused(Exception):
    """The device would refuse the program at CreateQuantumTask; the message names why."""


def check_program(
    device_arn: str,
    action_type: str,
    action: str,
    shots: int,
    device_parameters: str | None,
    max_statements: int,
) -> dict[str, Any]:
    """What CreateQuantumTask learns from the program: ``{"qubits": n, "method": ...}``.

    :raises ProgramRefused: for a program the device refuses (too many qubits, a gate it does not
        support, qubits left unmeasured, a program longer than ``max_statements`` to interpret).
    """
    if device_arn in QPUS:
        from airflow_provider_braket.local.devices.emulation import check_program as check_on_qpu
        from airflow_provider_braket.local.exceptions import BraketError

        _bound_statements(action, max_statements)
        try:
            circuit = check_on_qpu(QPUS[device_arn], action)
        except BraketError as refused:
            raise ProgramRefused(refused.message) from None
        return {"qubits": _qubits_to_simulate(circuit), "method": "density_matrix"}
    device = SIMULATORS[device_arn]
    method = "density_matrix" if device.backend == "braket_dm" else "state_vector"
    if action_type == JAQCD:
        qubits = _jaqcd_qubits(device_parameters, ProgramRefused)
        _check_qubits(qubits, device.name, device.qubits)
        return {"qubits": qubits, "method": method}
    program = _openqasm(action, ProgramRefused)
    gradient = adjoint_gradient_request(program.source)
    if gradient is not None:
        program = program.copy(update={"source": gradient.source})
    try:
        context = _interpret(program, _simulator(device.backend).create_program_context(), max_statements)
    except ProgramRefused:
        raise
    except MemoryError:
        raise ProgramRefused(
            "action: the program needs more memory to interpret than the local service's check allows"
        ) from None
    except Exception as error:
        raise ProgramRefused(f"action: the OpenQASM program cannot be run: {_describe(error)}") from None
    circuit = context.circuit
    # The device counts the qubits a program names; the simulator allocates only those it uses,
    # mapped to contiguous indices, so the memory estimate takes that count.
    named = max(int(circuit.num_qubits), max(circuit.qubit_set, default=-1) + 1)
    _check_qubits(named, device.name, device.qubits)
    qubits = int(circuit.num_qubits)
    asked = [_RESULT_NAMES.get(str(item.type.value), str(item.type.value)) for item in circuit.results]
    if gradient is not None:
        asked = [name for name in asked if name != "Expectation"] + ["AdjointGradient"]
    _check_result_types(asked, shots, device.capabilities()["action"][OPENQASM], device.name)
    _check_result_sizes(circuit.results, qubits)
    measured = set(getattr(circuit, "measured_qubits", []) or [])
    if measured and len(measured) < qubits:
        raise ProgramRefused(
            "Device requires all qubits in the program to be measured. This may be caused by declaring "
            f"non-contiguous qubits or measuring partial qubits (the program uses {qubits} qubits and "
            f"measures {len(measured)})"
        )
    return {"qubits": qubits, "method": method}


def run_program(
    device_arn: str,
    action_type: str,
    action: str,
    shots: int,
    device_parameters: str | None,
    task_arn: str,
    max_statements: int = 100_000,
) -> bytes:
    """Simulate a task and return its ``results.json``; raise :class:`TaskFailure` if it cannot run."""
    if device_arn in QPUS:
        return _run_on_emulated_qpu(QPUS[device_arn], action, shots, task_arn)
    device = SIMULATORS[device_arn]
    simulator = _simulator(device.backend, max_statements)
    created = now_ms()
    started = time.perf_counter()
    if action_type == JAQCD:
        from braket.ir.jaqcd import Program as JaqcdProgram

        qubits = _jaqcd_qubits(device_parameters, TaskFailure)
        result = _guarded(lambda: simulator.run(JaqcdProgram.parse_raw(action), qubits, shots=shots))
        gradient = None
    else:
        program = _openqasm(action, TaskFailure)
        gradient = adjoint_gradient_request(program.source) if shots == 0 else None
        if gradient is not None:
            result = _guarded(lambda: run_adjoint_gradient(simulator, program, gradient))
        else:
            result = _guarded(lambda: simulator.run(program, shots=shots))
    elapsed_ms = max(1, round((time.perf_counter() - started) * 1000))
    document = _guarded(lambda: result_document(result, device_arn, shots, task_arn, created, gradient))
    document.setdefault("additionalMetadata", {})["simulatorMetadata"] = {
        "braketSchemaHeader": {"name": "braket.task_result.simulator_metadata", "version": "1"},
        "executionDuration": elapsed_ms,
    }
    return json.dumps(document).encode()


def _run_on_emulated_qpu(qpu: EmulatedQpu, action: str, shots: int, task_arn: str) -> bytes:
    """A QPU's result: no simulator metadata (a QPU is billed per shot, not per millisecond)."""
    from airflow_provider_braket.local.devices.emulation import check_program as check_on_qpu
    from airflow_provider_braket.local.devices.emulation import noisy_program

    created = now_ms()
    simulator = _simulator("braket_dm")

    def run() -> Any:
        return simulator.run(noisy_program(qpu, check_on_qpu(qpu, action)), shots=shots)

    result = _guarded(run)
    document = _guarded(lambda: result_document(result, qpu.arn, shots, task_arn, created, None))
    document["additionalMetadata"] = {"action": json.loads(action)}
    return json.dumps(document).encode()


#: Result type names in programs -> in device capabilities.
_RESULT_NAMES = {
    "expectation": "Expectation",
    "variance": "Variance",
    "sample": "Sample",
    "probability": "Probability",
    "amplitude": "Amplitude",
    "statevector": "StateVector",
    "densitymatrix": "DensityMatrix",
    "adjoint_gradient": "AdjointGradient",
}


def _bound_statements(action: str, max_statements: int) -> None:
    """Refuse a program past the statement bound before the SDK's own parser unrolls it unbounded.

    Only the bound is taken from this pass: what the simulators' interpreter cannot read (QPU
    syntax it lacks) is left to the device's own checks.
    """
    program = _openqasm(action, ProgramRefused)
    try:
        _interpret(program, _simulator("braket_dm").create_program_context(), max_statements)
    except ProgramRefused as refused:
        if "statements" in str(refused):
            raise
    except Exception:
        pass


def _check_result_types(asked: list[str], shots: int, action: dict[str, Any], device_name: str) -> None:
    """Each result type must be one the device lists, with shots in its range."""
    supported = {item["name"]: item for item in action.get("supportedResultTypes") or []}
    for name in asked:
        if name not in supported:
            raise ProgramRefused(
                f"action: {device_name} does not support the result type {name} "
                f"(it supports {', '.join(sorted(supported))})"
            )
        low, high = supported[name]["minShots"], supported[name]["maxShots"]
        if not low <= shots <= high:
            raise ProgramRefused(
                f"action: the result type {name} on {device_name} takes {low} to {high} shots, got {shots}"
            )


#: Qubits a result type may span on AWS's managed simulators (developer guide, "List of result
#: types", read 2026-12-04): Probability at most 15, a reduced density matrix at most 8 targets.
_RESULT_QUBIT_LIMITS = {"probability": ("Probability", 15), "densitymatrix": ("DensityMatrix", 8)}


def _check_result_sizes(results: list[Any], qubits: int) -> None:
    for item in results:
        kind = str(item.type.value)
        if kind not in _RESULT_QUBIT_LIMITS:
            continue
        name, limit = _RESULT_QUBIT_LIMITS[kind]
        spanned = len(item.targets) if item.targets else qubits
        if spanned > limit and not (kind == "densitymatrix" and not item.targets):
            raise ProgramRefused(
                f"action: a result type {name} of {spanned} qubits; "
                f"AWS's managed simulators return {limit} at most"
            )


def _check_qubits(qubits: int, device_name: str, device_qubits: int) -> None:
    if qubits > device_qubits:
        raise ProgramRefused(
            f"action: the program uses {qubits} qubits; {device_name} supports at most {device_qubits}"
        )


def _qubits_to_simulate(circuit: Any) -> int:
    """Qubits the density matrix spans: those the program uses (the simulator maps them to
    contiguous indices, so a verbatim program on ``$19`` and ``$20`` simulates 2)."""
    return len(circuit.qubits)


def _jaqcd_qubits(device_parameters: str | None, error: type[Exception]) -> int:
    try:
        qubits = json.loads(device_parameters or "{}").get("paradigmParameters", {}).get("qubitCount")
    except (ValueError, AttributeError):
        qubits = None
    if not isinstance(qubits, int) or qubits < 1:
        raise error("deviceParameters: a JAQCD program needs paradigmParameters.qubitCount, an integer >= 1")
    return qubits


def _openqasm(action: str, error: type[Exception]) -> Any:
    from braket.ir.openqasm import Program as OpenQasmProgram

    try:
        return OpenQasmProgram.parse_raw(action)
    except Exception as invalid:
        raise error(f"action: not an OpenQASM program: {_describe(invalid)}") from None


def _guarded(run: Callable[[], Any]) -> Any:
    try:
        return run()
    except TaskFailure:
        raise
    except (MemoryError, ProgramRefused) as error:
        if isinstance(error, ProgramRefused):
            raise TaskFailure(str(error)) from None
        raise TaskFailure("the program ran out of its memory budget in the local simulator") from None
    except Exception as error:
        raise TaskFailure(_describe(error)) from None


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:1024]


@cache
def _simulator(backend: str, max_statements: int = 100_000) -> Any:
    """One simulator per backend and bound: they keep no state between runs."""
    from braket.default_simulator import DensityMatrixSimulator, StateVectorSimulator

    base = DensityMatrixSimulator if backend == "braket_dm" else StateVectorSimulator

    class Bounded(base):  # type: ignore[valid-type,misc]
        @cached_property
        def properties(self) -> Any:
            # The simulator builds (and validates) this document on every run; it never changes.
            return super().properties

        def parse_program(self, program: Any) -> Any:
            return _interpret(program, self.create_program_context(), max_statements)

        def _parse_program_with_shots(self, program: Any, shots: int) -> Any:
            context = self.create_program_context()
            context._shots = shots  # as the simulator's own method sets it: mid-circuit branching
            return _interpret(program, context, max_statements)

    return Bounded()


def _interpret(program: Any, context: Any, max_statements: int) -> Any:
    """Interpret an OpenQASM program into ``context``, always as program text, within a bound.

    The simulator's own parser opens a ``source`` ending in ``.qasm`` as a file on this machine;
    AWS parses the text it was sent, and a request must not read the service's disk. Loops are
    unrolled as they are interpreted, so a short program can ask for a billion steps: the
    statements interpreted are counted, and a program past ``max_statements`` is refused.
    """
    if program.inputs:
        context.load_inputs(program.inputs)
    _bounded_interpreter(max_statements)(context, warn_advanced_features=False).visit(
        _program_tree(program.source)
    )
    return context


@cache
def _bounded_interpreter(max_statements: int) -> Any:
    from braket.default_simulator.openqasm._helpers.arrays import convert_range_def_to_range
    from braket.default_simulator.openqasm.interpreter import Interpreter
    from braket.default_simulator.openqasm.parser.openqasm_ast import ForInLoop, RangeDefinition, Statement

    class BoundedInterpreter(Interpreter):
        statements = 0

        def visit(self, node: Any) -> Any:
            if isinstance(node, Statement):
                self._count(1)
            if isinstance(node, ForInLoop) and isinstance(node.set_declaration, RangeDefinition):
                # The interpreter lists a range's values before its first iteration: count them first.
                self._count(len(convert_range_def_to_range(super().visit(node.set_declaration))) - 1)
            return super().visit(node)

        def _count(self, statements: int) -> None:
            self.statements += statements
            if self.statements > max_statements:
                raise ProgramRefused(
                    f"action: the program interprets more than {max_statements} statements (loops "
                    "unrolled); the local service's limit is --quantum-task-max-statements"
                )

    return BoundedInterpreter


def _program_tree(source: str) -> Any:
    """A parse tree the interpreter may change: a copy of a cached one for short sources."""
    from braket.default_simulator.openqasm.parser.openqasm_parser import parse

    if len(source) > PARSE_CACHE_MAX_SOURCE:
        return parse(source)
    return copy.deepcopy(_cached_tree(source))


@lru_cache(maxsize=PARSE_CACHE_ENTRIES)
def _cached_tree(source: str) -> Any:
    from braket.default_simulator.openqasm.parser.openqasm_parser import parse

    return parse(source)
