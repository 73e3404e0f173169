"""A hybrid job's files in S3: its code, input data and checkpoints going in, its results coming out."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from airflow_provider_braket.jobs.errors import error_code
from airflow_provider_braket.jobs.request import JobLocation
from airflow_provider_braket.jobs.results import (
    DEFAULT_MAX_RESULTS_BYTES,
    output_prefix,
    read_results_archive,
    results_key,
)
from airflow_provider_braket.jobs.s3uri import is_s3_uri, split_s3_uri
from airflow_provider_braket.jobs.source import pack_source_module


class JobFilesMixin:
    """The S3 side of :class:`~airflow_provider_braket.hooks.braket.BraketHook`."""

    if TYPE_CHECKING:
        s3_client: Any
        log: Any

        @property
        def region_name(self) -> str | None: ...

        @property
        def account_id(self) -> str: ...

        def get_job(self, job_arn: str, queue_info: bool = True) -> dict[str, Any]: ...

    def default_bucket(self) -> str:
        """``amazon-braket-<region>-<account>``, the SDK's default bucket, created if missing."""
        bucket = f"amazon-braket-{self.region_name}-{self.account_id}"
        try:
            self.s3_client.head_bucket(Bucket=bucket)
        except ClientError as error:
            if error_code(error) not in ("404", "NoSuchBucket", "NotFound"):
                raise
            self.log.info("Creating the default Braket bucket %s.", bucket)
            location = {} if self.region_name == "us-east-1" else {"LocationConstraint": self.region_name}
            self.s3_client.create_bucket(
                Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {})
            )
        return bucket

    def upload_source_module(self, source_module: str | Path, location: JobLocation) -> str:
        """Put the job's code at ``location.source_uri``, packed as the SDK packs it; return the URI.

        A local file or folder is tarred with its own name as the root; an ``s3://`` ``.tar.gz`` is
        copied there so the job runs a snapshot of it.
        """
        target_bucket, target_key = split_s3_uri(location.source_uri)
        if isinstance(source_module, str) and is_s3_uri(source_module):
            bucket, key = split_s3_uri(source_module)
            self.s3_client.copy_object(
                Bucket=target_bucket, Key=target_key, CopySource={"Bucket": bucket, "Key": key}
            )
        else:
            body = pack_source_module(Path(source_module))
            self.s3_client.put_object(Bucket=target_bucket, Key=target_key, Body=body)
        return location.source_uri

    def copy_checkpoints(self, from_job_arn: str, to_s3_uri: str) -> int:
        """Copy every checkpoint object of job ``from_job_arn`` under ``to_s3_uri`` (the SDK's
        ``copy_checkpoints_from_job``); return how many objects were copied."""
        source_uri = self.get_job(from_job_arn, queue_info=False)["checkpointConfig"]["s3Uri"]
        source_bucket, source_prefix = split_s3_uri(source_uri.rstrip("/") + "/")
        target_bucket, target_prefix = split_s3_uri(to_s3_uri.rstrip("/") + "/")
        copied = 0
        pages = self.s3_client.get_paginator("list_objects_v2").paginate(
            Bucket=source_bucket, Prefix=source_prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                relative = item["Key"][len(source_prefix) :]
                self.s3_client.copy_object(
                    Bucket=target_bucket,
                    Key=target_prefix + relative,
                    CopySource={"Bucket": source_bucket, "Key": item["Key"]},
                )
                copied += 1
        self.log.info("Copied %d checkpoint objects of %s to %s.", copied, from_job_arn, to_s3_uri)
        return copied

    def upload_input_data(self, local_path: str | Path, location: JobLocation, channel: str) -> str:
        """Upload a local file or folder as input channel ``channel``; return its S3 prefix.

        The prefix is ``<job prefix>/data/<channel>/<name>`` as the SDK makes it; a folder's files
        keep their paths below it.
        """
        path = Path(local_path)
        prefix = location.channel_uri(channel, path.name)
        bucket, key = split_s3_uri(prefix)
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            relative = "" if file == path else "/" + file.relative_to(path).as_posix()
            self.s3_client.upload_file(str(file), bucket, key + relative)
        return prefix

    def upload_output_files(self, output_s3_path: str, files: Iterable[str | Path]) -> list[str]:
        """Put files next to a job's results (``<outputS3Path>/output/<name>``); return their URIs.

        For what post-processing makes of a job, e.g. its convergence plot.
        """
        bucket, prefix = split_s3_uri(output_prefix(output_s3_path))
        uris = []
        for file in map(Path, files):
            self.s3_client.upload_file(str(file), bucket, prefix + file.name)
            uris.append(f"s3://{bucket}/{prefix}{file.name}")
        return uris

    def get_results(
        self,
        job: dict[str, Any],
        allow_pickle: bool = False,
        max_bytes: int = DEFAULT_MAX_RESULTS_BYTES,
    ) -> dict[str, Any] | None:
        """The result dictionary the job saved, or ``None`` if it saved none.

        The archive is streamed from S3, not downloaded whole.

        :param max_bytes: the largest results.json read; a larger one raises
            :class:`~airflow_provider_braket.jobs.results.ResultsTooLargeError`.
        """
        bucket, key = split_s3_uri(results_key(job["outputDataConfig"]["s3Path"]))
        try:
            body = self.s3_client.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as error:
            if error_code(error) in ("NoSuchKey", "404"):
                return None
            raise
        try:
            return read_results_archive(body, allow_pickle=allow_pickle, max_bytes=max_bytes)
        finally:
            body.close()
