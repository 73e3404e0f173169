"""Unit tests of the local service's parts that need no server: store, archives, faults, signatures."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from airflow_provider_braket.jobs.archives import UnsafeArchiveError, pack_folder, safe_extract
from airflow_provider_braket.jobs.models import SearchJobsFilter
from airflow_provider_braket.local.devices.table import DeviceTable
from airflow_provider_braket.local.exceptions import (
    DeviceOfflineException,
    DeviceRetiredException,
    ValidationException,
)
from airflow_provider_braket.local.server.faults import (
    FaultInjector,
    FaultSettings,
    operation_of,
    parse_fault_flag,
)
from airflow_provider_braket.local.server.sigv4 import SignatureError, verify
from airflow_provider_braket.local.storage.jobs import JobRecord, JobStore, iso


def _record(number: int, created_at: int, status: str = "COMPLETED") -> JobRecord:
    return JobRecord(
        job_arn=f"arn:aws:braket:us-east-1:123456789012:job/{number:04d}",
        job_id=f"{number:04d}",
        job_name=f"job-{number % 3}",
        status=status,
        device="local:braket/braket.local.qubit",
        created_at=created_at,
        client_token=f"token-{number}",
        request_hash="h",
        request={},
    )


def test_store_search_pages_newest_first_without_gaps(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    for number in range(25):
        store.insert(_record(number, created_at=1_000 + number // 2))  # pairs share a timestamp
    seen, token = [], None
    while True:
        page, token = store.search([], 7, token)
        seen += [record.job_arn for record in page]
        if token is None:
            break
    assert len(seen) == len(set(seen)) == 25
    assert seen == sorted(seen, key=lambda arn: (1_000 + int(arn[-4:]) // 2, arn), reverse=True)
    named = SearchJobsFilter(name="jobName", operator="EQUAL", values=["job-1"])
    assert {record.job_name for record in store.search([named], 100, None)[0]} == {"job-1"}
    with pytest.raises(ValueError, match="nextToken"):
        store.search([], 5, "garbage")


def test_store_conditional_update_decides_races(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.insert(_record(1, 1, status="RUNNING"))
    arn = _record(1, 1).job_arn
    assert store.update(arn, only_if=["RUNNING"], status="CANCELLING")
    assert not store.update(arn, only_if=["RUNNING"], status="COMPLETED")
    assert store.get(arn).status == "CANCELLING"  # type: ignore[union-attr]
    for index in range(25):
        store.add_event(arn, "RUNNING", f"event {index}")
    assert len(store.get(arn).events) == 20  # type: ignore[union-attr]


def test_iso_timestamps_have_milliseconds() -> None:
    assert iso(1_767_323_045_123) == "2026-01-02T03:04:05.123Z"


def _tar(members: list[tarfile.TarInfo]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member in members:
            archive.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return buffer.getvalue()


def _member(name: str, **attributes: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    for key, value in attributes.items():
        setattr(info, key, value)
    return info


@pytest.mark.parametrize(
    "bad",
    [
        _member("../up.txt", size=1),
        _member("/etc/absolute.txt", size=1),
        _member("inner/../../up.txt", size=1),
        _member("link", type=tarfile.SYMTYPE, linkname="/etc/passwd"),
        _member("hard", type=tarfile.LNKTYPE, linkname="../outside"),
        _member("null", type=tarfile.CHRTYPE),
        _member("fifo", type=tarfile.FIFOTYPE),
    ],
    ids=lambda member: member.name,
)
def test_unsafe_archives_are_refused_whole(tmp_path: Path, bad: tarfile.TarInfo) -> None:
    destination = tmp_path / "job" / "source"
    with pytest.raises(UnsafeArchiveError, match="refused archive member"):
        safe_extract(_tar([_member("ok.py", size=2), bad]), destination)
    assert list(destination.iterdir()) == []
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["job", "source"]


def test_pack_and_extract_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    (folder / "sub").mkdir(parents=True)
    (folder / "results.json").write_text("{}")
    (folder / "sub" / "a.txt").write_text("a")
    archive = pack_folder(folder, tmp_path / "model.tar.gz")
    assert sorted(safe_extract(archive, tmp_path / "out")) == ["results.json", "sub", "sub/a.txt"]


def test_device_table(tmp_path: Path) -> None:
    table_file = tmp_path / "devices.json"
    table = DeviceTable(table_file)
    sv1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
    table.check_runnable(sv1)
    table.check_runnable("local:pennylane/lightning.qubit")
    with pytest.raises(DeviceOfflineException, match="does not emulate this QPU"):
        table.check_runnable("arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1")
    with pytest.raises(ValidationException, match=r"deviceConfig\.device"):
        table.check_runnable("sv1")
    table_file.write_text(json.dumps({sv1: {"deviceStatus": "RETIRED"}}))
    with pytest.raises(DeviceRetiredException):
        table.check_runnable(sv1)


def test_faults_follow_probabilities_and_routes() -> None:
    injector = FaultInjector()
    injector.configure(
        FaultSettings(operations={"GetJob": parse_fault_flag("GetJob:throttle=0.3,drop=0.2")[1]}, seed=1)
    )
    kinds = [injector.decide("GetJob")[0] for _ in range(2_000)]
    assert 0.25 < kinds.count("throttle") / 2_000 < 0.35
    assert 0.15 < kinds.count("drop") / 2_000 < 0.25
    assert injector.decide("CreateJob") == (None, 0.0)
    assert operation_of("PUT", "/job/arn%3Aaws%3Abraket%3Aus-east-1%3A1%3Ajob%2Fx/cancel") == "CancelJob"
    assert operation_of("GET", "/job/arn%3Aaws%3Abraket%3Aus-east-1%3A1%3Ajob%2Fx") == "GetJob"
    assert operation_of("DELETE", "/tags/arn") == "UntagResource"
    with pytest.raises(ValueError, match="unknown operation"):
        injector.configure(FaultSettings(operations={"GetJobs": parse_fault_flag("x:error=1")[1]}))


def _signed(secret: str, path: str = "/jobs", body: bytes = b"{}") -> AWSRequest:
    request = AWSRequest(method="POST", url=f"http://127.0.0.1:8975{path}", data=body)
    SigV4Auth(Credentials("testing", secret), "braket", "us-east-1").add_auth(request)
    return request


def _verify(request: AWSRequest, body: bytes = b"{}", path: str = "/jobs") -> str:
    headers = [(name, value) for name, value in request.headers.items()] + [("host", "127.0.0.1:8975")]
    return verify("POST", path, "", headers, hashlib.sha256(body).hexdigest(), "testing", "testing").service


def test_signatures_are_checked_with_botocores_signer() -> None:
    encoded = "/job/arn%3Aaws%3Abraket%3Aus-east-1%3A123456789012%3Ajob%2Fabc/cancel"
    assert _verify(_signed("testing", encoded), path=encoded) == "braket"
    with pytest.raises(SignatureError, match="does not match"):
        _verify(_signed("wrong"))
    with pytest.raises(SignatureError, match="does not match"):
        _verify(_signed("testing"), body=b'{"tampered": 1}')
    with pytest.raises(SignatureError, match="Authorization"):
        verify("GET", "/", "", [("host", "x")], hashlib.sha256(b"").hexdigest(), "testing", "testing")


def test_local_images_name_the_job_interpreters_python() -> None:
    import re
    import sys

    from test_provider_parts import loaded_after

    from airflow_provider_braket.local.aws_state.images import builtin_repositories, interpreter_tag

    assert "amazon-braket-base-jobs" in builtin_repositories()
    # braket.jobs takes ~10 s to import (it loads braket.aws): every service start would pay it.
    listing = (
        "from airflow_provider_braket.local.aws_state.images import builtin_repositories\n"
        "builtin_repositories()"
    )
    assert loaded_after(listing, {"braket.jobs", "braket.aws"}) == []
    found = re.search(r"-py(\d)(\d+)-", interpreter_tag(sys.executable))
    assert found is not None
    assert (int(found[1]), int(found[2])) == sys.version_info[:2]


def test_forged_search_cursors_are_refused_not_crashed_on() -> None:
    import base64

    from airflow_provider_braket.local.storage.records import decode_cursor, encode_cursor

    assert decode_cursor(encode_cursor(1_795_000_000_000, "arn")) == (1_795_000_000_000, "arn")
    for forged in ([10**30, "arn"], [-1, "arn"], {"a": 1}, "[" * 10_000):
        token = base64.urlsafe_b64encode(
            json.dumps(forged).encode() if not isinstance(forged, str) else forged.encode()
        )
        with pytest.raises(ValueError, match="nextToken"):
            decode_cursor(token.decode())


def test_braket_local_without_its_extra_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The provider installs without the local service's packages; the command says what to add."""
    from airflow_provider_braket.local import cli

    monkeypatch.setitem(cli.LOCAL_EXTRA_MODULES, "no_such_module_for_this_test.sub", "moto[server]")
    assert cli.main(["serve"]) == 2
    message = capsys.readouterr().err
    assert "needs moto[server]" in message
    assert "pip install 'airflow-provider-braket[local]'" in message


