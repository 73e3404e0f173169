"""What a job process inherits from the service: an allow-list, never the service's secrets.

Found: a job's environment was the service's minus a deny-list (AWS_*, AMZN_BRAKET_*,
BRAKET_LOCAL*), so a secret named by ``--admin-token-env`` or ``--secret-key-env`` passed into
every job as it was, and so did anything else the service was started with.
"""

from __future__ import annotations

import uuid

import pytest
from helpers import ensure_bucket, job_request, results, upload_script, wait_for
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration


def test_a_job_inherits_no_secret_of_the_service(
    own_service: LocalServiceProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = f"admin-{uuid.uuid4().hex}"
    monkeypatch.setenv("OUR_ADMIN_TOKEN", token)
    monkeypatch.setenv("OUR_SECRET_KEY", "testing")  # the key pair the test clients sign with
    monkeypatch.setenv("UNRELATED_SERVICE_SETTING", "not the job's business")
    own_service.extra_args = ["--admin-token-env", "OUR_ADMIN_TOKEN", "--secret-key-env", "OUR_SECRET_KEY"]
    own_service.start()
    s3, braket = own_service.client("s3"), own_service.client("braket")
    ensure_bucket(s3)
    request = job_request(upload_script(s3, "behaviours.py"), "behaviours")
    request["hyperParameters"] = {"mode": "environment"}
    job = wait_for(braket, braket.create_job(**request)["jobArn"])
    assert job["status"] == "COMPLETED", job.get("failureReason")

    names = set(results(s3, job)["names"])
    assert not names & {"OUR_ADMIN_TOKEN", "OUR_SECRET_KEY", "UNRELATED_SERVICE_SETTING"}
    # BRAKET_LOCAL_JOB_RUN is the run's marker the service itself sets (job_processes).
    assert [name for name in names if name.startswith("BRAKET_LOCAL")] == ["BRAKET_LOCAL_JOB_RUN"]
    # What the job contract gives it, and what an interpreter needs, are there.
    assert {"PATH", "AMZN_BRAKET_JOB_NAME", "AWS_ENDPOINT_URL", "AWS_SECRET_ACCESS_KEY"} <= names
