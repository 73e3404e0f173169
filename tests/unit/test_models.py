"""The shared request model: limits equal botocore's, messages name the field and the rule."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from airflow_provider_braket.jobs.models import (
    INSTANCE_TYPES,
    JOB_NAME_PATTERN,
    RequestValidationError,
    parse_timestamp,
    validate_create_job,
    validate_search_jobs,
)

MODEL = botocore.session.get_session().get_service_model("braket")


def _request(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "clientToken": "token",
        "jobName": "vqe-1",
        "roleArn": "arn:aws:iam::123456789012:role/service-role/AmazonBraketJobsExecutionRole",
        "algorithmSpecification": {
            "scriptModeConfig": {
                "entryPoint": "vqe",
                "s3Uri": "s3://b/source.tar.gz",
                "compressionType": "GZIP",
            }
        },
        "outputDataConfig": {"s3Path": "s3://b/out"},
        "instanceConfig": {"instanceType": "ml.m5.large", "volumeSizeInGb": 30},
        "deviceConfig": {"device": "local:braket/braket.local.qubit"},
    }
    request.update(changes)
    return request


def test_instance_types_are_botocores() -> None:
    assert list(INSTANCE_TYPES) == MODEL.shape_for("InstanceType").enum


def test_limits_are_botocores() -> None:
    create = MODEL.shape_for("CreateJobRequest").members
    assert create["jobName"].metadata["pattern"] in JOB_NAME_PATTERN
    assert create["jobName"].metadata["max"] == 50
    assert create["hyperParameters"].metadata["max"] == 100
    assert create["inputDataConfig"].metadata["max"] == 20
    assert create["clientToken"].metadata["max"] == 64
    stopping = MODEL.shape_for("JobStoppingCondition").members["maxRuntimeInSeconds"].metadata
    assert stopping == {"min": 1, "max": 432000}
    assert MODEL.shape_for("SearchJobsRequest").members["maxResults"].metadata == {"min": 1, "max": 100}


def test_valid_request_round_trips_unchanged() -> None:
    request = _request(hyperParameters={"shots": "100"}, tags={"airflow:dag_id": "vqe"})
    assert validate_create_job(request).wire() == request


def test_every_error_is_reported_with_field_and_rule() -> None:
    bad = _request(
        jobName="bad_name", hyperParameters={"shots": 100}, stoppingCondition={"maxRuntimeInSeconds": 0}
    )
    with pytest.raises(RequestValidationError) as refused:
        validate_create_job(bad)
    message = str(refused.value)
    assert message.startswith("3 validation errors detected")
    assert "jobName: String should match pattern" in message
    assert "hyperParameters['shots']: Input should be a valid string (got an integer)" in message
    assert "stoppingCondition.maxRuntimeInSeconds: Input should be greater than or equal to 1" in message
    assert [field for field, _ in refused.value.errors] == [
        "jobName",
        "stoppingCondition.maxRuntimeInSeconds",
        "hyperParameters['shots']",
    ]


def test_instance_type_message_stays_short() -> None:
    with pytest.raises(
        RequestValidationError, match=r"instanceConfig.instanceType: Input should be one of the 58"
    ):
        validate_create_job(_request(instanceConfig={"instanceType": "ml.huge", "volumeSizeInGb": 1}))


def test_unknown_members_are_refused() -> None:
    with pytest.raises(RequestValidationError, match="jobname: Extra inputs are not permitted"):
        validate_create_job(_request(jobname="typo"))


def test_non_object_body() -> None:
    with pytest.raises(RequestValidationError, match="JSON object"):
        validate_create_job([])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "epoch"),
    [
        ("2026-01-02T03:04:05Z", 1767323045),
        ("2026-01-02T03:04:05.500+00:00", 1767323045.5),
        ("1767323045", 1767323045),
    ],
)
def test_created_at_values(value: str, epoch: float) -> None:
    assert parse_timestamp(value).timestamp() == epoch


def test_search_filters_arity() -> None:
    assert validate_search_jobs(
        {"filters": [{"name": "status", "operator": "EQUAL", "values": ["QUEUED", "RUNNING"]}]}
    )
    with pytest.raises(RequestValidationError, match="createdAt does not support operator CONTAINS"):
        validate_search_jobs({"filters": [{"name": "createdAt", "operator": "CONTAINS", "values": ["2026"]}]})
