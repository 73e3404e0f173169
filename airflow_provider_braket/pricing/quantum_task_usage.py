"""Reading what a job's quantum tasks used: shots, status, reservation, simulator time.

A job's tasks are found with SearchQuantumTasks by ``jobArn``. A simulator task's execution time
is in its result (``results.json``, ``additionalMetadata.simulatorMetadata.executionDuration``),
where the SDK's Tracker reads it too. A task that has ended never changes, so a
:class:`QuantumTaskUsageReader` reads each one once, and reads a running job's tasks incrementally:
each search asks only for the tasks created since the newest one it has seen (or since the job
started), for up to ten jobs at once, and only the tasks not yet ended are read again. A running
job's cost can so be checked every poll without reading its whole history again.

A budget's scope has one search per ten running jobs that way. When there are more than ten, and
the last read found few new tasks, one search of every task created since the oldest of those
floors comes first: if it holds fewer tasks not seen before than there would be searches, those
are read with GetQuantumTask (which names the job; a new task of one of the jobs is read so
anyway) and the searches are not made. Points that send no task, or a few, then cost one search
a read at any sweep size. A task of no job asked about is remembered as such, and costs no
second GetQuantumTask.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from airflow_provider_braket.jobs.models import format_timestamp
from airflow_provider_braket.pricing.job_cost import QuantumTaskUsage

ENDED_TASK_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
RESULTS_FILENAME = "results.json"
MAX_FILTER_VALUES = 10
#: A results.json past this is not read for its execution time (the task is then reported unpriced).
MAX_TASK_RESULT_BYTES = 64 * 1024 * 1024
#: One page of every task created since the jobs' floors; more than that, and the jobs are searched.
PROBE_PAGE_SIZE = 100
#: Tasks whose job is remembered; a triggerer runs for months.
MAX_REMEMBERED_OWNERS = 50_000


class QuantumTaskUsageReader:
    """The usage of a job's tasks, through a braket and an s3 client; ended tasks read once.

    :param braket: A boto3 ``braket`` client.
    :param s3: A boto3 ``s3`` client.
    """

    def __init__(self, braket: Any, s3: Any) -> None:
        self._braket = braket
        self._s3 = s3
        self._ended: dict[str, QuantumTaskUsage] = {}
        #: Per job: the summaries of the tasks seen so far, by ARN.
        self._seen: dict[str, dict[str, dict[str, Any]]] = {}
        #: Tasks whose simulator time could not be read (too large a result, no result).
        self.unreadable: set[str] = set()
        #: The job of each task read with GetQuantumTask ("" for none), that no search needs to
        #: tell it again.
        self._owners: dict[str, str] = {}
        self._owners_lock = threading.Lock()
        #: Whether the last read found few enough new tasks for one search of them all to pay.
        self._probe_pays = True

    def job_quantum_tasks(self, job_arn: str) -> list[QuantumTaskUsage]:
        """Every task ``job_arn`` sent, with what its price depends on."""
        return self.jobs_quantum_tasks({job_arn: None})[job_arn]

    def jobs_quantum_tasks(self, jobs: Mapping[str, Any]) -> dict[str, list[QuantumTaskUsage]]:
        """Every task each job sent, searched for ten jobs at a time (a SearchQuantumTasks filter
        takes at most ten values).

        :param jobs: The jobs' ARNs, each with its ``startedAt`` if known: no task of a job is
            older than its start, so a job none of whose tasks was seen yet is searched from there.
        """
        arns = list(jobs)
        fresh: dict[str, QuantumTaskUsage] = {}
        floors = {arn: newest_created(self._seen.setdefault(arn, {}).values()) or jobs[arn] for arn in arns}
        batches = [
            arns[start : start + MAX_FILTER_VALUES] for start in range(0, len(arns), MAX_FILTER_VALUES)
        ]
        if not (
            len(batches) > 1 and self._probe_pays and self._found_in_one_search(floors, len(batches), fresh)
        ):
            new_tasks = 0
            for batch in batches:
                batch_floors = [floors[arn] for arn in batch]
                since = None if any(floor is None for floor in batch_floors) else min(batch_floors)
                for summary in self._search(batch, since):
                    owner = self._owner(summary, batch, fresh)
                    if owner is not None:
                        new_tasks += summary["quantumTaskArn"] not in self._seen[owner]
                        self._seen[owner][summary["quantumTaskArn"]] = summary
            if len(batches) > 1:
                self._probe_pays = new_tasks < len(batches) - 1
        return {arn: [self._usage(summary, fresh) for summary in self._seen[arn].values()] for arn in arns}

    def _found_in_one_search(
        self, floors: dict[str, Any], searches: int, fresh: dict[str, QuantumTaskUsage]
    ) -> bool:
        """Find the jobs' new tasks with one search of every task created since the oldest floor,
        if it holds fewer tasks not seen before than ``searches`` (each then read with
        GetQuantumTask, which names its job); False if it does not (then nothing is taken from it)."""
        if any(floor is None for floor in floors.values()):
            return False
        filters = [
            {"name": "createdAt", "operator": "GTE", "values": [format_timestamp(min(floors.values()))]}
        ]
        page = self._braket.search_quantum_tasks(filters=filters, maxResults=PROBE_PAGE_SIZE)
        unseen = [
            summary
            for summary in page["quantumTasks"]
            if summary["quantumTaskArn"] not in self._owners
            and not any(summary["quantumTaskArn"] in self._seen[arn] for arn in floors)
        ]
        if page.get("nextToken") or len(unseen) >= searches:
            self._probe_pays = False
            return False
        for summary in unseen:
            task = self._braket.get_quantum_task(quantumTaskArn=summary["quantumTaskArn"])
            fresh[summary["quantumTaskArn"]] = self._usage_of(task)
            self._remember_owner(summary["quantumTaskArn"], task.get("jobArn"))
        for summary in page["quantumTasks"]:
            owner = self._owners.get(summary["quantumTaskArn"])
            if owner in floors:
                self._seen[owner].setdefault(summary["quantumTaskArn"], summary)
        return True

    def _remember_owner(self, task_arn: str, job_arn: str | None) -> None:
        with self._owners_lock:  # the scopes of a triggerer are read in threads of their own
            self._owners[task_arn] = job_arn or ""
            while len(self._owners) > MAX_REMEMBERED_OWNERS:
                del self._owners[next(iter(self._owners))]

    def forget(self, job_arn: str) -> None:
        """Drop what is kept of an ended job's tasks (its cost is kept by the caller)."""
        for arn in self._seen.pop(job_arn, {}):
            self._ended.pop(arn, None)
            self.unreadable.discard(arn)

    def _owner(
        self, summary: dict[str, Any], batch: list[str], fresh: dict[str, QuantumTaskUsage]
    ) -> str | None:
        """Which job of ``batch`` sent the task: a summary does not say, its description does."""
        task_arn = summary["quantumTaskArn"]
        if len(batch) == 1:
            return batch[0]
        for job_arn in batch:
            if task_arn in self._seen[job_arn]:
                return job_arn
        owner = self._owners.get(task_arn)
        if owner is None:
            task = self._braket.get_quantum_task(quantumTaskArn=task_arn)
            fresh[task_arn] = self._usage_of(task)
            owner = task.get("jobArn") or ""
            self._remember_owner(task_arn, owner)
        return owner if owner in batch else None

    def _usage(self, summary: dict[str, Any], fresh: dict[str, QuantumTaskUsage]) -> QuantumTaskUsage:
        arn = summary["quantumTaskArn"]
        if arn in self._ended:
            return self._ended[arn]
        usage = fresh.get(arn) or self._usage_of(self._braket.get_quantum_task(quantumTaskArn=arn))
        if usage.status in ENDED_TASK_STATUSES:
            self._ended[arn] = usage
        return usage

    def _search(self, job_arns: list[str], since: Any) -> list[dict[str, Any]]:
        """The jobs' tasks, or only those created at or after ``since`` (a ``createdAt``)."""
        filters = [{"name": "jobArn", "operator": "EQUAL", "values": job_arns}]
        if since is not None:
            filters.append({"name": "createdAt", "operator": "GTE", "values": [format_timestamp(since)]})
        pages = self._braket.get_paginator("search_quantum_tasks").paginate(filters=filters)
        return [task for page in pages for task in page["quantumTasks"]]

    def _usage_of(self, task: dict[str, Any]) -> QuantumTaskUsage:
        execution_ms = None
        if "simulator" in task["deviceArn"] and task["status"] == "COMPLETED":
            execution_ms = self._execution_ms(task)
        return QuantumTaskUsage.from_description(task, execution_ms)

    def _execution_ms(self, task: dict[str, Any]) -> int | None:
        key = f"{task['outputS3Directory']}/{RESULTS_FILENAME}"
        try:
            answer = self._s3.get_object(Bucket=task["outputS3Bucket"], Key=key)
        except ClientError:
            self.unreadable.add(task["quantumTaskArn"])
            return None
        body = answer["Body"]
        try:
            if int(answer.get("ContentLength") or 0) > MAX_TASK_RESULT_BYTES:
                self.unreadable.add(task["quantumTaskArn"])
                return None
            document = json.loads(body.read(MAX_TASK_RESULT_BYTES + 1))
        except ValueError:
            self.unreadable.add(task["quantumTaskArn"])
            return None
        finally:
            body.close()
        metadata = (document.get("additionalMetadata") or {}).get("simulatorMetadata") or {}
        duration = metadata.get("executionDuration")
        return int(duration) if isinstance(duration, (int, float)) else None


def newest_created(summaries: Any) -> Any:
    """The latest ``createdAt`` among task summaries (``None`` if there is none). Tasks created
    in that same millisecond are asked for again, and recognised by their ARN."""
    moments = [summary["createdAt"] for summary in summaries if summary.get("createdAt") is not None]
    return max(moments, default=None)
