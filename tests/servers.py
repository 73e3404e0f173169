"""The real local Braket service for tests, plus boto3 clients signed for it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from airflow_provider_braket.local.service_process import LocalServiceProcess as _ServiceProcess

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


class LocalServiceProcess(_ServiceProcess):
    def start(self, timeout: float = 60) -> LocalServiceProcess:
        open_for_job_users(self.data_dir)
        if "--cancel-grace" not in self.extra_args:
            self.extra_args = [*self.extra_args, "--cancel-grace", "2"]
        super().start(timeout)
        return self

    def session(self, secret_key: str = SECRET_KEY) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=secret_key, region_name=REGION
        )

    def client(self, service: str, retries: int = 3, **kwargs: Any) -> Any:
        config = Config(retries={"mode": "standard", "max_attempts": retries})
        session = self.session(kwargs.pop("secret_key", SECRET_KEY))
        return session.client(service, endpoint_url=self.endpoint, config=config, **kwargs)

    def environment(self) -> dict[str, str]:
        """What a Braket SDK user sets to point the SDK (and boto3) at this service."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }


def open_for_job_users(data_dir: Path) -> None:
    """Run as root, the service runs each job as a user of its own, which must pass through every
    folder above the data dir; pytest makes its temporary folders 0700. Let others pass (not
    list), as docs/local-service.md asks of a root-run service's data dir."""
    if os.geteuid() != 0:
        return
    folder = data_dir.resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    while folder != folder.parent:
        folder.chmod(folder.stat().st_mode | 0o001)
        folder = folder.parent
