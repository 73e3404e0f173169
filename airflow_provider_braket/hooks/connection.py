"""The connection Braket tasks, triggers and the hook use by default, and which failures of a call
through it pass.

Kept apart from the hook so that a module a DAG file imports (operators, sensors, triggers) can
name them without importing the amazon provider's AwsBaseHook, boto3 and botocore's clients: the
hook loads when a task runs.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from airflow_provider_braket.jobs.endpoints import is_loopback
from airflow_provider_braket.jobs.errors import error_code

if TYPE_CHECKING:
    from airflow_provider_braket.hooks.braket import BraketHook

DEFAULT_CONN_ID = "braket_default"
ENDPOINT_CHECK_SECONDS = 5.0
# Against a loopback endpoint (the local service) jobs take seconds, not minutes: a delay the
# user did not set is this short there.
LOOPBACK_WAITER_DELAY = 2.0
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
        return error_code(error) in TRANSIENT_ERROR_CODES or status in (
            429,
            500,
            502,
            503,
            504,
        )
    return isinstance(error, BotocoreConnectionError | HTTPClientError | TimeoutError)


def unreachable_endpoint(endpoint_url: str | None, timeout: float = ENDPOINT_CHECK_SECONDS) -> str | None:
    """Why a custom endpoint (the local service, a VPC endpoint) cannot be reached, or None.

    botocore would retry a refused or silent endpoint for about a minute before saying so; one
    TCP connect says it in seconds. AWS's own endpoints (no ``endpoint_url``) are not checked.
    """
    if not endpoint_url:
        return None
    parsed = urlsplit(endpoint_url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        reason = f"cannot reach the Braket endpoint {endpoint_url} ({error.strerror or error})"
        if is_loopback(host):
            reason += (
                f"; is the local Braket service running? Start it with: braket-local serve --port {port}"
            )
        return reason
    return None


@dataclass(frozen=True)
class ConnectionParams:
    """Which endpoint and credentials a task, trigger, poller or page reads through.

    One value for all of them: tasks hand it to their triggers (as keyword arguments, which
    survive serialisation), triggers with equal values share one poller (it hashes: the botocore
    config is kept as canonical JSON), and each makes its hook from it.
    """

    aws_conn_id: str | None = DEFAULT_CONN_ID
    region_name: str | None = None
    verify: bool | str | None = None
    botocore_config: str = "{}"

    @classmethod
    def of(
        cls,
        aws_conn_id: str | None = DEFAULT_CONN_ID,
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
    ) -> ConnectionParams:
        return cls(aws_conn_id, region_name, verify, json.dumps(botocore_config or {}, sort_keys=True))

    @property
    def config(self) -> dict[str, Any] | None:
        return json.loads(self.botocore_config) or None

    def as_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of a trigger or operator that carry these parameters."""
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "botocore_config": self.config,
        }

    def make_hook(self) -> BraketHook:
        # Imported here: the hook brings boto3 and AwsBaseHook, which DAG parsing need not pay for.
        from airflow_provider_braket.hooks.braket import BraketHook

        return BraketHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify, config=self.config
        )
