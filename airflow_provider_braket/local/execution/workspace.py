"""A job's folder in the data dir, filled the way the job container is before the code starts.

Layout under ``<data-dir>/jobs/<job-id>/``: ``code/braket_container.py`` (the launcher, alone
in its folder), ``source/`` (unpacked script, the working directory of the code),
``input/config/hyperparameters.json``, ``input/data/<channel>/``, ``model/`` (results),
``checkpoints/``, ``output/failure``, ``dependencies/``, ``home/`` (what a job writes: see
:data:`JOB_OWNED`), ``logs/algo-1.log`` and ``archive/`` (the service's alone).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from airflow_provider_braket.jobs.archives import ArchiveTooLargeError, safe_extract
from airflow_provider_braket.jobs.s3uri import split_s3_uri
from airflow_provider_braket.local.aws_state.clients import SelfClients
from airflow_provider_braket.local.aws_state.offer_file import PRICE_LIST_PATH
from airflow_provider_braket.local.config import LocalServiceConfig
from airflow_provider_braket.local.exceptions import ValidationException

_BRAKET_IMAGE = re.compile(r"/amazon-braket-[a-z0-9-]+-jobs(:|@)")
LAUNCHER = Path(__file__).parents[1] / "container" / "launcher.py"
LAUNCHER_NAME = "braket_container.py"
DEFAULT_VOLUME_GB = 30  # the SDK's default instanceConfig.volumeSizeInGb
# Far more files than a script's source folder holds; stops an archive of 100k empty files.
MAX_SOURCE_MEMBERS = 20_000


#: What a job takes from the service's environment: what a Python process needs to find its
#: interpreter, libraries, locale, time zone, certificates, proxies and package index on this
#: machine. Nothing else passes, so the service's own secrets stay with it whatever they are
#: named (``--admin-token-env``, ``--secret-key-env``): an allow-list, never a deny-list.
INHERITED_VARIABLES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR",
        "LD_LIBRARY_PATH", "VIRTUAL_ENV", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
        "no_proxy",
    }
)  # fmt: skip
#: Locale settings, and pip's (a job's requirements.txt is installed as on AWS).
INHERITED_PREFIXES = ("LC_", "PIP_")


def check_local_algorithm(algorithm: dict[str, Any]) -> None:
    """Refuse what local mode cannot run: custom containers, or no script to run."""
    image = algorithm.get("containerImage", {}).get("uri")
    if image and not _BRAKET_IMAGE.search(image):
        raise ValidationException(
            f"algorithmSpecification.containerImage.uri: local mode cannot run container image {image!r}; "
            "it runs scriptModeConfig with Braket-managed images (amazon-braket-*-jobs) only"
        )
    if "scriptModeConfig" not in algorithm:
        raise ValidationException(
            "algorithmSpecification.scriptModeConfig: local mode needs a script; "
            "a Braket-managed image alone has nothing to run"
        )


class _Under:
    """A path in a job's folder: ``workspace.<name>`` is ``workspace.root / <parts>``."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    def __get__(self, workspace: Workspace, owner: type | None = None) -> Path:
        return workspace.root.joinpath(*self.parts)


