"""``s3://bucket/key`` URIs, as the API's s3Uri and s3Path fields hold them."""

from __future__ import annotations

import re

_S3_URI = re.compile(r"^(?:s3|https)://(?P<bucket>[^/]+)/?(?P<key>.*)\Z")


def is_s3_uri(value: str) -> bool:
    return value.startswith("s3://")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``("bucket", "key")`` of ``s3://bucket/key``."""
    match = _S3_URI.match(uri)
    if not match:
        raise ValueError(f"{uri!r} is not an s3:// URI")
    return match["bucket"], match["key"]
