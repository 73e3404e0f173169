"""Checkpoints reach S3 while the job runs, as SageMaker syncs the checkpoint folder on AWS.

A thread looks at the job's checkpoint folder every second and uploads each file that is new
or changed since its last upload (by size and modification time); it syncs once more when the
job ends. A job that crashes or is killed therefore leaves in S3 every checkpoint it had written
a second before, and a new job started with ``copy_checkpoints_from_job`` finds them.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from stat import S_ISREG
from typing import Any

from airflow_provider_braket.jobs.s3uri import split_s3_uri
from airflow_provider_braket.local.execution.job_files import open_inside

log = logging.getLogger(__name__)

SYNC_INTERVAL_SECONDS = 1.0


class CheckpointSync:
    """Uploads a job's checkpoint folder to its checkpoint S3 URI while the job runs.

    :param folder: the job's checkpoint folder.
    :param s3_uri: ``checkpointConfig.s3Uri`` of the job.
    :param s3: boto3 S3 client of this service.
    :param interval: seconds between two looks at the folder.
    """

    def __init__(self, folder: Path, s3_uri: str, s3: Any, interval: float = SYNC_INTERVAL_SECONDS) -> None:
        self.folder = folder
        self.bucket, prefix = split_s3_uri(s3_uri)
        self.prefix = prefix.rstrip("/")
        self.s3 = s3
        self.interval = interval
        self.uploaded: dict[Path, tuple[int, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"checkpoints-{folder.parent.name}", daemon=True
        )

    def start(self) -> CheckpointSync:
        """Start syncing; the files already there (restored from S3) count as uploaded."""
        for path in self.folder.rglob("*"):
            if path.is_file():
                stat = path.stat()
                self.uploaded[path] = (stat.st_size, stat.st_mtime_ns)
        self._thread.start()
        return self

    def stop(self) -> int:
        """Stop looking, sync a last time; return how many files that last sync uploaded."""
        self._stop.set()
        self._thread.join(timeout=30)
        return self.sync()

    def sync(self) -> int:
        count = 0
        for path in sorted(self.folder.rglob("*")):
            try:
                stat = path.lstat()
            except FileNotFoundError:
                continue  # removed by the job between the listing and now
            if not S_ISREG(stat.st_mode) or self.uploaded.get(path) == (stat.st_size, stat.st_mtime_ns):
                continue  # a link is not followed: the job may point it at what it cannot read
            key = "/".join(filter(None, [self.prefix, path.relative_to(self.folder).as_posix()]))
            try:
                handle = open_inside(path, self.folder)  # a link swapped in since is not followed
            except OSError:
                continue
            with handle:
                self.s3.upload_fileobj(handle, self.bucket, key)
            self.uploaded[path] = (stat.st_size, stat.st_mtime_ns)
            count += 1
        return count

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sync()
            except Exception:
                log.exception("could not sync checkpoints of %s", self.folder.parent.name)
