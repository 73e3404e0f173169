"""The QPUs AWS has retired: described as AWS describes them, taking no tasks.

The installed Braket SDK names every device AWS has served in ``braket.devices.Devices``; a
retired one is prefixed with ``_`` (``Devices.IonQ._Aria1``), and AWS still answers GetDevice for
each with ``deviceStatus`` RETIRED: the SDK's own integration test ``test_device_enum`` creates an
``AwsDevice`` for every ARN in the enum and checks that the underscored ones are RETIRED
(amazon-braket/amazon-braket-sdk-python, ``test/integ_tests/test_device_creation.py``, read
2026-12-05 at e56392e).

The list is ``snapshots/retired-qpus.json``. ``deviceName`` and ``providerName`` are AWS's, from the same
test's earlier form, which mapped each name AWS answered to its enum member (commit 8f95df7, 2023-07-24: "Aria
1", "Aspen-M-3", "Advantage_system4.1", providers "Oxford" for OQC and "D-Wave Systems"). The two retired
since then follow their siblings: "Aria 2" as "Aria 1", "Ankaa-2" as "Ankaa-3".

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
from pathlib import Path
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


def _load() -> dict[str, RetiredQpu]:
    entries = json.loads((Path(__file__).with_name("snapshots") / "retired-qpus.json").read_text())
    return {
        entry["deviceArn"]: RetiredQpu(entry["deviceArn"], entry["deviceName"], entry["providerName"])
        for entry in entries
    }


#: The retired QPUs without a public capabilities snapshot (``snapshots/retired-qpus.json``).
RETIRED_QPUS: dict[str, RetiredQpu] = _load()
