"""Turning a CreateHybridJobOperator's rendered arguments into a checked job, before any AWS call.

Everything a user can get wrong (job name, entry point, source path, input paths, config dicts,
hyperparameters) is checked here, so a bad argument fails the task with a message naming it and
no client is ever made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_braket.jobs.request import (
    HybridJobSpec,
    channel_configs,
    default_job_name,
    normalize_hyperparameters,
    normalize_input_data,
    to_api_dict,
)
from airflow_provider_braket.jobs.s3uri import is_s3_uri
from airflow_provider_braket.jobs.source import check_entry_point, check_s3_source_module, resolve_local_path
from airflow_provider_braket.sweeps.reporting import study_tags
from airflow_provider_braket.utils.masking import mask_secret_hyperparameters

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_braket.operators.braket import CreateHybridJobOperator
    from airflow_provider_braket.pricing.cost_limits import CostLimits
    from airflow_provider_braket.utils.identity import TaskIdentity


@dataclass(frozen=True)
class PreparedJob:
    """A checked job: its spec, where its code is, and which input channels are local paths.

    :param spec: The job's arguments, validated against the CreateJob model (with stand-ins for
        the bucket and role, which need AWS to look up).
    :param source: The source module: a resolved local path, or the ``s3://`` URI given.
    :param local_channels: Channel name to the local file or folder to upload for it.
    :param limits: The cost caps.
    """

    spec: HybridJobSpec
    source: Path | str
    local_channels: dict[str, str]
    limits: CostLimits


def prepare_job(
    operator: CreateHybridJobOperator, context: Context, identity: TaskIdentity, timestamp: str
) -> PreparedJob:
    """The operator's job, checked; raises ``RequestValidationError`` naming the bad argument.

    :param operator: The operator, its template fields rendered.
    :param context: The task's context (relative paths are looked up next to the DAG file).
    :param identity: The task instance; its tags go on the job.
    :param timestamp: Milliseconds since the epoch of the first submission of this try, which
        names the job's S3 prefix and its default name.
    """
    dag_folders = _dag_folders(context)
    source: Path | str
    if is_s3_uri(operator.source_module):
        source = operator.source_module
        entry_point = check_s3_source_module(operator.source_module, operator.entry_point)
    else:
        source = resolve_local_path(operator.source_module, dag_folders)
        entry_point = check_entry_point(source, operator.entry_point)
    channels = normalize_input_data(operator.input_data)
    hyperparameters = normalize_hyperparameters(operator.hyperparameters)
    # Registered with this worker's masker before anything could log them.
    mask_secret_hyperparameters(hyperparameters)
    spec = HybridJobSpec(
        device=operator.device,
        entry_point=entry_point,
        job_name=operator.job_name or default_job_name(operator.task_id, timestamp, identity.map_index),
        role_arn=operator.role_arn,
        image_uri=operator.image_uri,
        hyperparameters=hyperparameters,
        input_channels=channel_configs(channels, {}),
        instance_config=to_api_dict(operator.instance_config, "instance_config"),
        checkpoint_config=to_api_dict(operator.checkpoint_config, "checkpoint_config"),
        output_data_config=to_api_dict(operator.output_data_config, "output_data_config"),
        stopping_condition=to_api_dict(operator.stopping_condition, "stopping_condition"),
        # The task's identity wins over a user's tag of the same key: retries rely on it.
        tags={**_tags(operator.tags), **study_tags(operator.study_trial), **identity.tags()},
        reservation_arn=operator.reservation_arn,
        create_job_kwargs=to_api_dict(operator.create_job_kwargs, "create_job_kwargs"),
        code_location=operator.code_location,
        distribution=operator.distribution,
    )
    spec.validate()
    # Imported here, not at module level: DAG files import the operator, and parsing needs no prices.
    from airflow_provider_braket.pricing.cost_limits import CostLimits

    limits = CostLimits.of(operator.max_cost, operator.run_budget, operator.monthly_budget)
    return PreparedJob(spec, source, _local_channels(channels, dag_folders), limits)


def _local_channels(channels: dict[str, Any], dag_folders: list[Path]) -> dict[str, str]:
    return {
        name: str(resolve_local_path(location, dag_folders, f"input_data[{name!r}]"))
        for name, location in channels.items()
        if isinstance(location, str) and not is_s3_uri(location)
    }


def _tags(tags: Any) -> dict[str, str]:
    return to_api_dict(tags, "tags")


def _dag_folders(context: Context) -> list[Path]:
    fileloc = getattr(context.get("dag"), "fileloc", None)
    return [Path(fileloc).parent] if fileloc else []
