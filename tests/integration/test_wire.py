"""boto3 against the local service over HTTP: every operation and every error shape."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from helpers import ROLE, TERMINAL, job_request, upload_script, wait_for
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def script(local_service: LocalServiceProcess) -> str:
    return upload_script(local_service.client("s3"), "behaviours.py")


def test_every_operation_round_trips(local_service: LocalServiceProcess, script: str) -> None:
    braket = local_service.client("braket")
    request = job_request(script, "behaviours", tags={"team": "quantum"}, hyperParameters={"mode": "ok"})
    created = braket.create_job(**request)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    job_arn = created["jobArn"]
    assert job_arn.startswith("arn:aws:braket:us-east-1:123456789012:job/")

    job = wait_for(braket, job_arn)
    assert job["status"] == "COMPLETED"
    assert isinstance(job["createdAt"], datetime)
    assert job["startedAt"] >= job["createdAt"]
    assert job["endedAt"] >= job["startedAt"]
    assert job["billableDuration"] >= 1
    assert job["hyperParameters"] == {"mode": "ok"}
    assert [event["eventType"] for event in job["events"]] == [
        "QUEUED_FOR_EXECUTION", "STARTING_INSTANCE", "DOWNLOADING_DATA",
        "RUNNING", "UPLOADING_RESULTS", "COMPLETED",
    ]  # fmt: skip
    queued = braket.get_job(jobArn=job_arn, additionalAttributeNames=["QueueInfo"])["queueInfo"]
    assert queued["position"] == "None"
    assert "COMPLETED" in queued["message"]

    found = braket.search_jobs(filters=[{"name": "jobArn", "operator": "EQUAL", "values": [job_arn]}])["jobs"]
    assert [item["jobArn"] for item in found] == [job_arn]
    assert found[0]["tags"] == {"team": "quantum"}
    assert found[0]["device"] == "local:braket/braket.local.qubit"

    braket.tag_resource(resourceArn=job_arn, tags={"stage": "test"})
    assert braket.list_tags_for_resource(resourceArn=job_arn)["tags"] == {"team": "quantum", "stage": "test"}
    braket.untag_resource(resourceArn=job_arn, tagKeys=["team"])
    assert braket.list_tags_for_resource(resourceArn=job_arn)["tags"] == {"stage": "test"}

    sv1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
    device = braket.get_device(deviceArn=sv1)
    assert device["deviceStatus"] == "ONLINE"
    assert json.loads(device["deviceCapabilities"])["braketSchemaHeader"]
    simulators = braket.search_devices(filters=[{"name": "deviceType", "values": ["SIMULATOR"]}])["devices"]
    assert {item["deviceName"] for item in simulators} >= {"SV1", "dm1", "TN1"}


def test_cancel_of_a_queued_job_and_queue_position(own_service: LocalServiceProcess, tmp_path) -> None:
    own_service.extra_args = ["--job-slots", "1", "--job-quota", "5"]
    own_service.start()
    braket, s3 = own_service.client("braket"), own_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    running = braket.create_job(**job_request(script, "behaviours", hyperParameters={"mode": "sleep"}))[
        "jobArn"
    ]
    second = braket.create_job(**job_request(script, "behaviours"))["jobArn"]
    third = braket.create_job(**job_request(script, "behaviours"))["jobArn"]
    wait_for(braket, running, ("RUNNING",))
    positions = [
        braket.get_job(jobArn=arn, additionalAttributeNames=["QueueInfo"])["queueInfo"]["position"]
        for arn in (second, third)
    ]
    assert positions == ["1", "2"]
    assert braket.cancel_job(jobArn=second)["cancellationStatus"] == "CANCELLED"
    third_info = braket.get_job(jobArn=third, additionalAttributeNames=["QueueInfo"])["queueInfo"]
    assert third_info == {"queue": "JOBS_QUEUE", "position": "1"}
    assert braket.cancel_job(jobArn=running)["cancellationStatus"] == "CANCELLING"
    assert wait_for(braket, running, timeout=15)["status"] == "CANCELLED"
    assert wait_for(braket, third)["status"] == "COMPLETED"


def test_search_jobs_filters_and_pages(local_service: LocalServiceProcess, script: str) -> None:
    braket = local_service.client("braket")
    since = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()
    arns = []
    for _ in range(3):
        arns.append(braket.create_job(**job_request(script, "behaviours", jobName="pager"))["jobArn"])
        wait_for(braket, arns[-1])
    filters = [
        {"name": "jobName", "operator": "EQUAL", "values": ["pager"]},
        {"name": "createdAt", "operator": "GTE", "values": [since]},
        {"name": "status", "operator": "EQUAL", "values": list(TERMINAL)},
    ]
    first = braket.search_jobs(filters=filters, maxResults=2)
    assert len(first["jobs"]) == 2
    rest = braket.search_jobs(filters=filters, maxResults=2, nextToken=first["nextToken"])
    assert "nextToken" not in rest
    seen = [item["jobArn"] for item in first["jobs"] + rest["jobs"]]
    assert seen == list(reversed(arns))  # newest first
    paged = [
        item["jobArn"]
        for page in braket.get_paginator("search_jobs").paginate(filters=filters)
        for item in page["jobs"]
    ]
    assert paged == seen
    contains = braket.search_jobs(
        filters=[{"name": "device", "operator": "CONTAINS", "values": ["local.qubit"]}]
    )
    assert contains["jobs"]
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    none = braket.search_jobs(filters=[{"name": "createdAt", "operator": "GT", "values": [future]}])
    assert none["jobs"] == []


def test_client_token_is_idempotent(local_service: LocalServiceProcess, script: str) -> None:
    braket = local_service.client("braket")
    request = job_request(script, "behaviours")
    first = braket.create_job(**request)["jobArn"]
    again = braket.create_job(**request)["jobArn"]
    assert again == first
    named = [{"name": "jobName", "operator": "EQUAL", "values": [request["jobName"]]}]
    assert len(braket.search_jobs(filters=named)["jobs"]) == 1
    with pytest.raises(braket.exceptions.ConflictException, match="clientToken"):
        braket.create_job(**{**request, "hyperParameters": {"mode": "other"}})


def test_error_shapes_arrive_as_modeled_exceptions(own_service: LocalServiceProcess) -> None:
    own_service.extra_args = ["--job-slots", "1", "--job-quota", "1"]
    own_service.data_dir.mkdir(parents=True)
    retired = "arn:aws:braket:us-east-1::device/qpu/rigetti/Aspen-M-3"
    (own_service.data_dir / "devices.json").write_text(json.dumps({retired: {"deviceStatus": "RETIRED"}}))
    own_service.start()
    braket, s3 = own_service.client("braket", retries=1), own_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    errors = braket.exceptions

    with pytest.raises(errors.ValidationException, match="jobName"):
        braket.create_job(**job_request(script, "behaviours", jobName="no_underscores"))
    with pytest.raises(errors.ResourceNotFoundException):
        braket.get_job(jobArn="arn:aws:braket:us-east-1:123456789012:job/missing")
    with pytest.raises(errors.DeviceRetiredException):
        braket.create_job(**job_request(script, "behaviours", deviceConfig={"device": retired}))
    qpu = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
    with pytest.raises(errors.DeviceOfflineException, match="does not emulate this QPU"):
        braket.create_job(**job_request(script, "behaviours", deviceConfig={"device": qpu}))
    with pytest.raises(errors.ResourceNotFoundException, match="does not emulate this QPU"):
        braket.get_device(deviceArn=qpu)

    running = braket.create_job(**job_request(script, "behaviours", hyperParameters={"mode": "sleep"}))[
        "jobArn"
    ]
    with pytest.raises(errors.ServiceQuotaExceededException, match="quota"):
        braket.create_job(**job_request(script, "behaviours"))
    braket.cancel_job(jobArn=running)
    wait_for(braket, running, timeout=15)
    with pytest.raises(errors.ConflictException, match="CANCELLED"):
        braket.cancel_job(jobArn=running)

    own_service.admin(
        "PUT", "/_local/faults", json.dumps({"operations": {"GetJob": {"throttle": 1.0}}}).encode()
    )
    with pytest.raises(errors.ThrottlingException):
        braket.get_job(jobArn=running)
    own_service.admin("PUT", "/_local/faults", json.dumps({"operations": {"*": {"error": 1.0}}}).encode())
    with pytest.raises(errors.InternalServiceException):
        braket.search_jobs(filters=[])
    own_service.admin(
        "PUT", "/_local/faults", json.dumps({"operations": {"SearchJobs": {"latencyMs": 400}}}).encode()
    )
    started = time.monotonic()
    braket.search_jobs(filters=[])
    assert time.monotonic() - started >= 0.4
    own_service.admin("PUT", "/_local/faults", b'{"operations": {}}')

    denied = own_service.client("braket", secret_key="wrong")
    with pytest.raises(denied.exceptions.AccessDeniedException, match="signature"):
        denied.search_jobs(filters=[])


def test_unsigned_and_wrongly_signed_requests_are_refused(local_service: LocalServiceProcess) -> None:
    unsigned = urllib.request.Request(
        f"{local_service.endpoint}/jobs", data=b'{"filters": []}', method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned)
    assert refused.value.code == 403
    assert refused.value.headers["x-amzn-ErrorType"] == "AccessDeniedException"

    s3 = local_service.client("s3", secret_key="wrong", retries=1)
    with pytest.raises(s3.exceptions.ClientError) as s3_refused:
        s3.list_buckets()
    assert s3_refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    logs = local_service.client("logs", secret_key="wrong", retries=1)
    with pytest.raises(logs.exceptions.ClientError, match="AccessDenied"):
        logs.describe_log_groups()


def test_dropped_connections_are_retried_by_botocore(own_service: LocalServiceProcess) -> None:
    own_service.extra_args = ["--fault", "SearchJobs:drop=0.3", "--fault-seed", "7"]
    own_service.start()
    braket = own_service.client("braket", retries=10)
    for _ in range(10):
        assert braket.search_jobs(filters=[])["jobs"] == []
    injected = json.loads(own_service.admin("GET", "/_local/faults"))["injected"]
    assert injected["drop"] >= 2
    single_try = own_service.client("braket", retries=1)
    outcomes = set()
    for _ in range(10):
        try:
            single_try.search_jobs(filters=[])
            outcomes.add("ok")
        except single_try.exceptions.ClientError:
            outcomes.add("http-error")
        except Exception as error:  # botocore's ConnectionClosedError: the socket really closed
            outcomes.add(type(error).__name__)
    assert "ConnectionClosedError" in outcomes


def test_role_for_sdk_defaults_exists(local_service: LocalServiceProcess) -> None:
    roles = local_service.client("iam").list_roles(PathPrefix="/service-role/")["Roles"]
    assert ROLE in [role["Arn"] for role in roles]
