"""Console links on a hybrid job task: the job in the Braket console and its CloudWatch log streams."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink

from airflow_provider_braket.jobs.logs import LOG_GROUP, log_stream_prefix
from airflow_provider_braket.version_compat import AIRFLOW_V_3_1_PLUS


def _console_fragment(value: str) -> str:
    # The CloudWatch console's hash route escapes twice, writing "%" as "$25".
    return quote(quote(value, safe=""), safe="").replace("%", "$")


#: The job in Airflow's own Braket Jobs page (:mod:`airflow_provider_braket.ui`), relative to Airflow:
#: the server-rendered page of Airflow 3.0.
AIRFLOW_JOB_PAGE = "/braket/jobs?job={job_arn}"
#: The task instance's "Braket Job" tab (Airflow >= 3.1), relative to Airflow's UI.
TASK_INSTANCE_TAB = "/dags/{dag_id}/runs/{run_id}/tasks/{task_id}{mapped}/plugin/braket-job"


class BraketJobLink(BaseAwsLink):
    """The hybrid job's page in the Amazon Braket console; for a job of another Braket than AWS's
    (the local service), the task instance's "Braket Job" tab in Airflow's UI (on Airflow 3.0, the
    job in the Braket Jobs page)."""

    name = "Braket Hybrid Job"
    key = "braket_hybrid_job"
    format_str = BASE_AWS_CONSOLE_LINK + "/braket/home?region={region_name}#/jobs/{job_arn}"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        link = super().get_link(operator, ti_key=ti_key)
        if link.startswith(AIRFLOW_JOB_PAGE.split("?")[0]) and AIRFLOW_V_3_1_PLUS:
            return task_instance_tab(ti_key)
        return link

    def format_link(self, **kwargs: Any) -> str:
        if "job_arn" not in kwargs:
            return ""
        job_arn = quote(kwargs["job_arn"], safe="")
        if kwargs.get("console") is False:
            return AIRFLOW_JOB_PAGE.format(job_arn=job_arn)
        return super().format_link(**{**kwargs, "job_arn": job_arn})


def task_instance_tab(ti_key: Any) -> str:
    """Where Airflow's UI shows a task instance's job: its "Braket Job" tab."""
    return TASK_INSTANCE_TAB.format(
        dag_id=quote(ti_key.dag_id, safe=""),
        run_id=quote(ti_key.run_id, safe=""),
        task_id=quote(ti_key.task_id, safe=""),
        mapped=f"/mapped/{ti_key.map_index}" if ti_key.map_index >= 0 else "",
    )


class BraketJobLogsLink(BaseAwsLink):
    """The job's log streams in CloudWatch Logs (``/aws/braket/jobs``, prefix ``<name>/<id>/``)."""

    name = "Braket Job Logs"
    key = "braket_job_logs"
    format_str = (
        BASE_AWS_CONSOLE_LINK
        + "/cloudwatch/home?region={region_name}#logsV2:log-groups/log-group/{log_group}"
        + "$3FlogStreamNameFilter$3D{stream_prefix}"
    )

    def format_link(self, **kwargs: Any) -> str:
        # A job of the local service has no CloudWatch console: the link is hidden (its lines are
        # in the task log, forwarded).
        if "job_arn" not in kwargs or "job_name" not in kwargs or kwargs.get("console") is False:
            return ""
        prefix = log_stream_prefix(kwargs["job_name"], kwargs["job_arn"])
        return super().format_link(
            **kwargs, log_group=_console_fragment(LOG_GROUP), stream_prefix=_console_fragment(prefix)
        )
