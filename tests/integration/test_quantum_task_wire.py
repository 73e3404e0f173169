"""Every error shape of the four quantum task operations, as boto3 receives them.

Each refusal happens before a record is written: after the failed calls, SearchQuantumTasks
finds only the tasks that were accepted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from helpers import BUCKET, ensure_bucket
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
TN1 = "arn:aws:braket:::device/quantum-simulator/amazon/tn1"
BELL = (
    "OPENQASM 3.0;\nbit[2] b;\nqubit[2] q;\nh q[0];\ncnot q[0], q[1];\n"
    "b[0] = measure q[0];\nb[1] = measure q[1];"
)


def _openqasm(source: str = BELL) -> str:
    return json.dumps(
        {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, "source": source}
    )


def _task(**overrides: Any) -> dict[str, Any]:
    request = {
        "deviceArn": SV1,
        "action": _openqasm(),
        "shots": 10,
        "outputS3Bucket": BUCKET,
        "outputS3KeyPrefix": "wire",
    }
    request.update(overrides)
    return request


@pytest.fixture(scope="module")
def own_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServiceProcess]:
    """One service for this module (TN1 marked RETIRED); each test counts only its own tasks."""
    service = LocalServiceProcess(tmp_path_factory.mktemp("task-wire") / "data")
    service.data_dir.mkdir(parents=True)
    (service.data_dir / "devices.json").write_text(json.dumps({TN1: {"deviceStatus": "RETIRED"}}))
    service.start()
    ensure_bucket(service.client("s3"))
    yield service
    service.stop()


@pytest.fixture
def braket(own_service: LocalServiceProcess) -> Any:
    return own_service.client("braket", retries=1)


@pytest.fixture
def since() -> dict[str, Any]:
    """A SearchQuantumTasks filter for the tasks created from now on (timestamps are in ms)."""
    time.sleep(0.002)
    started = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return {"name": "createdAt", "operator": "GTE", "values": [started]}


def test_create_quantum_task_refusals(braket: Any, since: dict[str, Any]) -> None:
    errors = braket.exceptions
    refusals: list[tuple[dict[str, Any], type[Exception], str]] = [
        (_task(shots=200_000), errors.ValidationException, r"shots: SV1 takes 0 to 100000 shots"),
        (_task(shots=0), errors.ValidationException, "shots = 0 must ask for result types"),
        (_task(outputS3Bucket="no-such-bucket"), errors.ValidationException, "outputS3Bucket"),
        (_task(action="{not json"), errors.ValidationException, "action: action must be a JSON document"),
        (_task(action='{"source": "x"}'), errors.ValidationException, "braketSchemaHeader"),
        (
            _task(
                action=json.dumps({"braketSchemaHeader": {"name": "braket.ir.ahs.program", "version": "1"}})
            ),
            errors.ValidationException,
            r"program type braket\.ir\.ahs\.program is not run",
        ),
        (
            _task(
                action=json.dumps(
                    {"braketSchemaHeader": {"name": "braket.ir.annealing.problem", "version": "1"}}
                )
            ),
            errors.ValidationException,
            r"braket\.ir\.annealing\.problem",
        ),
        (
            _task(action=_openqasm("OPENQASM 3.0;\ncal {\n  waveform w = constant(1e-7, 0.1);\n}")),
            errors.ValidationException,
            "pulse programs",
        ),
        (_task(deviceArn="local:braket/braket.local.qubit"), errors.ValidationException, "LocalSimulator"),
        (_task(deviceArn="sv1"), errors.ValidationException, "deviceArn"),
        (
            _task(deviceArn="arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"),
            errors.DeviceOfflineException,
            "does not emulate",
        ),
        (_task(deviceArn=TN1), errors.DeviceRetiredException, "retired"),
        (_task(jobToken="not-a-job"), errors.ValidationException, "jobToken: not the token of a running"),
        (_task(outputS3KeyPrefix="k" * 1025), errors.ValidationException, "outputS3KeyPrefix"),
        (_task(tags={"k": "v" * 300}), errors.ValidationException, "tags"),
    ]
    for request, error, message in refusals:
        with pytest.raises(error, match=message):
            braket.create_quantum_task(**request)
    assert braket.search_quantum_tasks(filters=[since])["quantumTasks"] == []


def test_client_token_is_idempotent_and_a_different_request_is_refused(
    braket: Any, since: dict[str, Any]
) -> None:
    first = braket.create_quantum_task(clientToken="t-1", **_task())["quantumTaskArn"]
    assert braket.create_quantum_task(clientToken="t-1", **_task())["quantumTaskArn"] == first
    with pytest.raises(braket.exceptions.ValidationException, match="clientToken: already used"):
        braket.create_quantum_task(clientToken="t-1", **_task(shots=11))
    assert len(braket.search_quantum_tasks(filters=[since])["quantumTasks"]) == 1


def test_get_cancel_and_tags_of_unknown_or_malformed_tasks(braket: Any) -> None:
    errors = braket.exceptions
    unknown = "arn:aws:braket:us-east-1:123456789012:quantum-task/00000000-0000-0000-0000-000000000000"
    with pytest.raises(errors.ResourceNotFoundException):
        braket.get_quantum_task(quantumTaskArn=unknown)
    with pytest.raises(errors.ValidationException, match="quantumTaskArn"):
        braket.get_quantum_task(quantumTaskArn="arn:aws:braket:us-east-1:123456789012:job/x")
    with pytest.raises(errors.ResourceNotFoundException):
        braket.cancel_quantum_task(quantumTaskArn=unknown)
    arn = braket.create_quantum_task(**_task())["quantumTaskArn"]
    with pytest.raises(errors.ValidationException, match="additionalAttributeNames"):
        braket.get_quantum_task(quantumTaskArn=arn, additionalAttributeNames=["Everything"])
    braket.tag_resource(resourceArn=arn, tags={"team": "q"})
    assert braket.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "q"}
    braket.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert braket.get_quantum_task(quantumTaskArn=arn)["tags"] == {}


def test_search_quantum_tasks_filters_and_pages(braket: Any, since: dict[str, Any]) -> None:
    arns = [braket.create_quantum_task(**_task())["quantumTaskArn"] for _ in range(5)]
    created = [braket.get_quantum_task(quantumTaskArn=arn)["createdAt"] for arn in arns]

    def search(*filters: dict[str, Any], **kwargs: Any) -> list[str]:
        return [
            t["quantumTaskArn"]
            for t in braket.search_quantum_tasks(filters=list(filters), **kwargs)["quantumTasks"]
        ]

    assert set(search(since, {"name": "deviceArn", "operator": "EQUAL", "values": [SV1]})) == set(arns)
    assert search({"name": "quantumTaskArn", "operator": "EQUAL", "values": [arns[2]]}) == [arns[2]]
    window = [created[1].isoformat(), created[3].isoformat()]
    assert set(search({"name": "createdAt", "operator": "BETWEEN", "values": window})) >= set(arns[1:4])
    assert (
        search({"name": "jobArn", "operator": "EQUAL", "values": ["arn:aws:braket:us-east-1:1:job/x"]}) == []
    )
    paginator = braket.get_paginator("search_quantum_tasks")
    pages = list(paginator.paginate(filters=[since], PaginationConfig={"PageSize": 2}))
    assert [len(page["quantumTasks"]) for page in pages] == [2, 2, 1]
    assert {t["quantumTaskArn"] for page in pages for t in page["quantumTasks"]} == set(arns)

    errors = braket.exceptions
    bad: list[tuple[dict[str, Any], str]] = [
        ({"filters": [{"name": "shots", "operator": "EQUAL", "values": ["1"]}]}, "filters"),
        ({"filters": [{"name": "status", "operator": "CONTAINS", "values": ["x"]}]}, "operator"),
        ({"filters": [{"name": "createdAt", "operator": "BETWEEN", "values": [window[0]]}]}, "BETWEEN"),
        ({"filters": [{"name": "createdAt", "operator": "GT", "values": ["yesterday"]}]}, "createdAt"),
        ({"filters": [], "maxResults": 101}, "maxResults"),
        ({"filters": [], "nextToken": "bm90IGEgdG9rZW4="}, "nextToken"),
        ({"filters": [], "nextToken": "x" * 3000}, "nextToken"),
    ]
    for request, message in bad:
        with pytest.raises(errors.ValidationException, match=message):
            braket.search_quantum_tasks(**request)


def test_programs_too_large_for_the_device_or_this_machine_are_refused_without_taking_memory(
    braket: Any, own_service: LocalServiceProcess
) -> None:
    """A hostile qubit count must not make the service allocate 2^n amplitudes.

    As AWS does, CreateQuantumTask refuses a program over the device's qubits; one the device
    takes but this machine's task memory cannot hold is refused with both numbers.
    """
    import psutil

    assert own_service.process is not None
    service = psutil.Process(own_service.process.pid)

    def every_qubit(count: int) -> str:
        return f"OPENQASM 3.0;\nqubit[{count}] q;\n" + "".join(f"h q[{n}];\n" for n in range(count))

    braket.create_quantum_task(**_task())  # what any first task imports (device documents) is not growth
    before = service.memory_info().rss
    cases = {
        _openqasm(every_qubit(40)): r"uses 40 qubits; SV1 supports at most 34",
        _openqasm(every_qubit(33)): r"uses 33 qubits; its state vector simulation needs about 384\.\d\d GiB, "
        r"more than the \d+\.\d\d GiB the local Braket service gives quantum tasks \(braket-local serve "
        r"--quantum-task-memory-mib\)",
    }
    for action, message in cases.items():
        with pytest.raises(braket.exceptions.ValidationException, match=message):
            braket.create_quantum_task(**_task(action=action))
    jaqcd = {
        "braketSchemaHeader": {"name": "braket.ir.jaqcd.program", "version": "1"},
        "instructions": [{"type": "h", "target": n} for n in range(1000)],
    }
    huge = json.dumps({"paradigmParameters": {"qubitCount": 1000}})
    with pytest.raises(
        braket.exceptions.ValidationException, match="uses 1000 qubits; SV1 supports at most 34"
    ):
        braket.create_quantum_task(**_task(action=json.dumps(jaqcd), deviceParameters=huge))
    assert service.memory_info().rss - before < 100 * 2**20


def test_a_program_is_never_read_from_a_file_the_source_names(
    braket: Any, own_service: LocalServiceProcess, tmp_path: Any
) -> None:
    """The default simulator opens a ``source`` ending in ``.qasm`` as a path on its own disk.

    SV1 on AWS parses the text it was sent; a request must not make the service read its files.
    The file here holds a valid 3-qubit program, so running it would COMPLETE with 3 qubits.
    """
    planted = tmp_path / "planted.qasm"
    planted.write_text("OPENQASM 3.0;\nqubit[3] q;\nh q[0];\nh q[1];\nh q[2];\n")
    # The path is read as program text, which is not OpenQASM: refused as AWS refuses it.
    with pytest.raises(braket.exceptions.ValidationException, match="cannot be run"):
        braket.create_quantum_task(**_task(action=_openqasm(str(planted))))


def test_throttling_access_denied_and_internal_errors_arrive_as_modeled(
    braket: Any, own_service: LocalServiceProcess, since: dict[str, Any]
) -> None:
    """The remaining error shapes of the four operations, injected by the service's fault switch."""
    arn = braket.create_quantum_task(**_task())["quantumTaskArn"]
    calls = {
        "CreateQuantumTask": lambda: braket.create_quantum_task(**_task()),
        "GetQuantumTask": lambda: braket.get_quantum_task(quantumTaskArn=arn),
        "CancelQuantumTask": lambda: braket.cancel_quantum_task(quantumTaskArn=arn),
        "SearchQuantumTasks": lambda: braket.search_quantum_tasks(filters=[]),
    }
    kinds = {
        "throttle": braket.exceptions.ThrottlingException,
        "deny": braket.exceptions.AccessDeniedException,
        "error": braket.exceptions.InternalServiceException,
    }
    for operation, call in calls.items():
        for kind, error in kinds.items():
            settings = json.dumps({"operations": {operation: {kind: 1.0}}}).encode()
            own_service.admin("PUT", "/_local/faults", settings)
            with pytest.raises(error):
                call()
    own_service.admin("PUT", "/_local/faults", b'{"operations": {}}')
    assert len(braket.search_quantum_tasks(filters=[since])["quantumTasks"]) == 1


