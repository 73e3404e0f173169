"""Quantum tasks created inside a hybrid job belong to it, go first, and end with it.

The job script is written the way AWS documents them (AwsDevice of AMZN_BRAKET_DEVICE_ARN); the
SDK inside the job sends the job token it finds in its environment, as on AWS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from braket.aws import AwsQuantumJob
from helpers import BUCKET, ensure_bucket, job_request, results, upload_script, wait_for
from servers import LocalServiceProcess

from airflow_provider_braket.pricing.job_cost import job_cost
from airflow_provider_braket.pricing.price_list import PriceList
from airflow_provider_braket.pricing.quantum_task_usage import QuantumTaskUsageReader

pytestmark = pytest.mark.integration

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
PRICE_LIST_URL_PATH = "/_local/pricing/AmazonBraket/index.csv"

# Synthetic prices, not AWS's: the tests check how the Tracker finds and applies a price (product
# family of job tasks vs other tasks, minimum billed duration), in AWS's offer-file format.
SYNTHETIC_OFFER_FILE = """\
"FormatVersion","v1.0"
"Disclaimer","synthetic prices for a test, not AWS's"
"Publication Date","2026-11-25T00:00:00Z"
"Version","test"
"OfferCode","AmazonBraket"
"SKU","TermType","Unit","PricePerUnit","Currency","Product Family","operation","Region Code","Version"
"A","OnDemand","minutes","1.0","USD","Simulator Task","CompleteTask","us-east-1","SV1"
"B","OnDemand","minutes","2.0","USD","Braket Managed Jobs Simulator Task","Managed-Jobs","us-east-1","SV1"
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServiceProcess]:
    """One service for the module: one task worker (queue order is visible) and a price list."""
    folder = tmp_path_factory.mktemp("job-tasks")
    offer_file = folder / "index.csv"
    offer_file.write_text(SYNTHETIC_OFFER_FILE)
    started = LocalServiceProcess(
        folder / "data", ["--quantum-task-workers", "1", "--price-list", str(offer_file)]
    )
    started.start()
    ensure_bucket(started.client("s3"))
    yield started
    started.stop()


@pytest.fixture
def sdk_env(service: LocalServiceProcess, monkeypatch: pytest.MonkeyPatch) -> LocalServiceProcess:
    """The SDK in this process pointed at the service, as a user would point it."""
    for name, value in service.environment().items():
        monkeypatch.setenv(name, value)
    return service


def _job_tasks(braket: Any, job_arn: str) -> list[dict[str, Any]]:
    found = braket.search_quantum_tasks(
        filters=[{"name": "jobArn", "operator": "EQUAL", "values": [job_arn]}]
    )
    return sorted(found["quantumTasks"], key=lambda task: task["createdAt"])


