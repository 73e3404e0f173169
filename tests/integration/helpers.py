"""Build and submit jobs to the local service the way the Braket SDK lays them out in S3."""

from __future__ import annotations

import io
import json
import tarfile
import time
import uuid
from pathlib import Path
from typing import Any

JOBS_DIR = Path(__file__).parent / "jobs"
ALGORITHMS_DIR = Path(__file__).parents[2] / "example_dags" / "algorithms"
BUCKET = "amazon-braket-us-east-1-123456789012"
ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonBraketJobsExecutionRole"
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")

# H2 (two-qubit reduction, R = 0.74 A): exact ground-state energy -1.851199 (numpy, in tests).
H2 = [[-0.4804, "II"], [0.3435, "ZI"], [-0.4347, "IZ"], [0.5716, "ZZ"], [0.0910, "XX"], [0.0910, "YY"]]


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def upload_script(s3: Any, *names: str, key: str | None = None) -> str:
    """Upload job scripts from tests/integration/jobs as an SDK-style source.tar.gz; return its URI."""
    ensure_bucket(s3)
    key = (key or f"jobs/test/{uuid.uuid4().hex}/script/source.tar.gz").removeprefix(f"s3://{BUCKET}/")
    s3.put_object(
        Bucket=BUCKET, Key=key, Body=tar_gz({name: (JOBS_DIR / name).read_bytes() for name in names})
    )
    return f"s3://{BUCKET}/{key}"


def ensure_bucket(s3: Any) -> None:
    try:
        s3.head_bucket(Bucket=BUCKET)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=BUCKET)


def job_request(script_uri: str, entry_point: str, **overrides: Any) -> dict[str, Any]:
    name = overrides.pop("jobName", f"test-{uuid.uuid4().hex[:12]}")
    request: dict[str, Any] = {
        "clientToken": str(uuid.uuid4()),
        "jobName": name,
        "roleArn": ROLE,
        "algorithmSpecification": {
            "scriptModeConfig": {"entryPoint": entry_point, "s3Uri": script_uri, "compressionType": "GZIP"}
        },
        "outputDataConfig": {"s3Path": f"s3://{BUCKET}/jobs/{name}/data"},
        "instanceConfig": {"instanceType": "ml.m5.large", "volumeSizeInGb": 30, "instanceCount": 1},
        "deviceConfig": {"device": "local:braket/braket.local.qubit"},
    }
    request.update(overrides)
    return request


def wait_for(
    braket: Any, job_arn: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = braket.get_job(jobArn=job_arn)
        if job["status"] in statuses:
            return dict(job)
        time.sleep(0.1)
    raise TimeoutError(f"{job_arn} still {job['status']} after {timeout}s")


def results(s3: Any, job: dict[str, Any]) -> dict[str, Any]:
    bucket, _, prefix = job["outputDataConfig"]["s3Path"].removeprefix("s3://").partition("/")
    body = s3.get_object(Bucket=bucket, Key=f"{prefix}/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        member = archive.extractfile("results.json")
        assert member is not None
        return dict(json.load(member)["dataDictionary"])


def start_job(
    hook: Any, mode: str, name: str | None = None, tags: dict[str, str] | None = None, **hyperparameters: Any
) -> dict[str, Any]:
    """Create a behaviours.py job through the provider's hook (SDK layout, validated request)."""
    import uuid

    from airflow_provider_braket.jobs.request import HybridJobSpec, JobLocation

    name = name or f"{mode}-{uuid.uuid4().hex[:8]}"
    location = JobLocation(hook.default_bucket(), name, "1")
    hook.upload_source_module(JOBS_DIR / "behaviours.py", location)
    spec = HybridJobSpec(
        device="local:braket/braket.local.qubit",
        entry_point="behaviours",
        job_name=name,
        hyperparameters={"mode": mode, **{key: str(value) for key, value in hyperparameters.items()}},
        tags=tags or {},
    )
    return dict(hook.get_job(hook.create_job(spec.request(location, hook.jobs_role_arn(), uuid.uuid4().hex))))
