"""BraketHook: Amazon Braket Hybrid Jobs, their S3 files and CloudWatch logs, through one connection.

Point the connection's ``endpoint_url`` extra at the local Braket service and every client
(braket, s3, logs, iam, sts) goes there; leave it out and they go to AWS. No code path differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.common.compat.sdk import AirflowException
from botocore.config import Config
from botocore.exceptions import ClientError, NoRegionError

from airflow_provider_braket.hooks.connection import DEFAULT_CONN_ID, is_transient_error
from airflow_provider_braket.jobs.errors import error_code
from airflow_provider_braket.jobs.logs import LOG_GROUP, LogCursor, StreamReader, log_stream_prefix
from airflow_provider_braket.jobs.metrics import parse_metrics
from airflow_provider_braket.jobs.models import TERMINAL_STATUSES, CreateJobRequest, validate_create_job
from airflow_provider_braket.jobs.request import JobLocation
from airflow_provider_braket.jobs.results import (
    DEFAULT_MAX_RESULTS_BYTES,
    output_prefix,
    read_results_archive,
    results_key,
)
from airflow_provider_braket.jobs.s3uri import is_s3_uri, split_s3_uri
from airflow_provider_braket.jobs.source import pack_source_module
from airflow_provider_braket.pricing.job_cost import JobCost, job_cost
from airflow_provider_braket.pricing.price_list import PriceList, configured_price_list
from airflow_provider_braket.pricing.usage import TaskUsageReader
from airflow_provider_braket.utils.settings import braket_str
from airflow_provider_braket.utils.shielding import in_background, run_to_the_end

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper

__all__ = ["DEFAULT_CONN_ID", "BraketHook", "is_transient_error"]

JOBS_ROLE_ENV = "BRAKET_JOBS_ROLE_ARN"
JOBS_ROLE_EXTRA = "jobs_role_arn"
DEFAULT_JOBS_ROLE_PREFIX = "AmazonBraketJobsExecutionRole"
# Braket's API quotas are small (GetJob, SearchJobs: 5 requests/s per account); adaptive mode adds
# client-side rate limiting on top of standard retries when the service starts to throttle.
DEFAULT_RETRIES = {"mode": "adaptive", "max_attempts": 10}


class BraketHook(AwsBaseHook):
    """
    Interact with Amazon Braket Hybrid Jobs, and the S3 objects and log streams they use.

    Uses the standard AWS connection (``conn_type`` ``aws``, or ``braket`` which behaves the same).
    Its extra ``jobs_role_arn`` names the role jobs run with when an operator gives none.
    botocore retries throttling and 5xx answers in ``adaptive`` mode with 10 attempts unless the
    connection or ``config`` sets ``retries``.

    :param aws_conn_id: The Airflow connection; ``braket_default`` unless given. If it does not
        exist, boto3's default credential chain is used (on MWAA, the environment's role).
    :param region_name: AWS region; defaults to the connection's.
    :param verify: Whether to verify SSL certificates.
    :param config: botocore client configuration (``botocore.config.Config`` or a dict of its kwargs).
    """

    conn_type = "braket"
    hook_name = "Amazon Braket"
    default_conn_name = DEFAULT_CONN_ID

    def __init__(
        self,
        aws_conn_id: str | None = DEFAULT_CONN_ID,
        region_name: str | None = None,
        verify: bool | str | None = None,
        config: Config | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["client_type"] = "braket"
        super().__init__(
            aws_conn_id=aws_conn_id, region_name=region_name, verify=verify, config=config, **kwargs
        )

    @classmethod
    def get_connection(cls, conn_id: str) -> Any:
        # A "braket" connection is an AWS connection by another name; the wrapper warns on
        # any conn_type but "aws", so it is handed over as one.
        connection = super().get_connection(conn_id)
        if connection.conn_type == cls.conn_type:
            connection.conn_type = "aws"
        return connection

    @property
    def config(self) -> Config:
        config = super().config
        if config.retries is None:
            config = config.merge(Config(retries=DEFAULT_RETRIES))
        return config

    async def get_async_conn(self) -> Any:
        """An aiobotocore ``braket`` client context manager on this connection.

        The base hook reads the connection through asgiref's ``sync_to_async``, which would strip
        a trigger's cancel of its message (see :func:`~airflow_provider_braket.utils.shielding.in_thread`).
        """
        creating = in_background(super().get_async_conn())
        try:
            return await run_to_the_end(creating)
        except asyncio.CancelledError:
            creating.add_done_callback(_close_unused_client)
            raise

    def get_client_type(
        self, region_name: str | None = None, config: Config | None = None, deferrable: bool = False
    ) -> Any:
        try:
            return super().get_client_type(region_name=region_name, config=config, deferrable=deferrable)
        except NoRegionError:
            raise AirflowException(self._no_region_message()) from None

    def _no_region_message(self) -> str:
        """botocore's "You must specify a region", saying which connection and what to do."""
        name = self.aws_conn_id
        if name and not self.conn_config:  # the wrapper of a connection that was not found is falsy
            variable = f"AIRFLOW_CONN_{name.upper()}"
            return (
                f"No AWS region for Braket: the Airflow connection {name!r} does not exist. Create it "
                f"(in the UI, or as {variable}) with region_name in its extra, or pass region_name=."
            )
        return (
            f"No AWS region for Braket: the Airflow connection {name!r} has no region_name in its "
            "extra and none was passed; set one of them (or AWS_DEFAULT_REGION)."
        )

    # -- other services behind the same connection ------------------------------------------

    def _service_client(self, service: str) -> Any:
        wrapper: AwsConnectionWrapper = self.conn_config
        try:
            return self.get_session(region_name=self.region_name).client(
                service,
                endpoint_url=wrapper.get_service_endpoint_url(service_name=service),
                config=self._get_config(),
                verify=self.verify,
            )
        except NoRegionError:
            raise AirflowException(self._no_region_message()) from None

    def _async_client(self, service: str) -> Any:
        session = self.get_session(region_name=self.region_name, deferrable=True)
        return session.create_client(
            service,
            region_name=self.region_name,
            endpoint_url=self.conn_config.get_service_endpoint_url(service_name=service),
            config=self._get_config(),
            verify=self.verify,
        )

    @cached_property
    def s3_client(self) -> Any:
        return self._service_client("s3")

    @cached_property
    def logs_client(self) -> Any:
        return self._service_client("logs")

    # -- jobs ----------------------------------------------------------------------------------

    def create_job(self, request: dict[str, Any] | CreateJobRequest) -> str:
        """Create a hybrid job from a CreateJob request; return its ARN.

        A dict is checked against the API's rules first and sent only if it passes
        (:class:`~airflow_provider_braket.jobs.models.RequestValidationError` otherwise); a
        :class:`~airflow_provider_braket.jobs.models.CreateJobRequest` has been checked already.
        A request without ``clientToken`` gets a fresh one, so botocore's retries of this call
        never duplicate the job.
        """
        if isinstance(request, dict):
            request = validate_create_job({"clientToken": uuid.uuid4().hex, **request})
        wire = request.wire()
        response = self.conn.create_job(**wire)
        self.log.info("Created hybrid job %s (%s).", response["jobArn"], wire["jobName"])
        return response["jobArn"]

    def get_job(self, job_arn: str, queue_info: bool = True) -> dict[str, Any]:
        """GetJob, with the queue position unless ``queue_info`` is False."""
        extra = {"additionalAttributeNames": ["QueueInfo"]} if queue_info else {}
        return self.conn.get_job(jobArn=job_arn, **extra)

    def cancel_job(self, job_arn: str) -> str:
        """Cancel a job; return ``CANCELLING``/``CANCELLED``, or the status it already ended in."""
        try:
            status = self.conn.cancel_job(jobArn=job_arn)["cancellationStatus"]
        except ClientError as error:
            if not _may_have_ended(error):
                raise
            status = self.get_job(job_arn, queue_info=False)["status"]
            if status not in TERMINAL_STATUSES:
                raise
        self.log.info("Cancel of hybrid job %s: %s.", job_arn, status)
        return status

    def search_jobs(
        self, filters: list[dict[str, Any]] | None = None, page_size: int = 100
    ) -> list[dict[str, Any]]:
        """Every job summary matching ``filters`` (SearchJobs, all pages of ``page_size``)."""
        pages = self.conn.get_paginator("search_jobs").paginate(
            filters=filters or [], PaginationConfig={"PageSize": page_size}
        )
        return [job for page in pages for job in page["jobs"]]

    def get_device(self, device_arn: str) -> dict[str, Any]:
        return self.conn.get_device(deviceArn=device_arn)

    async def get_job_async(self, job_arn: str, client: Any = None) -> dict[str, Any]:
        """GetJob with the queue position, on ``client`` or a client of its own."""
        if client is None:
            async with await self.get_async_conn() as own_client:
                return await self.get_job_async(job_arn, own_client)
        return await client.get_job(jobArn=job_arn, additionalAttributeNames=["QueueInfo"])

    async def cancel_job_async(self, job_arn: str, client: Any = None) -> str:
        """Async :meth:`cancel_job`."""
        if client is None:
            async with await self.get_async_conn() as own_client:
                return await self.cancel_job_async(job_arn, own_client)
        try:
            status = (await client.cancel_job(jobArn=job_arn))["cancellationStatus"]
        except ClientError as error:
            if not _may_have_ended(error):
                raise
            status = (await client.get_job(jobArn=job_arn))["status"]
            if status not in TERMINAL_STATUSES:
                raise
        self.log.info("Cancel of hybrid job %s: %s.", job_arn, status)
        return status

    # -- where a job's files go ------------------------------------------------------------------

    def default_bucket(self) -> str:
        """``amazon-braket-<region>-<account>``, the SDK's default bucket, created if missing."""
        bucket = f"amazon-braket-{self.region_name}-{self.account_id}"
        try:
            self.s3_client.head_bucket(Bucket=bucket)
        except ClientError as error:
            if error_code(error) not in ("404", "NoSuchBucket", "NotFound"):
                raise
            self.log.info("Creating the default Braket bucket %s.", bucket)
            location = {} if self.region_name == "us-east-1" else {"LocationConstraint": self.region_name}
            self.s3_client.create_bucket(
                Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {})
            )
        return bucket

    def jobs_role_arn(self) -> str:
        """The role jobs run with: connection extra ``jobs_role_arn``, then ``BRAKET_JOBS_ROLE_ARN``,
        then the ``AmazonBraketJobsExecutionRole*`` role the Braket console creates (as the SDK does).
        """
        configured = self.conn_config.extra_config.get(JOBS_ROLE_EXTRA) or os.environ.get(JOBS_ROLE_ENV)
        if configured:
            return configured
        iam = self._service_client("iam")
        for page in iam.get_paginator("list_roles").paginate(PathPrefix="/service-role/"):
            for role in page["Roles"]:
                if role["RoleName"].startswith(DEFAULT_JOBS_ROLE_PREFIX):
                    return role["Arn"]
        raise ValueError(
            "role_arn: no execution role for the job. Pass role_arn, set the connection extra "
            f"{JOBS_ROLE_EXTRA!r} or {JOBS_ROLE_ENV}, or create {DEFAULT_JOBS_ROLE_PREFIX} "
            "in the Braket console"
        )

    def upload_source_module(self, source_module: str | Path, location: JobLocation) -> str:
        """Put the job's code at ``location.source_uri``, packed as the SDK packs it; return the URI.

        A local file or folder is tarred with its own name as the root; an ``s3://`` ``.tar.gz`` is
        copied there so the job runs a snapshot of it.
        """
        target_bucket, target_key = split_s3_uri(location.source_uri)
        if isinstance(source_module, str) and is_s3_uri(source_module):
            bucket, key = split_s3_uri(source_module)
            self.s3_client.copy_object(
                Bucket=target_bucket, Key=target_key, CopySource={"Bucket": bucket, "Key": key}
            )
        else:
            body = pack_source_module(Path(source_module))
            self.s3_client.put_object(Bucket=target_bucket, Key=target_key, Body=body)
        return location.source_uri

    def copy_checkpoints(self, from_job_arn: str, to_s3_uri: str) -> int:
        """Copy every checkpoint object of job ``from_job_arn`` under ``to_s3_uri`` (the SDK's
        ``copy_checkpoints_from_job``); return how many objects were copied."""
        source_uri = self.get_job(from_job_arn, queue_info=False)["checkpointConfig"]["s3Uri"]
        source_bucket, source_prefix = split_s3_uri(source_uri.rstrip("/") + "/")
        target_bucket, target_prefix = split_s3_uri(to_s3_uri.rstrip("/") + "/")
        copied = 0
        pages = self.s3_client.get_paginator("list_objects_v2").paginate(
            Bucket=source_bucket, Prefix=source_prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                relative = item["Key"][len(source_prefix) :]
                self.s3_client.copy_object(
                    Bucket=target_bucket,
                    Key=target_prefix + relative,
                    CopySource={"Bucket": source_bucket, "Key": item["Key"]},
                )
                copied += 1
        self.log.info("Copied %d checkpoint objects of %s to %s.", copied, from_job_arn, to_s3_uri)
        return copied

    def upload_input_data(self, local_path: str | Path, location: JobLocation, channel: str) -> str:
        """Upload a local file or folder as input channel ``channel``; return its S3 prefix.

        The prefix is ``<job prefix>/data/<channel>/<name>`` as the SDK makes it; a folder's files
        keep their paths below it.
        """
        path = Path(local_path)
        prefix = location.channel_uri(channel, path.name)
        bucket, key = split_s3_uri(prefix)
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            relative = "" if file == path else "/" + file.relative_to(path).as_posix()
            self.s3_client.upload_file(str(file), bucket, key + relative)
        return prefix

    def upload_output_files(self, output_s3_path: str, files: Iterable[str | Path]) -> list[str]:
        """Put files next to a job's results (``<outputS3Path>/output/<name>``); return their URIs.

        For what post-processing makes of a job, e.g. its convergence plot.
        """
        bucket, prefix = split_s3_uri(output_prefix(output_s3_path))
        uris = []
        for file in map(Path, files):
            self.s3_client.upload_file(str(file), bucket, prefix + file.name)
            uris.append(f"s3://{bucket}/{prefix}{file.name}")
        return uris

    # -- cost ------------------------------------------------------------------------------------

    def job_cost(
        self,
        job_arn: str,
        prices: PriceList | None = None,
        usage: TaskUsageReader | None = None,
    ) -> JobCost:
        """What the job has cost so far: its instance time plus its quantum tasks (docs/cost.md).

        :param prices: The price list; default ``[braket] price_list`` or the bundled snapshot.
        :param usage: A reader that remembers ended tasks, to pass again on the next call.
        """
        job = self.get_job(job_arn, queue_info=False)
        usage = usage or TaskUsageReader(self.conn, self.s3_client)
        tasks = usage.job_tasks(job_arn)
        cost = job_cost(
            prices or configured_price_list(braket_str("price_list")),
            job,
            tasks,
            braket_str("billable_duration_unit"),
        )
        cost.unpriced.extend(f"simulator time of task {arn}" for arn in sorted(usage.unreadable))
        return cost

    # -- results, logs and metrics ---------------------------------------------------------------

    def get_results(
        self,
        job: dict[str, Any],
        allow_pickle: bool = False,
        max_bytes: int = DEFAULT_MAX_RESULTS_BYTES,
    ) -> dict[str, Any] | None:
        """The result dictionary the job saved, or ``None`` if it saved none.

        The archive is streamed from S3, not downloaded whole.

        :param max_bytes: the largest results.json read; a larger one raises
            :class:`~airflow_provider_braket.jobs.results.ResultsTooLargeError`.
        """
        bucket, key = split_s3_uri(results_key(job["outputDataConfig"]["s3Path"]))
        try:
            body = self.s3_client.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as error:
            if error_code(error) in ("NoSuchKey", "404"):
                return None
            raise
        try:
            return read_results_archive(body, allow_pickle=allow_pickle, max_bytes=max_bytes)
        finally:
            body.close()

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
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Async :meth:`iter_log_events` on an aiobotocore ``logs`` client (:meth:`async_logs_client`).

        :param pace: Awaited before each CloudWatch Logs call, e.g. a rate budget shared by callers.
        """
        pace = pace or _no_pace
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
                return
            raise
        for stream in streams:
            reader = StreamReader(stream, cursor.position(stream))
            while not reader.done:
                await pace()
                for event in reader.take(await client.get_log_events(**reader.request)):
                    reader.position.passed(event)
                    yield stream, event

    def async_logs_client(self) -> Any:
        """An aiobotocore ``logs`` client context manager on this connection."""
        return self._async_client("logs")

    parse_metrics = staticmethod(parse_metrics)

    def get_metrics(self, job_name: str, job_arn: str) -> list[dict[str, float]]:
        """Every ``log_metric`` record the job logged, in order (read from its log streams)."""
        return parse_metrics(event["message"] for _, event in self.iter_log_events(job_name, job_arn))


def _close_unused_client(creating: asyncio.Future[Any]) -> None:
    """Open and close the client context made for a caller that was cancelled meanwhile: left
    unentered, its coroutine is never awaited and Python warns about it."""
    if creating.cancelled() or creating.exception() is not None:
        return

    async def open_and_close() -> None:
        with contextlib.suppress(Exception):
            async with creating.result():
                pass

    in_background(open_and_close())


def _may_have_ended(cancel_error: ClientError) -> bool:
    """Whether CancelJob's refusal may mean the job has ended already (then its status says)."""
    return error_code(cancel_error) in ("ConflictException", "ValidationException")


async def _no_pace() -> None:
    return None
