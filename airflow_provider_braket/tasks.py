"""What every Braket task shares: its connection arguments, its hook, and cancel on kill."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import conf

from airflow_provider_braket.connection import DEFAULT_CONN_ID
from airflow_provider_braket.jobs.results import results_key
from airflow_provider_braket.version_compat import MIN_DEFERRAL_SECONDS

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.links.base_aws import BaseAwsLink
    from airflow.sdk import Context

    from airflow_provider_braket.hooks.braket import BraketHook


class BraketTaskMixin:
    """
    Connection arguments, a :class:`BraketHook`, and ``on_kill`` that cancels the watched job.

    ``on_kill`` runs in the worker when a running task is killed (marked failed or success,
    cleared, or timed out). A deferred task has no worker process: its trigger cancels instead
    (see ``JobStatusTrigger``). Both go through the hook's cancel, which accepts a job that
    already ended.
    """

    job_arn_to_cancel: str | None = None
    cancel_on_kill: bool = True

    def init_aws(
        self,
        aws_conn_id: str | None = DEFAULT_CONN_ID,
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
    ) -> None:
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    @cached_property
    def hook(self) -> BraketHook:
        # Imported here: the hook brings boto3 and AwsBaseHook, which DAG parsing need not pay for.
        from airflow_provider_braket.hooks.braket import BraketHook

        return BraketHook(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=self.botocore_config,
        )

    @staticmethod
    def min_deferral_seconds() -> float:
        """How long a deferral lasts at least (``[braket] min_deferral_seconds``)."""
        return conf.getfloat("braket", "min_deferral_seconds", fallback=MIN_DEFERRAL_SECONDS)

    def resume_not_before(self) -> float:
        """Epoch seconds before which a trigger deferred now must not fire."""
        return time.time() + self.min_deferral_seconds()

    def trigger_connection_kwargs(self) -> dict[str, Any]:
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "botocore_config": self.botocore_config,
        }

    def persist_links(self, context: Context, links: Sequence[type[BaseAwsLink]], **fields: str) -> None:
        """Store what the console links of this task need (region, partition, job) in XCom."""
        for link in links:
            link.persist(
                context=context,
                operator=self,
                region_name=self.hook.conn_region_name,
                aws_partition=self.hook.conn_partition,
                **fields,
            )

    def on_kill(self) -> None:
        job_arn = self.job_arn_to_cancel
        if not job_arn:
            return
        if not self.cancel_on_kill:
            self.hook.log.info("cancel_on_kill is off; hybrid job %s keeps running.", job_arn)
            return
        self.hook.log.info("Task killed; cancelling hybrid job %s.", job_arn)
        self.hook.cancel_job(job_arn)


def job_summary(job: dict[str, Any]) -> dict[str, Any]:
    """The XCom a task returns for a GetJob answer; results and metrics are filled in on success."""
    return {
        "jobArn": job["jobArn"],
        "jobName": job["jobName"],
        "status": job["status"],
        "results": None,
        "metrics": {},
        "metricSeries": {},
        "billableDuration": job.get("billableDuration"),
        "outputS3Path": job["outputDataConfig"]["s3Path"],
        "resultsUri": results_key(job["outputDataConfig"]["s3Path"]),
    }