def _until(check: Any, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError("condition not met")


def test_a_job_script_written_for_aws_runs_its_tasks_on_sv1(
    sdk_env: LocalServiceProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    from braket.aws import AwsDevice
    from braket.circuits import Circuit
    from braket.tracking import Tracker, pricing

    braket, s3 = sdk_env.client("braket"), sdk_env.client("s3")
    script = upload_script(s3, "device_tasks.py")
    request = job_request(script, "device_tasks:run", deviceConfig={"device": SV1})
    job = wait_for(braket, braket.create_job(**request)["jobArn"], timeout=180)
    assert job["status"] == "COMPLETED", job.get("failureReason")
    saved = results(s3, job)
    assert set(saved["counts"]) == {"00", "11"}
    assert saved["batch_counts"][1] == {"11": 50}
    assert saved["tracked_shots"] == 300
    assert saved["tracked_tasks"] == {"COMPLETED": 3}
    assert saved["queue_priority"] == "Priority"
    # The job's Tracker priced its 3 tasks from the served list: job tasks, 3 s minimum each, 2.0/min.
    assert float(saved["cost"]) == pytest.approx(3 * 2.0 * 3 / 60)
    # What the provider computes for the job's tasks, read back over the API, is what the job's
    # own Tracker said: exactly (the same Decimal steps), so certainly to the cent.
    offer = PriceList.parse(SYNTHETIC_OFFER_FILE.encode(), "synthetic")
    reader = QuantumTaskUsageReader(braket, s3)
    cost = job_cost(offer, job, reader.job_quantum_tasks(job["jobArn"]))
    assert cost.quantum_tasks == Decimal(saved["cost"])
    # Read again, incrementally: only tasks created since the newest one seen are searched for,
    # and the ended ones are not read again.
    sdk_env.admin("DELETE", "/_local/calls")
    assert job_cost(offer, job, reader.job_quantum_tasks(job["jobArn"])) == cost
    counted = json.loads(sdk_env.admin("GET", "/_local/calls"))
    assert counted == {"braket:SearchQuantumTasks": 1}, counted

    tasks = _job_tasks(braket, job["jobArn"])
    assert sorted(task["quantumTaskArn"] for task in tasks) == sorted(saved["task_arns"])
    for task in tasks:
        described = braket.get_quantum_task(quantumTaskArn=task["quantumTaskArn"])
        assert described["jobArn"] == job["jobArn"]
        # Tasks land under the job's task results folder (AMZN_BRAKET_TASK_RESULTS_S3_URI).
        assert described["outputS3Directory"].startswith(f"jobs/{request['jobName']}/tasks/")
    listed = AwsQuantumJob(job["jobArn"]).get_tasks()
    assert sorted(task.id for task in listed) == sorted(saved["task_arns"])
    assert listed[0].result().measurement_counts.keys() == {"00", "11"}

    # The same kind of tasks outside a job: the "Simulator Task" family, 1.0 per minute.
    monkeypatch.setenv("BRAKET_PRICE_OFFERS_URL", f"{sdk_env.endpoint}{PRICE_LIST_URL_PATH}")
    monkeypatch.setattr(pricing._pricing, "_price_list", [])  # the SDK caches the file per process
    pricing.Pricing.price_search.cache_clear()
    with Tracker() as tracker:
        for _ in range(2):
            AwsDevice(SV1).run(Circuit().h(0).cnot(0, 1), (BUCKET, "priced"), shots=100).result()
    assert float(tracker.simulator_tasks_cost()) == pytest.approx(2 * 1.0 * 3 / 60)


def test_job_tasks_go_first_and_cancelling_the_job_cancels_them(service: LocalServiceProcess) -> None:
    braket, s3 = service.client("braket"), service.client("s3")
    service.admin("PUT", "/_local/limits", b'{"quantumTaskWorkers": 0}')
    outside = braket.create_quantum_task(
        deviceArn=SV1,
        action='{"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, '
        '"source": "OPENQASM 3.0;\\nqubit[1] q;\\nh q[0];"}',
        shots=10,
        outputS3Bucket=BUCKET,
        outputS3KeyPrefix="outside",
    )["quantumTaskArn"]
    script = upload_script(s3, "device_tasks.py")
    request = job_request(
        script, "device_tasks:run", deviceConfig={"device": SV1}, hyperParameters={"mode": "hold"}
    )
    job_arn = braket.create_job(**request)["jobArn"]
    tasks = _until(lambda: len(_job_tasks(braket, job_arn)) == 3 and _job_tasks(braket, job_arn))
    heavy = tasks[0]["quantumTaskArn"]

    def queue(arn: str) -> dict[str, Any]:
        return braket.get_quantum_task(quantumTaskArn=arn, additionalAttributeNames=["QueueInfo"])[
            "queueInfo"
        ]

    assert [
        (queue(t["quantumTaskArn"])["queuePriority"], queue(t["quantumTaskArn"])["position"]) for t in tasks
    ] == [
        ("Priority", "1"),
        ("Priority", "2"),
        ("Priority", "3"),
    ]
    assert (queue(outside)["queuePriority"], queue(outside)["position"]) == ("Normal", "1")

    # "taskWorkers", the former name, still sets it.
    service.admin("PUT", "/_local/limits", b'{"taskWorkers": 1}')
    _until(lambda: braket.get_quantum_task(quantumTaskArn=heavy)["status"] == "RUNNING")
    # The job's task went first although the other one waited longer.
    assert braket.get_quantum_task(quantumTaskArn=outside)["status"] == "QUEUED"

    assert braket.cancel_job(jobArn=job_arn)["cancellationStatus"] == "CANCELLING"
    assert wait_for(braket, job_arn, timeout=60)["status"] == "CANCELLED"
    ended = _until(
        lambda: (
            all(t["status"] in TERMINAL for t in _job_tasks(braket, job_arn)) and _job_tasks(braket, job_arn)
        )
    )
    assert [task["status"] for task in ended] == ["CANCELLED"] * 3
    heavy_folder = braket.get_quantum_task(quantumTaskArn=heavy)["outputS3Directory"]
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=heavy_folder).get("KeyCount", 0) == 0
    _until(lambda: braket.get_quantum_task(quantumTaskArn=outside)["status"] == "COMPLETED")


def test_hybrid_job_decorator_runs_with_the_sdk_default_image(
    sdk_env: LocalServiceProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """@hybrid_job looks its base image up in ECR and checks its Python version before CreateJob."""
    from braket.devices import Devices
    from braket.jobs import hybrid_job

    monkeypatch.chdir(tmp_path)  # the decorator writes its source folder into the working directory

    @hybrid_job(device=Devices.Amazon.SV1, include_modules=__name__, wait_until_complete=True)
    def bell_job(shots: int = 100) -> dict[str, Any]:
        from braket.aws import AwsDevice
        from braket.circuits import Circuit
        from braket.jobs import get_job_device_arn

        counts = AwsDevice(get_job_device_arn()).run(Circuit().h(0).cnot(0, 1), shots=shots).result()
        return {"counts": dict(counts.measurement_counts)}

    job = bell_job(shots=200)
    assert job.state() == "COMPLETED", job.metadata().get("failureReason")
    assert set(job.result()["counts"]) == {"00", "11"}
    assert sum(job.result()["counts"].values()) == 200
    image = job.metadata()["algorithmSpecification"]["containerImage"]["uri"]
    assert image.endswith("/amazon-braket-base-jobs:latest")
    assert len(job.get_tasks()) == 1


def test_a_file_that_is_no_offer_file_is_refused_at_start(tmp_path: Any) -> None:
    import subprocess
    import sys

    bogus = tmp_path / "prices.csv"
    bogus.write_text("a,b\n1,2\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "airflow_provider_braket.local.cli",
            "serve",
            "--price-list",
            str(bogus),
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "not an AWS offer file" in done.stderr


def _braket_calls(service: LocalServiceProcess) -> dict[str, int]:
    counted = json.loads(service.admin("GET", "/_local/calls"))
    service.admin("DELETE", "/_local/calls")
    return {name: count for name, count in counted.items() if name.startswith("braket:")}


def test_a_read_of_many_jobs_none_of_which_sent_a_new_task_costs_one_search(
    sdk_env: LocalServiceProcess,
) -> None:
    """Found (issue 27): a budget read its running points' tasks ten jobs a search, so a sweep of
    1,000 running points made 100 SearchQuantumTasks a poll interval whether or not any of them
    had sent a task. One search of every task created since the points' floors comes first: when
    it holds fewer tasks not seen before than there would be searches, those are read with
    GetQuantumTask (which names the job) and no other search is made."""
    from braket.aws import AwsDevice
    from braket.circuits import Circuit

    braket, s3 = sdk_env.client("braket"), sdk_env.client("s3")
    script = upload_script(s3, "device_tasks.py")
    request = job_request(script, "device_tasks:run", deviceConfig={"device": SV1})
    job = wait_for(braket, braket.create_job(**request)["jobArn"], timeout=180)
    assert job["status"] == "COMPLETED", job.get("failureReason")
    job_arn, started = job["jobArn"], job["startedAt"]
    offer = PriceList.parse(SYNTHETIC_OFFER_FILE.encode(), "synthetic")
    expected = job_cost(offer, job, QuantumTaskUsageReader(braket, s3).job_quantum_tasks(job_arn))
    assert expected.quantum_tasks > 0
    idle = {f"{job_arn.rsplit('/', 1)[0]}/idle-point-{n}": started for n in range(34)}
    jobs = {job_arn: started, **idle}  # 35 jobs: four searches of ten
    reader = QuantumTaskUsageReader(braket, s3)
    _braket_calls(sdk_env)

    first = reader.jobs_quantum_tasks(jobs)
    assert job_cost(offer, job, first[job_arn]) == expected
    assert all(first[arn] == [] for arn in idle)
    # The job's three tasks are new: one search, and the GetQuantumTask each would cost anyway.
    assert _braket_calls(sdk_env) == {"braket:SearchQuantumTasks": 1, "braket:GetQuantumTask": 3}
    assert job_cost(offer, job, reader.jobs_quantum_tasks(jobs)[job_arn]) == expected
    assert _braket_calls(sdk_env) == {"braket:SearchQuantumTasks": 1}  # before: 4

    # A task of no job: read once to learn so, then known.
    AwsDevice(SV1).run(Circuit().h(0), (BUCKET, "outside-jobs"), shots=10).result()
    _braket_calls(sdk_env)
    assert reader.jobs_quantum_tasks(jobs)[job_arn] == first[job_arn]
    assert _braket_calls(sdk_env) == {"braket:SearchQuantumTasks": 1, "braket:GetQuantumTask": 1}
    reader.jobs_quantum_tasks(jobs)
    assert _braket_calls(sdk_env) == {"braket:SearchQuantumTasks": 1}

    # As many new tasks as searches: nothing is taken from the one search; the jobs are searched.
    fewer = dict(list(jobs.items())[:15])  # two searches; four tasks not seen by a new reader
    again = QuantumTaskUsageReader(braket, s3).jobs_quantum_tasks(fewer)
    assert job_cost(offer, job, again[job_arn]) == expected
    assert _braket_calls(sdk_env)["braket:SearchQuantumTasks"] == 3
