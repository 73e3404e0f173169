"""Retired devices as AWS keeps them, through the SDK over HTTP.

Found: every device the installed SDK lists as retired (``Devices.IonQ._Aria1``,
``Devices.Rigetti._AspenM3``, ...) answered ResourceNotFoundException, where AWS answers GetDevice
with ``deviceStatus`` RETIRED; ``AwsDevice(Devices.IonQ._Harmony)`` raised "not found" instead of
saying the device is retired. And AWS names DM1 "dm1"; the service said "DM1".

The name and provider checks are the SDK's own integration test ``test_device_enum``
(amazon-braket-sdk-python, test/integ_tests/test_device_creation.py), run against the service.
"""

from __future__ import annotations

import warnings

import pytest
from botocore.exceptions import ClientError
from braket.aws import AwsDevice
from braket.circuits import Circuit
from braket.devices import Devices
from helpers import BUCKET
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration

ARIA_1 = "arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1"


def _enum_arns() -> list[str]:
    providers = [getattr(Devices, attr) for attr in dir(Devices) if not attr.startswith("__")]
    return sorted({str(arn) for provider in providers for arn in provider})


def _enum_member(device: AwsDevice, active_providers: set[str]) -> str:
    """The ``Devices`` member the SDK's test expects for a device, from its name and provider."""
    arn_provider = device.arn.split("/")[2]
    primary = device.provider_name.split()[0]
    provider = (primary if arn_provider == primary.lower() else arn_provider.upper()).replace("-", "")
    if provider not in active_providers:
        provider = f"_{provider}"
    name = device.arn.split("/")[-1].replace("Advantage_system", "Advantage")
    name = name.replace("_", "").replace("-", "")
    if device.provider_name == "Amazon Braket":
        name = name.upper()
    if device.status == "RETIRED":
        name = f"_{name}"
    return str(getattr(getattr(Devices, provider), name))


def test_every_retired_device_the_sdk_lists_is_served_retired(sdk: LocalServiceProcess) -> None:
    retired = {
        str(arn)
        for provider in vars(Devices).values()
        if isinstance(provider, type)
        for arn in provider
        if arn.name.startswith("_")
    }
    assert len(retired) >= 19
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK warns that it cannot read the empty capabilities
        devices = {arn: AwsDevice(arn) for arn in _enum_arns() if arn in retired}
    for arn, device in devices.items():
        assert device.status == "RETIRED", arn
    listed = AwsDevice.get_devices(statuses=["ONLINE", "OFFLINE"])
    active = {
        (
            d.provider_name.split()[0]
            if d.arn.split("/")[2] == d.provider_name.split()[0].lower()
            else d.arn.split("/")[2].upper()
        ).replace("-", "")
        for d in listed
    }
    for device in [*listed, *devices.values()]:
        assert _enum_member(device, active) == device.arn, (device.name, device.provider_name)
    assert devices[ARIA_1].name == "Aria 1"
    assert devices["arn:aws:braket:eu-west-2::device/qpu/oqc/Lucy"].provider_name == "Oxford"


def test_retired_devices_are_listed_only_when_asked(sdk: LocalServiceProcess) -> None:
    default = {device.arn for device in AwsDevice.get_devices()}
    assert ARIA_1 not in default
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        retired = {device.arn for device in AwsDevice.get_devices(statuses=["RETIRED"])}
    assert ARIA_1 in retired
    assert "arn:aws:braket:::device/qpu/d-wave/DW_2000Q_6" in retired


def test_a_retired_device_takes_no_task_or_job(sdk: LocalServiceProcess) -> None:
    braket = sdk.client("braket")
    program = '{"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, '
    program += '"source": "OPENQASM 3.0;\\nqubit[1] q;\\nh q[0];"}'
    with pytest.raises(ClientError) as raised:
        braket.create_quantum_task(
            deviceArn=ARIA_1, action=program, shots=100, outputS3Bucket=BUCKET, outputS3KeyPrefix="retired"
        )
    assert raised.value.response["Error"]["Code"] == "DeviceRetiredException"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        device = AwsDevice(ARIA_1)
    assert device.properties is None  # no public capabilities snapshot: nothing is invented
    with pytest.raises(ClientError, match="DeviceRetiredException"):
        device.run(Circuit().h(0), (BUCKET, "retired"), shots=10)


def test_dm1_is_named_as_aws_names_it(sdk: LocalServiceProcess) -> None:
    described = sdk.client("braket").get_device(deviceArn=str(Devices.Amazon.DM1))
    assert described["deviceName"] == "dm1"
