"""Running a quantum task on an emulated QPU: checked against the device, noisy like it.

A program in a verbatim box (native gates on physical qubits, as the SDK sends it with
``disable_qubit_rewiring``) goes through the SDK's own ``LocalEmulator`` for the device: its
validation passes check native gates, connectivity, qubit count and result types, and its noise
model applies each qubit's and each pair's calibrated fidelities. A program without a verbatim box
is compiled on the real device; the local service does not compile it. It is checked against the
device's supported operations, result types and qubit count, and run as written with the device's
median one-qubit, two-qubit and readout error rates after each gate, so it comes out less noisy than
the device, which adds the gates of its compilation (docs/local-service.md).
"""

from __future__ import annotations

import itertools
import json
import re
import statistics
from functools import cache
from typing import TYPE_CHECKING, Any

from airflow_provider_braket.local.devices.qpus import EmulatedQpu
from airflow_provider_braket.local.exceptions import ValidationException

if TYPE_CHECKING:
    from braket.circuits import Circuit
    from braket.emulation.local_emulator import LocalEmulator

OPENQASM = "braket.ir.openqasm.program"
_REGISTER = re.compile(r"\bqubit\s*\[\s*(\d+)\s*\]")
_PHYSICAL = re.compile(r"\$(\d+)")
_RESET = re.compile(r"(?:^|[;{}])\s*reset\b", re.MULTILINE)


class NoiseRates:
    """A device's typical error rates per one-qubit gate, two-qubit gate and readout."""

    def __init__(self, one_qubit: float, two_qubit: float, readout: float) -> None:
        self.one_qubit = one_qubit
        self.two_qubit = two_qubit
        self.readout = readout


def check_program(qpu: EmulatedQpu, action: str) -> Circuit:
    """The program as a circuit, if the device would take it; ``ValidationException`` if not."""
    circuit = parse_program(action)
    if is_verbatim(circuit):
        try:
            emulator(qpu).validate(circuit)
        except Exception as error:
            raise ValidationException(
                f"action: {qpu.name} cannot run this verbatim program: {error}"
            ) from None
        return circuit
    capabilities = qpu.capabilities()
    program_action = capabilities["action"][OPENQASM]
    _check_qubits(qpu, capabilities, json.loads(action)["source"], circuit)
    _check_statements(qpu, program_action, json.loads(action)["source"], circuit)
    from braket.circuits import Gate, Noise

    if any(isinstance(item.operator, Noise) for item in circuit.instructions):
        raise ValidationException(f"action: {qpu.name} is a QPU: noise instructions run on simulators only")
    supported = {name.lower() for name in program_action["supportedOperations"]}
    gates = {
        _operation_name(item.operator) for item in circuit.instructions if isinstance(item.operator, Gate)
    }
    unsupported = sorted(gates - supported)
    if unsupported:
        raise ValidationException(
            f"action: {qpu.name} does not support {', '.join(unsupported)} "
            f"(it supports {', '.join(program_action['supportedOperations'])})"
        )
    allowed_results = {item["name"] for item in program_action.get("supportedResultTypes") or []}
    asked = sorted({type(result).__name__ for result in circuit.result_types} - allowed_results)
    if asked:
        raise ValidationException(f"action: {qpu.name} does not return result types {', '.join(asked)}")
    return circuit


def _check_qubits(qpu: EmulatedQpu, capabilities: dict[str, Any], source: str, circuit: Circuit) -> None:
    """Qubits the device has: a register no larger than its qubit count, physical qubits it names.

    The SDK's parser keeps only the qubits a gate touches, so the declarations are read from the text.
    """
    qubits = int(capabilities["paradigm"]["qubitCount"])
    declared = [int(size) for size in _REGISTER.findall(source)]
    used = sorted(int(qubit) for qubit in circuit.qubits)
    if circuit.qubit_count > qubits or any(size > qubits for size in declared):
        count = max([circuit.qubit_count, *declared])
        raise ValidationException(f"action: the program uses {count} qubits; {qpu.name} has {qubits}")
    connectivity = capabilities["paradigm"].get("connectivity") or {}
    physical = sorted({int(label) for label in _PHYSICAL.findall(source)})
    if physical and not connectivity.get("fullyConnected", True):
        known = {int(label) for label in connectivity.get("connectivityGraph", {})}
        known |= {int(n) for targets in connectivity.get("connectivityGraph", {}).values() for n in targets}
        missing = [label for label in physical if label not in known]
        if missing:
            raise ValidationException(
                f"action: {qpu.name} has no physical qubit {', '.join(f'${n}' for n in missing)}"
            )
    elif used and used[-1] >= qubits:
        raise ValidationException(
            f"action: qubit {used[-1]} is out of range: {qpu.name} has qubits 0 to {qubits - 1}"
        )


