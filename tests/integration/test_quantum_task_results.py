"""Every result type the simulators list, with shots = 0 and shots > 0, as ``result()`` reads them.

Through the SDK over HTTP: ``AwsQuantumTask.result()`` must return the types AWS's results give
(floats, numpy arrays, complex amplitudes) and, within 5 standard deviations of shot noise, the
exact values. Before the fix any result type with shots > 0 broke ``result()`` in pydantic, and
shots = 0 with Amplitude, Probability or DensityMatrix FAILED the task (complex not JSON).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from braket.aws import AwsDevice
from braket.circuits import Circuit, FreeParameter, Observable
from helpers import BUCKET
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1 = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"
FOLDER = (BUCKET, "results")
SHOTS = 4000


def _ry_pair(theta: float) -> Circuit:
    """q0 = ry(theta)|0>, q1 = cnot copy: <Z0> = cos(theta), P(q0 = 0) = cos^2(theta / 2)."""
    return Circuit().ry(0, theta).cnot(0, 1)


def _within_sigma(measured: float, exact: float, variance: float, shots: int) -> bool:
    return abs(measured - exact) <= 5 * math.sqrt(max(variance, 1e-12) / shots) + 1e-9


@pytest.mark.parametrize("device_arn", [SV1, DM1])
def test_result_types_with_shots_are_computed_from_the_shots(
    sdk: LocalServiceProcess, device_arn: str
) -> None:
    theta = 1.1
    circuit = (
        _ry_pair(theta)
        .expectation(Observable.Z() @ Observable.Z(), target=[0, 1])
        .expectation(Observable.Z(), target=[0])
        .variance(Observable.Z(), target=[1])
        .probability(target=[0])
        .sample(Observable.Z(), target=[1])
    )
    result = AwsDevice(device_arn).run(circuit, FOLDER, shots=SHOTS).result()
    zz, z0, var1, probability, samples = result.values
    p0 = math.cos(theta / 2) ** 2
    assert zz == pytest.approx(1.0)  # the copy is perfect: Z0 Z1 = +1 on every shot
    assert _within_sigma(z0, math.cos(theta), 1 - math.cos(theta) ** 2, SHOTS)
    assert _within_sigma(var1, math.sin(theta) ** 2, 4 * p0 * (1 - p0), SHOTS)  # var of a variance, bounded
    assert isinstance(probability, np.ndarray)
    assert probability.shape == (2,)
    assert _within_sigma(float(probability[0]), p0, p0 * (1 - p0), SHOTS)
    assert len(samples) == SHOTS
    assert set(np.unique(samples)) <= {-1.0, 1.0}
    assert result.get_value_by_result_type(circuit.result_types[1]) == z0


def test_exact_result_types_with_zero_shots_on_sv1(sdk: LocalServiceProcess) -> None:
    circuit = (
        Circuit().h(0).cnot(0, 1).amplitude(["00", "11", "01"])
        .expectation(Observable.X() @ Observable.X(), target=[0, 1])
        .variance(Observable.Z(), target=[0])
    )  # fmt: skip
    task = AwsDevice(SV1).run(circuit, FOLDER, shots=0)
    amplitude, xx, variance = task.result().values
    assert task.state() == "COMPLETED"
    assert amplitude["00"] == pytest.approx(1 / math.sqrt(2))
    assert isinstance(amplitude["11"], complex)
    assert amplitude["01"] == 0
    assert xx == pytest.approx(1.0)
    assert variance == pytest.approx(1.0)


def test_result_types_a_device_does_not_list_or_not_at_those_shots_are_refused(
    sdk: LocalServiceProcess,
) -> None:
    """SV1's capabilities (AWS's developer guide): no StateVector, Sample only with shots,
    Probability on at most 15 qubits on the managed simulators."""
    from botocore.exceptions import ClientError

    cases = [
        (Circuit().h(0).state_vector(), 0, "SV1 does not support the result type StateVector"),
        (
            Circuit().h(0).sample(Observable.Z(), 0),
            0,
            "the result type Sample on SV1 takes 1 to 100000 shots, got 0",
        ),
        (
            Circuit().h(range(16)).probability(),
            100,
            "Probability of 16 qubits; AWS's managed simulators return 15",
        ),
    ]
    for circuit, shots, message in cases:
        with pytest.raises(ClientError, match=message) as raised:
            AwsDevice(SV1).run(circuit, FOLDER, shots=shots)
        assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_density_matrix_with_zero_shots_on_dm1(sdk: LocalServiceProcess) -> None:
    circuit = (
        Circuit().h(0).depolarizing(0, 0.3).density_matrix(target=[0]).expectation(Observable.X(), target=[0])
    )
    task = AwsDevice(DM1).run(circuit, FOLDER, shots=0)
    matrix, x = task.result().values
    assert task.state() == "COMPLETED"
    # AWS's schema carries each complex entry as [re, im].
    rho = np.array([[complex(*entry) for entry in row] for row in matrix])
    coherence = 0.5 * (1 - 4 * 0.3 / 3)
    np.testing.assert_allclose(rho, [[0.5, coherence], [coherence, 0.5]], atol=1e-12)
    assert x == pytest.approx(2 * coherence)


def test_adjoint_gradient_on_sv1_matches_the_analytic_gradient(sdk: LocalServiceProcess) -> None:
    alpha, beta = FreeParameter("alpha"), FreeParameter("beta")
    observable = 2 * Observable.Z() @ Observable.Z() - 0.5 * Observable.X()
    circuit = (
        Circuit().rx(0, alpha).ry(1, beta)
        .adjoint_gradient(observable, target=[[0, 1], [1]], parameters=[alpha, beta])
    )  # fmt: skip
    a, b = 0.4, 1.3
    value = AwsDevice(SV1).run(circuit, FOLDER, shots=0, inputs={"alpha": a, "beta": b}).result().values[0]
    # After rx(a) on q0 and ry(b) on q1: <Z0 Z1> = cos(a) cos(b); <X1> = sin(b).
    expectation = 2 * math.cos(a) * math.cos(b) - 0.5 * math.sin(b)
    assert value["expectation"] == pytest.approx(expectation, abs=1e-9)
    assert value["gradient"]["alpha"] == pytest.approx(-2 * math.sin(a) * math.cos(b), abs=1e-7)
    assert value["gradient"]["beta"] == pytest.approx(
        -2 * math.cos(a) * math.sin(b) - 0.5 * math.cos(b), abs=1e-7
    )


def test_adjoint_gradient_of_all_parameters(sdk: LocalServiceProcess) -> None:
    theta = FreeParameter("theta")
    circuit = Circuit().rx(0, 2 * theta).adjoint_gradient(Observable.Z(), target=[0], parameters=[])
    value = AwsDevice(SV1).run(circuit, FOLDER, shots=0, inputs={"theta": 0.35}).result().values[0]
    assert value["expectation"] == pytest.approx(math.cos(0.7), abs=1e-9)
    assert value["gradient"] == {"theta": pytest.approx(-2 * math.sin(0.7), abs=1e-7)}
