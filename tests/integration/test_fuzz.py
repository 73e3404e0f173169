"""Schemathesis, driven by the Braket Hybrid Jobs OpenAPI file, against the live local service.

Every request is SigV4-signed (Schemathesis cannot sign, so a requests ``auth`` does it with
botocore's signer): the fuzzing reaches the operations, not only the signature check. Valid and
invalid requests alike must get an answer below 500, and the service must still be serving at
the end. The case count is bounded (``FUZZ_EXAMPLES`` per operation and mode).

The OpenAPI file is a copy of the seed's spec (``tests/fuzz/``), so that a fresh clone has it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from servers import ACCESS_KEY, REGION, SECRET_KEY, LocalServiceProcess

pytestmark = pytest.mark.integration

SPEC = Path(__file__).parents[1] / "fuzz" / "braket-hybrid-jobs-openapi.yml"
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))

schema = schemathesis.openapi.from_path(SPEC)
# One test per operation and mode, each with its own id: schemathesis's own parametrize gives its
# items one shared id, which pytest-xdist collapses into one (it ran only CreateJob).
CASES = [
    pytest.param(operation.ok(), mode, id=f"{operation.ok().label}-{mode.value}")
    for operation in schema.get_all_operations()
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
]


class SignedForBraket(requests.auth.AuthBase):
    """SigV4 for the ``braket`` service, computed by botocore over the request as sent."""

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        body = prepared.body or b""
        signed = AWSRequest(
            method=prepared.method,
            url=prepared.url,
            data=body.encode() if isinstance(body, str) else body,
        )
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "braket", REGION).add_auth(signed)
        for name in ("Authorization", "X-Amz-Date"):
            prepared.headers[name] = signed.headers[name]
        return prepared


@pytest.fixture(scope="module")
def fuzzed_service(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # A quota of one and no slot to run in: a fuzzed CreateJob that is valid stays QUEUED
    # (nothing is run), and the rest meet ServiceQuotaExceeded, a 4xx.
    service = LocalServiceProcess(
        tmp_path_factory.mktemp("fuzz") / "data", extra_args=["--job-quota", "1", "--job-slots", "1"]
    ).start()
    service.admin("PUT", "/_local/limits", json.dumps({"jobSlots": 1}).encode())
    yield service
    service.stop()


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_no_request_makes_the_service_answer_5xx(
    operation: Any, mode: schemathesis.GenerationMode, fuzzed_service: LocalServiceProcess
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    def answered_below_500(case: Any) -> None:
        response = case.call(base_url=fuzzed_service.endpoint, auth=SignedForBraket(), timeout=30)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
        )

    answered_below_500()


def test_the_service_still_serves_after_the_fuzzing(fuzzed_service: LocalServiceProcess) -> None:
    # Signed correctly, the fuzzed requests reached every operation (the service counts a
    # request only once its signature is checked).
    calls = json.loads(fuzzed_service.admin("GET", "/_local/calls"))
    print("fuzzed calls per operation:", calls)
    for operation in ("CreateJob", "GetJob", "CancelJob", "SearchJobs"):
        assert calls.get(f"braket:{operation}", 0) >= FUZZ_EXAMPLES // 2, (operation, calls)
    assert fuzzed_service.process is not None
    assert fuzzed_service.process.poll() is None
    assert json.loads(fuzzed_service.admin("GET", "/_local/health"))["status"] == "ready"
    braket = fuzzed_service.client("braket")
    assert isinstance(braket.search_jobs(filters=[])["jobs"], list)
