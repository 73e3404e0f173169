"""The local service's hybrid jobs, devices and tags: what each Braket operation does.

:class:`BraketBackend` is the service's domain: it takes requests as botocore sends them (already
parsed from JSON), checks them as AWS does, and answers with what AWS answers, raising the
service's errors (:mod:`airflow_provider_braket.local.exceptions`). It knows nothing of HTTP: the
routes in :mod:`airflow_provider_braket.local.braket.responses` only read bodies and write responses. Quantum
tasks have their own backend, :class:`~airflow_provider_braket.local.braket.quantum_tasks.QuantumTasks`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from airflow_provider_braket.jobs.models import (
    ACTIVE_STATUSES,
    JOB_ARN_PATTERN,
    validate_create_job,
    validate_search_devices,
    validate_search_jobs,
    validate_tag_resource,
)
from airflow_provider_braket.local.braket.lookup import earlier_record, find_record, search_page
from airflow_provider_braket.local.braket.quantum_tasks import QuantumTasks
from airflow_provider_braket.local.config import LocalServiceConfig
from airflow_provider_braket.local.devices.table import DeviceTable, check_reservation
from airflow_provider_braket.local.exceptions import (
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    ValidationException,
)
from airflow_provider_braket.local.execution.job_runner import JobRunner
from airflow_provider_braket.local.execution.workspace import check_local_algorithm, check_volume
from airflow_provider_braket.local.storage.jobs import JobRecord, JobStore, now_ms
from airflow_provider_braket.local.storage.records import request_fingerprint

DEFAULT_PAGE_SIZE = 100


@dataclass
class BraketBackend:
    """Everything the Braket operations act on, and the operations themselves."""

    config: LocalServiceConfig
    store: JobStore
    devices: DeviceTable
    runner: JobRunner
    quantum_tasks: QuantumTasks

    # -- jobs ------------------------------------------------------------------------------------

    def create_job(self, body: dict[str, Any], region: str | None = None) -> JobRecord:
        """CreateJob: validate, honour the client token, check device and quota, then queue."""
        request = validate_create_job(body).wire()
        token = request.pop("clientToken")
        fingerprint = request_fingerprint(request)
        existing = earlier_record(self.store, token, fingerprint, _token_used_for)
        if existing is not None:
            return existing
        check_local_algorithm(request["algorithmSpecification"])
        check_volume(request["instanceConfig"], self.config.data_dir)
        self.devices.check_runnable(request["deviceConfig"]["device"])
        check_reservation(
            request.get("associations"),
            request["deviceConfig"]["device"],
            self.config.account_id,
            "associations",
        )
        self._check_quota()
        record = self._new_record(request, token, fingerprint, region or self.config.region)
        self.store.insert(record)
        self.store.add_event(
            record.job_arn, "QUEUED_FOR_EXECUTION", "Job queued for execution", record.created_at
        )
        self.runner.enqueue(record.job_arn)
        return record

    def _check_quota(self) -> None:
        active = self.store.count_with_status(ACTIVE_STATUSES)
        quota = self.config.concurrent_job_quota
        if active >= quota:
            raise ServiceQuotaExceededException(
                f"Concurrent hybrid job quota exceeded: {active} jobs are queued or running and the "
                f"quota is {quota}"
            )

    def _new_record(self, request: dict[str, Any], token: str, fingerprint: str, region: str) -> JobRecord:
        job_id = str(uuid.uuid4())
        return JobRecord(
            # In the caller's region, as on AWS (the SDK refuses a job ARN of another region).
            job_arn=f"arn:aws:braket:{region}:{self.config.account_id}:job/{job_id}",
            job_id=job_id,
            job_name=request["jobName"],
            status="QUEUED",
            device=request["deviceConfig"]["device"],
            created_at=now_ms(),
            client_token=token,
            request_hash=fingerprint,
            request=request,
            tags=request.get("tags", {}),
            events=[],
        )

    def cancel_job(self, job_arn: str) -> dict[str, str]:
        """CancelJob: the job and the quantum tasks it sent are cancelled."""
        record = self.job(job_arn)
        status = self.runner.cancel(record)
        self.quantum_tasks.runner.cancel_job_quantum_tasks(record.job_arn)
        return {"jobArn": record.job_arn, "cancellationStatus": status}

    def get_job(self, job_arn: str, attribute_names: list[str]) -> dict[str, Any]:
        """GetJob; ``QueueInfo`` among ``additionalAttributeNames`` adds the queue position."""
        record = self.job(job_arn)
        description = record.description()
        if "QueueInfo" in attribute_names:
            description["queueInfo"] = self._queue_info(record)
        return description

    def search_jobs(self, body: dict[str, Any]) -> dict[str, Any]:
        return search_page(self.store, validate_search_jobs(body), "jobs", DEFAULT_PAGE_SIZE)

    def job(self, job_arn: str) -> JobRecord:
        malformed = f"jobArn: {job_arn!r} does not match the pattern {JOB_ARN_PATTERN}"
        return find_record(self.store, job_arn, JOB_ARN_PATTERN, malformed, f"Job {job_arn} not found")

    def _queue_info(self, record: JobRecord) -> dict[str, Any]:
        position = self.runner.queue_position(record.job_arn) if record.status == "QUEUED" else None
        if position is None:
            return {
                "queue": "JOBS_QUEUE",
                "position": "None",
                "message": (
                    f"Job is in {record.status} status. "
                    "AmazonBraket does not show queue position for this status."
                ),
            }
        return {"queue": "JOBS_QUEUE", "position": str(position)}

    # -- devices ---------------------------------------------------------------------------------

    def get_device(self, device_arn: str, region: str | None = None) -> dict[str, Any]:
        description = self.devices.describe(device_arn, region)
        jobs_waiting = sum(1 for job in self.store.with_status(["QUEUED"]) if job.device == device_arn)
        description["deviceQueueInfo"] = self.quantum_tasks.device_queue_info(device_arn, jobs_waiting)
        return description

    def search_devices(self, body: dict[str, Any], region: str | None = None) -> dict[str, Any]:
        query = validate_search_devices(body)
        devices = [
            {"deviceArn": arn, **settings}
            for arn, settings in sorted(self.devices.describable(region).items())
        ]
        for item in query.filters:
            devices = [device for device in devices if device.get(item.name) in item.values]
        start = _device_offset(query.nextToken)
        limit = query.maxResults or DEFAULT_PAGE_SIZE
        answer: dict[str, Any] = {"devices": devices[start : start + limit]}
        if start + limit < len(devices):
            answer["nextToken"] = str(start + limit)
        return answer

    # -- tags ------------------------------------------------------------------------------------

    def tag_resource(self, resource_arn: str, body: dict[str, Any]) -> None:
        tags = validate_tag_resource(body).tags
        self._set_tags(resource_arn, {**self.list_tags(resource_arn), **tags})

    def untag_resource(self, resource_arn: str, keys: list[str]) -> None:
        if not keys:
            raise ValidationException("tagKeys: at least 1 tag key is required")
        current = self.list_tags(resource_arn)
        self._set_tags(resource_arn, {k: v for k, v in current.items() if k not in keys})

    def list_tags(self, resource_arn: str) -> dict[str, str]:
        """Tags of a job or a quantum task: the two resources the local service keeps."""
        task = self.quantum_tasks.store.get(resource_arn)
        if task is not None:
            return task.tags
        job = self.store.get(resource_arn)
        if job is None:
            raise ResourceNotFoundException(f"Resource {resource_arn} not found")
        return job.tags

    def _set_tags(self, resource_arn: str, tags: dict[str, str]) -> None:
        if self.quantum_tasks.store.get(resource_arn) is not None:
            self.quantum_tasks.store.update(resource_arn, tags=tags)
        else:
            self.store.update(resource_arn, tags=tags)


def _device_offset(token: str | None) -> int:
    if not token:
        return 0
    # Offsets this service issues are small: a long run of digits is forged (and int() of it a 500).
    if not token.isdecimal() or len(token) > 9:
        raise ValidationException("nextToken: not a token this service issued")
    return int(token)


def _token_used_for(job: JobRecord) -> ConflictException:
    return ConflictException(
        f"clientToken {job.client_token!r} was already used for job {job.job_arn} with a different request"
    )
