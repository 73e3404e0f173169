"""The connection Braket tasks, triggers and the hook use by default, and which failures of a call
through it pass.

Kept apart from the hook so that a module a DAG file imports (operators, sensors, triggers) can
name them without importing the amazon provider's AwsBaseHook, boto3 and botocore's clients: the
hook loads when a task runs.
"""

from __future__ import annotations

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

DEFAULT_CONN_ID = "braket_default"
# What botocore's standard retry mode treats as passing (its throttling and transient lists); a
# waiter that still sees one after botocore gave up waits longer instead of failing the task.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "InternalServiceException",
        "InternalServerException",
        "ServiceUnavailable",
    }
)


def is_transient_error(error: BaseException) -> bool:
    """Throttling, a 5xx answer or a lost connection: worth waiting out rather than failing on."""
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error.response.get("Error", {}).get("Code") in TRANSIENT_ERROR_CODES or status in (
            429,
            500,
            502,
            503,
            504,
        )
    return isinstance(error, BotocoreConnectionError | HTTPClientError | TimeoutError)
