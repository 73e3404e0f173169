"""The QPUs AWS has retired: described as AWS describes them, taking no tasks.

The installed Braket SDK names every device AWS has served in ``braket.devices.Devices``; a
retired one is prefixed with ``_`` (``Devices.IonQ._Aria1``), and AWS still answers GetDevice for
each with ``deviceStatus`` RETIRED: the SDK's own integration test ``test_device_enum`` creates an
``AwsDevice`` for every ARN in the enum and checks that the underscored ones are RETIRED
(amazon-braket/amazon-braket-sdk-python, ``test/integ_tests/test_device_creation.py``, read
2026-12-05 at e56392e).

``deviceName`` and ``providerName`` are AWS's, from the same test's earlier form, which mapped
each name AWS answered to its enum member (commit 8f95df7, 2023-07-24: "Aria 1", "Aspen-M-3",
"Advantage_system4.1", providers "Oxford" for OQC and "D-Wave Systems"). The two retired since
then follow their siblings: "Aria 2" as "Aria 1", "Ankaa-2" as "Ankaa-3".

AWS serves each retired device's last capabilities document; no public copy of those exists for these devices
(Ankaa-3's does, and :mod:`~airflow_provider_braket.local.devices.qpus` serves it). Rather than invent qubit
counts and gate sets, GetDevice answers a document in the provider's schema that holds only what is known of a
retired device: no execution windows, no actions. The SDK cannot parse it as a full capabilities document, so
``AwsDevice(...).properties`` is None (with the SDK's warning) while ``name``, ``provider_name``, ``status``
and ``type`` are AWS's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

#: ``providerName`` -> the provider's capabilities schema in amazon-braket-schemas.
_SCHEMAS = {
    "IonQ": "braket.device_schema.ionq.ionq_device_capabilities",
    "Rigetti": "braket.device_schema.rigetti.rigetti_device_capabilities",
    "Oxford": "braket.device_schema.oqc.oqc_device_capabilities",
    "Xanadu": "braket.device_schema.xanadu.xanadu_device_capabilities",
    "D-Wave Systems": "braket.device_schema.dwave.dwave_device_capabilities",
}


@dataclass(frozen=True)
class RetiredQpu:
    """A QPU AWS retired and no public capabilities snapshot describes.

    :param arn: the device ARN the SDK's enum names.
    :param name: ``deviceName`` as AWS answered it.
    :param provider: ``providerName`` as AWS answered it.
    """

    arn: str
    name: str
    provider: str

    @cached_property
    def capabilities_json(self) -> str:
        document: dict[str, Any] = {
            "braketSchemaHeader": {"name": _SCHEMAS[self.provider], "version": "1"},
            "service": {
                "braketSchemaHeader": {
                    "name": "braket.device_schema.device_service_properties",
                    "version": "1",
                },
                "executionWindows": [],
            },
            "action": {},
            "deviceParameters": {},
        }
        return json.dumps(document)


def _retired(arn: str, name: str, provider: str) -> tuple[str, RetiredQpu]:
    return arn, RetiredQpu(arn, name, provider)


RETIRED_QPUS: dict[str, RetiredQpu] = dict(
    (
        _retired("arn:aws:braket:us-east-1::device/qpu/ionq/Harmony", "Harmony", "IonQ"),
        _retired("arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1", "Aria 1", "IonQ"),
        _retired("arn:aws:braket:us-east-1::device/qpu/ionq/Aria-2", "Aria 2", "IonQ"),
        _retired("arn:aws:braket:eu-west-2::device/qpu/oqc/Lucy", "Lucy", "Oxford"),
        _retired("arn:aws:braket:us-east-1::device/qpu/xanadu/Borealis", "Borealis", "Xanadu"),
        _retired("arn:aws:braket:::device/qpu/rigetti/Aspen-8", "Aspen-8", "Rigetti"),
        _retired("arn:aws:braket:::device/qpu/rigetti/Aspen-9", "Aspen-9", "Rigetti"),
        _retired("arn:aws:braket:::device/qpu/rigetti/Aspen-10", "Aspen-10", "Rigetti"),
        _retired("arn:aws:braket:::device/qpu/rigetti/Aspen-11", "Aspen-11", "Rigetti"),
        _retired("arn:aws:braket:us-west-1::device/qpu/rigetti/Aspen-M-1", "Aspen-M-1", "Rigetti"),
        _retired("arn:aws:braket:us-west-1::device/qpu/rigetti/Aspen-M-2", "Aspen-M-2", "Rigetti"),
        _retired("arn:aws:braket:us-west-1::device/qpu/rigetti/Aspen-M-3", "Aspen-M-3", "Rigetti"),
        _retired("arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-2", "Ankaa-2", "Rigetti"),
        _retired(
            "arn:aws:braket:::device/qpu/d-wave/Advantage_system1", "Advantage_system1.1", "D-Wave Systems"
        ),
        _retired(
            "arn:aws:braket:::device/qpu/d-wave/Advantage_system3", "Advantage_system3.2", "D-Wave Systems"
        ),
        _retired(
            "arn:aws:braket:::device/qpu/d-wave/Advantage_system4", "Advantage_system4.1", "D-Wave Systems"
        ),
        _retired(
            "arn:aws:braket:us-west-2::device/qpu/d-wave/Advantage_system6",
            "Advantage_system6.1",
            "D-Wave Systems",
        ),
        _retired("arn:aws:braket:::device/qpu/d-wave/DW_2000Q_6", "DW_2000Q_6", "D-Wave Systems"),
    )
)
