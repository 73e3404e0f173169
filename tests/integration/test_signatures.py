"""A signature binds the whole request, as on AWS: forged bodies, thin signed-header sets,
oversized and unsigned bodies are refused, the last two before the body is read."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import stat
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from helpers import wait_for
from servers import ACCESS_KEY, REGION, SECRET_KEY, LocalServiceProcess

SEARCH = b'{"filters": [], "maxResults": 1}'


def signed_headers(
    service: LocalServiceProcess,
    method: str,
    path: str,
    body: bytes,
    aws_service: str = "braket",
    signer_class: type[SigV4Auth] = SigV4Auth,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    request = AWSRequest(method=method, url=f"{service.endpoint}{path}", data=body, headers=extra or {})
    signer_class(Credentials(ACCESS_KEY, SECRET_KEY), aws_service, REGION).add_auth(request)
    return dict(request.headers.items())


def send(
    service: LocalServiceProcess, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_a_braket_body_other_than_the_signed_one_is_refused(local_service: LocalServiceProcess) -> None:
    headers = signed_headers(local_service, "POST", "/jobs", SEARCH)

    assert send(local_service, "POST", "/jobs", SEARCH, headers)[0] == 200
    forged = SEARCH.replace(b"1", b"2")
    # The forger also claims the signed body's hash, which is what fooled the check before.
    claimed = {**headers, "X-Amz-Content-SHA256": hashlib.sha256(SEARCH).hexdigest()}
    for attempt in (headers, claimed):
        status, body = send(local_service, "POST", "/jobs", forged, attempt)
        assert status in (400, 403), body


def test_an_s3_body_other_than_the_signed_one_is_refused(local_service: LocalServiceProcess) -> None:
    s3 = local_service.client("s3")
    bucket = f"forge-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    path = f"/{bucket}/data.bin"
    original = b"the user's own bytes"
    headers = signed_headers(
        local_service,
        "PUT",
        path,
        original,
        "s3",
        S3SigV4Auth,
        {"X-Amz-Content-SHA256": hashlib.sha256(original).hexdigest()},
    )

    status, body = send(local_service, "PUT", path, b"someone else's code!", headers)

    assert status == 400
    assert b"XAmzContentSHA256Mismatch" in body
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    assert send(local_service, "PUT", path, original, headers)[0] == 200


def test_an_unsigned_x_amz_header_is_refused(local_service: LocalServiceProcess) -> None:
    """Found: a captured, validly signed PUT replayed with an extra, unsigned
    ``x-amz-copy-source: /bucket/secret.txt`` copied the secret over the target (200
    CopyObjectResult); unsigned ``x-amz-meta-*`` headers were stored too. AWS requires every
    ``x-amz-*`` header to be signed: "There were headers present in the request which were not
    signed" (403 AccessDenied)."""
    s3 = local_service.client("s3")
    bucket = f"replay-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="secret.txt", Body=b"the secret")
    path = f"/{bucket}/public.txt"
    mine = b"public words"
    headers = signed_headers(
        local_service,
        "PUT",
        path,
        mine,
        "s3",
        S3SigV4Auth,
        {"X-Amz-Content-SHA256": hashlib.sha256(mine).hexdigest()},
    )
    for name, value in (
        ("x-amz-copy-source", f"/{bucket}/secret.txt"),
        ("x-amz-meta-owner", "mallory"),
        ("x-amz-website-redirect-location", "https://example.com/"),
    ):
        status, body = send(local_service, "PUT", path, mine, {**headers, name: value})
        assert status == 403, (name, body)
        assert b"AccessDenied" in body
        assert name.encode() in body
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    braket = signed_headers(local_service, "POST", "/jobs", SEARCH)
    status, body = send(local_service, "POST", "/jobs", SEARCH, {**braket, "X-Amz-Meta-Extra": "x"})
    assert status == 403
    # The same request with only its signed headers is served.
    assert send(local_service, "PUT", path, mine, headers)[0] == 200
    assert s3.get_object(Bucket=bucket, Key="public.txt")["Body"].read() == mine


