"""Check SigV4 signatures of incoming requests with botocore's own signer.

botocore builds the canonical request from what it sends; we rebuild it from what arrived,
restricted to the headers the client declared in ``SignedHeaders``, and compare signatures.
The service name in the credential scope also tells which backend a request is for.
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


class SignatureError(Exception):
    """The request is unsigned, signed with an unknown key, stale, or its signature is wrong."""


@dataclass(frozen=True)
class Scope:
    """What the credential scope of a request says."""

    access_key: str
    region: str
    service: str


def credential_scope(authorization: str | None) -> Scope | None:
    match = _AUTHORIZATION.search(authorization or "")
    if not match:
        return None
    return Scope(match["key"], match["region"], match["service"])


def verify(
    method: str,
    raw_path: str,
    query_string: str,
    headers: list[tuple[str, str]],
    body: bytes,
    access_key: str,
    secret_key: str,
) -> Scope:
    """Return the credential scope of a correctly signed request, else raise SignatureError."""
    received = HTTPHeaders()
    for name, value in headers:
        received.add_header(name.lower(), value)
    match = _AUTHORIZATION.search(received.get("authorization", ""))
    if not match:
        raise SignatureError("Missing or malformed SigV4 Authorization header")
    if match["key"] != access_key:
        raise SignatureError(f"The access key id {match['key']} is not known to this service")
    timestamp = received.get("x-amz-date", "")
    _check_clock(timestamp)

    signed = match["signed"].split(";")
    url = f"http://{received.get('host', 'localhost')}{raw_path}" + (
        f"?{query_string}" if query_string else ""
    )
    request = AWSRequest(method=method, url=url, data=body)
    request.headers = received  # as received: repeated headers stay separate values
    request.context["timestamp"] = timestamp
    signer_class = _DeclaredHeadersS3Signer if match["service"] == "s3" else _DeclaredHeadersSigner
    signer = signer_class(signed, Credentials(access_key, secret_key), match["service"], match["region"])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match["signature"]):
        raise SignatureError(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
    return Scope(match["key"], match["region"], match["service"])


def _check_clock(timestamp: str) -> None:
    try:
        signed_at = datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureError("Missing or malformed X-Amz-Date header") from None
    if abs(datetime.now(timezone.utc) - signed_at) > MAX_CLOCK_SKEW:
        raise SignatureError(f"Signature expired: {timestamp} is more than 15 minutes from the server's time")


class _DeclaredHeadersMixin:
    def __init__(self, signed: list[str], *args: object) -> None:
        super().__init__(*args)
        self._signed = signed

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        chosen = HTTPHeaders()
        for name in self._signed:
            for value in request.headers.get_all(name) or [""]:
                chosen.add_header(name, value)
        return chosen


class _DeclaredHeadersSigner(_DeclaredHeadersMixin, SigV4Auth):
    pass


class _DeclaredHeadersS3Signer(_DeclaredHeadersMixin, S3SigV4Auth):
    pass
