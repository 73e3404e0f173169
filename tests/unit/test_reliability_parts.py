"""Unit tests of what keeps one job per task: task identity, client token, submission state."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from airflow_provider_braket.jobs.models import validate_search_jobs
from airflow_provider_braket.operators.submitter import SubmitState, is_quota_refusal, is_worth_resubmitting
from airflow_provider_braket.triggers.braket import JobStatusTrigger, ResubmitTrigger
from airflow_provider_braket.utils.identity import TaskIdentity, jobs_of

STARTED = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def identity(**changes: object) -> TaskIdentity:
    fields = {
        "dag_id": "sweep",
        "task_id": "qaoa",
        "run_id": "scheduled__2026-11-25T00:00:00+00:00",
        "map_index": 3,
        "try_number": 1,
        "run_started_at": STARTED,
        **changes,
    }
    return TaskIdentity(**fields)  # type: ignore[arg-type]


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "X"
    )


def test_identity_tags_name_the_task_instance() -> None:
    assert identity().tags() == {
        "airflow:dag_id": "sweep",
        "airflow:task_id": "qaoa",
        "airflow:run_id": "scheduled__2026-11-25T00:00:00+00:00",
        "airflow:map_index": "3",
    }


def test_client_token_is_stable_per_try_and_new_for_the_next() -> None:
    token = identity().client_token()
    assert re.fullmatch(r"[0-9a-f]{64}", token)  # CreateJob takes 1..64 characters
    assert identity().client_token() == token
    assert identity(try_number=2).client_token() != token
    assert identity(map_index=4).client_token() != token
    assert identity(run_id="manual__x").client_token() != token


def test_search_filter_starts_before_the_run_and_is_a_valid_request() -> None:
    filters = identity().search_filters()
    assert filters == [{"name": "createdAt", "operator": "GTE", "values": ["2026-11-25T11:50:00.000Z"]}]
    validate_search_jobs({"filters": filters, "maxResults": 100})


def test_jobs_of_keeps_only_this_task_newest_first() -> None:
    mine = identity().tags()
    summaries = [
        {"jobArn": "a", "status": "FAILED", "createdAt": "2026-11-25T12:01:00Z", "tags": mine},
        {"jobArn": "b", "status": "CANCELLING", "createdAt": "2026-11-25T12:03:00Z", "tags": mine},
        {"jobArn": "c", "status": "RUNNING", "createdAt": "2026-11-25T12:02:00Z", "tags": mine},
        {
            "jobArn": "d",
            "status": "RUNNING",
            "createdAt": "2026-11-25T12:04:00Z",
            "tags": {**mine, "airflow:map_index": "4"},
        },
        {"jobArn": "e", "status": "COMPLETED", "createdAt": "2026-11-25T12:00:30Z", "tags": mine},
        {"jobArn": "f", "status": "RUNNING", "createdAt": "2026-11-25T12:05:00Z"},
    ]
    jobs = jobs_of(identity(), summaries)
    assert [job["jobArn"] for job in jobs.jobs] == ["b", "c", "a", "e"]
    assert jobs.active is not None
    assert jobs.active["jobArn"] == "c"
    assert jobs.completed is not None
    assert jobs.completed["jobArn"] == "e"
    assert [job["jobArn"] for job in jobs.unfinished] == ["b", "c"]


def test_outside_airflow_each_execute_has_an_identity_of_its_own() -> None:
    first, second = TaskIdentity.from_context({}, "t"), TaskIdentity.from_context({}, "t")  # type: ignore[arg-type]
    assert first.run_id != second.run_id
    assert first.client_token() != second.client_token()


@pytest.mark.parametrize(
    ("error", "resubmit"),
    [
        (client_error("ServiceQuotaExceededException", 402), True),
        (client_error("ThrottlingException", 429), True),
        (client_error("InternalServiceException", 500), True),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), True),
        (client_error("ValidationException", 400), False),
        (client_error("AccessDeniedException", 403), False),
        (client_error("DeviceOfflineException", 424), False),
    ],
)
def test_which_refusals_are_worth_submitting_again(error: Exception, resubmit: bool) -> None:
    assert is_worth_resubmitting(error) is resubmit


def test_over_quota_the_next_try_comes_about_a_waiter_delay_later() -> None:
    state = SubmitState.begin()
    quota = client_error("ServiceQuotaExceededException", 402)
    assert is_quota_refusal(quota)
    delays = [state.next_delay(quota, 30) for _ in range(50)]
    assert all(15 <= delay <= 45 for delay in delays)
    assert state.refusals == 50


def test_throttled_the_delay_backs_off_to_a_cap() -> None:
    state = SubmitState.begin()
    throttled = client_error("ThrottlingException", 429)
    delays = [state.next_delay(throttled, 2) for _ in range(12)]
    assert delays[0] <= 4
    assert max(delays) <= 60
    assert delays[-1] >= 30  # capped at max(waiter_delay, 60), jittered down to half at most


def test_submit_state_survives_a_deferral() -> None:
    state = SubmitState.begin()
    state.refusals, state.bucket, state.role_arn = 2, "b", "arn:aws:iam::123456789012:role/r"
    state.input_uris = {"train": "s3://b/jobs/x/1/data/train/points.txt"}
    assert SubmitState.from_dict(state.to_dict()) == state


def test_resubmit_trigger_fires_at_its_moment_with_the_state() -> None:
    trigger = ResubmitTrigger(moment=time.time() + 0.2, submit={"timestamp": "1", "refusals": 1})
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_braket.triggers.braket.ResubmitTrigger"

    async def first_event() -> object:
        return await anext(ResubmitTrigger(**kwargs).run())

    started = time.monotonic()
    event = asyncio.run(first_event())
    assert time.monotonic() - started >= 0.15
    assert event.payload == {"submit": {"timestamp": "1", "refusals": 1}}  # type: ignore[attr-defined]


def test_job_status_trigger_carries_not_before() -> None:
    _, kwargs = JobStatusTrigger(job_arn="arn", job_name="n", not_before=123.0).serialize()
    assert kwargs["not_before"] == 123.0
    assert JobStatusTrigger(**kwargs).not_before == 123.0
