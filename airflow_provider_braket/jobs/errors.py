"""What an AWS call refused with: botocore's ``ClientError`` read the same way everywhere."""

from __future__ import annotations

from botocore.exceptions import ClientError


def error_code(error: BaseException) -> str | None:
    """The error code AWS answered (``ResourceNotFoundException``, ``404``, ...), or None when the
    error is not an AWS answer (a lost connection, a request botocore refused to send)."""
    if not isinstance(error, ClientError):
        return None
    code = error.response.get("Error", {}).get("Code")
    return None if code is None else str(code)