def _check_statements(
    qpu: EmulatedQpu, program_action: dict[str, Any], source: str, circuit: Circuit
) -> None:
    """Gate modifiers and ``reset`` only where the device lists them (the SDK's parser drops reset)."""
    modifiers = set(program_action.get("supportedModifiers") or [])
    for item in circuit.instructions:
        controlled = bool(list(getattr(item, "control", []) or []))
        powered = getattr(item, "power", 1) != 1
        if (controlled and "ctrl" not in modifiers) or (powered and "pow" not in modifiers):
            raise ValidationException(
                f"action: {qpu.name} does not support gate modifiers (ctrl @, negctrl @, pow @); "
                f"it supports {', '.join(sorted(modifiers)) or 'none'}"
            )
    operations = {name.lower() for name in program_action["supportedOperations"]}
    if _RESET.search(source) and "reset" not in operations:
        raise ValidationException(f"action: {qpu.name} does not support reset")


def noisy_program(qpu: EmulatedQpu, circuit: Circuit) -> Any:
    """The OpenQASM program to simulate: the circuit with the device's noise in it."""
    from braket.circuits.serialization import IRType
    from braket.emulation.passes.circuit_passes import RemoveVerbatimTransformation

    if is_verbatim(circuit):
        noisy = RemoveVerbatimTransformation().run(emulator(qpu).transform(circuit))
    else:
        noisy = _with_mean_noise(circuit, noise_rates(qpu))
    return noisy.to_ir(IRType.OPENQASM)


def is_verbatim(circuit: Circuit) -> bool:
    return any(type(item.operator).__name__ == "StartVerbatimBox" for item in circuit.instructions)


def parse_program(action: str) -> Circuit:
    from braket.circuits import Circuit

    program = json.loads(action)
    try:
        return Circuit.from_ir(program["source"], program.get("inputs") or None)
    except Exception as error:
        raise ValidationException(f"action: the OpenQASM program cannot be read: {error}"[:1024]) from None


@cache
def emulator(qpu: EmulatedQpu) -> LocalEmulator:
    from braket.emulation.local_emulator import LocalEmulator

    return LocalEmulator.from_device_properties(_device_capabilities(qpu))


@cache
def noise_rates(qpu: EmulatedQpu) -> NoiseRates:
    """The median qubit's and pair's error rates, as depolarizing rates the way the SDK's LocalEmulator
    derives them (x3/2 and x5/4 of the errors). The median, not the mean: a device's compiler routes
    around its worst qubits and pairs, which would dominate a mean."""
    from braket.emulation.device_emulator_properties import DeviceEmulatorProperties

    properties = DeviceEmulatorProperties.from_device_properties(_device_capabilities(qpu))
    one_qubit, readout = [], []
    for data in properties.one_qubit_properties.values():
        fidelities = {item.fidelityType.name: item.fidelity for item in data.oneQubitFidelity}
        benchmark = fidelities.get(
            "RANDOMIZED_BENCHMARKING", fidelities.get("SIMULTANEOUS_RANDOMIZED_BENCHMARKING")
        )
        if benchmark is not None:
            one_qubit.append(benchmark)
        if "READOUT" in fidelities:
            readout.append(fidelities["READOUT"])
    two_qubit = [
        gate.fidelity
        for data in properties.two_qubit_properties.values()
        for gate in data.twoQubitGateFidelity
    ]
    return NoiseRates(
        one_qubit=(1 - statistics.median(one_qubit)) * 3 / 2 if one_qubit else 0.0,
        two_qubit=(1 - statistics.median(two_qubit)) * 5 / 4 if two_qubit else 0.0,
        readout=1 - statistics.median(readout) if readout else 0.0,
    )


def _with_mean_noise(circuit: Circuit, rates: NoiseRates) -> Circuit:
    from braket.circuits import Circuit, Gate, Instruction
    from braket.circuits.noises import BitFlip, Depolarizing, TwoQubitDepolarizing

    noisy = Circuit()
    for item in circuit.instructions:
        noisy.add_instruction(item)
        if not isinstance(item.operator, Gate):
            continue
        qubits = list(item.control) + list(item.target)
        if len(qubits) == 1 and rates.one_qubit:
            noisy.add_instruction(Instruction(Depolarizing(min(rates.one_qubit, 0.75)), qubits))
        elif len(qubits) >= 2 and rates.two_qubit:
            # A gate on three qubits is compiled into several two-qubit gates: one per neighbour pair.
            for first, second in itertools.pairwise(qubits):
                noisy.add_instruction(
                    Instruction(TwoQubitDepolarizing(min(rates.two_qubit, 0.9375)), [first, second])
                )
    for result in circuit.result_types:
        noisy.add_result_type(result)
    if rates.readout:
        noisy.apply_readout_noise(BitFlip(min(rates.readout, 0.5)))
    return noisy


def _operation_name(operator: Any) -> str:
    # The SDK's gate classes are named as their OpenQASM gates (CNot -> cnot, PRx -> prx).
    return type(operator).__name__.lower()


def _device_capabilities(qpu: EmulatedQpu) -> Any:
    from braket.schema_common import BraketSchemaBase

    return BraketSchemaBase.parse_raw_schema(json.dumps(qpu.capabilities()))
