"""A CreateJob request built from the arguments a Braket SDK user knows from ``AwsQuantumJob.create``.

:class:`HybridJobSpec` holds those arguments; :meth:`HybridJobSpec.request` turns them into the
API request, and :meth:`HybridJobSpec.validate` checks the whole request against the shared
model before anything is uploaded or created. Errors name the argument the user wrote
(``job_name``), with the API field in brackets (``jobName``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_braket.jobs.aws_devices import check_managed_simulator
from airflow_provider_braket.jobs.local_devices import check_local_device
from airflow_provider_braket.jobs.models import (
    MAX_HYPERPARAMETERS,
    MAX_RUNTIME_SECONDS,
    CreateJobRequest,
    RequestValidationError,
    validate_create_job,
)
from airflow_provider_braket.jobs.s3uri import is_s3_uri
from airflow_provider_braket.jobs.source import SOURCE_ARCHIVE

DEFAULT_INSTANCE_CONFIG = {"instanceType": "ml.m5.large", "volumeSizeInGb": 30, "instanceCount": 1}
DEFAULT_CHECKPOINT_LOCAL_PATH = "/opt/jobs/checkpoints"
JOB_NAME_MAX = 50
# Stand-ins used only to validate a request before the bucket and role are looked up.
PLACEHOLDER_BUCKET = "amazon-braket-validation-placeholder"
PLACEHOLDER_ROLE_ARN = "arn:aws:iam::000000000000:role/placeholder"

ARGUMENT_OF_FIELD = {
    "jobName": "job_name",
    "roleArn": "role_arn",
    "hyperParameters": "hyperparameters",
    "instanceConfig": "instance_config",
    "deviceConfig": "device",
    "tags": "tags",
    "inputDataConfig": "input_data",
    "checkpointConfig": "checkpoint_config",
    "outputDataConfig": "output_data_config",
    "stoppingCondition": "stopping_condition",
    "associations": "reservation_arn",
    "algorithmSpecification.scriptModeConfig.entryPoint": "entry_point",
    "algorithmSpecification.containerImage": "image_uri",
}
_SCALARS = (str, int, float, bool)


@dataclass
class JobLocation:
    """The S3 prefix the SDK gives one job: ``s3://<bucket>/jobs/<name>/<timestamp-ms>``.

    :param code_location: The SDK's ``code_location``: where the code goes instead of
        ``<prefix>/script``.
    """

    bucket: str
    job_name: str
    timestamp: str
    code_location: str | None = None

    def uri(self, *parts: str) -> str:
        return "/".join([f"s3://{self.bucket}/jobs/{self.job_name}/{self.timestamp}", *parts])

    @property
    def source_uri(self) -> str:
        if self.code_location:
            return f"{self.code_location.rstrip('/')}/{SOURCE_ARCHIVE}"
        return self.uri("script", SOURCE_ARCHIVE)

    def channel_uri(self, channel: str, name: str) -> str:
        return self.uri("data", channel, name)


@dataclass(frozen=True)
class HybridJobSpec:
    """What a hybrid job needs, in the Braket SDK's terms. See the operator for each argument.

    Immutable: checked once (:meth:`validate`) before anything is uploaded, and what differs
    later (the S3 prefixes local input data went to) makes a new spec.
    """

    device: str
    entry_point: str
    job_name: str
    role_arn: str | None = None
    image_uri: str | None = None
    hyperparameters: dict[str, str] = field(default_factory=dict)
    # channel name -> S3 URI (local channels are replaced by their upload URI before the request)
    input_channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    instance_config: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_INSTANCE_CONFIG))
    checkpoint_config: dict[str, Any] = field(default_factory=dict)
    output_data_config: dict[str, Any] = field(default_factory=dict)
    stopping_condition: dict[str, Any] = field(
        default_factory=lambda: {"maxRuntimeInSeconds": MAX_RUNTIME_SECONDS}
    )
    tags: dict[str, str] = field(default_factory=dict)
    reservation_arn: str | None = None
    create_job_kwargs: dict[str, Any] = field(default_factory=dict)
    code_location: str | None = None
    distribution: str | None = None

    def __post_init__(self) -> None:
        if self.code_location is not None and not is_s3_uri(self.code_location):
            raise RequestValidationError(
                "code_location: must be an s3:// prefix",
                [("code_location", "must be an s3:// prefix")],
            )
        if self.distribution not in (None, "data_parallel"):
            raise RequestValidationError(
                "distribution: the only distribution the SDK knows is 'data_parallel'",
                [("distribution", "must be None or 'data_parallel'")],
            )

    def request(self, location: JobLocation, role_arn: str, client_token: str) -> dict[str, Any]:
        """The CreateJob request, with SDK defaults filled in under ``location``."""
        script: dict[str, Any] = {
            "entryPoint": self.entry_point,
            "s3Uri": location.source_uri,
            "compressionType": "GZIP",
        }
        algorithm: dict[str, Any] = {"scriptModeConfig": script}
        if self.image_uri:
            algorithm["containerImage"] = {"uri": self.image_uri}
        request: dict[str, Any] = {
            "clientToken": client_token,
            "jobName": self.job_name,
            "roleArn": role_arn,
            "algorithmSpecification": algorithm,
            "instanceConfig": {**DEFAULT_INSTANCE_CONFIG, **self.instance_config},
            "outputDataConfig": {"s3Path": location.uri("data"), **self.output_data_config},
            "checkpointConfig": {
                "localPath": DEFAULT_CHECKPOINT_LOCAL_PATH,
                "s3Uri": location.uri("checkpoints"),
                **self.checkpoint_config,
            },
            "deviceConfig": {"device": self.device},
            "hyperParameters": {**self.hyperparameters, **self._distribution_hyperparameters()},
            "stoppingCondition": dict(self.stopping_condition),
            "tags": dict(self.tags),
        }
        if self.input_channels:
            request["inputDataConfig"] = [
                {"channelName": name, **config} for name, config in self.input_channels.items()
            ]
        if self.reservation_arn:
            request["associations"] = [{"arn": self.reservation_arn, "type": "RESERVATION_TIME_WINDOW_ARN"}]
        request.update(self.create_job_kwargs)
        return request

    def _distribution_hyperparameters(self) -> dict[str, str]:
        """What the SDK adds for ``distribution="data_parallel"`` (SageMaker's data parallelism)."""
        if self.distribution != "data_parallel":
            return {}
        instance_type = {**DEFAULT_INSTANCE_CONFIG, **self.instance_config}["instanceType"]
        return {
            "sagemaker_distributed_dataparallel_enabled": "true",
            "sagemaker_instance_type": instance_type,
        }

    def validate(self) -> CreateJobRequest:
        """Check the request this spec makes, with stand-ins for what needs AWS to look up."""
        check_local_device(self.device)
        check_managed_simulator(self.device)
        location = JobLocation(PLACEHOLDER_BUCKET, self.job_name, "0", self.code_location)
        request = self.request(location, self.role_arn or PLACEHOLDER_ROLE_ARN, client_token="validation")
        return validate_for_arguments(request)


def validate_for_arguments(request: dict[str, Any]) -> CreateJobRequest:
    """:func:`validate_create_job`, with each error naming the operator argument first."""
    try:
        return validate_create_job(request)
    except RequestValidationError as error:
        problems = [(argument_for(path), rule) for path, rule in error.errors]
        detail = "; ".join(f"{name}: {rule}" for name, rule in problems) or str(error)
        raise RequestValidationError(f"invalid hybrid job arguments: {detail}", problems) from None


def argument_for(field_path: str) -> str:
    """``job_name (jobName)`` for an API field path the user set through an operator argument."""
    for api_field, argument in sorted(ARGUMENT_OF_FIELD.items(), key=lambda item: -len(item[0])):
        if field_path == api_field or field_path.startswith((f"{api_field}.", f"{api_field}[")):
            return f"{argument} ({field_path})"
    return field_path


def to_api_dict(value: Any, argument: str) -> dict[str, Any]:
    """Accept an API-shaped dict, the SDK's config dataclass (``braket.jobs.config``), or a JSON
    object as a string (what Jinja renders a dict to, unless the DAG renders native objects)."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise RequestValidationError(
                f"{argument}: a string must be a JSON object (a rendered template); this one is not JSON",
                [(argument, "must be a dict, a braket.jobs.config object or a JSON object")],
            ) from None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
    if isinstance(value, dict):
        return dict(value)
    raise RequestValidationError(
        f"{argument}: must be a dict or a braket.jobs.config object (got {type(value).__name__})",
        [(argument, "must be a dict or a braket.jobs.config object")],
    )


def normalize_hyperparameters(hyperparameters: dict[str, Any] | None) -> dict[str, str]:
    """Stringify hyperparameters the way the SDK does, refusing what ``str()`` would mangle.

    The API takes strings only; the SDK calls ``str()`` on every value, which turns a list into
    its Python repr. Scalars are stringified; lists, dicts and None are refused with a hint.
    """
    hyperparameters = hyperparameters or {}
    if not isinstance(hyperparameters, dict):
        raise RequestValidationError(
            f"hyperparameters: must be a dict (got {type(hyperparameters).__name__})",
            [("hyperparameters", "must be a dict of name -> str/int/float/bool")],
        )
    if len(hyperparameters) > MAX_HYPERPARAMETERS:
        raise RequestValidationError(
            f"hyperparameters: at most {MAX_HYPERPARAMETERS} are allowed (got {len(hyperparameters)})",
            [("hyperparameters", f"at most {MAX_HYPERPARAMETERS} entries")],
        )
    problems = [
        (f"hyperparameters[{name!r}]", f"must be a str, int, float or bool (got {type(value).__name__})")
        for name, value in hyperparameters.items()
        if not isinstance(value, _SCALARS)
    ]
    if problems:
        detail = "; ".join(f"{path}: {rule}" for path, rule in problems)
        raise RequestValidationError(
            f"{detail}; serialise structured values yourself, e.g. json.dumps(value)", problems
        )
    return {str(name): str(value) for name, value in hyperparameters.items()}


def normalize_input_data(input_data: Any) -> dict[str, Any]:
    """``input_data`` as the SDK takes it, as channel name -> location (str) or API config dict.

    A single location becomes the channel ``input``; an ``S3DataSourceConfig`` gives its
    ``config``; a local path stays a str until it is uploaded.
    """
    if input_data is None or input_data == {}:
        return {}
    channels = input_data if isinstance(input_data, dict) else {"input": input_data}
    normalized: dict[str, Any] = {}
    for name, location in channels.items():
        if isinstance(location, str) and location.strip():
            normalized[str(name)] = location
        elif isinstance(getattr(location, "config", None), dict):
            normalized[str(name)] = dict(location.config)
        elif isinstance(location, dict) and "dataSource" in location:
            normalized[str(name)] = dict(location)
        else:
            raise RequestValidationError(
                f"input_data[{name!r}]: must be a local path, an s3:// URI or an S3DataSourceConfig "
                f"(got {type(location).__name__})",
                [(f"input_data[{name!r}]", "must be a path, an s3:// URI or an S3DataSourceConfig")],
            )
    return normalized


def s3_channel(uri: str) -> dict[str, Any]:
    return {"dataSource": {"s3DataSource": {"s3Uri": uri}}}


def channel_configs(channels: dict[str, Any], uploaded: dict[str, str]) -> dict[str, dict[str, Any]]:
    """API channel configs: S3 locations as given, local ones as the URI they were uploaded to."""
    configs = {}
    for name, location in channels.items():
        if isinstance(location, dict):
            configs[name] = location
        elif is_s3_uri(location):
            configs[name] = s3_channel(location)
        else:
            configs[name] = s3_channel(uploaded.get(name, f"s3://{PLACEHOLDER_BUCKET}/{name}"))
    return configs


def default_job_name(task_id: str, timestamp_ms: str, map_index: int = -1) -> str:
    """``<task-id>[-<map-index>]-<timestamp-ms>``, trimmed to the 50 characters the API allows.

    Task ids may hold ``_`` and ``.``, which job names may not: runs of them become one ``-``.
    """
    stem = re.sub(r"[^A-Za-z0-9]+", "-", task_id).strip("-") or "job"
    suffix = f"-{map_index}-{timestamp_ms}" if map_index >= 0 else f"-{timestamp_ms}"
    return stem[: JOB_NAME_MAX - len(suffix)].rstrip("-") + suffix
