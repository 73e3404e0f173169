"""The Amazon Braket devices the Braket SDK knows, for "did you mean" on a device typo.

The SDK's ``braket.devices.Devices`` enum names them; importing it costs seconds (it imports the
local simulators), so its ARNs are listed here and a unit test keeps the two equal. A managed
simulator outside the list (``.../amazon/sv2``) is refused before any AWS call, suggesting the
closest; a QPU is checked only by Braket (new QPUs come before SDK releases), and a refusal of it
gets the suggestion added.
"""

from __future__ import annotations

import difflib
import re

from airflow_provider_braket.jobs.models import RequestValidationError

AMAZON_SIMULATORS = ("sv1", "dm1", "tn1")
#: ``braket.devices.Devices``' QPUs (amazon-braket-sdk 1.x; tests/unit keeps this equal to it).
SDK_QPUS = (
    "arn:aws:braket:eu-north-1::device/qpu/aqt/Ibex-Q1",
    "arn:aws:braket:::device/qpu/d-wave/Advantage_system1",
    "arn:aws:braket:::device/qpu/d-wave/Advantage_system3",
    "arn:aws:braket:::device/qpu/d-wave/Advantage_system4",
    "arn:aws:braket:us-west-2::device/qpu/d-wave/Advantage_system6",
    "arn:aws:braket:::device/qpu/d-wave/DW_2000Q_6",
    "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet",
    "arn:aws:braket:eu-north-1::device/qpu/iqm/Emerald",
    "arn:aws:braket:us-east-1::device/qpu/ionq/Harmony",
    "arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1",
    "arn:aws:braket:us-east-1::device/qpu/ionq/Aria-2",
    "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1",
    "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-Enterprise-1",
    "arn:aws:braket:eu-west-2::device/qpu/oqc/Lucy",
    "arn:aws:braket:us-east-1::device/qpu/quera/Aquila",
    "arn:aws:braket:::device/qpu/rigetti/Aspen-8",
    "arn:aws:braket:::device/qpu/rigetti/Aspen-9",
    "arn:aws:braket:::device/qpu/rigetti/Aspen-10",
    "arn:aws:braket:::device/qpu/rigetti/Aspen-11",
    "arn:aws:braket:us-west-1::device/qpu/rigetti/Aspen-M-1",
    "arn:aws:braket:us-west-1::device/qpu/rigetti/Aspen-M-2",
    "arn:aws:braket:us-west-1::device/qpu/rigetti/Aspen-M-3",
    "arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-2",
    "arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3",
    "arn:aws:braket:us-west-1::device/qpu/rigetti/Cepheus-1-108Q",
    "arn:aws:braket:us-east-1::device/qpu/xanadu/Borealis",
)
KNOWN_DEVICES = (
    *(f"arn:aws:braket:::device/quantum-simulator/amazon/{name}" for name in AMAZON_SIMULATORS),
    *SDK_QPUS,
)
_SIMULATOR = re.compile(r"arn:aws:braket:[a-z0-9-]*::device/quantum-simulator/amazon/(?P<name>[^/]+)")


def check_managed_simulator(device: str) -> None:
    """Refuse, suggesting the closest, an Amazon managed simulator Braket does not have."""
    match = _SIMULATOR.fullmatch(device)
    if match is None or match["name"] in AMAZON_SIMULATORS:
        return
    raise RequestValidationError(
        f"device: {device!r} is no Amazon Braket managed simulator{did_you_mean(device)} "
        f"(they are {', '.join(AMAZON_SIMULATORS)})",
        [("device", "arn:aws:braket:::device/quantum-simulator/amazon/<name> must name SV1, DM1 or TN1")],
    )


def did_you_mean(device: str) -> str:
    """``; did you mean '<closest known device ARN>'?``, or '' when none is close.

    Compared on what follows ``device/`` (``qpu/ionq/Forte-1``): every ARN shares the rest.
    """
    by_tail = {arn.partition("device/")[2]: arn for arn in KNOWN_DEVICES}
    close = difflib.get_close_matches(device.partition("device/")[2], list(by_tail), n=1, cutoff=0.75)
    suggestion = by_tail[close[0]] if close else None
    return f"; did you mean {suggestion!r}?" if suggestion and suggestion != device else ""
