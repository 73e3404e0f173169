"""Ended jobs' folders are removed once they are older than the retention period.

A job's folder holds its unpacked source, input data, checkpoints and local log: everything a
job needed while it ran, none of it the record of the job. Its outputs, checkpoints and log
stream stay in S3 and CloudWatch Logs and its record stays in the store; only the folder goes,
so disk use does not grow with every job ever run.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

from airflow_provider_braket.local.storage.jobs import JobStore

log = logging.getLogger(__name__)

DEFAULT_RETENTION_HOURS = 24.0 * 7


class FolderSweeper:
    """Removes the folders of jobs that ended more than ``retention_seconds`` ago.

    :param jobs_dir: ``<data-dir>/jobs``.
    :param store: the job records (a folder is removed only if its job has ended).
    :param retention_seconds: how long an ended job's folder is kept.
    """

    def __init__(self, jobs_dir: Path, store: JobStore, retention_seconds: float) -> None:
        self._jobs_dir = jobs_dir
        self._store = store
        self._retention = retention_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="braket-local-sweeper", daemon=True)

    def start(self) -> FolderSweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def sweep(self) -> int:
        """Remove the folders due now; return how many were removed."""
        if not self._jobs_dir.is_dir():
            return 0
        due = self._store.ended_job_ids(before_ms=int((time.time() - self._retention) * 1000))
        removed = 0
        for folder in self._jobs_dir.iterdir():
            if folder.name in due and folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        if removed:
            log.info("removed %d folders of jobs that ended more than %.0f s ago", removed, self._retention)
        return removed

    def _run(self) -> None:
        interval = min(60.0, max(0.5, self._retention / 2))
        while not self._stop.wait(interval):
            try:
                self.sweep()
            except Exception:
                log.exception("sweeping ended jobs' folders failed; trying again later")
