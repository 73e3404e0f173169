"""Emulated QPUs through the Braket SDK's own clients, over HTTP: IonQ Forte Enterprise, IQM Garnet,
Rigetti Cepheus-1-108Q (and Ankaa-3, retired), from capabilities snapshots with a public source.

Distributions are checked with tolerances of at least 5 standard deviations.
"""

from __future__ import annotations

import math

import pytest
from botocore.exceptions import ClientError
from braket.aws import AwsDevice
from braket.circuits import Circuit
from helpers import BUCKET
from servers import LocalServiceProcess

from airflow_provider_braket.local.devices.emulation import noise_rates
from airflow_provider_braket.local.devices.qpus import QPUS

pytestmark = pytest.mark.integration

FORTE = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-Enterprise-1"
GARNET = "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet"
CEPHEUS = "arn:aws:braket:us-west-1::device/qpu/rigetti/Cepheus-1-108Q"
ANKAA = "arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3"
FOLDER = (BUCKET, "qpu-tasks")
PRICE_LIST_PATH = "/_local/pricing/AmazonBraket/index.csv"


def _fraction(counts: dict[str, int], *outcomes: str) -> float:
    return sum(counts.get(outcome, 0) for outcome in outcomes) / sum(counts.values())


def test_aws_device_reads_each_qpus_snapshot(sdk: LocalServiceProcess) -> None:
    from braket.device_schema.ionq import IonqDeviceCapabilities
    from braket.device_schema.iqm import IqmDeviceCapabilities
    from braket.device_schema.rigetti import RigettiDeviceCapabilitiesV2

    expected = {FORTE: (IonqDeviceCapabilities, 36), GARNET: (IqmDeviceCapabilities, 20)}
    expected[CEPHEUS] = (RigettiDeviceCapabilitiesV2, 107)
    for arn, (schema, qubits) in expected.items():
        device = AwsDevice(arn)
        assert isinstance(device.properties, schema)
        assert device.properties.paradigm.qubitCount == qubits
        assert device.status == "ONLINE"
        assert device.type.value == "QPU"
        assert device.queue_depth().quantum_tasks is not None
    assert AwsDevice(GARNET).topology_graph.has_edge(1, 2)
    assert AwsDevice(ANKAA).status == "RETIRED"
    listed = {device.arn for device in AwsDevice.get_devices(types=["QPU"])}
    assert {FORTE, GARNET, CEPHEUS} <= listed
    with pytest.warns(UserWarning, match="Unable to determine device capabilities"):
        retired = {device.arn for device in AwsDevice.get_devices(types=["QPU"], statuses=["RETIRED"])}
    assert ANKAA in retired


@pytest.mark.parametrize("arn", [GARNET, CEPHEUS, FORTE])
def test_a_bell_pair_is_mostly_00_and_11_with_the_devices_noise(sdk: LocalServiceProcess, arn: str) -> None:
    shots = 2000
    task = AwsDevice(arn).run(Circuit().h(0).cnot(0, 1), FOLDER, shots=shots)
    counts = task.result().measurement_counts
    assert task.id.split(":")[3] == arn.split(":")[3]  # made in the device's region, as on AWS
    errors = _fraction(counts, "01", "10")
    # Noise is there (a noiseless simulator gives 0), and no more than the device's typical error
    # rates allow: a readout flip on either qubit, an error on H or on CNOT (first order), + 5 sigma.
    rates = noise_rates(QPUS[arn])
    bound = 2 * rates.readout + 2 / 3 * rates.one_qubit + rates.two_qubit
    assert 0 < errors < bound + 5 * math.sqrt(bound * (1 - bound) / shots)


def test_a_verbatim_program_runs_on_the_physical_qubits_it_names(sdk: LocalServiceProcess) -> None:
    flip_then_cz = Circuit().add_verbatim_box(Circuit().prx(1, math.pi, 0).cz(1, 2))
    task = AwsDevice(GARNET).run(flip_then_cz, FOLDER, shots=2000, disable_qubit_rewiring=True)
    result = task.result()
    assert result.measured_qubits == [1, 2]
    assert _fraction(result.measurement_counts, "10") > 0.85
    # The last pair of the device: the density matrix spans the 2 qubits used, not 21.
    high = Circuit().add_verbatim_box(Circuit().prx(19, math.pi, 0).cz(19, 20))
    result = AwsDevice(GARNET).run(high, FOLDER, shots=2000, disable_qubit_rewiring=True).result()
    assert result.measured_qubits == [19, 20]
    assert _fraction(result.measurement_counts, "10") > 0.85


