"""BraketHook: Amazon Braket Hybrid Jobs, their S3 files and CloudWatch logs, through one connection.

Point the connection's ``endpoint_url`` extra at the local Braket service and every client
(braket, s3, logs, iam, sts) goes there; leave it out and they go to AWS. No code path differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.common.compat.sdk import AirflowException
from botocore.config import Config
from botocore.exceptions import ClientError, NoRegionError

from airflow_provider_braket.hooks.connection import DEFAULT_CONN_ID, is_transient_error
from airflow_provider_braket.hooks.job_files import JobFilesMixin
from airflow_provider_braket.hooks.job_logs import JobLogsMixin
from airflow_provider_braket.jobs.errors import error_code
from airflow_provider_braket.jobs.models import TERMINAL_STATUSES, CreateJobRequest, validate_create_job
from airflow_provider_braket.pricing.job_cost import JobCost, job_cost
from airflow_provider_braket.pricing.price_list import PriceList, configured_price_list
from airflow_provider_braket.pricing.quantum_task_usage import QuantumTaskUsageReader
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


class BraketHook(JobFilesMixin, JobLogsMixin, AwsBaseHook):
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
        self.check_connection_exists()
        try:
            return super().get_client_type(region_name=region_name, config=config, deferrable=deferrable)
        except NoRegionError:
            raise AirflowException(self._no_region_message()) from None

    def check_connection_exists(self) -> None:
        """Fail, naming the connection and how to create it, when ``aws_conn_id`` names none.

        The amazon provider only warns ("switching to empty") and goes on with boto3's own
        credential chain: a typo (``braket_defualt``) then fails with NoCredentialsError, or,
        where the machine has credentials of its own, quietly uses them. The default name may be
        absent (boto3's chain is then what is meant), and ``aws_conn_id=None`` asks for it.
        """
        name = self.aws_conn_id
        if name is None or name == DEFAULT_CONN_ID or self.conn_config:
            return
        raise AirflowException(
            f"aws_conn_id: the Airflow connection {name!r} does not exist. Create it (in the UI, with "
            f"`airflow connections add {name} --conn-type aws ...`, or as AIRFLOW_CONN_{name.upper()}), "
            "or pass aws_conn_id=None to use boto3's own credentials (docs/connecting-aws.md)"
        )

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
        self.check_connection_exists()
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
        self.check_connection_exists()
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

    # -- cost ------------------------------------------------------------------------------------

    def job_cost(
        self,
        job_arn: str,
        prices: PriceList | None = None,
        usage: QuantumTaskUsageReader | None = None,
    ) -> JobCost:
        """What the job has cost so far: its instance time plus its quantum tasks (docs/cost.md).

        :param prices: The price list; default ``[braket] price_list`` or the bundled snapshot.
        :param usage: A reader that remembers ended tasks, to pass again on the next call.
        """
        job = self.get_job(job_arn, queue_info=False)
        usage = usage or QuantumTaskUsageReader(self.conn, self.s3_client)
        tasks = usage.job_quantum_tasks(job_arn)
        cost = job_cost(
            prices or configured_price_list(braket_str("price_list")),
            job,
            tasks,
            braket_str("billable_duration_unit"),
        )
        cost.unpriced.extend(f"simulator time of task {arn}" for arn in sorted(usage.unreadable))
        return cost


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
