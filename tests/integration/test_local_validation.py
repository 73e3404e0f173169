"""Every constraint of the API, checked by the server: a ValidationException naming field and rule.

botocore's parameter validation is switched off for these calls so that what boto3 would have
stopped client-side (types, minimums) reaches the server too: the server must not rely on it.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from helpers import BUCKET, job_request
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration

S3 = f"s3://{BUCKET}/x"
CHANNEL = {"channelName": "train", "dataSource": {"s3DataSource": {"s3Uri": S3}}}


def _script(**changes: Any) -> dict[str, Any]:
    return {"scriptModeConfig": {"entryPoint": "m", "s3Uri": S3, "compressionType": "GZIP", **changes}}


CREATE_JOB_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("token too long", {"clientToken": "t" * 65}, "clientToken"),
    ("token empty", {"clientToken": ""}, "clientToken"),
    ("name too long", {"jobName": "a" * 51}, "jobName"),
    ("name with underscore", {"jobName": "bad_name"}, "jobName"),
    ("name starting with dash", {"jobName": "-abc"}, "jobName"),
    ("role arn pattern", {"roleArn": "arn:aws:iam::12345:role/x"}, "roleArn"),
    # "$" in a Python pattern also matches before a final newline; AWS's patterns end at the end.
    ("name with trailing newline", {"jobName": "abc\n"}, "jobName"),
    ("role arn with trailing newline", {"roleArn": "arn:aws:iam::123456789012:role/x\n"}, "roleArn"),
    (
        "channel name with trailing newline",
        {"inputDataConfig": [{**CHANNEL, "channelName": "c\n"}]},
        "channelName",
    ),
    ("output path with trailing newline", {"outputDataConfig": {"s3Path": "s3://b/k\n"}}, "s3Path"),
    (
        "instance type enum",
        {"instanceConfig": {"instanceType": "ml.x9.huge", "volumeSizeInGb": 30}},
        "instanceType",
    ),
    (
        "volume minimum",
        {"instanceConfig": {"instanceType": "ml.m5.large", "volumeSizeInGb": 0}},
        "volumeSizeInGb",
    ),
    (
        # Found: accepted, so a job's volume (which caps its files) was the client's word.
        "volume beyond the data dir's file system",
        {"instanceConfig": {"instanceType": "ml.m5.large", "volumeSizeInGb": 1_000_000}},
        "volumeSizeInGb: 1000000 GB is more than the",
    ),
    (
        "instance count minimum",
        {"instanceConfig": {"instanceType": "ml.m5.large", "volumeSizeInGb": 1, "instanceCount": 0}},
        "instanceCount",
    ),
    ("instance type required", {"instanceConfig": {"volumeSizeInGb": 1}}, "instanceType"),
    ("101 hyperparameters", {"hyperParameters": {f"k{i}": "v" for i in range(101)}}, "hyperParameters"),
    ("hyperparameter key too long", {"hyperParameters": {"k" * 257: "v"}}, "hyperParameters"),
    ("hyperparameter value too long", {"hyperParameters": {"k": "v" * 2501}}, "hyperParameters['k']"),
    ("hyperparameter value empty", {"hyperParameters": {"k": ""}}, "hyperParameters['k']"),
    ("hyperparameter value not a string", {"hyperParameters": {"k": 3}}, "hyperParameters['k']"),
    (
        "21 input channels",
        {"inputDataConfig": [{**CHANNEL, "channelName": f"c{i}"} for i in range(21)]},
        "inputDataConfig",
    ),
    ("channel name pattern", {"inputDataConfig": [{**CHANNEL, "channelName": "a b"}]}, "channelName"),
    ("channel name too long", {"inputDataConfig": [{**CHANNEL, "channelName": "c" * 65}]}, "channelName"),
    ("channel names repeated", {"inputDataConfig": [CHANNEL, CHANNEL]}, "unique"),
    (
        "channel uri pattern",
        {"inputDataConfig": [{**CHANNEL, "dataSource": {"s3DataSource": {"s3Uri": "ftp://x"}}}]},
        "s3Uri",
    ),
    ("output path pattern", {"outputDataConfig": {"s3Path": "bucket/key"}}, "outputDataConfig.s3Path"),
    (
        "output path too long",
        {"outputDataConfig": {"s3Path": "s3://b/" + "k" * 1020}},
        "outputDataConfig.s3Path",
    ),
    (
        "checkpoint uri required",
        {"checkpointConfig": {"localPath": "/opt/jobs/checkpoints"}},
        "checkpointConfig.s3Uri",
    ),
    ("runtime zero", {"stoppingCondition": {"maxRuntimeInSeconds": 0}}, "maxRuntimeInSeconds"),
    ("runtime over 5 days", {"stoppingCondition": {"maxRuntimeInSeconds": 432_001}}, "maxRuntimeInSeconds"),
    (
        "two associations",
        {
            "associations": [
                {
                    "arn": "arn:aws:braket:us-east-1:123456789012:reservation/a",
                    "type": "RESERVATION_TIME_WINDOW_ARN",
                }
            ]
            * 2
        },
        "associations",
    ),
    (
        "association type",
        {"associations": [{"arn": "arn:aws:braket:us-east-1:123456789012:reservation/a", "type": "OTHER"}]},
        "associations[0].type",
    ),
    (
        "container uri pattern",
        {"algorithmSpecification": {"containerImage": {"uri": "docker.io/me/job:1"}}},
        "containerImage.uri",
    ),
    ("compression enum", {"algorithmSpecification": _script(compressionType="ZIP")}, "compressionType"),
    ("entry point required", {"algorithmSpecification": {"scriptModeConfig": {"s3Uri": S3}}}, "entryPoint"),
    (
        "script uri pattern",
        {"algorithmSpecification": _script(s3Uri="file:///tmp/x")},
        "scriptModeConfig.s3Uri",
    ),
    ("empty algorithm", {"algorithmSpecification": {}}, "algorithmSpecification"),
    ("device empty", {"deviceConfig": {"device": ""}}, "deviceConfig.device"),
    ("device too long", {"deviceConfig": {"device": "d" * 257}}, "deviceConfig.device"),
    ("device unknown", {"deviceConfig": {"device": "my-laptop"}}, "deviceConfig.device"),
    ("tag key too long", {"tags": {"k" * 129: "v"}}, "tags"),
]

SEARCH_JOBS_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("maxResults zero", {"filters": [], "maxResults": 0}, "maxResults"),
    ("maxResults 101", {"filters": [], "maxResults": 101}, "maxResults"),
    (
        "11 filters",
        {"filters": [{"name": "status", "operator": "EQUAL", "values": ["QUEUED"]}] * 11},
        "filters",
    ),
    (
        "11 values",
        {"filters": [{"name": "status", "operator": "EQUAL", "values": ["QUEUED"] * 11}]},
        "filters[0].values",
    ),
    ("no values", {"filters": [{"name": "status", "operator": "EQUAL", "values": []}]}, "filters[0].values"),
    (
        "unknown filter name",
        {"filters": [{"name": "owner", "operator": "EQUAL", "values": ["me"]}]},
        "filters[0].name",
    ),
    (
        "unknown operator",
        {"filters": [{"name": "status", "operator": "LIKE", "values": ["Q"]}]},
        "filters[0].operator",
    ),
    (
        "BETWEEN with one value",
        {"filters": [{"name": "createdAt", "operator": "BETWEEN", "values": ["2026-01-01T00:00:00Z"]}]},
        "BETWEEN",
    ),
    (
        "LT with two values",
        {"filters": [{"name": "createdAt", "operator": "LT", "values": ["1", "2"]}]},
        "LT",
    ),
    (
        "createdAt not a time",
        {"filters": [{"name": "createdAt", "operator": "GT", "values": ["yesterday"]}]},
        "ISO-8601",
    ),
    ("bad nextToken", {"filters": [], "nextToken": "not-ours"}, "nextToken"),
]


@pytest.fixture(scope="module")
def raw_braket(local_service: LocalServiceProcess) -> Any:
    config = Config(parameter_validation=False, retries={"mode": "standard", "max_attempts": 1})
    return local_service.session().client("braket", endpoint_url=local_service.endpoint, config=config)


@pytest.mark.parametrize(
    ("case", "changes", "field"), CREATE_JOB_CASES, ids=[case[0] for case in CREATE_JOB_CASES]
)
def test_create_job_constraints(raw_braket: Any, case: str, changes: dict[str, Any], field: str) -> None:
    request = job_request(S3, "m")
    request.update(changes)
    with pytest.raises(raw_braket.exceptions.ValidationException) as refused:
        raw_braket.create_job(**request)
    assert field in str(refused.value), str(refused.value)
    named = [{"name": "jobName", "operator": "EQUAL", "values": [request["jobName"]]}]
    if isinstance(request["jobName"], str) and 0 < len(request["jobName"]) <= 50:
        assert raw_braket.search_jobs(filters=named)["jobs"] == []  # nothing was created


@pytest.mark.parametrize(
    ("case", "body", "field"), SEARCH_JOBS_CASES, ids=[case[0] for case in SEARCH_JOBS_CASES]
)
def test_search_jobs_constraints(raw_braket: Any, case: str, body: dict[str, Any], field: str) -> None:
    with pytest.raises(raw_braket.exceptions.ValidationException) as refused:
        raw_braket.search_jobs(**body)
    assert field in str(refused.value), str(refused.value)


def test_other_operations_constraints(raw_braket: Any) -> None:
    errors = raw_braket.exceptions
    with pytest.raises(errors.ValidationException, match="maxResults"):
        raw_braket.search_devices(filters=[], maxResults=101)
    with pytest.raises(errors.ValidationException, match=r"filters\[0\]\.name"):
        raw_braket.search_devices(filters=[{"name": "color", "values": ["blue"]}])
    with pytest.raises(errors.ValidationException, match="jobArn"):
        raw_braket.get_job(jobArn="arn:aws:braket:us-east-1:123456789012:device/x")
    with pytest.raises(errors.ValidationException, match="jobArn"):
        raw_braket.cancel_job(jobArn="not-an-arn")
    with pytest.raises(errors.ValidationException, match="tags"):
        raw_braket.tag_resource(
            resourceArn="arn:aws:braket:us-east-1:123456789012:job/x", tags={"k" * 129: "v"}
        )
    with pytest.raises(errors.ValidationException, match="tagKeys"):
        raw_braket.untag_resource(resourceArn="arn:aws:braket:us-east-1:123456789012:job/x", tagKeys=[])


def test_errors_name_the_field_and_rule_but_never_echo_a_value(raw_braket: Any) -> None:
    secret = "hunter2-" + "x" * 2600  # too long: refused, and must not be echoed
    request = job_request(S3, "m")
    request["hyperParameters"] = {"db_password": secret}
    with pytest.raises(raw_braket.exceptions.ValidationException) as refused:
        raw_braket.create_job(**request)
    message = str(refused.value)
    assert "hyperParameters['db_password']" in message
    assert "hunter2" not in message


HOSTILE_BODIES = {
    "deep nesting": b'{"filters": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "huge maxResults": b'{"filters": [], "maxResults": 1' + b"0" * 5000 + b"}",
    "huge nextToken": b'{"filters": [], "nextToken": "' + b"9" * 100_000 + b'"}',
    "huge createdAt": b'{"filters": [{"name": "createdAt", "operator": "GT", "values": ["9'
    + b"9" * 400
    + b'"]}]}',
    "not JSON": b"{'filters': []",
    "not UTF-8": b'{"filters": [], "x": "\xff\xfe"}'.replace(b"\\xff\\xfe", bytes([255, 254])),
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=list(HOSTILE_BODIES))
def test_hostile_bodies_are_client_errors_not_500s(local_service: LocalServiceProcess, body: bytes) -> None:
    from test_signatures import send, signed_headers

    for path in ("/jobs", "/quantum-tasks", "/devices"):
        status, answer = send(
            local_service, "POST", path, body, signed_headers(local_service, "POST", path, body)
        )
        assert 400 <= status < 500, (path, status, answer[:300])
