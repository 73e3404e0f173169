"""Check SigV4 signatures of incoming requests with botocore's own signer.

botocore builds the canonical request from what it sends; we rebuild it from what arrived,
restricted to the headers the client declared in ``SignedHeaders``, and compare signatures.
The service name in the credential scope also tells which backend a request is for.

Checking happens in two steps, as on AWS: :func:`check_headers` before a byte of the body is
read (so an unsigned or foreign request costs no memory), then :func:`verify` with the body's
SHA-256, which the signature must cover: the hash a client declares in
``X-Amz-Content-SHA256`` must be the hash of the body that arrived.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/"
    r"aws4_request,\s*SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)
MAX_CLOCK_SKEW = timedelta(minutes=15)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# Headers every signature must cover, as AWS requires: without them a signature could be
# replayed against another host, or at any time.
REQUIRED_SIGNED_HEADERS = ("host", "x-amz-date")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class SignatureError(Exception):
    """The request is unsigned, signed with an unknown key, stale, or its signature is wrong.

    :param message: what is wrong, for the client.
    :param code: the error code S3 would answer with (other services answer AccessDenied).
    :param status: the HTTP status of the refusal.
    """

    def __init__(self, message: str, code: str = "AccessDenied", status: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Scope:
    """What the credential scope of a request says."""

    access_key: str
    region: str
    service: str


@dataclass(frozen=True)
class Authorization:
    """The parts of an ``Authorization`` header that :func:`verify` needs."""

    scope: Scope
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str


def credential_scope(authorization: str | None) -> Scope | None:
    match = _AUTHORIZATION.search(authorization or "")
    if not match:
        return None
    return Scope(match["key"], match["region"], match["service"])


def check_headers(headers: list[tuple[str, str]], access_key: str) -> Authorization:
    """Everything that can be checked before the body is read; raise SignatureError if wrong."""
    received = _header_map(headers)
    match = _AUTHORIZATION.search(received.get("authorization", ""))
    if not match:
        raise SignatureError("Missing or malformed SigV4 Authorization header")
    if match["key"] != access_key:
        raise SignatureError(f"The access key id {match['key']} is not known to this service")
    signed = tuple(match["signed"].split(";"))
    missing = [name for name in REQUIRED_SIGNED_HEADERS if name not in signed]
    if missing:
        raise SignatureError(f"SignedHeaders must include {', '.join(missing)}; it is {match['signed']}")
    # AWS requires every x-amz-* header to be signed: an unsigned one could be added to a
    # captured request (x-amz-copy-source turns a PUT into a copy of another object).
    unsigned = sorted({name for name in received if name.startswith("x-amz-") and name not in signed})
    if unsigned:
        raise SignatureError(
            "There were headers present in the request which were not signed: " + ", ".join(unsigned)
        )
    timestamp = received.get("x-amz-date", "")
    _check_clock(timestamp)
    scope = Scope(match["key"], match["region"], match["service"])
    if scope.service == "s3" and "x-amz-content-sha256" not in received:
        raise SignatureError(
            "Missing required header for this request: x-amz-content-sha256", "InvalidRequest", 400
        )
    return Authorization(scope, signed, match["signature"], timestamp)


def payload_hash(service: str, declared: str | None, body_sha256: str) -> str:
    """The payload hash the signature must be computed over; raise SignatureError if the
    hash the client declared is not the body's, or is a form this service does not check."""
    if declared is None:
        return body_sha256
    if declared == UNSIGNED_PAYLOAD:
        if service != "s3":
            raise SignatureError(f"{UNSIGNED_PAYLOAD} is accepted by S3 only, not by {service}")
        return declared
    if declared.startswith("STREAMING-"):
        # botocore sends aws-chunked bodies over HTTPS only; this endpoint is plain HTTP.
        raise SignatureError(
            f"x-amz-content-sha256 {declared} is not supported by the local service", "NotImplemented", 501
        )
    if not _SHA256_HEX.fullmatch(declared) or not hmac.compare_digest(declared, body_sha256):
        if service == "s3":
            raise SignatureError(
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                "XAmzContentSHA256Mismatch",
                400,
            )
        raise SignatureError("The x-amz-content-sha256 header does not match the request body")
    return declared


def verify(
    method: str,
    raw_path: str,
    query_string: str,
    headers: list[tuple[str, str]],
    body_sha256: str,
    access_key: str,
    secret_key: str,
) -> Scope:
    """Return the credential scope of a correctly signed request, else raise SignatureError.

    :param body_sha256: hex SHA-256 of the body as it arrived.
    """
    authorization = check_headers(headers, access_key)
    received = _header_map(headers)
    service = authorization.scope.service
    signed_payload = payload_hash(service, received.get("x-amz-content-sha256"), body_sha256)
    url = f"http://{received.get('host', 'localhost')}{raw_path}" + (
        f"?{query_string}" if query_string else ""
    )
    request = AWSRequest(method=method, url=url)
    request.headers = received  # as received: repeated headers stay separate values
    request.context["timestamp"] = authorization.timestamp
    signer_class = _DeclaredHeadersS3Signer if service == "s3" else _DeclaredHeadersSigner
    signer = signer_class(
        authorization.signed_headers,
        signed_payload,
        Credentials(access_key, secret_key),
        service,
        authorization.scope.region,
    )
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, authorization.signature):
        raise SignatureError(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
    return authorization.scope


def _header_map(headers: list[tuple[str, str]]) -> HTTPHeaders:
    received = HTTPHeaders()
    for name, value in headers:
        received.add_header(name.lower(), value)
    return received


def _check_clock(timestamp: str) -> None:
    try:
        signed_at = datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureError("Missing or malformed X-Amz-Date header") from None
    if abs(datetime.now(timezone.utc) - signed_at) > MAX_CLOCK_SKEW:
        raise SignatureError(f"Signature expired: {timestamp} is more than 15 minutes from the server's time")


class _DeclaredHeadersMixin:
    """Sign exactly the headers the client declared, over the payload hash already checked."""

    def __init__(self, signed: tuple[str, ...], signed_payload: str, *args: object) -> None:
        super().__init__(*args)
        self._signed = signed
        self._signed_payload = signed_payload

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        chosen = HTTPHeaders()
        for name in self._signed:
            for value in request.headers.get_all(name) or [""]:
                chosen.add_header(name, value)
        return chosen

    def payload(self, request: AWSRequest) -> str:
        return self._signed_payload


class _DeclaredHeadersSigner(_DeclaredHeadersMixin, SigV4Auth):
    pass


class _DeclaredHeadersS3Signer(_DeclaredHeadersMixin, S3SigV4Auth):
    pass
