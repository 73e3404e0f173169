"""Settings of the local Braket service, from flags or ``BRAKET_LOCAL_*`` environment variables."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from airflow_provider_braket.jobs.endpoints import is_loopback
from airflow_provider_braket.local.quantum_task_limits import QuantumTaskLimits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8975
DEFAULT_ACCOUNT = "123456789012"  # moto's default account: S3, IAM and STS agree with it


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "braket-local"


DEFAULT_REGION = "us-east-1"
DEFAULT_MAX_REQUEST_MB = 64
# CloudWatch Logs kept at most (aws_state/log_limits.py): about 100 MB of moto's memory for
# one-character lines, 150 MB for 1 KiB lines (docs/benchmarks.md).
DEFAULT_LOG_EVENTS_MAX = 500_000
DEFAULT_LOG_BYTES_MAX = 128 << 20


@dataclass
class LocalServiceConfig:
    """What the local service needs to know; every field has a default that works on a laptop.

    :param host: interface to bind; loopback unless you mean to expose it.
    :param port: TCP port of the one endpoint that serves Braket, S3, Logs, IAM and STS.
    :param data_dir: job records (SQLite), job folders and logs, the device table.
    :param access_key: access key id clients must sign with.
    :param secret_key: secret key clients must sign with (never logged).
    :param region: region of the ARNs the service makes.
    :param account_id: account of the ARNs; moto's default so that STS answers the same.
    :param python: interpreter that runs job processes (default: the service's own).
    :param job_slots: jobs that run at once; the rest wait in a FIFO queue.
    :param concurrent_job_quota: QUEUED + RUNNING jobs allowed; CreateJob beyond it is
        ServiceQuotaExceededException, as on AWS (default 3).
    :param quantum_task_workers: quantum tasks simulated at once, each in a worker process of its own;
        the rest wait in the device queue.
    :param quantum_task_limits: memory, time and program-size limits of a quantum task.
    :param cancel_grace_seconds: time between SIGTERM and SIGKILL when a job is cancelled.
    :param verify_signatures: check SigV4 signatures (on by default).
    :param max_request_bytes: largest request body accepted; larger ones are refused before
        they are read (S3 uploads above it must be sent in parts, as boto3 does above 8 MB).
    :param job_retention_seconds: how long an ended job's folder (unpacked source, input data,
        local log) is kept; its record, outputs and logs are kept regardless.
    :param job_memory_bytes: memory limit of every job's processes together, instead of its
        instance type's (see :mod:`~airflow_provider_braket.local.execution.containment`).
    :param log_events_max: CloudWatch Logs events the service keeps at most, over all streams.
    :param log_bytes_max: CloudWatch Logs message bytes the service keeps at most (see
        :mod:`~airflow_provider_braket.local.aws_state.log_limits`).
    :param admin_token: token the ``/_local/`` admin endpoints require (see
    :mod:`~airflow_provider_braket.local.server.admin`);
        the service refuses to start off loopback without one.
    :param price_list: an AWS offer file for Braket to serve to the SDK's Tracker in jobs; None
        serves the snapshot the package ships (see
        :mod:`~airflow_provider_braket.local.aws_state.offer_file`); without it jobs use AWS's public file.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=default_data_dir)
    access_key: str = "testing"
    secret_key: str = "testing"
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT
    python: str = sys.executable
    job_slots: int = 2
    concurrent_job_quota: int = 3
    quantum_task_workers: int = 2
    quantum_task_limits: QuantumTaskLimits = field(default_factory=QuantumTaskLimits)
    cancel_grace_seconds: float = 3.0
    verify_signatures: bool = True
    price_list: Path | None = None
    max_request_bytes: int = DEFAULT_MAX_REQUEST_MB << 20
    admin_token: str | None = None
    job_retention_seconds: float = 7 * 24 * 3600.0
    job_memory_bytes: int | None = None
    log_events_max: int = DEFAULT_LOG_EVENTS_MAX
    log_bytes_max: int = DEFAULT_LOG_BYTES_MAX

    @property
    def on_loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def endpoint_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def __repr__(self) -> str:
        # dataclass's repr would print the secret key into logs.
        shown = {k: v for k, v in self.__dict__.items() if k not in ("secret_key", "admin_token")}
        return f"LocalServiceConfig({shown}, secret_key='***', admin_token='***')"


def make_private(data_dir: Path) -> None:
    """Create the data dir readable by its owner only, and take back what older versions left open.

    Job records, users' uploads and job folders live there; on a shared machine nobody else
    may read them, as nobody else can read the user's AWS account.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    for root, directories, files in os.walk(data_dir):
        for name in directories:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, 0o700)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode & 0o700)


ADMIN_TOKEN_FILE = "admin-token"
ADMIN_TOKEN_HEADER = "X-Braket-Local-Admin-Token"


def write_admin_token(data_dir: Path) -> str:
    """Make a new admin token and keep it in ``<data-dir>/admin-token``, readable by its owner only.

    Written to a new file that is never readable by others, then renamed over the last one, so no
    reader sees half a token and no other user ever could read it.
    """
    token = secrets.token_urlsafe(32)
    path = data_dir / ADMIN_TOKEN_FILE
    partial = data_dir / f".{ADMIN_TOKEN_FILE}.{os.getpid()}"
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token)
    os.replace(partial, path)
    return token


def read_admin_token(data_dir: Path) -> str | None:
    """The admin token for a service of ``data_dir``: ``BRAKET_LOCAL_ADMIN_TOKEN``, else its file."""
    from_environment = os.environ.get("BRAKET_LOCAL_ADMIN_TOKEN")
    if from_environment:
        return from_environment
    try:
        return (data_dir / ADMIN_TOKEN_FILE).read_text().strip() or None
    except OSError:
        return None


LOCK_FILE = "service.lock"


class DataDirInUse(RuntimeError):
    """Another local service holds the data dir."""


def hold_data_dir(data_dir: Path) -> IO[str]:
    """Lock ``data_dir`` for this process: one service per data dir.

    Two services on one data dir would each resume the other's running jobs and quantum tasks as
    its own, and write the same records. The lock is an ``flock`` on ``<data-dir>/service.lock``,
    which the kernel releases however the process ends (a ``kill -9`` included), so a crash never
    leaves the data dir locked. Keep the returned file open for as long as the service runs.

    :raises DataDirInUse: naming the process that holds it.
    """
    import fcntl

    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle = open(data_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held open for the service's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DataDirInUse(
            f"--data-dir {data_dir} is in use by another braket-local (pid {holder}): stop it, "
            "or give this one another --data-dir"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
