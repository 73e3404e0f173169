"""A hybrid job's CloudWatch log lines and the metrics it logged, read as the SDK reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from airflow_provider_braket.jobs.errors import error_code
from airflow_provider_braket.jobs.logs import LOG_GROUP, LogCursor, StreamReader, log_stream_prefix
from airflow_provider_braket.jobs.metrics import parse_metrics


class JobLogsMixin:
    """The CloudWatch Logs side of :class:`~airflow_provider_braket.hooks.braket.BraketHook`."""

    if TYPE_CHECKING:
        logs_client: Any

        def _async_client(self, service: str) -> Any: ...

    def job_log_streams(self, job_name: str, job_arn: str) -> list[str]:
        """The job's CloudWatch log streams (one per instance), empty until it first logs."""
        prefix = log_stream_prefix(job_name, job_arn)
        try:
            pages = self.logs_client.get_paginator("describe_log_streams").paginate(
                logGroupName=LOG_GROUP, logStreamNamePrefix=prefix
            )
            return [stream["logStreamName"] for page in pages for stream in page["logStreams"]]
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return []
            raise

    def iter_log_events(
        self, job_name: str, job_arn: str, cursor: LogCursor | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(stream, event)`` for each log event of the job not yet seen by ``cursor``.

        ``cursor`` advances as events are yielded; pass the same one again to get only new events.
        """
        cursor = cursor if cursor is not None else LogCursor()
        for stream in self.job_log_streams(job_name, job_arn):
            reader = StreamReader(stream, cursor.position(stream))
            while not reader.done:
                for event in reader.take(self.logs_client.get_log_events(**reader.request)):
                    reader.position.passed(event)
                    yield stream, event

    async def iter_log_events_async(
        self,
        job_name: str,
        job_arn: str,
        cursor: LogCursor,
        client: Any,
        pace: Callable[[], Awaitable[None]] | None = None,
        streams: list[str] | None = None,
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Async :meth:`iter_log_events` on an aiobotocore ``logs`` client (:meth:`async_logs_client`).

        :param pace: Awaited before each CloudWatch Logs call, e.g. a rate budget shared by callers.
        :param streams: The job's streams, if the caller knows them: no DescribeLogStreams then.
        """
        pace = pace or _no_pace
        if streams is None:
            streams = await self._describe_job_streams(job_name, job_arn, client, pace)
        for stream in streams:
            reader = StreamReader(stream, cursor.position(stream))
            while not reader.done:
                await pace()
                for event in reader.take(await client.get_log_events(**reader.request)):
                    reader.position.passed(event)
                    yield stream, event

    async def _describe_job_streams(
        self, job_name: str, job_arn: str, client: Any, pace: Callable[[], Awaitable[None]]
    ) -> list[str]:
        streams: list[str] = []
        request: dict[str, Any] = {
            "logGroupName": LOG_GROUP,
            "logStreamNamePrefix": log_stream_prefix(job_name, job_arn),
        }
        try:
            while True:  # every page, as the sync paginator reads them
                await pace()
                answer = await client.describe_log_streams(**request)
                streams += [item["logStreamName"] for item in answer["logStreams"]]
                if not answer.get("nextToken"):
                    break
                request["nextToken"] = answer["nextToken"]
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return []
            raise
        return streams

    def async_logs_client(self) -> Any:
        """An aiobotocore ``logs`` client context manager on this connection."""
        return self._async_client("logs")

    parse_metrics = staticmethod(parse_metrics)

    def get_metrics(self, job_name: str, job_arn: str) -> list[dict[str, float]]:
        """Every ``log_metric`` record the job logged, in order (read from its log streams)."""
        return parse_metrics(event["message"] for _, event in self.iter_log_events(job_name, job_arn))


async def _no_pace() -> None:
    return None