def check_volume(instance_config: dict[str, Any], data_dir: Path) -> None:
    """Refuse a volume larger than the data dir's file system: the job's files land there, and
    its volume size is what caps them (:class:`VolumeBudget`), so it cannot be the client's word."""
    size_gb = int(instance_config.get("volumeSizeInGb", DEFAULT_VOLUME_GB))
    capacity = shutil.disk_usage(data_dir).total
    if size_gb << 30 > capacity:
        raise ValidationException(
            f"instanceConfig.volumeSizeInGb: {size_gb} GB is more than the {capacity >> 30} GB "
            "file system of the local service's data dir can hold"
        )


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def for_job(cls, data_dir: Path, job_id: str) -> Workspace:
        return cls(data_dir / "jobs" / job_id)

    # The job's folder, laid out as AWS's container lays out /opt/ml.
    source = _Under("source")
    hyperparameters_file = _Under("input", "config", "hyperparameters.json")
    input_data = _Under("input", "data")
    results = _Under("model")
    checkpoints = _Under("checkpoints")
    log_file = _Under("logs", "algo-1.log")
    #: Where the launcher runs from, alone, as ``/opt/ml/code`` in AWS's container.
    code = _Under("code")
    launcher = _Under("code", LAUNCHER_NAME)
    #: ``/opt/ml/output/failure`` in AWS's container: the code's exception, for failureReason.
    failure_file = _Under("output", "failure")
    dependencies = _Under("dependencies")
    home = _Under("home")
    #: The service's own, which a job never writes: the launcher's folder and the job's log.
    archive = _Under("archive", "model.tar.gz")

    def create(self) -> None:
        for name in JOB_OWNED:
            (self.root / name).mkdir(parents=True, exist_ok=True)
        for folder in (self.hyperparameters_file.parent, self.input_data, self.log_file.parent, self.code):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(LAUNCHER, self.launcher)

    def hand_over(self, uid: int) -> None:
        """Give a job's own user the folders it writes, and a way to its launcher; nothing else."""
        for name in JOB_OWNED:
            _chown_tree(self.root / name, uid)
        self.root.chmod(0o711)
        self.code.chmod(0o755)
        self.launcher.chmod(0o644)

    def take_back(self) -> None:
        """After the job: its folders are the service's again, closed to a later job of that uid."""
        for name in JOB_OWNED:
            _chown_tree(self.root / name, os.getuid(), os.getgid())
        self.root.chmod(0o700)
        self.code.chmod(0o700)
        self.launcher.chmod(0o600)


#: A job's folders that its code writes (AWS's /opt/ml: input, model, output, checkpoints, code).
JOB_OWNED = ("source", "input", "model", "checkpoints", "dependencies", "output", "home")


def _chown_tree(top: Path, uid: int, gid: int | None = None) -> None:
    """``top`` and everything under it to ``uid``; a link is changed itself, never followed."""
    owner = (uid, uid if gid is None else gid)
    if not top.exists():
        return
    os.chown(top, *owner, follow_symlinks=False)
    for folder, folders, files in os.walk(top):
        for name in folders + files:
            os.chown(os.path.join(folder, name), *owner, follow_symlinks=False)


class VolumeFullError(ValueError):
    """The job's files would not fit on its volume (``instanceConfig.volumeSizeInGb``)."""


@dataclass
class VolumeBudget:
    """What is left of the job's volume while its source, input data and checkpoints arrive.

    On AWS these land on an EBS volume of ``volumeSizeInGb``; here the same size caps what the
    service writes into the job's folder, so a hostile archive cannot fill this machine's disk.
    """

    size_gb: int
    used: int = 0

    @classmethod
    def of(cls, request: dict[str, Any]) -> VolumeBudget:
        return cls(int(request.get("instanceConfig", {}).get("volumeSizeInGb", DEFAULT_VOLUME_GB)))

    @property
    def limit(self) -> int:
        return self.size_gb << 30

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def reserve(self, size: int, what: str) -> None:
        if self.used + size > self.limit:
            raise VolumeFullError(
                f"{what} ({size} bytes) does not fit on the job's volume: "
                f"instanceConfig.volumeSizeInGb={self.size_gb} leaves {self.remaining} bytes"
            )
        self.used += size


