"""Quantum tasks through the Braket SDK's own clients, over HTTP, against the local service.

AwsDevice, AwsQuantumTask and AwsQuantumTaskBatch are the acceptance test: they run unchanged,
pointed at the service by AWS_ENDPOINT_URL as a user would. Distributions are checked with
tolerances of at least 5 standard deviations, so a correct simulator fails less than once in a
million runs.
"""

from __future__ import annotations

import json
import math

import pytest
from botocore.exceptions import ClientError
from braket.aws import AwsDevice, AwsQuantumTask
from braket.circuits import Circuit, FreeParameter, Observable
from braket.device_schema.simulators import GateModelSimulatorDeviceCapabilities
from helpers import BUCKET, ensure_bucket
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1 = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"
TN1 = "arn:aws:braket:::device/quantum-simulator/amazon/tn1"
FORTE = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
FOLDER = (BUCKET, "tasks")


def test_aws_device_reads_real_capabilities_of_the_three_simulators(sdk: LocalServiceProcess) -> None:
    limits = {SV1: 34, DM1: 17, TN1: 50}
    for arn, qubits in limits.items():
        device = AwsDevice(arn)
        assert isinstance(device.properties, GateModelSimulatorDeviceCapabilities)
        assert device.properties.paradigm.qubitCount == qubits
        assert device.status == ("RETIRED" if arn == TN1 else "ONLINE")  # AWS retired TN1 in 2026
        assert "braket.ir.openqasm.program" in device.properties.action
    assert AwsDevice(TN1).properties.service.shotsRange == (1, 100_000)
    noise = AwsDevice(DM1).properties.action["braket.ir.openqasm.program"].supportedOperations
    assert {"bit_flip", "depolarizing", "amplitude_damping", "kraus"} <= set(noise)
    names = sorted(device.name for device in AwsDevice.get_devices(types=["SIMULATOR"]))
    assert names == ["SV1", "dm1"]  # the SDK lists ONLINE and OFFLINE devices unless asked
    with pytest.raises(ClientError) as raised:
        AwsDevice(TN1).run(Circuit().h(0), FOLDER, shots=10)
    assert raised.value.response["Error"]["Code"] == "DeviceRetiredException"


def test_a_qpu_arn_gets_a_clear_error_not_invented_numbers(sdk: LocalServiceProcess) -> None:
    with pytest.raises(ValueError, match="not found") as raised:
        AwsDevice(FORTE)
    assert "does not emulate this QPU" in str(raised.value.__cause__)


def test_bell_pair_on_sv1_gives_00_and_11_only(sdk: LocalServiceProcess) -> None:
    task = AwsDevice(SV1).run(Circuit().h(0).cnot(0, 1), FOLDER, shots=2000)
    counts = task.result().measurement_counts
    assert set(counts) == {"00", "11"}
    assert abs(counts["00"] - 1000) < 5 * math.sqrt(2000 * 0.25)
    assert task.state() == "COMPLETED"
    metadata = task.metadata()
    assert metadata["outputS3Directory"].startswith("tasks/")
    assert metadata["numSuccessfulShots"] == 2000
    assert metadata["actionMetadata"]["actionType"] == "braket.ir.openqasm.program"
    assert task.queue_position().queue_position is None


def test_bit_flip_on_dm1_at_its_rate(sdk: LocalServiceProcess) -> None:
    shots, rate = 4000, 0.1
    counts = (
        AwsDevice(DM1).run(Circuit().x(0).bit_flip(0, rate), FOLDER, shots=shots).result().measurement_counts
    )
    flipped = counts["0"] / shots
    assert abs(flipped - rate) < 5 * math.sqrt(rate * (1 - rate) / shots)


def test_free_parameters_and_exact_results_with_zero_shots(sdk: LocalServiceProcess) -> None:
    theta = FreeParameter("theta")
    circuit = Circuit().rx(0, theta).expectation(Observable.Z(), target=[0])
    result = AwsDevice(SV1).run(circuit, FOLDER, shots=0, inputs={"theta": 0.7}).result()
    assert result.values[0] == pytest.approx(math.cos(0.7), abs=1e-9)


def test_batch_of_circuits(sdk: LocalServiceProcess) -> None:
    circuits = [Circuit().x(0) if n % 2 else Circuit().i(0) for n in range(6)]
    batch = AwsDevice(SV1).run_batch(circuits, FOLDER, shots=20, max_parallel=3)
    outcomes = [result.measurement_counts for result in batch.results()]
    assert outcomes == [{"1": 20} if n % 2 else {"0": 20} for n in range(6)]
    assert batch.unfinished == set()


def test_jaqcd_program_runs_with_its_qubit_count(sdk: LocalServiceProcess) -> None:
    braket = sdk.client("braket")
    program = {
        "braketSchemaHeader": {"name": "braket.ir.jaqcd.program", "version": "1"},
        "instructions": [{"type": "x", "target": 0}, {"type": "i", "target": 1}],
    }
    parameters = {
        "braketSchemaHeader": {
            "name": "braket.device_schema.simulators.gate_model_simulator_device_parameters",
            "version": "1",
        },
        "paradigmParameters": {
            "braketSchemaHeader": {"name": "braket.device_schema.gate_model_parameters", "version": "1"},
            "qubitCount": 2,
        },
    }
    arn = braket.create_quantum_task(
        deviceArn=SV1,
        action=json.dumps(program),
        deviceParameters=json.dumps(parameters),
        shots=10,
        outputS3Bucket=BUCKET,
        outputS3KeyPrefix="jaqcd",
    )["quantumTaskArn"]
    assert AwsQuantumTask(arn).result().measurement_counts == {"10": 10}


def test_cancel_of_a_queued_task_and_queue_position(own_service: LocalServiceProcess, monkeypatch) -> None:
    own_service.start()
    for name, value in own_service.environment().items():
        monkeypatch.setenv(name, value)
    ensure_bucket(own_service.client("s3"))
    own_service.admin("PUT", "/_local/limits", b'{"quantumTaskWorkers": 0}')
    device = AwsDevice(SV1)
    first, second = (device.run(Circuit().h(0), FOLDER, shots=10) for _ in range(2))
    assert second.state() == "QUEUED"
    position = second.queue_position()
    assert (position.queue_type.value, position.queue_position) == ("Normal", "2")
    depth = {kind.value: size for kind, size in device.queue_depth().quantum_tasks.items()}
    assert depth == {"Normal": "2", "Priority": "0"}
    first.cancel()
    assert first.state() == "CANCELLED"
    assert first.result() is None
    assert second.queue_position().queue_position == "1"
    assert device.queue_depth().quantum_tasks[position.queue_type] == "1"
    own_service.admin("PUT", "/_local/limits", b'{"quantumTaskWorkers": 2}')
    assert second.result().measurement_counts.keys() <= {"0", "1"}
    braket = own_service.client("braket")
    with pytest.raises(
        braket.exceptions.ConflictException,
        match="Amazon Braket cannot cancel a quantum task in the COMPLETED status",
    ):
        braket.cancel_quantum_task(quantumTaskArn=second.id)
