"""Regions as AWS keeps them, through the SDK over HTTP.

Found: job and task ARNs always carried the service's region, so the SDK raised "The aws session
region does not match the region for the supplied arn" for a session in eu-north-1; and every
region's client saw every QPU, where AWS answers a QPU only in its own region (the SDK's
``get_devices`` and price search rely on it).
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from braket.aws import AwsDevice, AwsQuantumTask, AwsSession
from braket.circuits import Circuit
from helpers import BUCKET, job_request, upload_script
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
FORTE = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-Enterprise-1"
GARNET = "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet"


def _session(region: str) -> AwsSession:
    return AwsSession(boto_session=boto3.Session(region_name=region))


def test_a_task_made_in_eu_north_1_is_an_eu_north_1_task(sdk: LocalServiceProcess) -> None:
    session = _session("eu-north-1")
    task = AwsDevice(SV1, aws_session=session).run(Circuit().h(0), (BUCKET, "regions"), shots=10)
    assert task.id.startswith("arn:aws:braket:eu-north-1:")
    again = AwsQuantumTask(task.id, aws_session=session)
    assert again.result().measurement_counts.total() == 10


def test_a_qpu_answers_only_in_its_region(sdk: LocalServiceProcess) -> None:
    in_stockholm = sdk.client("braket", region_name="eu-north-1")
    with pytest.raises(ClientError) as raised:
        in_stockholm.get_device(deviceArn=FORTE)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert sdk.client("braket").get_device(deviceArn=FORTE)["deviceName"] == "Forte Enterprise 1"
    listed = {device["deviceArn"] for device in in_stockholm.search_devices(filters=[])["devices"]}
    assert GARNET in listed
    assert FORTE not in listed
    assert SV1 in listed
    forte = [device.arn for device in AwsDevice.get_devices(provider_names=["IonQ"])]
    assert forte == [FORTE]


def test_a_task_for_a_qpu_sent_to_another_region_is_refused(sdk: LocalServiceProcess) -> None:
    program = '{"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, '
    program += '"source": "OPENQASM 3.0;\\nqubit[1] q;\\nh q[0];"}'
    with pytest.raises(ClientError) as raised:
        sdk.client("braket", region_name="eu-north-1").create_quantum_task(
            deviceArn=FORTE, action=program, shots=100, outputS3Bucket=BUCKET, outputS3KeyPrefix="regions"
        )
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_job_made_in_eu_north_1_is_an_eu_north_1_job(sdk: LocalServiceProcess) -> None:
    braket = sdk.client("braket", region_name="eu-north-1")
    script = upload_script(sdk.client("s3"), "behaviours.py")
    arn = braket.create_job(**job_request(script, "behaviours", hyperParameters={"mode": "ok"}))["jobArn"]
    assert arn.startswith("arn:aws:braket:eu-north-1:123456789012:job/")
    assert braket.get_job(jobArn=arn)["jobArn"] == arn
    braket.cancel_job(jobArn=arn)


def test_the_simulators_answer_in_the_regions_aws_serves_braket_in(sdk: LocalServiceProcess) -> None:
    """AWS's endpoint list (docs/local-service.md cites it): no Braket in ap-south-1."""
    assert sdk.client("braket", region_name="us-west-2").get_device(deviceArn=SV1)["deviceName"] == "SV1"
    with pytest.raises(ClientError) as raised:
        sdk.client("braket", region_name="ap-south-1").get_device(deviceArn=SV1)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
