"""What the local service's quantum task operations do (the routes are in
:mod:`~airflow_provider_braket.local.braket.quantum_task_responses`).

CreateQuantumTask, GetQuantumTask, CancelQuantumTask and SearchQuantumTasks. Everything a request
can get wrong is refused here, before a record is written: the program kind, the device, shots
against the device's range, shots = 0 without result types, a job token that is no running job's,
an output bucket that does not exist.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from airflow_provider_braket.local.braket.lookup import earlier_record, find_record, search_page
from airflow_provider_braket.local.devices.qpus import QPUS
from airflow_provider_braket.local.devices.simulators import SIMULATORS
from airflow_provider_braket.local.devices.table import DeviceTable, check_reservation
from airflow_provider_braket.local.exceptions import (
    ValidationException,
)
from airflow_provider_braket.local.execution.quantum_task_processes import WorkerLost, WorkerPool
from airflow_provider_braket.local.execution.quantum_task_runner import QuantumTaskRunner
from airflow_provider_braket.local.quantum_task_limits import (
    QuantumTaskLimits,
    describe_bytes,
    task_memory_bytes,
)
from airflow_provider_braket.local.storage.jobs import JobStore, now_ms
from airflow_provider_braket.local.storage.quantum_task_requests import (
    RUNNABLE_ACTIONS,
    TASK_ARN_PATTERN,
    CreateQuantumTaskRequest,
    validate_create_quantum_task,
    validate_search_quantum_tasks,
)
from airflow_provider_braket.local.storage.quantum_tasks import QuantumTaskRecord, QuantumTaskStore
from airflow_provider_braket.local.storage.records import request_fingerprint

#: How long CreateQuantumTask may wait for its task to end before it answers.
CREATE_WAIT_SECONDS = 0.2


@dataclass
class QuantumTasks:
    """What the task operations act on.

    :param region: region of the task ARNs.
    :param account_id: account of the task ARNs and of the S3 buckets.
    :param store: task records.
    :param runner: the task queue.
    :param devices: device table (status overrides).
    :param jobs: job records, to tie a task to the job whose token it carries.
    :param checkers: worker processes that check programs (never this process).
    """

    region: str
    account_id: str
    store: QuantumTaskStore
    runner: QuantumTaskRunner
    devices: DeviceTable
    jobs: JobStore
    checkers: WorkerPool

    @property
    def limits(self) -> QuantumTaskLimits:
        return self.runner.limits

    def create(self, body: dict[str, Any], region: str | None = None) -> QuantumTaskRecord:
        """CreateQuantumTask; blocks while a worker checks the program (call it off the event loop).

        :param region: the caller's (signed) region, which the task's ARN carries.
        """
        request = validate_create_quantum_task(body)
        wire = request.model_dump(exclude_none=True)
        token = wire.pop("clientToken")
        fingerprint = request_fingerprint(wire)
        existing = earlier_record(self.store, token, fingerprint, _token_used_for)
        if existing is not None:
            return existing
        self._check_request(request, wire, region)
        job_arn = self._job_of(request.jobToken)
        self._check_bucket(request.outputS3Bucket)
        facts = self._check_program(request)
        task_id = str(uuid.uuid4())
        # In the caller's region (a QPU's tasks are made in its own, which the SDK's Tracker prices).
        task_region = _task_region(request.deviceArn, region or self.region)
        record = QuantumTaskRecord(
            task_arn=f"arn:aws:braket:{task_region}:{self.account_id}:quantum-task/{task_id}",
            task_id=task_id,
            status="CREATED",
            device_arn=request.deviceArn,
            shots=request.shots,
            output_bucket=request.outputS3Bucket,
            output_directory=f"{request.outputS3KeyPrefix.rstrip('/')}/{task_id}",
            created_at=now_ms(),
            client_token=token,
            request_hash=fingerprint,
            action=request.action,
            action_type=request.action_type,
            device_parameters=request.deviceParameters,
            tags=request.tags or {},
            job_arn=job_arn,
            associations=wire.get("associations"),
            qubit_count=facts["qubits"],
            method=facts["method"],
        )
        try:
            self.store.insert(record)
        except sqlite3.IntegrityError:
            # The same clientToken sent twice at once: the first insert won; answer as a retry.
            return self.create(body, region)
        self.runner.submit(record)
        return self.store.get(record.task_arn) or record

    def create_and_wait(self, body: dict[str, Any], region: str | None) -> str:
        """CreateQuantumTask: a short task answers already ended, as a quick one does on AWS."""
        record = self.create(body, region)
        self.runner.wait_until_ended(record.task_arn, CREATE_WAIT_SECONDS)
        return record.task_arn

    def cancel(self, task_arn: str, body: dict[str, Any]) -> dict[str, str]:
        """CancelQuantumTask's answer: the task and its cancellation status."""
        token = body.get("clientToken")
        if not isinstance(token, str) or not 1 <= len(token) <= 64:
            raise ValidationException("clientToken: required, a string of 1 to 64 characters")
        record = self.find(task_arn)
        return {"quantumTaskArn": record.task_arn, "cancellationStatus": self.runner.cancel(record)}

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        """SearchQuantumTasks' answer: one page of task summaries."""
        return search_page(self.store, validate_search_quantum_tasks(body), "quantumTasks", 100)

    def describe(self, task_arn: str, with_queue_info: bool) -> dict[str, Any]:
        record = self.find(task_arn)
        description = record.description()
        if with_queue_info:
            description["queueInfo"] = self._queue_info(record)
        return description

    def find(self, task_arn: str) -> QuantumTaskRecord:
        malformed = f"quantumTaskArn: {task_arn!r} is not a quantum task ARN"
        return find_record(
            self.store, task_arn, TASK_ARN_PATTERN, malformed, f"Quantum task {task_arn} not found"
        )

    def device_queue_info(self, device_arn: str, jobs_waiting: int) -> list[dict[str, str]]:
        depth = self.runner.queue_depth(device_arn)
        return [
            {"queue": "QUANTUM_TASKS_QUEUE", "queueSize": str(depth["Normal"]), "queuePriority": "Normal"},
            {
                "queue": "QUANTUM_TASKS_QUEUE",
                "queueSize": str(depth["Priority"]),
                "queuePriority": "Priority",
            },
            {"queue": "JOBS_QUEUE", "queueSize": str(jobs_waiting)},
        ]

    def _check_request(
        self, request: CreateQuantumTaskRequest, wire: dict[str, Any], region: str | None
    ) -> None:
        if len(request.action) > self.limits.max_program_bytes:
            raise ValidationException(
                f"action: {len(request.action)} bytes is over the local service's limit of "
                f"{self.limits.max_program_bytes} bytes (braket-local serve --quantum-task-max-program-kib)"
            )
        action_type = request.action_type
        if action_type not in RUNNABLE_ACTIONS:
            raise ValidationException(
                f"action: program type {action_type} is not run by the local Braket service, which runs "
                f"gate-model programs ({', '.join(RUNNABLE_ACTIONS)}) on SV1, DM1, TN1 and emulated QPUs"
            )
        if request.is_pulse_program():
            raise ValidationException(
                "action: pulse programs (OpenQASM cal/defcal blocks) are not run by the local Braket "
                "service: its simulators and emulated QPUs take gate-level programs"
            )
        self.devices.check_runnable(request.deviceArn, for_task=True, region=region)
        check_reservation(wire.get("associations"), request.deviceArn, self.account_id, "associations")
        name, capabilities = _device(request.deviceArn)
        if action_type not in capabilities["action"]:
            raise ValidationException(f"action: {name} does not support {action_type}")
        low, high = capabilities["service"]["shotsRange"]
        if not low <= request.shots <= high:
            raise ValidationException(f"shots: {name} takes {low} to {high} shots, got {request.shots}")
        if request.shots == 0 and not request.has_result_types():
            raise ValidationException(
                "shots: a program run with shots = 0 must ask for result types "
                "(e.g. expectation, probability)"
            )

    def _check_program(self, request: CreateQuantumTaskRequest) -> dict[str, Any]:
        """Parse and check the program in a worker process: its qubits and how it is simulated."""
        try:
            answer = self.checkers.call(
                {
                    "op": "check",
                    "device_arn": request.deviceArn,
                    "action_type": request.action_type,
                    "action": request.action,
                    "shots": request.shots,
                    "device_parameters": request.deviceParameters,
                    "max_statements": self.limits.max_statements,
                    "memory_bytes": self.limits.check_memory_bytes,
                },
                self.limits.check_seconds,
            )
        except WorkerLost as lost:
            setting = " (braket-local serve --quantum-task-check-timeout)" if lost.timed_out else ""
            raise ValidationException(f"action: the program could not be checked: {lost}{setting}") from None
        if not answer.get("ok"):
            reason = str(answer.get("reason"))
            raise ValidationException(reason if answer.get("kind") == "refused" else f"action: {reason}")
        facts: dict[str, Any] = answer["value"]
        need = task_memory_bytes(facts["method"], facts["qubits"], request.shots)
        if need > self.limits.memory_bytes:
            raise ValidationException(
                f"action: the program uses {facts['qubits']} qubits; its {facts['method'].replace('_', ' ')} "
                f"simulation needs about {describe_bytes(need)}, more than the "
                f"{describe_bytes(self.limits.memory_bytes)} "
                "the local Braket service gives quantum tasks (braket-local serve --quantum-task-memory-mib)"
            )
        return facts

    def _job_of(self, job_token: str | None) -> str | None:
        if job_token is None:
            return None
        job = self.jobs.get_by_job_token(job_token)
        if job is None or job.status != "RUNNING":
            raise ValidationException("jobToken: not the token of a running hybrid job")
        return job.job_arn

    def _check_bucket(self, bucket: str) -> None:
        from moto.s3.models import s3_backends

        # In-process: the S3 of this service is the moto backend behind the same endpoint.
        if bucket not in s3_backends[self.account_id]["aws"].buckets:
            raise ValidationException(
                f"outputS3Bucket: caller doesn't have access to bucket {bucket!r} or it doesn't exist"
            )

    def _queue_info(self, record: QuantumTaskRecord) -> dict[str, Any]:
        position = self.runner.queue_position(record)
        info: dict[str, Any] = {"queue": "QUANTUM_TASKS_QUEUE", "queuePriority": record.priority}
        if position is None:
            info["position"] = "None"
            info["message"] = (
                f"Task is in {record.status} status. "
                "AmazonBraket does not show queue position for this status."
            )
        else:
            info["position"] = str(position)
        return info


def _device(device_arn: str) -> tuple[str, dict[str, Any]]:
    """A runnable device's name and capabilities document."""
    if device_arn in QPUS:
        return QPUS[device_arn].name, QPUS[device_arn].capabilities()
    return SIMULATORS[device_arn].name, SIMULATORS[device_arn].capabilities()


def _task_region(device_arn: str, default: str) -> str:
    return QPUS[device_arn].region if device_arn in QPUS else default


def _token_used_for(task: QuantumTaskRecord) -> ValidationException:
    return ValidationException(
        f"clientToken: already used for quantum task {task.task_arn} with a different request"
    )
