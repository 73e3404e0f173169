"""The QPUs the local service emulates, from capabilities snapshots with a public source.

Each device is described by the capabilities document AWS serves for it (``snapshots/*.json``; where
each comes from is in ``snapshots/SOURCES.md``). GetDevice answers with it; tasks are checked against
it and run on the density-matrix simulator with noise derived from its calibration data by the
SDK's own ``braket.emulation.LocalEmulator`` (:mod:`airflow_provider_braket.local.devices.emulation`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SNAPSHOTS = Path(__file__).with_name("snapshots")


@dataclass(frozen=True)
class EmulatedQpu:
    """One QPU: its ARN, what GetDevice says about it, and its capabilities snapshot.

    :param arn: The device ARN AWS gives it.
    :param name: ``deviceName``.
    :param provider: ``providerName``.
    :param snapshot: File name under ``snapshots/``.
    :param status: ``deviceStatus`` (a retired device is described but takes no tasks).
    """

    arn: str
    name: str
    provider: str
    snapshot: str
    status: str = "ONLINE"

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    def capabilities(self) -> dict[str, Any]:
        """The snapshot as GetDevice serves it: without ``pulse.nativeGateCalibrationsRef``.

        That URL points at AWS's calibration files on the internet; the SDK fetches it when a
        program asks for the device's gate calibrations. Nothing the SDK does against this
        service may leave the machine, and the emulation does not use pulse calibrations, so the
        reference is dropped (``AwsDevice.gate_calibrations`` is then None).
        """
        document: dict[str, Any] = json.loads(_snapshot_text(self.snapshot))
        if isinstance(document.get("pulse"), dict):
            document["pulse"].pop("nativeGateCalibrationsRef", None)
        return document


@cache
def _snapshot_text(snapshot: str) -> str:
    return (SNAPSHOTS / snapshot).read_text()


QPUS: dict[str, EmulatedQpu] = {
    qpu.arn: qpu
    for qpu in (
        EmulatedQpu(
            "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-Enterprise-1",
            "Forte Enterprise 1",
            "IonQ",
            "ionq-forte-enterprise-1.json",
        ),
        EmulatedQpu("arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet", "Garnet", "IQM", "iqm-garnet.json"),
        EmulatedQpu(
            "arn:aws:braket:us-west-1::device/qpu/rigetti/Cepheus-1-108Q",
            "Cepheus-1-108Q",
            "Rigetti",
            "rigetti-cepheus-1-108q.json",
        ),
        EmulatedQpu(
            "arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3",
            "Ankaa-3",
            "Rigetti",
            "rigetti-ankaa-3.json",
            status="RETIRED",
        ),
    )
}