def test_reservation_arns_are_checked_as_aws_checks_them(
    braket: Any, own_service: LocalServiceProcess
) -> None:
    """Braket Direct: only on a QPU, only a well-formed reservation ARN of this account (tasks and jobs)."""
    forte = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-Enterprise-1"
    good = "arn:aws:braket:us-east-1:123456789012:reservation/4b2e5b36-4c6b-4a5e-9f0e-3b1c2d3e4f50"
    cases = [
        (SV1, good, f"Braket Direct is not supported for {SV1}"),
        (forte, "arn:aws:braket:us-east-1:123456789012:job/not-a-reservation", "is not a reservation ARN"),
        (forte, good.replace("123456789012", "210987654321"), "is not one of account 123456789012"),
    ]
    for device, arn, message in cases:
        association = [{"arn": arn, "type": "RESERVATION_TIME_WINDOW_ARN"}]
        with pytest.raises(braket.exceptions.ValidationException, match=message):
            braket.create_quantum_task(**_task(deviceArn=device, associations=association, shots=100))
    program = _openqasm("OPENQASM 3.0;\nqubit[1] q;\nh q[0];\n")
    accepted = braket.create_quantum_task(
        **_task(
            deviceArn=forte,
            action=program,
            shots=100,
            associations=[{"arn": good, "type": "RESERVATION_TIME_WINDOW_ARN"}],
        )
    )
    assert (
        braket.get_quantum_task(quantumTaskArn=accepted["quantumTaskArn"])["associations"][0]["arn"] == good
    )
    job = {
        "clientToken": "reservation-on-a-simulator",
        "algorithmSpecification": {
            "scriptModeConfig": {"entryPoint": "x", "s3Uri": f"s3://{BUCKET}/x.tar.gz"}
        },
        "outputDataConfig": {"s3Path": f"s3://{BUCKET}/out"},
        "jobName": "reservation-on-sv1",
        "roleArn": "arn:aws:iam::123456789012:role/service-role/AmazonBraketJobsExecutionRole",
        "instanceConfig": {"instanceType": "ml.m5.large", "volumeSizeInGb": 1},
        "deviceConfig": {"device": SV1},
        "associations": [{"arn": good, "type": "RESERVATION_TIME_WINDOW_ARN"}],
    }
    with pytest.raises(
        braket.exceptions.ValidationException, match=f"Braket Direct is not supported for {SV1}"
    ):
        braket.create_job(**job)


def test_a_malformed_schema_header_is_a_validation_error_not_a_500(braket: Any) -> None:
    for header in ([], "braket.ir.openqasm.program", {"name": 7}, None):
        action = json.dumps({"braketSchemaHeader": header, "source": "OPENQASM 3.0;"})
        with pytest.raises(braket.exceptions.ValidationException, match="braketSchemaHeader"):
            braket.create_quantum_task(**_task(action=action))


def test_a_program_measuring_only_some_of_its_qubits_is_refused_on_sv1(braket: Any) -> None:
    source = "OPENQASM 3.0;\nbit[1] b;\nqubit[2] q;\nh q[0];\ncnot q[0], q[1];\nb[0] = measure q[0];"
    with pytest.raises(
        braket.exceptions.ValidationException,
        match="Device requires all qubits in the program to be measured",
    ):
        braket.create_quantum_task(**_task(action=_openqasm(source)))
