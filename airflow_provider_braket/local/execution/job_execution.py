"""One running job: its folder prepared, its launcher run and watched, its outputs published.

:class:`JobExecution` is a thread of the :class:`~.job_runner.JobRunner`, one per running job. It
plays the part of AWS's job platform around the container: the training toolkit's log lines, the
job's cgroup and user (:mod:`.containment`), the end of every process, the failure reason, and
the upload of results and checkpoints.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import threading
import time
from typing import TYPE_CHECKING

import psutil

from airflow_provider_braket.jobs.archives import UnsafeArchiveError
from airflow_provider_braket.jobs.instance_memory import instance_memory_bytes
from airflow_provider_braket.jobs.models import MAX_RUNTIME_SECONDS
from airflow_provider_braket.jobs.results import results_key
from airflow_provider_braket.jobs.s3uri import split_s3_uri
from airflow_provider_braket.local.execution.checkpoints import CheckpointSync
from airflow_provider_braket.local.execution.containment import CGROUP_VARIABLE, RUN_AS_VARIABLE, JobCgroups
from airflow_provider_braket.local.execution.job_files import pack_inside, read_inside
from airflow_provider_braket.local.execution.job_processes import (
    MARKER_VARIABLE,
    Seen,
    new_marker,
    remember,
    scan,
    terminate,
)
from airflow_provider_braket.local.execution.log_shipping import LogShipper
from airflow_provider_braket.local.execution.training_toolkit import invocation_lines, outcome_lines
from airflow_provider_braket.local.execution.workspace import (
    VolumeBudget,
    Workspace,
    fetch_inputs,
    fetch_source,
    job_environment,
    restore_checkpoints,
)
from airflow_provider_braket.local.storage.jobs import JobRecord, hash_job_token, now_ms

if TYPE_CHECKING:
    from airflow_provider_braket.local.execution.job_runner import JobRunner

log = logging.getLogger(__name__)

STOPPED_REASON = "InternalServiceError: the local Braket service was stopped while the job was running"
CENSUS_SECONDS = 1.0  # how often a running job's processes are recorded


class JobExecution(threading.Thread):
    """One running job: prepare its folder, run the launcher, watch it, publish its outputs."""

    def __init__(self, runner: JobRunner, record: JobRecord) -> None:
        super().__init__(name=f"job-{record.job_id}", daemon=True)
        self.runner = runner
        self.record = record
        self.workspace = Workspace.for_job(runner.config.data_dir, record.job_id)
        self._cancel = threading.Event()
        self._stop_reason: str | None = None
        self._checkpoints: CheckpointSync | None = None
        self._marker = ""
        self._leader: Seen | None = None
        self._seen: set[Seen] = set()
        self._cgroups = JobCgroups()
        self._out_of_memory = False
        self._uid: int | None = None

    def request_cancel(self) -> None:
        self._cancel.set()

    def request_stop(self, reason: str) -> None:
        self._stop_reason = reason
        self._cancel.set()

    def run(self) -> None:
        try:
            self._run()
        except Exception as error:
            log.exception("job %s failed inside the local service", self.record.job_arn)
            self._stop_processes()  # an error of the service's own leaves nothing of the job running
            self.runner._end(self.record, "FAILED", "FAILED", str(error), f"InternalServiceError: {error}")
        finally:
            self._release()
            self.runner._finished(self.record.job_arn)

    def _run(self) -> None:
        store, record = self.runner.store, self.record
        started = now_ms()
        if not store.update(record.job_arn, only_if=["QUEUED"], status="RUNNING", started_at=started):
            return
        record.started_at = started
        store.add_event(record.job_arn, "STARTING_INSTANCE", "Starting a local job process", started)
        self.workspace.create()
        store.add_event(
            record.job_arn, "DOWNLOADING_DATA", "Downloading the script, input data and checkpoints"
        )
        try:
            self._prepare()
        except (UnsafeArchiveError, ValueError, OSError) as error:
            self._fail(f"ClientError: could not prepare the job: {error}")
            return
        except Exception as error:  # botocore errors: missing source object, bucket, ...
            self._fail(f"ClientError: could not prepare the job: {type(error).__name__}: {error}")
            return
        if self._cancel.is_set():
            self._finish_cancelled()
            return
        self._execute()

    def _prepare(self) -> None:
        request, clients = self.record.request, self.runner.clients
        volume = VolumeBudget.of(request)
        fetch_source(self.workspace, request["algorithmSpecification"]["scriptModeConfig"], clients, volume)
        fetch_inputs(self.workspace, request, clients, volume)
        restore_checkpoints(self.workspace, request, clients, volume)

    def _execute(self) -> None:
        record, config = self.record, self.runner.config
        stream = f"{record.job_name}/{record.job_id}/algo-1-{int(time.time())}"
        shipper = LogShipper(self.runner.clients.logs, stream, self.workspace.log_file)
        job_token = secrets.token_hex(32)
        self.runner.store.update(record.job_arn, job_token_hash=hash_job_token(job_token))
        checkpoint = record.request.get("checkpointConfig")
        if checkpoint:
            self._checkpoints = CheckpointSync(
                self.workspace.checkpoints, checkpoint["s3Uri"], self.runner.clients.s3
            ).start()
        self._marker = new_marker(record.job_id)
        self.runner.store.update(record.job_arn, process_marker=self._marker)
        environment = {
            **job_environment(self.workspace, record.request, config, job_token),
            **self._contain(),
            MARKER_VARIABLE: self._marker,
        }
        command = [config.python, str(self.workspace.launcher)]
        for line in invocation_lines(self.workspace, record.request, command):
            shipper.write(line)
        process = subprocess.Popen(
            command,
            cwd=self.workspace.code,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session and process group
        )
        self._leader = (process.pid, create_time(process.pid))
        self.runner.store.update(record.job_arn, pid=process.pid, pid_started=self._leader[1])
        self.runner.store.add_event(record.job_arn, "RUNNING", "Running the algorithm")
        assert process.stdout is not None
        reader = shipper.start(process.stdout)
        outcome = self._watch(process)
        # Whatever the ending, nothing of the job outlives it; this also closes the log pipe
        # that a leftover child could hold open.
        self._stop_processes()
        self._release()
        reader.join(timeout=10)
        try:
            if outcome == "exited":
                for line in outcome_lines(process.returncode, command):
                    shipper.write(line)
        finally:
            # Before the job ends: a client that reads the log once it sees the end gets all of it.
            shipper.close()
        self._conclude(outcome, process.returncode)

    def _contain(self) -> dict[str, str]:
        """The job's cgroup and user, made ready; what the launcher needs to enter them."""
        containment = self.runner.containment
        entering: dict[str, str] = {}
        self._cgroups = containment.make_cgroups(self.record.job_id, self._memory_limit())
        if self._cgroups.paths:
            entering[CGROUP_VARIABLE] = os.pathsep.join(str(path) for path in self._cgroups.paths)
        self._uid = containment.take_uid()
        if self._uid is not None:
            self.workspace.hand_over(self._uid)
            entering[RUN_AS_VARIABLE] = str(self._uid)
            entering["HOME"] = str(self.workspace.home)  # the service's home is closed to the job
        return entering

    def _release(self) -> None:
        """Once the job's processes are gone: its folders back to the service, its uid free."""
        if self._uid is not None:
            self.workspace.take_back()
            self.runner.containment.give_back_uid(self._uid)
            self._uid = None

    def _watch(self, process: subprocess.Popen[bytes]) -> str:
        limit = self.record.request.get("stoppingCondition", {}).get("maxRuntimeInSeconds")
        deadline = time.monotonic() + (limit or MAX_RUNTIME_SECONDS)
        next_census = time.monotonic()
        while True:
            try:
                process.wait(timeout=0.1)
                return "exited"
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() >= next_census:
                self._take_census()
                next_census = time.monotonic() + CENSUS_SECONDS
            if self._cancel.is_set():
                self._stop_processes()
                process.wait()
                return "stopped" if self._stop_reason else "cancelled"
            if time.monotonic() > deadline:
                self._stop_processes()
                process.wait()
                return "timeout"

    def _take_census(self) -> None:
        """Record every process of the job seen so far, so that a restart can find them all."""
        found = remember(scan(self._leader, self._marker, self._seen, by_marker=False))
        if not found <= self._seen:
            self._seen |= found
            self.runner.store.update(self.record.job_arn, processes=sorted(self._seen))

    def _stop_processes(self) -> None:
        grace = self.runner.config.cancel_grace_seconds
        self._out_of_memory = self._out_of_memory or self._cgroups.ran_out_of_memory()
        self._cgroups.stop(grace)  # every process the job started, wherever it went
        terminate(scan(self._leader, self._marker, self._seen), grace)

    def _conclude(self, outcome: str, returncode: int | None) -> None:
        record = self.record
        if outcome == "cancelled":
            self._upload_checkpoints()
            self._finish_cancelled()
            return
        if outcome == "stopped":
            self._upload_checkpoints()
            self._fail(self._stop_reason or STOPPED_REASON)
            return
        if outcome == "timeout":
            limit = record.request["stoppingCondition"]["maxRuntimeInSeconds"]
            message = f"Job exceeded its maximum runtime of {limit} seconds and was stopped"
            self.runner.store.add_event(record.job_arn, "MAX_RUNTIME_EXCEEDED", message)
            self._upload_checkpoints()
            self._fail(f"MaxRuntimeExceeded: {message}")
            return
        if returncode != 0:
            # As on AWS, a failed job's results folder is not uploaded (no output/model.tar.gz);
            # its checkpoints are, so that a retry can resume.
            self._upload_checkpoints()
            self._fail(self._failure_reason(returncode))
            return
        self.runner.store.add_event(record.job_arn, "UPLOADING_RESULTS", "Uploading results and checkpoints")
        self._upload_results()
        self._upload_checkpoints()
        if self.runner.store.get(record.job_arn).status == "CANCELLING":  # type: ignore[union-attr]
            self._finish_cancelled()
        else:
            self.runner._end(record, "COMPLETED", "COMPLETED", "Job completed")

    def _memory_limit(self) -> int | None:
        instance_type = self.record.request.get("instanceConfig", {}).get("instanceType", "")
        return self.runner.config.job_memory_bytes or instance_memory_bytes(instance_type)

    def _failure_reason(self, returncode: int | None) -> str:
        if self._out_of_memory and self._cgroups.memory_bytes:
            instance_type = self.record.request.get("instanceConfig", {}).get("instanceType", "?")
            return (
                f"AlgorithmError: OutOfMemory: the job's processes needed more than its "
                f"{_size(self._cgroups.memory_bytes)} ({instance_type}; "
                f"braket-local serve --job-memory-mib sets another limit), exit code: {returncode}"
            )
        # What the container wrote (`<Type>: <message>`), framed the way AWS reports it; the job
        # may write any amount, or leave a link there.
        failure = read_inside(self.workspace.failure_file, self.workspace.root, 4096)
        if failure is not None:
            written = failure.decode(errors="replace").strip()
            return f"AlgorithmError: {written}, exit code: {returncode}"
        if returncode is not None and returncode < 0:
            return f"AlgorithmError: the process was killed by signal {-returncode}, exit code: {returncode}"
        return f"AlgorithmError: the process exited with a non-zero code, exit code: {returncode}"

    def _upload_results(self) -> None:
        output = self.record.request["outputDataConfig"]["s3Path"].rstrip("/")
        archive = pack_inside(self.workspace.results, self.workspace.archive)
        bucket, key = split_s3_uri(results_key(output))
        self.runner.clients.s3.upload_file(str(archive), bucket, key)

    def _upload_checkpoints(self) -> None:
        """The last sync of the checkpoint folder, once the job's processes are gone."""
        if self._checkpoints is None:
            return
        try:
            self._checkpoints.stop()
        except Exception:
            log.exception("could not upload checkpoints of %s", self.record.job_arn)

    def _fail(self, reason: str) -> None:
        self.runner._end(self.record, "FAILED", "FAILED", reason, failure_reason=reason)

    def _finish_cancelled(self) -> None:
        self.runner._end(self.record, "CANCELLED", "CANCELLED", "Job cancelled")


def create_time(pid: int) -> float:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.NoSuchProcess:
        return 0.0


def _size(count: int) -> str:
    return f"{count / (1 << 30):g} GiB" if count >= 1 << 30 else f"{count >> 20} MiB"
