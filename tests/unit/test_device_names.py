"""A device typo gets "did you mean" from the devices the Braket SDK knows."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from airflow_provider_braket.jobs.aws_devices import (
    AMAZON_SIMULATORS,
    SDK_QPUS,
    check_managed_simulator,
    did_you_mean,
)
from airflow_provider_braket.jobs.models import RequestValidationError
from airflow_provider_braket.operators.submitter import refusal_of_device

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"


def test_the_known_devices_are_the_sdks() -> None:
    from braket.devices import Devices

    arns = {
        member.value
        for provider in vars(Devices).values()
        if isinstance(provider, type)
        for member in provider
    }
    simulators = {arn.rsplit("/", 1)[1] for arn in arns if "/quantum-simulator/amazon/" in arn}
    assert simulators == set(AMAZON_SIMULATORS)
    assert {arn for arn in arns if "/qpu/" in arn} == set(SDK_QPUS)


def test_a_managed_simulator_typo_is_refused_before_any_call_with_the_closest() -> None:
    with pytest.raises(RequestValidationError, match=rf"did you mean '{SV1}'\?"):
        check_managed_simulator("arn:aws:braket:::device/quantum-simulator/amazon/sv2")
    for name in AMAZON_SIMULATORS:
        check_managed_simulator(f"arn:aws:braket:::device/quantum-simulator/amazon/{name}")
    check_managed_simulator("local:braket/braket.local.qubit")
    check_managed_simulator("arn:aws:braket:us-east-1::device/qpu/ionq/Forte-9")  # QPUs: Braket decides


def test_braket_refusing_a_qpu_gets_the_closest_known_one() -> None:
    typo = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-Enterprise-2"
    refused = ClientError(
        {"Error": {"Code": "ValidationException", "Message": f"Device {typo} not found"}}, "CreateJob"
    )
    message = refusal_of_device(refused, typo)
    assert message is not None
    assert message.endswith("did you mean 'arn:aws:braket:us-east-1::device/qpu/ionq/Forte-Enterprise-1'?")
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": typo}}, "CreateJob")
    assert refusal_of_device(throttled, typo) is None
    assert did_you_mean("arn:aws:braket:us-east-1::device/qpu/nobody/Nothing") == ""