def test_an_s3_request_must_state_its_payload_hash(local_service: LocalServiceProcess) -> None:
    headers = signed_headers(local_service, "GET", "/", b"", "s3", SigV4Auth)  # no payload hash header
    status, body = send(local_service, "GET", "/", b"", headers)
    assert status in (400, 403)
    assert b"x-amz-content-sha256" in body.lower()


def test_unsigned_payload_is_accepted_for_s3_only(local_service: LocalServiceProcess) -> None:
    unsigned = {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
    s3_headers = signed_headers(local_service, "GET", "/", b"", "s3", S3SigV4Auth, unsigned)
    assert send(local_service, "GET", "/", b"", s3_headers)[0] == 200

    braket_headers = signed_headers(local_service, "POST", "/jobs", SEARCH, extra=unsigned)
    status, _ = send(local_service, "POST", "/jobs", SEARCH, braket_headers)
    assert status in (400, 403)


class _WithoutHostSigner(SigV4Auth):
    def headers_to_sign(self, request: AWSRequest) -> Any:
        chosen = super().headers_to_sign(request)
        del chosen["host"]
        return chosen


def test_a_signature_must_cover_host_and_date(local_service: LocalServiceProcess) -> None:
    headers = signed_headers(local_service, "POST", "/jobs", SEARCH, signer_class=_WithoutHostSigner)
    assert "SignedHeaders=x-amz-date," in headers["Authorization"]

    status, body = send(local_service, "POST", "/jobs", SEARCH, headers)

    assert status == 403
    assert b"host" in body


def _stream_body(port: int, headers: dict[str, str], total: int) -> tuple[int | None, int]:
    """PUT ``total`` bytes chunk by chunk; return the status (None: socket closed) and bytes sent."""
    chunk = b"\0" * (1 << 20)
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        connection.sendall(f"PUT /victim-bucket/big HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode())
        try:
            while sent < total:
                connection.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        try:
            answer = connection.recv(200).decode("latin-1")
        except OSError:
            return None, sent
    return (int(answer.split()[1]) if answer.startswith("HTTP/") else None), sent


def test_unsigned_and_oversized_bodies_are_refused_before_they_are_read(
    own_service: LocalServiceProcess,
) -> None:
    own_service.extra_args = ["--max-request-mb", "16"]
    own_service.start()
    assert own_service.process is not None
    service = psutil.Process(own_service.process.pid)
    before = service.memory_info().rss
    size = 300 << 20

    unsigned_status, unsigned_sent = _stream_body(own_service.port, {"Content-Length": str(size)}, size)
    signed = signed_headers(own_service, "PUT", "/victim-bucket/big", b"", "s3", S3SigV4Auth)
    signed["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    signed.pop("Content-Length", None)
    oversized_status, oversized_sent = _stream_body(
        own_service.port, {**signed, "Content-Length": str(size)}, size
    )

    growth_mb = (service.memory_info().rss - before) / (1 << 20)
    assert unsigned_status in (403, None), unsigned_sent
    assert oversized_status in (400, 413, None), oversized_sent
    assert growth_mb < 50
    assert own_service.client("s3").list_buckets()["Buckets"] == []  # nothing stored, still serving


@pytest.fixture
def service_with_secret(
    own_service: LocalServiceProcess, monkeypatch: pytest.MonkeyPatch
) -> tuple[LocalServiceProcess, str]:
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    monkeypatch.setenv("BRAKET_LOCAL_SECRET_KEY", secret)
    own_service.start()
    return own_service, secret


def test_data_dir_is_private_and_holds_no_credentials(
    service_with_secret: tuple[LocalServiceProcess, str], tmp_path: Path
) -> None:
    from helpers import job_request, upload_script

    service, secret = service_with_secret
    s3 = service.client("s3", secret_key=secret)
    braket = service.client("braket", secret_key=secret)
    request = job_request(upload_script(s3, "behaviours.py"), "behaviours", hyperParameters={"mode": "ok"})
    job = braket.create_job(**request)
    wait_for(braket, job["jobArn"])
    time.sleep(1)

    # Run as root with job users, others may pass through (not list) the data dir and jobs/ to
    # reach their own job's folder; everything else is the service's alone.
    job_users = "each job runs as a user of its own" in service.log_path.read_text()
    passable = {service.data_dir, service.data_dir / "jobs"} if job_users else set()
    assert stat.S_IMODE(service.data_dir.stat().st_mode) == (0o711 if job_users else 0o700)
    leaks = []
    for path in service.data_dir.rglob("*"):
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_file() and not path.is_symlink():
            assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
            content = path.read_bytes()
            if secret.encode() in content or b"Signature=" in content or b"AWS4-HMAC-SHA256" in content:
                leaks.append(str(path))
        elif path.is_dir():
            allowed = 0o066 if path in passable else 0o077
            assert mode & allowed == 0, f"{path} is {oct(mode)}"
    assert leaks == []
    assert json.loads(service.admin("GET", "/_local/health"))["status"] == "ready"
    assert os.stat(service.data_dir).st_uid == os.getuid()


def test_off_loopback_the_service_needs_an_admin_token(
    own_service: LocalServiceProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib.error
    import urllib.request

    own_service.extra_args = ["--host", "0.0.0.0"]
    monkeypatch.delenv("BRAKET_LOCAL_ADMIN_TOKEN", raising=False)
    with pytest.raises(RuntimeError, match="BRAKET_LOCAL_ADMIN_TOKEN"):
        own_service.start(timeout=30)

    token = uuid.uuid4().hex
    monkeypatch.setenv("BRAKET_LOCAL_ADMIN_TOKEN", token)
    own_service.start()
    assert "reachable from other machines" in own_service.log_path.read_text()
    assert json.loads(own_service.admin("GET", "/_local/health"))["status"] == "ready"
    faults = b'{"operations": {"*": {"error": 1.0}}}'
    without_token = urllib.request.Request(
        f"{own_service.endpoint}/_local/faults",
        data=faults,
        method="PUT",
        headers={"content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(without_token, timeout=10)
    assert refused.value.code == 403
    # Given by the environment, the token is not written to the data dir.
    assert not (own_service.data_dir / "admin-token").exists()
    allowed = urllib.request.Request(
        f"{own_service.endpoint}/_local/limits",
        headers={"X-Braket-Local-Admin-Token": token},
    )
    with urllib.request.urlopen(allowed, timeout=10) as answer:
        assert json.loads(answer.read())["jobSlots"] == 2
    assert token not in own_service.log_path.read_text()


def test_on_loopback_changing_faults_or_limits_needs_the_token_from_the_data_dir(
    own_service: LocalServiceProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found: on loopback, anything there (a job's process too) could set faults that refused
    every client's calls, or ``quantumTaskWorkers: 0`` that froze every user's tasks."""
    import urllib.error
    import urllib.request

    monkeypatch.delenv("BRAKET_LOCAL_ADMIN_TOKEN", raising=False)
    own_service.start()
    token_file = own_service.data_dir / "admin-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text()
    assert len(token) >= 40
    assert token not in own_service.log_path.read_text()

    refusals: list[str] = []

    def call(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> int:
        request = urllib.request.Request(
            f"{own_service.endpoint}{path}",
            data=body,
            method=method,
            headers={"content-type": "application/json", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            refusals.append(error.read().decode())
            return error.code

    changes = [
        ("PUT", "/_local/faults", b'{"operations": {"*": {"error": 1.0}}}'),
        ("PUT", "/_local/limits", b'{"quantumTaskWorkers": 0}'),
        ("DELETE", "/_local/calls", None),
    ]
    for method, path, body in changes:
        assert call(method, path, body, {}) == 403, path
        assert call(method, path, body, {"X-Braket-Local-Admin-Token": "not-the-token"}) == 403, path
    assert all("needs the admin token" in refusal for refusal in refusals)
    # Nothing changed: every client's calls still answer.
    assert own_service.client("braket").search_jobs(filters=[])["jobs"] == []
    assert call("GET", "/_local/limits", None, {}) == 200  # reading stays open on loopback
    assert call("PUT", "/_local/faults", b'{"operations": {}}', {"X-Braket-Local-Admin-Token": token}) == 200
    # A restart makes a new token: an old one read by anyone no longer works.
    own_service.stop()
    own_service.start()
    assert token_file.read_text() != token
    assert call("DELETE", "/_local/calls", None, {"X-Braket-Local-Admin-Token": token}) == 403
    assert own_service.admin("DELETE", "/_local/calls") is not None  # the helper reads the new one
