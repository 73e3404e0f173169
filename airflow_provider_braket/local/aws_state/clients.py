"""S3 and CloudWatch Logs as the job runner sees them: boto3 clients to this very endpoint.

The runner goes through the same HTTP front door as every user, so what it writes is exactly
what the Braket SDK and the hook read back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import boto3
from botocore.config import Config

from airflow_provider_braket.jobs.s3uri import split_s3_uri
from airflow_provider_braket.local.config import LocalServiceConfig


class _Client:
    """``clients.<service>``: the client of the service the attribute is named after."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.service = name

    def __get__(self, clients: SelfClients, owner: type | None = None) -> Any:
        return clients.client(self.service)


class SelfClients:
    """Lazily created boto3 clients signed with the service's own credentials."""

    def __init__(self, config: LocalServiceConfig) -> None:
        self._config = config
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """The boto3 client of ``service``, made on first use."""
        if service not in self._clients:
            self._clients[service] = self._new_client(service)
        return self._clients[service]

    def _new_client(self, service: str) -> Any:
        session = boto3.session.Session(
            aws_access_key_id=self._config.access_key,
            aws_secret_access_key=self._config.secret_key,
            region_name=self._config.region,
        )
        retries = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60)
        return session.client(service, endpoint_url=self._config.endpoint_url, config=retries)

    s3 = _Client()
    logs = _Client()
    iam = _Client()
    ecr = _Client()

    def download_prefix(
        self, uri: str, destination: Path, reserve: Callable[[int, str], None] | None = None
    ) -> int:
        """Copy the folder ``uri`` names into ``destination``; a URI naming one object copies it.

        A checkpoint location is a folder: ``.../checkpoints`` does not take ``checkpoints-old/``.

        :param reserve: called with each object's size and URI before it is downloaded; raises
            to refuse it (the job's volume is full).
        """
        bucket, prefix = split_s3_uri(uri)
        wanted = [
            (key, size, PurePosixPath(key).name if key == prefix else key[len(prefix) :].lstrip("/"))
            for key, size in self._keys(bucket, prefix)
            # "data" must not also match "database/...": a prefix counts up to a "/" only.
            if key == prefix or not prefix or prefix.endswith("/") or key[len(prefix)] == "/"
        ]
        return self._download(bucket, wanted, destination, reserve)

    def download_channel(
        self, uri: str, destination: Path, reserve: Callable[[int, str], None] | None = None
    ) -> int:
        """Copy an input channel's objects into ``destination``, as SageMaker's S3Prefix does.

        Every key that starts with the prefix is taken (``.../requirements`` takes
        ``requirements.txt``). Paths are relative to the prefix when it names a folder (it ends
        with ``/``, or every key is under ``<prefix>/``), else to the prefix's parent: the rule
        the Braket SDK's local mode follows (``local_job_container_setup._download_input_data``).
        No object at all fails the job, as on AWS.
        """
        bucket, prefix = split_s3_uri(uri)
        keys = list(self._keys(bucket, prefix))
        if not keys:
            raise ValueError(f"Data download failed: no S3 objects found under S3 URL {uri!r}")
        is_folder = prefix.endswith("/") or all(key.startswith(f"{prefix}/") for key, _ in keys)
        top = prefix if is_folder else prefix.rpartition("/")[0]
        wanted = [(key, size, key[len(top) :].lstrip("/")) for key, size in keys]
        return self._download(bucket, wanted, destination, reserve)

    def _download(
        self,
        bucket: str,
        wanted: list[tuple[str, int, str]],
        destination: Path,
        reserve: Callable[[int, str], None] | None,
    ) -> int:
        """Download each (key, size, relative path) to its path inside ``destination``."""
        for key, size, relative in wanted:
            if reserve is not None:
                reserve(size, f"s3://{bucket}/{key}")
            target = (destination / relative).resolve()
            if not relative or not target.is_relative_to(destination.resolve()):
                raise ValueError(f"refusing S3 key {key!r}: it would be written outside {destination}")
            target.parent.mkdir(parents=True, exist_ok=True)
            self.s3.download_file(bucket, key, str(target))
        return len(wanted)

    def _keys(self, bucket: str, prefix: str) -> Iterator[tuple[str, int]]:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if not key.endswith("/"):
                    yield key, int(item.get("Size", 0))
