"""The real local Braket service for tests, plus boto3 clients signed for it."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from airflow_provider_braket.local.service_process import LocalServiceProcess as _ServiceProcess

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


class LocalServiceProcess(_ServiceProcess):
    def start(self, timeout: float = 60) -> LocalServiceProcess:
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
