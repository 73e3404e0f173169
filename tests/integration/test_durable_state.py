"""What the service's S3, Logs and IAM hold survives kill -9 byte for byte, a damaged record
costs only itself, and disk use follows live data."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from servers import LocalServiceProcess

pytestmark = pytest.mark.integration

ODD_KEYS = [
    "pct%2Fkey",
    "pct%41",
    "q?x=1",
    "a+b c",
    "ünïcödé/日本語.txt",
    "trailing/",
    "x#y&z=1;w",
    # A newline answered 404 on PUT: moto routes S3 keys with ".+", which stops at one.
    "line\nbreak",
    "carriage\rreturn\ttab",
]


def _bucket(service: LocalServiceProcess) -> tuple[object, str]:
    s3 = service.client("s3")
    name = f"durable-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    return s3, name


def _restart(service: LocalServiceProcess) -> None:
    service.kill()
    service.start()


def test_odd_keys_are_kept_exactly_live_and_after_restart(own_service: LocalServiceProcess) -> None:
    own_service.start()
    s3, bucket = _bucket(own_service)
    for key in ODD_KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode() * 3)  # type: ignore[attr-defined]

    def listed() -> list[str]:
        return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"])  # type: ignore[attr-defined]

    assert listed() == sorted(ODD_KEYS)
    _restart(own_service)
    s3 = own_service.client("s3")
    assert listed() == sorted(ODD_KEYS)
    for key in ODD_KEYS:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode() * 3  # type: ignore[attr-defined]


def test_a_multipart_upload_survives_restart_byte_for_byte(own_service: LocalServiceProcess) -> None:
    own_service.start()
    s3, bucket = _bucket(own_service)
    data = os.urandom(10 << 20)
    s3.upload_fileobj(io.BytesIO(data), bucket, "input/data.bin")  # type: ignore[attr-defined]
    s3.put_object(
        Bucket=bucket, Key="small.json", Body=b"{}", ContentType="application/json", Metadata={"who": "me"}
    )  # type: ignore[attr-defined]
    before = s3.head_object(Bucket=bucket, Key="input/data.bin")  # type: ignore[attr-defined]
    assert before["ETag"].endswith('-2"')  # two 8 MB parts: an S3 multipart ETag

    _restart(own_service)

    s3 = own_service.client("s3")
    after = s3.get_object(Bucket=bucket, Key="input/data.bin")
    assert hashlib.sha256(after["Body"].read()).digest() == hashlib.sha256(data).digest()
    assert after["ETag"] == before["ETag"]
    assert after["LastModified"] == before["LastModified"]
    small = s3.get_object(Bucket=bucket, Key="small.json")
    assert (small["ContentType"], small["Metadata"]) == ("application/json", {"who": "me"})


def test_log_events_and_roles_survive_restart(own_service: LocalServiceProcess) -> None:
    own_service.start()
    logs, iam = own_service.client("logs"), own_service.client("iam")
    logs.create_log_group(logGroupName="/aws/braket/jobs")
    logs.create_log_stream(logGroupName="/aws/braket/jobs", logStreamName="job/1")
    now = int(time.time() * 1000)
    for batch in range(3):
        events = [{"timestamp": now + 10 * batch + i, "message": f"line {batch}.{i} ✓"} for i in range(5)]
        logs.put_log_events(logGroupName="/aws/braket/jobs", logStreamName="job/1", logEvents=events)
    iam.create_role(RoleName="MyJobsRole", Path="/service-role/", AssumeRolePolicyDocument="{}")

    _restart(own_service)

    logs, iam = own_service.client("logs"), own_service.client("iam")
    events = logs.get_log_events(logGroupName="/aws/braket/jobs", logStreamName="job/1", startFromHead=True)
    assert [event["message"] for event in events["events"]] == [
        f"line {batch}.{i} ✓" for batch in range(3) for i in range(5)
    ]
    assert iam.get_role(RoleName="MyJobsRole")["Role"]["Path"] == "/service-role/"


def test_a_damaged_record_is_skipped_and_nothing_else_is_lost(own_service: LocalServiceProcess) -> None:
    own_service.start()
    s3, bucket = _bucket(own_service)
    s3.put_object(Bucket=bucket, Key="damaged", Body=b"will be damaged on disk")  # type: ignore[attr-defined]
    s3.put_object(Bucket=bucket, Key="intact", Body=b"stays")  # type: ignore[attr-defined]
    big = os.urandom(1 << 20)  # above the inline limit: its body is a file
    s3.put_object(Bucket=bucket, Key="damaged-file", Body=big)  # type: ignore[attr-defined]
    own_service.kill()
    damaged_file = hashlib.sha256(big).hexdigest()
    (own_service.data_dir / "blobs" / damaged_file[:2] / damaged_file).write_bytes(b"bit rot")
    with sqlite3.connect(own_service.data_dir / "state.sqlite3") as db:  # a small body is kept inline
        db.execute(
            "UPDATE small_blobs SET data = ? WHERE name = ?",
            (b"bit rot", hashlib.sha256(b"will be damaged on disk").hexdigest()),
        )
    # A torn write at the end of SQLite's WAL (a kill or a full disk mid-append): its frame
    # checksum fails, so SQLite ignores it instead of reading it as a record.
    with (own_service.data_dir / "state.sqlite3-wal").open("ab") as wal:
        wal.write(os.urandom(3000))

    own_service.start()

    s3 = own_service.client("s3")
    assert s3.get_object(Bucket=bucket, Key="intact")["Body"].read() == b"stays"
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["intact"]
    log_text = own_service.log_path.read_text()
    assert f"skipped object s3://{bucket}/damaged:" in log_text
    assert f"skipped object s3://{bucket}/damaged-file:" in log_text


def test_disk_use_follows_live_data(own_service: LocalServiceProcess) -> None:
    own_service.start()
    s3, bucket = _bucket(own_service)
    for _ in range(20):
        s3.put_object(Bucket=bucket, Key="overwritten", Body=os.urandom(1 << 20))  # type: ignore[attr-defined]
    for index in range(10):
        s3.put_object(Bucket=bucket, Key=f"deleted-{index}", Body=os.urandom(1 << 20))  # type: ignore[attr-defined]
    s3.delete_objects(  # type: ignore[attr-defined]
        Bucket=bucket, Delete={"Objects": [{"Key": f"deleted-{index}"} for index in range(5)]}
    )
    for index in range(5, 10):
        s3.delete_object(Bucket=bucket, Key=f"deleted-{index}")  # type: ignore[attr-defined]

    blobs = sum(path.stat().st_size for path in (own_service.data_dir / "blobs").rglob("*") if path.is_file())
    assert blobs == 1 << 20  # the one live object
    _restart(own_service)
    assert [item["Key"] for item in own_service.client("s3").list_objects_v2(Bucket=bucket)["Contents"]] == [
        "overwritten"
    ]


def _legacy_entry(method: str, path: str, body: bytes = b"", query: str = "") -> str:
    headers = [
        ["host", "127.0.0.1"],
        [
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, "
            "SignedHeaders=host, Signature=" + "0" * 64,
        ],
    ]
    return json.dumps(
        {
            "method": method,
            "path": path,
            "query": query,
            "headers": headers,
            "body": base64.b64encode(body).decode(),
        }
    )


def test_a_journal_of_an_older_version_is_migrated_and_deleted(own_service: LocalServiceProcess) -> None:
    own_service.data_dir.mkdir(parents=True)
    journal: Path = own_service.data_dir / "moto-journal.jsonl"
    journal.write_text(
        "\n".join(
            [
                _legacy_entry("PUT", "/legacy-bucket"),
                _legacy_entry("PUT", "/legacy-bucket/kept.txt", b"from the old journal"),
                _legacy_entry("PUT", "/legacy-bucket/big", b"x", "partNumber=1&uploadId=gone"),
                '{"method": "PUT", "path": "/legacy-bucket/torn',  # cut short by a kill
            ]
        )
        + "\n"
    )

    own_service.start()

    s3 = own_service.client("s3")
    assert s3.get_object(Bucket="legacy-bucket", Key="kept.txt")["Body"].read() == b"from the old journal"
    assert not journal.exists()
    _restart(own_service)
    assert own_service.client("s3").get_object(Bucket="legacy-bucket", Key="kept.txt")["Body"].read() == (
        b"from the old journal"
    )


def test_a_damaged_job_or_task_record_costs_only_itself(own_service: LocalServiceProcess) -> None:
    from helpers import job_request, upload_script, wait_for

    own_service.start()
    braket, s3 = own_service.client("braket"), own_service.client("s3")
    script = upload_script(s3, "behaviours.py")
    kept = wait_for(braket, braket.create_job(**job_request(script, "behaviours"))["jobArn"])
    damaged = wait_for(braket, braket.create_job(**job_request(script, "behaviours"))["jobArn"])
    own_service.kill()
    with sqlite3.connect(own_service.data_dir / "jobs.sqlite3") as database:
        # As a hand edit or a bad disk might leave it: unreadable JSON, and a job said to be running.
        database.execute(
            "UPDATE jobs SET request = '{not json', status = 'RUNNING' WHERE job_arn = ?",
            (damaged["jobArn"],),
        )

    own_service.start()

    braket = own_service.client("braket")
    listed = [job["jobArn"] for job in braket.search_jobs(filters=[])["jobs"]]
    assert listed == [kept["jobArn"]]
    assert braket.get_job(jobArn=kept["jobArn"])["status"] == "COMPLETED"
    assert "skipped an unreadable job record" in own_service.log_path.read_text()


def test_a_write_the_store_cannot_keep_is_not_seen(own_service: LocalServiceProcess) -> None:
    """Found: with the disk full, a PUT answered 500 ("could not persist") stayed readable until
    the next restart, then vanished: moto applied it before the store failed. Now moto is put back
    to what the store holds. A full disk is stood in for by RLIMIT_FSIZE on the running service
    (its writes past the limit fail with EFBIG, as they would with ENOSPC)."""
    import psutil

    own_service.start()
    s3, bucket = _bucket(own_service)
    s3.put_object(Bucket=bucket, Key="kept", Body=b"first version")  # type: ignore[attr-defined]
    assert own_service.process is not None
    service = psutil.Process(own_service.process.pid)
    unlimited = service.rlimit(psutil.RLIMIT_FSIZE)
    service.rlimit(psutil.RLIMIT_FSIZE, (64 << 10, unlimited[1]))
    try:
        big = os.urandom(1 << 20)  # a body kept as a file, past the limit
        for key in ("new", "kept"):
            with pytest.raises(ClientError) as refused:
                s3.put_object(Bucket=bucket, Key=key, Body=big)  # type: ignore[attr-defined]
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    finally:
        service.rlimit(psutil.RLIMIT_FSIZE, unlimited)
    listed = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]  # type: ignore[attr-defined]
    assert listed == ["kept"]
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"first version"  # type: ignore[attr-defined]
    _restart(own_service)
    s3 = own_service.client("s3")
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["kept"]  # type: ignore[attr-defined]