def test_a_parsed_program_sent_again_with_new_inputs_runs_with_those_inputs() -> None:
    """Parse trees are cached by source; each run must still see its own inputs."""
    import math

    from airflow_provider_braket.local.execution.simulation import run_program

    sv1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
    source = (
        "OPENQASM 3.0;\ninput float theta;\nqubit[1] q;\nrx(theta) q[0];\n"
        "#pragma braket result expectation z(q[0])"
    )
    for theta in (0.3, 1.2, 0.3, 2.5):
        action = json.dumps(
            {
                "braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"},
                "source": source,
                "inputs": {"theta": theta},
            }
        )
        document = json.loads(run_program(sv1, "braket.ir.openqasm.program", action, 0, None, "arn:task"))
        assert math.isclose(document["resultTypes"][0]["value"], math.cos(theta), abs_tol=1e-9)


def test_quantum_task_settings_are_named_so_and_the_former_names_still_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found: ``--task-workers`` and its kin named a quantum task "task", which in this project
    means an Airflow task. The new names are ``--quantum-task-*``; the former ones still work."""
    from airflow_provider_braket.local.cli import _parser

    args = _parser().parse_args(["serve", "--quantum-task-workers", "3", "--quantum-task-timeout", "9"])
    assert (args.quantum_task_workers, args.quantum_task_timeout) == (3, 9.0)
    assert capsys.readouterr().err == ""
    args = _parser().parse_args(["serve", "--task-workers", "4"])
    assert args.quantum_task_workers == 4
    assert "--task-workers is deprecated; use --quantum-task-workers" in capsys.readouterr().err
    monkeypatch.setenv("BRAKET_LOCAL_TASK_MEMORY_MIB", "512")
    assert _parser().parse_args(["serve"]).quantum_task_memory_mib == 512
    assert "use BRAKET_LOCAL_QUANTUM_TASK_MEMORY_MIB" in capsys.readouterr().err
    monkeypatch.setenv("BRAKET_LOCAL_QUANTUM_TASK_MEMORY_MIB", "256")
    assert _parser().parse_args(["serve"]).quantum_task_memory_mib == 256