@pytest.mark.parametrize(
    ("program", "message"),
    [
        (Circuit().add_verbatim_box(Circuit().h(1).cnot(1, 2)), "not a native gate"),
        (Circuit().add_verbatim_box(Circuit().prx(1, math.pi, 0).cz(1, 20)), "not connected"),
        (Circuit().h(1).cnot(1, 2).bit_flip(1, 0.1), "noise instructions run on simulators only"),
        (Circuit().h(list(range(21))), "uses 21 qubits; Garnet has 20"),
    ],
    ids=["not-native", "not-connected", "noise", "too-many-qubits"],
)
def test_a_program_the_device_would_refuse_is_refused_at_creation(
    sdk: LocalServiceProcess, program: Circuit, message: str
) -> None:
    with pytest.raises(ClientError) as raised:
        AwsDevice(GARNET).run(program, FOLDER, shots=100, disable_qubit_rewiring=True)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert message in raised.value.response["Error"]["Message"]


def test_a_result_type_the_qpu_does_not_return_is_refused(sdk: LocalServiceProcess) -> None:
    # The SDK refuses this one itself; a raw client reaches the service, which refuses it too.
    program = '{"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, '
    program += '"source": "OPENQASM 3.0;\\nqubit[1] q;\\nh q[0];\\n#pragma braket result density_matrix"}'
    with pytest.raises(ClientError, match="Garnet does not return result types DensityMatrix"):
        sdk.client("braket", region_name="eu-north-1").create_quantum_task(
            deviceArn=GARNET, action=program, shots=100, outputS3Bucket=BUCKET, outputS3KeyPrefix="raw"
        )


def test_shots_outside_the_devices_range_and_a_retired_device_are_refused(sdk: LocalServiceProcess) -> None:
    with pytest.raises(ClientError, match="Forte Enterprise 1 takes 100 to 5000 shots, got 10"):
        AwsDevice(FORTE).run(Circuit().h(0), FOLDER, shots=10)
    with pytest.raises(ClientError) as raised:
        AwsDevice(ANKAA).run(Circuit().h(0), FOLDER, shots=10)
    assert raised.value.response["Error"]["Code"] == "DeviceRetiredException"


def test_the_trackers_qpu_cost_uses_the_served_price_list(
    sdk: LocalServiceProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    from braket.tracking import Tracker, pricing

    monkeypatch.setenv("BRAKET_PRICE_OFFERS_URL", f"{sdk.endpoint}{PRICE_LIST_PATH}")
    monkeypatch.setattr(pricing._pricing, "_price_list", [])  # the SDK caches the file per process
    pricing.Pricing.price_search.cache_clear()
    with Tracker() as tracker:
        AwsDevice(GARNET).run(Circuit().h(0), FOLDER, shots=1000).result()
    # The snapshot's Garnet prices (pricing/SOURCES.md): 0.30 per task + 0.00145 per shot.
    assert float(tracker.qpu_tasks_cost()) == pytest.approx(0.30 + 0.00145 * 1000)


def _raw_openqasm(source: str) -> str:
    import json

    return json.dumps(
        {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, "source": source}
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("qubit[40] q;\nh q[39];", "uses 40 qubits; Forte Enterprise 1 has 36"),
        ("h $50;", "qubit 50 is out of range: Forte Enterprise 1 has qubits 0 to 35"),
        (
            "qubit[3] q;\nctrl @ ctrl @ x q[0], q[1], q[2];",
            "Forte Enterprise 1 does not support gate modifiers",
        ),
        ("qubit[2] q;\nh q[0];\nreset q[0];", "Forte Enterprise 1 does not support reset"),
    ],
    ids=["register-over-the-device", "physical-qubit-over-the-device", "ctrl-modifier", "reset"],
)
def test_what_forte_enterprise_refuses_is_refused(
    sdk: LocalServiceProcess, source: str, message: str
) -> None:
    """Found: the emulated Forte-Enterprise-1 ran all four; its capabilities list none of them."""
    braket = sdk.client("braket")
    with pytest.raises(ClientError, match=message) as raised:
        braket.create_quantum_task(
            deviceArn=FORTE, action=_raw_openqasm(f"OPENQASM 3.0;\n{source}"), shots=100,
            outputS3Bucket=BUCKET, outputS3KeyPrefix="raw",
        )  # fmt: skip
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_a_physical_qubit_garnet_does_not_have_is_refused(sdk: LocalServiceProcess) -> None:
    with pytest.raises(ClientError, match=r"Garnet has no physical qubit \$0"):
        sdk.client("braket", region_name="eu-north-1").create_quantum_task(
            deviceArn=GARNET, action=_raw_openqasm("OPENQASM 3.0;\nh $0;"), shots=100,
            outputS3Bucket=BUCKET, outputS3KeyPrefix="raw",
        )  # fmt: skip


def test_no_capabilities_document_points_the_sdk_at_the_internet(sdk: LocalServiceProcess) -> None:
    """AWS's snapshots carry ``nativeGateCalibrationsRef`` (a CloudFront URL); the SDK fetches it."""
    for arn in QPUS:
        device = AwsDevice(arn)
        assert "nativeGateCalibrationsRef" not in device.properties.json(exclude_none=True)
        assert device.gate_calibrations is None
