"""Braket API errors as botocore reads them: ``x-amzn-ErrorType`` header plus ``{"message"}``."""

from __future__ import annotations

import json
import uuid


class BraketError(Exception):
    """An error the local service answers with; ``shape`` is the botocore error shape, the name of
    the subclass, and ``status`` its HTTP status (``class ConflictException(BraketError, status=409)``)."""

    shape = "InternalServiceException"
    status = 500

    def __init_subclass__(cls, status: int = 500, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.shape, cls.status = cls.__name__, status

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


class ValidationException(BraketError, status=400): ...


class ServiceQuotaExceededException(BraketError, status=402): ...


class AccessDeniedException(BraketError, status=403): ...


class ResourceNotFoundException(BraketError, status=404): ...


class ConflictException(BraketError, status=409): ...


class DeviceRetiredException(BraketError, status=410): ...


class DeviceOfflineException(BraketError, status=424): ...


class ThrottlingException(BraketError, status=429): ...


class InternalServiceException(BraketError, status=500): ...
