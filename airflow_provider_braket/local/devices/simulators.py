"""Capabilities documents of the managed simulators, built from amazon-braket-schemas classes.

Each document starts from the capabilities of the local simulator that runs the device here
(amazon-braket-default-simulator's ``braket_sv`` or ``braket_dm``: real schema objects, real gate
sets) and takes from AWS's documentation what AWS publishes for the managed device: its qubit
limit, shots range and result types. ``SOURCES`` names each page and the day it was read; nothing
here is a number of our own. ``docs/local-service.md`` lists what differs when the device runs here.

QPUs are described by their own snapshots, in :mod:`airflow_provider_braket.local.devices.qpus`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

SV1_ARN = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1_ARN = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"
TN1_ARN = "arn:aws:braket:::device/quantum-simulator/amazon/tn1"

OPENQASM = "braket.ir.openqasm.program"
JAQCD = "braket.ir.jaqcd.program"

#: Where each published figure comes from (read 2026-11-25).
SOURCES: dict[str, str] = {
    "SV1 qubits (34), result types and their shots":
        "https://docs.aws.amazon.com/braket/latest/developerguide/braket-simulator-sv1.html",
    "SV1 shots range (maxShots 100000) and gate set":
        "https://docs.aws.amazon.com/braket/latest/developerguide/braket-submit-tasks-to-braket.html",
    "TN1 qubits (50), shots > 0, result types Sample/Expectation/Variance":
        "https://docs.aws.amazon.com/braket/latest/developerguide/braket-simulator-tn1.html",
    # Not re-read on 2026-11-25 (the page was not in the reference library that day): confirm.
    "DM1 qubits (17)":
        "https://docs.aws.amazon.com/braket/latest/developerguide/braket-simulator-dm1.html",
    "DM1 gate and noise set": "amazon-braket-default-simulator braket_dm (the local DM simulator)",
}  # fmt: skip

#: SV1's JAQCD gate set as its device properties print it in the developer guide.
SV1_JAQCD_GATES = (
    "ccnot", "cnot", "cphaseshift", "cphaseshift00", "cphaseshift01", "cphaseshift10", "cswap", "cy",
    "cz", "h", "i", "iswap", "pswap", "phaseshift", "rx", "ry", "rz", "s", "si", "swap", "t", "ti",
    "unitary", "v", "vi", "x", "xx", "xy", "y", "yy", "z", "zz",
)  # fmt: skip
#: The OpenQASM list printed next to it adds ecr and leaves unitary to a pragma.
SV1_OPENQASM_GATES = tuple(sorted({*SV1_JAQCD_GATES, "ecr"} - {"unitary"}))
_OBSERVABLES = ["x", "y", "z", "h", "i", "hermitian"]
MAX_SHOTS = 100_000


@dataclass(frozen=True)
class ManagedSimulator:
    """One managed simulator: what GetDevice says and which local backend runs its tasks.

    :param arn: the device ARN.
    :param name: ``deviceName``.
    :param backend: the amazon-braket-default-simulator backend that runs it here.
    :param qubits: AWS's published qubit limit.
    :param min_shots: 0 where shots = 0 (exact results) is allowed, else 1.
    :param status: ``deviceStatus``: a retired device is described but takes no tasks or jobs.
    """

    arn: str
    name: str
    backend: str
    qubits: int
    min_shots: int
    status: str = "ONLINE"

    def capabilities(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(_capabilities_json(self))
        return document


SIMULATORS: dict[str, ManagedSimulator] = {
    SV1_ARN: ManagedSimulator(SV1_ARN, "SV1", "braket_sv", 34, 0),
    # AWS names DM1 "dm1" (lower case) in GetDevice: the SDK's test_device_enum maps "dm1" to
    # Devices.Amazon.DM1 (amazon-braket-sdk-python 8f95df7, 2023-07-24; today's form upper-cases
    # Amazon Braket's names before comparing, read 2026-12-05).
    DM1_ARN: ManagedSimulator(DM1_ARN, "dm1", "braket_dm", 17, 0),
    # AWS retired TN1 in 2026 (GetDevice: RETIRED; "Device is not available because it is retired",
    # NVIDIA/cuda-quantum#4787; the SDK 1.127 lists it as Devices.Amazon._TN1).
    TN1_ARN: ManagedSimulator(TN1_ARN, "TN1", "braket_sv", 50, 1, status="RETIRED"),
}


def _result_types(device: ManagedSimulator) -> list[dict[str, Any]]:
    def kind(name: str, low: int, high: int, observables: bool = False) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": name, "minShots": low, "maxShots": high}
        if observables:
            entry["observables"] = _OBSERVABLES
        return entry

    if device.name == "TN1":
        return [
            kind("Sample", 1, MAX_SHOTS, True),
            kind("Expectation", 1, MAX_SHOTS, True),
            kind("Variance", 1, MAX_SHOTS, True),
        ]
    common = [
        kind("Sample", 1, MAX_SHOTS, True),
        kind("Expectation", 0, MAX_SHOTS, True),
        kind("Variance", 0, MAX_SHOTS, True),
        kind("Probability", 1, MAX_SHOTS),
    ]
    if device.backend == "braket_dm":
        return [*common, kind("DensityMatrix", 0, 0)]
    return [*common, kind("Amplitude", 0, 0), kind("AdjointGradient", 0, 0, True)]


@cache
def _capabilities_json(device: ManagedSimulator) -> str:
    from braket.default_simulator import DensityMatrixSimulator, StateVectorSimulator
    from braket.device_schema.simulators import GateModelSimulatorDeviceCapabilities

    local = DensityMatrixSimulator() if device.backend == "braket_dm" else StateVectorSimulator()
    document = json.loads(local.properties.json())
    document["paradigm"]["qubitCount"] = device.qubits
    document["service"]["shotsRange"] = [device.min_shots, MAX_SHOTS]
    actions = {}
    for action_type in (OPENQASM, JAQCD):
        action = document["action"][action_type]
        action["supportedResultTypes"] = _result_types(device)
        if device.backend != "braket_dm":
            action["supportedOperations"] = list(
                SV1_OPENQASM_GATES if action_type == OPENQASM else SV1_JAQCD_GATES
            )
        actions[action_type] = action
    document["action"] = actions
    # Parsing through the schema class proves the document is one the SDK reads.
    return str(GateModelSimulatorDeviceCapabilities.parse_obj(document).json(exclude_none=True))