def fetch_source(
    workspace: Workspace, script: dict[str, Any], clients: SelfClients, volume: VolumeBudget
) -> None:
    """Put the script into ``source/``: a GZIP tar unpacked safely, or one file with NONE."""
    bucket, key = split_s3_uri(script["s3Uri"])
    size = int(clients.s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
    volume.reserve(size, f"source {script['s3Uri']}")
    downloaded = workspace.root / "source-download"
    clients.s3.download_file(bucket, key, str(downloaded))
    if script.get("compressionType", "NONE") != "GZIP":
        downloaded.rename(workspace.source / PurePosixPath(key).name)
        return
    try:
        safe_extract(downloaded, workspace.source, max_bytes=volume.remaining, max_members=MAX_SOURCE_MEMBERS)
    except ArchiveTooLargeError as error:
        raise VolumeFullError(
            f"source {script['s3Uri']}: {error} (instanceConfig.volumeSizeInGb={volume.size_gb}, "
            f"at most {MAX_SOURCE_MEMBERS} members)"
        ) from None
    finally:
        downloaded.unlink(missing_ok=True)
    volume.used += sum(path.stat().st_size for path in workspace.source.rglob("*") if path.is_file())


def fetch_inputs(
    workspace: Workspace, request: dict[str, Any], clients: SelfClients, volume: VolumeBudget
) -> None:
    for channel in request.get("inputDataConfig", []):
        uri = channel["dataSource"]["s3DataSource"]["s3Uri"]
        target = workspace.input_data / channel["channelName"]
        target.mkdir(parents=True, exist_ok=True)
        clients.download_channel(uri, target, volume.reserve)
    workspace.hyperparameters_file.write_text(json.dumps(request.get("hyperParameters", {})))


def restore_checkpoints(
    workspace: Workspace, request: dict[str, Any], clients: SelfClients, volume: VolumeBudget
) -> int:
    checkpoint = request.get("checkpointConfig")
    if not checkpoint:
        return 0
    return clients.download_prefix(checkpoint["s3Uri"], workspace.checkpoints, volume.reserve)


def job_environment(
    workspace: Workspace, request: dict[str, Any], config: LocalServiceConfig, job_token: str
) -> dict[str, str]:
    """The environment of the job process: every AMZN_BRAKET_* variable of the job contract.

    ``job_token`` is what the SDK sends with each CreateQuantumTask, so the service ties the task
    to this job; the service keeps only its hash.
    """
    script = request["algorithmSpecification"]["scriptModeConfig"]
    output_bucket, _ = split_s3_uri(request["outputDataConfig"]["s3Path"])
    name = request["jobName"]
    inherited = {
        key: value
        for key, value in os.environ.items()
        if key in INHERITED_VARIABLES or key.startswith(INHERITED_PREFIXES)
    }
    environment = {
        **inherited,
        "AMZN_BRAKET_JOB_NAME": name,
        "AMZN_BRAKET_DEVICE_ARN": request["deviceConfig"]["device"],
        "AMZN_BRAKET_HP_FILE": str(workspace.hyperparameters_file),
        "AMZN_BRAKET_JOB_RESULTS_DIR": str(workspace.results),
        "AMZN_BRAKET_CHECKPOINT_DIR": str(workspace.checkpoints),
        "AMZN_BRAKET_OUT_S3_BUCKET": output_bucket,
        "AMZN_BRAKET_TASK_RESULTS_S3_URI": f"s3://{output_bucket}/jobs/{name}/tasks",
        "AMZN_BRAKET_SCRIPT_S3_URI": script["s3Uri"],
        "AMZN_BRAKET_SCRIPT_ENTRY_POINT": script["entryPoint"],
        "AMZN_BRAKET_SCRIPT_COMPRESSION_TYPE": script.get("compressionType", "NONE"),
        "AMZN_BRAKET_JOB_TOKEN": job_token,
        "AWS_ACCESS_KEY_ID": config.access_key,
        "AWS_SECRET_ACCESS_KEY": config.secret_key,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_REGION": config.region,
        # boto3 >= 1.28 reads it: Braket SDK calls inside the job reach this service, not AWS.
        "AWS_ENDPOINT_URL": config.endpoint_url,
        "PYTHONUNBUFFERED": "1",
    }
    if request.get("inputDataConfig"):
        environment["AMZN_BRAKET_INPUT_DIR"] = str(workspace.input_data)
    # The SDK's Tracker prices tasks from this service's list, as it would from AWS's on AWS.
    environment["BRAKET_PRICE_OFFERS_URL"] = f"{config.endpoint_url}{PRICE_LIST_PATH}"
    return environment
