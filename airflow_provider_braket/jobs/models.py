"""The one model of Braket Hybrid Jobs requests, shared by the hook and the local service.

Field names are the wire names (camelCase) so that a request dict built for boto3 validates
as it is, and the limits are those of botocore's ``braket/2019-09-01`` model, which boto3 does
not check itself (lengths, patterns, enums, list maxima). The hook validates every CreateJob
request with :func:`validate_create_job` before any call; the local service validates every
request body with the same functions, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

#: botocore's ``InstanceType`` enum (braket 2019-09-01); a unit test keeps it equal to botocore's.
INSTANCE_TYPES: tuple[str, ...] = (
    "ml.t3.large", "ml.t3.xlarge", "ml.t3.2xlarge",
    "ml.m4.xlarge", "ml.m4.2xlarge", "ml.m4.4xlarge", "ml.m4.10xlarge", "ml.m4.16xlarge",
    "ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.m5.4xlarge", "ml.m5.12xlarge", "ml.m5.24xlarge",
    "ml.c4.xlarge", "ml.c4.2xlarge", "ml.c4.4xlarge", "ml.c4.8xlarge",
    "ml.c5.xlarge", "ml.c5.2xlarge", "ml.c5.4xlarge", "ml.c5.9xlarge", "ml.c5.18xlarge",
    "ml.c5n.xlarge", "ml.c5n.2xlarge", "ml.c5n.4xlarge", "ml.c5n.9xlarge", "ml.c5n.18xlarge",
    "ml.p2.xlarge", "ml.p2.8xlarge", "ml.p2.16xlarge",
    "ml.p3.2xlarge", "ml.p3.8xlarge", "ml.p3.16xlarge", "ml.p3dn.24xlarge", "ml.p4d.24xlarge",
    "ml.g4dn.xlarge", "ml.g4dn.2xlarge", "ml.g4dn.4xlarge", "ml.g4dn.8xlarge", "ml.g4dn.12xlarge",
    "ml.g4dn.16xlarge",
    "ml.g6.xlarge", "ml.g6.2xlarge", "ml.g6.4xlarge", "ml.g6.8xlarge", "ml.g6.12xlarge", "ml.g6.16xlarge",
    "ml.g6.24xlarge", "ml.g6.48xlarge",
    "ml.g6e.xlarge", "ml.g6e.2xlarge", "ml.g6e.4xlarge", "ml.g6e.8xlarge", "ml.g6e.12xlarge",
    "ml.g6e.16xlarge", "ml.g6e.24xlarge", "ml.g6e.48xlarge",
)  # fmt: skip

JOB_STATUSES = ("QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLING", "CANCELLED")
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
ACTIVE_STATUSES = frozenset({"QUEUED", "RUNNING", "CANCELLING"})

JOB_NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,50}\Z"
ROLE_ARN_PATTERN = r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+\Z"
JOB_ARN_PATTERN = r"^arn:aws[a-z\-]*:braket:[a-z0-9\-]+:[0-9]{12}:job/.*\Z"
S3_PATH_PATTERN = r"^(https|s3)://([^/]+)/?(.*)\Z"
ECR_URI_PATTERN = r"^\d{10,14}\.dkr\.ecr.[a-z0-9-]+\.amazonaws\.com/.+(@sha256)?:.+\Z"
CHANNEL_NAME_PATTERN = r"^[A-Za-z0-9\.\-_]+\Z"
RESOURCE_ARN_PATTERN = r"^arn:aws[a-z\-]*:braket:[a-z0-9\-]*:[0-9]{12}:.*\Z"

MAX_HYPERPARAMETERS = 100
MAX_INPUT_CHANNELS = 20
MAX_RUNTIME_SECONDS = 432_000
MAX_TAGS = 50

_M = TypeVar("_M", bound="BaseModel")

S3Path = Annotated[str, Field(max_length=1024, pattern=S3_PATH_PATTERN)]
HyperParameterName = Annotated[str, Field(min_length=1, max_length=256)]
HyperParameterValue = Annotated[str, Field(min_length=1, max_length=2500)]
TagKey = Annotated[str, Field(min_length=1, max_length=128)]
TagValue = Annotated[str, Field(max_length=256)]


class _WireModel(BaseModel):
    # strict: no silent int -> str coercion (AWS rejects a non-string hyperparameter); forbid:
    # a misspelt member is an error here rather than a field silently dropped.
    model_config = ConfigDict(strict=True, extra="forbid", regex_engine="python-re")


class ScriptModeConfig(_WireModel):
    entryPoint: str
    s3Uri: S3Path
    compressionType: Literal["NONE", "GZIP"] | None = None


class ContainerImage(_WireModel):
    uri: Annotated[str, Field(min_length=1, max_length=255, pattern=ECR_URI_PATTERN)]


class AlgorithmSpecification(_WireModel):
    scriptModeConfig: ScriptModeConfig | None = None
    containerImage: ContainerImage | None = None

    @model_validator(mode="after")
    def _one_source(self) -> AlgorithmSpecification:
        if self.scriptModeConfig is None and self.containerImage is None:
            raise ValueError("needs scriptModeConfig or containerImage")
        return self


class S3DataSource(_WireModel):
    s3Uri: S3Path


class DataSource(_WireModel):
    s3DataSource: S3DataSource


class InputFileConfig(_WireModel):
    channelName: Annotated[str, Field(min_length=1, max_length=64, pattern=CHANNEL_NAME_PATTERN)]
    contentType: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    dataSource: DataSource


class JobOutputDataConfig(_WireModel):
    s3Path: S3Path
    kmsKeyId: Annotated[str, Field(min_length=1, max_length=2048)] | None = None


class JobCheckpointConfig(_WireModel):
    s3Uri: S3Path
    localPath: Annotated[str, Field(min_length=1, max_length=4096)] | None = None


class InstanceConfig(_WireModel):
    instanceType: Literal[INSTANCE_TYPES]  # type: ignore[valid-type]
    volumeSizeInGb: Annotated[int, Field(ge=1)]
    instanceCount: Annotated[int, Field(ge=1)] | None = None


class JobStoppingCondition(_WireModel):
    maxRuntimeInSeconds: Annotated[int, Field(ge=1, le=MAX_RUNTIME_SECONDS)] | None = None


class DeviceConfig(_WireModel):
    device: Annotated[str, Field(min_length=1, max_length=256)]


class Association(_WireModel):
    arn: Annotated[str, Field(pattern=RESOURCE_ARN_PATTERN)]
    type: Literal["RESERVATION_TIME_WINDOW_ARN"]


class CreateJobRequest(_WireModel):
    clientToken: Annotated[str, Field(min_length=1, max_length=64)]
    algorithmSpecification: AlgorithmSpecification
    inputDataConfig: Annotated[list[InputFileConfig], Field(max_length=MAX_INPUT_CHANNELS)] | None = None
    outputDataConfig: JobOutputDataConfig
    checkpointConfig: JobCheckpointConfig | None = None
    jobName: Annotated[str, Field(min_length=1, max_length=50, pattern=JOB_NAME_PATTERN)]
    roleArn: Annotated[str, Field(pattern=ROLE_ARN_PATTERN)]
    stoppingCondition: JobStoppingCondition | None = None
    instanceConfig: InstanceConfig
    hyperParameters: (
        Annotated[dict[HyperParameterName, HyperParameterValue], Field(max_length=MAX_HYPERPARAMETERS)] | None
    ) = None
    deviceConfig: DeviceConfig
    tags: Annotated[dict[TagKey, TagValue], Field(max_length=MAX_TAGS)] | None = None
    associations: Annotated[list[Association], Field(max_length=1)] | None = None

    @model_validator(mode="after")
    def _unique_channels(self) -> CreateJobRequest:
        names = [channel.channelName for channel in self.inputDataConfig or ()]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"inputDataConfig: channel names must be unique, repeated: {duplicates}")
        return self

    def wire(self) -> dict[str, Any]:
        """The request as boto3 sends it: unset members left out."""
        return self.model_dump(exclude_none=True)


SEARCH_JOBS_FILTER_NAMES = ("jobArn", "createdAt", "jobName", "status", "device")
SearchOperator = Literal["LT", "LTE", "EQUAL", "GT", "GTE", "BETWEEN", "CONTAINS"]
FilterValue = Annotated[str, Field(min_length=1, max_length=256)]


class SearchJobsFilter(_WireModel):
    name: Literal[SEARCH_JOBS_FILTER_NAMES]  # type: ignore[valid-type]
    operator: SearchOperator
    values: Annotated[list[str], Field(min_length=1, max_length=10)]

    @model_validator(mode="after")
    def _arity(self) -> SearchJobsFilter:
        check_filter_values(self.name, self.operator, self.values)
        return self


def check_filter_values(name: str, operator: str, values: list[str]) -> None:
    """The rules every Braket search filter follows: how many values an operator takes, and
    ISO-8601 timestamps for ``createdAt`` (raises ValueError naming the rule)."""
    count = len(values)
    if operator == "BETWEEN" and count != 2:
        raise ValueError(f"operator BETWEEN takes exactly 2 values, got {count}")
    if operator not in ("BETWEEN", "EQUAL") and count != 1:
        raise ValueError(f"operator {operator} takes exactly 1 value, got {count}")
    if name == "createdAt":
        if operator == "CONTAINS":
            raise ValueError("createdAt does not support operator CONTAINS")
        for index, value in enumerate(values):
            try:
                parse_timestamp(value)
            except ValueError as error:
                raise ValueError(f"createdAt values[{index}] {error}") from None


class SearchJobsRequest(_WireModel):
    filters: Annotated[list[SearchJobsFilter], Field(max_length=10)]
    maxResults: Annotated[int, Field(ge=1, le=100)] | None = None
    nextToken: str | None = None


class SearchDevicesFilter(_WireModel):
    name: Literal["deviceArn", "deviceName", "deviceType", "deviceStatus", "providerName"]
    values: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=256)]], Field(min_length=1, max_length=10)
    ]


class SearchDevicesRequest(_WireModel):
    filters: Annotated[list[SearchDevicesFilter], Field(max_length=10)]
    maxResults: Annotated[int, Field(ge=1, le=100)] | None = None
    nextToken: str | None = None


class TagResourceRequest(_WireModel):
    tags: Annotated[dict[TagKey, TagValue], Field(max_length=MAX_TAGS)]


class RequestValidationError(ValueError):
    """A request broke a rule of the API; the message names each field and the rule."""

    def __init__(self, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


def parse_timestamp(value: str) -> datetime:
    """Parse a SearchJobs ``createdAt`` value: ISO-8601 (``Z`` or offset) or epoch seconds."""
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("is not an ISO-8601 timestamp or epoch seconds") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class JobListing:
    """Jobs created since a moment, as someone listed them anyway (a triggerer's poller), for a
    budget to read instead of searching again.

    :param jobs: Every job not ended, and the ended ones the lister learned of (summaries with
        ``jobArn``, ``status``, ``createdAt``, ``startedAt``, ``endedAt`` and ``airflow:`` tags).
    :param complete: Whether the ended ones are all of them (a listing of every status).
    """

    jobs: list[dict[str, Any]]
    complete: bool


def created_since(moment: datetime) -> list[dict[str, Any]]:
    """SearchJobs filters for the jobs created at or after ``moment``."""
    return [{"name": "createdAt", "operator": "GTE", "values": [format_timestamp(moment)]}]


def status_filter(statuses: frozenset[str]) -> dict[str, Any]:
    """A SearchJobs filter for the jobs in any of ``statuses``."""
    return {"name": "status", "operator": "EQUAL", "values": sorted(statuses)}


def format_timestamp(moment: datetime) -> str:
    """A SearchJobs ``createdAt`` value: ISO-8601 in UTC with milliseconds and ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_MAP_FIELDS = frozenset({"hyperParameters", "tags"})


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif previous in _MAP_FIELDS:
            path += f"[{part!r}]"
        elif part == "[key]":
            path += " (key)"
        elif part.startswith(("function-", "literal[", "constrained-")):
            continue
        else:
            path += f".{part}" if path else part
        previous = part
    return path or "request"


def describe_validation_error(error: ValidationError) -> RequestValidationError:
    """Turn pydantic's error into one message that names every field and the rule it broke."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        rule = item["msg"].removeprefix("Value error, ")
        if item["type"] == "literal_error" and len(str(item.get("ctx", {}).get("expected", ""))) > 200:
            rule = f"Input should be one of the {len(INSTANCE_TYPES)} ml.* instance types of the Braket API"
        path = _field_path(loc)
        problem = f"{rule} (got {_kind_of(item.get('input'))})"
        if path.startswith("hyperParameters[") and item["type"] == "string_too_long":
            problem += (
                "; hyperparameters are for small values: pass large data as input_data (a file "
                "the job reads from AMZN_BRAKET_INPUT_DIR)"
            )
        problems.append((path, problem))
    count = len(problems)
    detail = "; ".join(f"{path}: {rule}" for path, rule in problems)
    return RequestValidationError(
        f"{count} validation error{'s' if count > 1 else ''} detected: {detail}", problems
    )


def _kind_of(value: Any) -> str:
    """What was sent, without its content: a value may be a password (hyperparameters are)."""
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, list | dict):
        noun = "list" if isinstance(value, list) else "object"
        return f"an {noun} of {len(value)} entries" if noun == "object" else f"a list of {len(value)} items"
    return "null" if value is None else f"a {type(value).__name__}"


def validate_create_job(request: dict[str, Any]) -> CreateJobRequest:
    """Validate a CreateJob request dict; raise :class:`RequestValidationError` naming each field."""
    return _validate(CreateJobRequest, request)


def validate_search_jobs(request: dict[str, Any]) -> SearchJobsRequest:
    return _validate(SearchJobsRequest, request)


def validate_search_devices(request: dict[str, Any]) -> SearchDevicesRequest:
    return _validate(SearchDevicesRequest, request)


def validate_tag_resource(request: dict[str, Any]) -> TagResourceRequest:
    return _validate(TagResourceRequest, request)


def _validate(model: type[_M], request: Any) -> _M:
    if not isinstance(request, dict):
        raise RequestValidationError(f"request body must be a JSON object, got {type(request).__name__}")
    try:
        return model.model_validate(request)
    except ValidationError as error:
        raise describe_validation_error(error) from None
