"""Run one quantum task's program on the local simulator that stands in for its managed device.

SV1 and TN1 run on amazon-braket-default-simulator's state-vector simulator, DM1 on its
density-matrix simulator (noise instructions honoured). The result is the
``GateModelTaskResult`` document AWS writes to ``results.json``, with the task's ARN, device and
the measured execution time, which the SDK's ``Tracker`` bills.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from functools import cache, cached_property, lru_cache
from typing import Any

from airflow_provider_braket.local.device_catalog import SIMULATORS
from airflow_provider_braket.local.qpu_catalog import QPUS, EmulatedQpu
from airflow_provider_braket.local.store import iso, now_ms

#: What one task may allocate here: the local simulators' own qubit limits (their published
#: ``paradigm.qubitCount``): a 26-qubit state vector or a 13-qubit density matrix is 1 GiB.
LOCAL_QUBIT_LIMITS = {"braket_sv": 26, "braket_dm": 13}
#: Parse trees kept for programs sent again (a parametric circuit of a VQE loop is the same text
#: with new inputs): the OpenQASM parser is the largest part of a small task's time. Only short
#: sources are kept, so the cache stays a few MiB whatever clients send.
PARSE_CACHE_ENTRIES = 64
PARSE_CACHE_MAX_SOURCE = 8 * 1024


class TaskFailure(Exception):
    """The program cannot run; the message becomes the task's failureReason."""


def run_program(
    device_arn: str,
    action_type: str,
    action: str,
    shots: int,
    device_parameters: str | None,
    task_arn: str,
) -> bytes:
    """Simulate a task and return its ``results.json``; raise :class:`TaskFailure` if it cannot run."""
    if device_arn in QPUS:
        return _run_on_emulated_qpu(QPUS[device_arn], action, shots, task_arn)
    device = SIMULATORS[device_arn]
    simulator = _simulator(device.backend, device.name, device.qubits)
    created = now_ms()
    started = time.perf_counter()
    result = _guarded(lambda: _run(simulator, action_type, action, shots, device_parameters))
    elapsed_ms = max(1, round((time.perf_counter() - started) * 1000))
    document = _result_document(result, device_arn, shots, task_arn, created)
    document.setdefault("additionalMetadata", {})["simulatorMetadata"] = {
        "braketSchemaHeader": {"name": "braket.task_result.simulator_metadata", "version": "1"},
        "executionDuration": elapsed_ms,
    }
    return json.dumps(document).encode()


def _run_on_emulated_qpu(qpu: EmulatedQpu, action: str, shots: int, task_arn: str) -> bytes:
    """A QPU's result: no simulator metadata (a QPU is billed per shot, not per millisecond)."""
    from airflow_provider_braket.local.qpu_emulation import check_program, noisy_program

    created = now_ms()
    qubits = int(qpu.capabilities()["paradigm"]["qubitCount"])
    simulator = _simulator("braket_dm", qpu.name, qubits)

    def run() -> Any:
        program = noisy_program(qpu, check_program(qpu, action))
        return simulator.run(program, shots=shots)

    document = _result_document(_guarded(run), qpu.arn, shots, task_arn, created)
    document["additionalMetadata"] = {"action": json.loads(action)}
    return json.dumps(document).encode()


def _guarded(run: Callable[[], Any]) -> Any:
    try:
        return run()
    except TaskFailure:
        raise
    except MemoryError:
        raise TaskFailure("the local simulator ran out of memory for this program") from None
    except Exception as error:
        raise TaskFailure(f"{type(error).__name__}: {error}"[:1024]) from None


def _result_document(result: Any, device_arn: str, shots: int, task_arn: str, created: int) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.json(exclude_none=True))
    # An exact (shots = 0) run has no measurements; the schema forbids an empty list there.
    for empty in [name for name in ("measurements", "measuredQubits") if document.get(name) == []]:
        del document[empty]
    document["taskMetadata"].update(
        id=task_arn, deviceId=device_arn, shots=shots, createdAt=iso(created), endedAt=iso(now_ms())
    )
    return document


def _run(simulator: Any, action_type: str, action: str, shots: int, device_parameters: str | None) -> Any:
    if action_type == "braket.ir.jaqcd.program":
        from braket.ir.jaqcd import Program as JaqcdProgram

        qubits = json.loads(device_parameters or "{}").get("paradigmParameters", {}).get("qubitCount")
        if not isinstance(qubits, int) or qubits < 1:
            raise TaskFailure("a JAQCD program needs deviceParameters.paradigmParameters.qubitCount")
        return simulator.run(JaqcdProgram.parse_raw(action), qubits, shots=shots)
    from braket.ir.openqasm import Program as OpenQasmProgram

    return simulator.run(OpenQasmProgram.parse_raw(action), shots=shots)


@cache
def _simulator(backend: str, device_name: str, device_qubits: int) -> Any:
    """One simulator per backend: they keep no state between runs."""
    from braket.default_simulator import DensityMatrixSimulator, StateVectorSimulator

    base = DensityMatrixSimulator if backend == "braket_dm" else StateVectorSimulator

    class Bounded(base):  # type: ignore[valid-type,misc]
        @cached_property
        def properties(self) -> Any:
            # The simulator builds (and validates) this document on every run; it never changes.
            return super().properties

        def parse_program(self, program: Any) -> Any:
            return _interpret(program, self.create_program_context())

        def _parse_program_with_shots(self, program: Any, shots: int) -> Any:
            context = self.create_program_context()
            context._shots = shots  # as the simulator's own method sets it: mid-circuit branching
            return _interpret(program, context)

        # Checked where the simulator allocates, after it parsed the program: one parse, and a
        # program too large for this machine fails instead of taking the service's memory.
        def initialize_simulation(self, **kwargs: Any) -> Any:
            qubits = kwargs["qubit_count"]
            if qubits > device_qubits:
                raise TaskFailure(
                    f"the program uses {qubits} qubits; {device_name} supports at most {device_qubits}"
                )
            if qubits > LOCAL_QUBIT_LIMITS[backend]:
                raise TaskFailure(
                    f"the program uses {qubits} qubits; {device_name} takes {device_qubits} on AWS, but the "
                    f"local {backend} simulator runs at most {LOCAL_QUBIT_LIMITS[backend]} on this machine"
                )
            return super().initialize_simulation(**kwargs)

    return Bounded()


def _interpret(program: Any, context: Any) -> Any:
    """Interpret an OpenQASM program into ``context``, always as program text.

    The simulator's own parser opens a ``source`` ending in ``.qasm`` as a file on this machine;
    AWS parses the text it was sent, and a request must not read the service's disk.
    """
    from braket.default_simulator.openqasm.interpreter import Interpreter

    if program.inputs:
        context.load_inputs(program.inputs)
    Interpreter(context, warn_advanced_features=False).visit(_program_tree(program.source))
    return context


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
