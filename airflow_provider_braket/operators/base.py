"""What every Braket task shares: its connection arguments, its hook, and cancel on kill.

:class:`BraketBaseOperator` and :class:`BraketBaseSensor` are the bases of the Braket operators and
the sensor, after the amazon provider's ``AwsBaseOperator`` and ``AwsBaseSensor``: each declares
the connection arguments once (Airflow checks ``partial``/``expand`` arguments against the
``__init__`` of each ``BaseOperator`` class in the MRO, so they cannot live on a mixin), and
:func:`braket_template_fields` adds the connection's fields to a task's own.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowException,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    conf,
)

from airflow_provider_braket.hooks.connection import (
    DEFAULT_CONN_ID,
    LOOPBACK_WAITER_DELAY,
    ConnectionParams,
    unreachable_endpoint,
)
from airflow_provider_braket.jobs.endpoints import is_aws_endpoint, is_loopback_endpoint
from airflow_provider_braket.jobs.progress import created_epoch
from airflow_provider_braket.links.braket import BraketJobLink
from airflow_provider_braket.triggers.braket import JobStatusTrigger
from airflow_provider_braket.utils.masking import secret_names
from airflow_provider_braket.utils.settings import braket_float

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

    def connection_params(self) -> ConnectionParams:
        """This task's connection arguments, as rendered (they are templated)."""
        return ConnectionParams.of(self.aws_conn_id, self.region_name, self.verify, self.botocore_config)

    @cached_property
    def hook(self) -> BraketHook:
        return self.connection_params().make_hook()

    @staticmethod
    def min_deferral_seconds() -> float:
        """How long a deferral lasts at least (``[braket] min_deferral_seconds``)."""
        return braket_float("min_deferral_seconds")

    def resume_not_before(self) -> float:
        """Epoch seconds before which a trigger deferred now must not fire."""
        return time.time() + self.min_deferral_seconds()

    def trigger_connection_kwargs(self) -> dict[str, Any]:
        return self.connection_params().as_kwargs()

    def status_trigger(
        self,
        job: dict[str, Any],
        waiter_delay: float,
        timeout_at: float | None,
        *,
        cancel_on_kill: bool,
        forward_logs: bool,
        timeout_reason: str = "timeout_at",
        **caps: Any,
    ) -> JobStatusTrigger:
        """The trigger every deferrable Braket task waits on until ``job`` ends (or ``timeout_at``)."""
        return JobStatusTrigger(
            job_arn=job["jobArn"],
            job_name=job["jobName"],
            waiter_delay=waiter_delay,
            created_at=created_epoch(job),
            timeout_at=timeout_at,
            timeout_reason=timeout_reason,
            not_before=self.resume_not_before(),
            cancel_on_kill=cancel_on_kill,
            forward_logs=forward_logs,
            secret_hyperparameters=secret_names(job) if forward_logs else None,
            **caps,
            **self.trigger_connection_kwargs(),
        )

    waiter_delay_given: bool = True

    def configured_waiter_delay(self, given: float | None) -> float:
        """``given``, else ``[braket] waiter_delay``; remembers which, for :meth:`adapt_waiter_delay`."""
        self.waiter_delay_given = given is not None
        if given is not None:
            return float(given)
        return braket_float("waiter_delay")

    def adapt_waiter_delay(self, delay: float) -> float:
        """A delay the user did not give, shortened against a loopback endpoint (the local service)."""
        if self.waiter_delay_given or not is_loopback_endpoint(self.braket_endpoint()):
            return delay
        return min(delay, LOOPBACK_WAITER_DELAY)

    def braket_endpoint(self) -> str | None:
        return self.hook.conn_config.get_service_endpoint_url(service_name="braket")

    def check_endpoint(self) -> None:
        """Fail at once, naming the endpoint (and how to start the local service), if the
        connection's custom endpoint does not answer; a task would otherwise retry for a minute."""
        reason = unreachable_endpoint(self.braket_endpoint())
        if reason:
            raise AirflowException(f"Airflow connection {self.aws_conn_id!r}: {reason}")

    def reserve_links(self, context: Context, links: Sequence[type[BaseAwsLink]]) -> None:
        """Empty link XComs at the start of a try: Airflow reads every link's XCom when a task
        ends, and an absent one is logged at error level (``XCom not found``) although a task
        that failed before creating a job has, rightly, no link."""
        push = getattr(context.get("ti"), "xcom_push", None)
        if push is None or not self.do_xcom_push:  # type: ignore[attr-defined]
            return
        for link in links:
            push(key=link.key, value={})

    def push_job_keys(self, context: Context, job_arn: str, job_name: str) -> None:
        """``jobArn`` and ``jobName`` as XComs of their own as soon as the job exists, so that
        ``task.output["jobArn"]`` feeds a sensor or another task (while the job still runs, too)."""
        push = getattr(context.get("ti"), "xcom_push", None)
        if push is None or not self.do_xcom_push:  # type: ignore[attr-defined]
            return
        push(key="jobArn", value=job_arn)
        push(key="jobName", value=job_name)

    def start_log_cursor(self, context: Context, job_arn: str) -> None:
        """Write the trigger's log cursor before deferring, so that the trigger finds one (an
        absent XCom is logged at error level) and forwards the job's log lines from the start."""
        from airflow_provider_braket.triggers.task_instance import LOG_CURSOR_XCOM_KEY

        push = getattr(context.get("ti"), "xcom_push", None)
        if push is not None:
            push(key=LOG_CURSOR_XCOM_KEY, value={"jobArn": job_arn, "positions": {}})

    def persist_links(self, context: Context, links: Sequence[type[BaseAwsLink]], **fields: str) -> None:
        """Store what the console links of this task need (region, partition, job) in XCom.

        A job of another Braket than AWS's (the local service) has no console page: its links
        know so (``console=False``) and open the job in Airflow's Braket Jobs page instead.
        """
        for link in links:
            link.persist(
                context=context,
                operator=self,
                region_name=self.hook.conn_region_name,
                aws_partition=self.hook.conn_partition,
                console=is_aws_endpoint(self.braket_endpoint()),
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


def braket_template_fields(*fields: str) -> tuple[str, ...]:
    """A Braket task's template fields: its own, then the connection's (as ``aws_template_fields``)."""
    return (*fields, "aws_conn_id", "region_name", "verify")


class BraketBaseOperator(BraketTaskMixin, BaseOperator):
    """
    Base of the Braket operators and sensors: the connection arguments, the hook, deferral.

    :param deferrable: Wait in the triggerer. Default: ``[operators] default_deferrable``.
    :param aws_conn_id: Airflow connection, ``braket_default`` unless given (templated).
    :param region_name: AWS region, if not the connection's (templated).
    :param verify: Whether to verify SSL certificates, or a CA bundle's path (templated).
    :param botocore_config: botocore client configuration as a dict.
    """

    ui_color = "#a166ff"
    #: Every Braket task links to its job in the Braket console.
    operator_extra_links: tuple[BaseOperatorLink, ...] = (BraketJobLink(),)

    def __init__(
        self,
        *,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        aws_conn_id: str | None = DEFAULT_CONN_ID,
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.init_aws(aws_conn_id, region_name, verify, botocore_config)


class BraketBaseSensor(BraketBaseOperator, BaseSensorOperator):
    """
    Base of the Braket sensors: :class:`BraketBaseOperator`'s arguments on a ``BaseSensorOperator``.

    The connection arguments are declared on :class:`BraketBaseOperator` alone: in this class's
    method order its ``__init__`` comes first and hands the rest (``poke_interval``, ``timeout``,
    ``mode``, ...) on to ``BaseSensorOperator``.
    """
