"""Braket API errors as botocore reads them: ``x-amzn-ErrorType`` header plus ``{"message"}``."""

from __future__ import annotations

import json
import uuid


class BraketError(Exception):
    """An error the local service answers with; ``shape`` is the botocore error shape."""

    shape = "InternalServiceException"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> bytes:
        # "__type" too: awsjson clients (CloudWatch Logs) read the code from the body, not the header.
        return json.dumps({"__type": self.shape, "message": self.message}).encode()

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"content-type", b"application/json"),
            (b"x-amzn-errortype", self.shape.encode()),
            (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
        ]


class ValidationException(BraketError):
    shape, status = "ValidationException", 400


class ServiceQuotaExceededException(BraketError):
    shape, status = "ServiceQuotaExceededException", 402


class AccessDeniedException(BraketError):
    shape, status = "AccessDeniedException", 403


class ResourceNotFoundException(BraketError):
    shape, status = "ResourceNotFoundException", 404


class ConflictException(BraketError):
    shape, status = "ConflictException", 409


class DeviceRetiredException(BraketError):
    shape, status = "DeviceRetiredException", 410


class DeviceOfflineException(BraketError):
    shape, status = "DeviceOfflineException", 424


class ThrottlingException(BraketError):
    shape, status = "ThrottlingException", 429


class InternalServiceException(BraketError):
    shape, status = "InternalServiceException", 500
