"""Start the real local Braket service in a subprocess, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ACCESS_KEY = "testing"
SECRET_KEY = "testing"  # noqa: S105 - the local service's documented default
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalServiceProcess:
    """One ``braket-local serve`` process on a free port with its own data dir."""

    data_dir: Path
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}-service.log"

    def start(self, timeout: float = 60) -> LocalServiceProcess:
        command = [sys.executable, "-m", "airflow_provider_braket.local.cli", "serve", "--port", str(self.port)]
        command += ["--data-dir", str(self.data_dir), "--cancel-grace", "2", *self.extra_args]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"local service exited: {self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.endpoint}/_local/health", timeout=1) as answer:  # noqa: S310
                    if answer.status == 200:
                        return self
            time.sleep(0.1)
        raise TimeoutError(f"local service not ready after {timeout}s: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash or OOM would: no shutdown code runs."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def session(self, secret_key: str = SECRET_KEY) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=secret_key, region_name=REGION
        )

    def client(self, service: str, retries: int = 3, **kwargs: Any) -> Any:
        config = Config(retries={"mode": "standard", "max_attempts": retries})
        session = self.session(kwargs.pop("secret_key", SECRET_KEY))
        return session.client(service, endpoint_url=self.endpoint, config=config, **kwargs)

    def admin(self, method: str, path: str, body: bytes | None = None) -> bytes:
        request = urllib.request.Request(  # noqa: S310
            f"{self.endpoint}{path}", data=body, method=method, headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return bytes(answer.read())

    def environment(self) -> dict[str, str]:
        """What a Braket SDK user sets to point the SDK (and boto3) at this service."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }


def clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
