"""Start ``braket-local serve`` as a child process and wait until it is ready.

Used by the demo, the benchmarks and the tests; a DAG never needs it.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from airflow_provider_braket.local.config import ADMIN_TOKEN_HEADER, DEFAULT_REGION, read_admin_token


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalServiceProcess:
    """One local service process on loopback with its own data dir.

    :param data_dir: the service's data dir; its log goes next to it.
    :param extra_args: more ``serve`` flags, e.g. ``["--job-slots", "1"]``.
    :param port: TCP port; a free one by default.
    """

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

    def connection_uri(self, access_key: str = "testing", secret_key: str = "testing") -> str:
        """An Airflow AWS connection (JSON, for ``AIRFLOW_CONN_<ID>``) pointing every client here."""
        extra = {"endpoint_url": self.endpoint, "region_name": DEFAULT_REGION}
        return json.dumps({"conn_type": "aws", "login": access_key, "password": secret_key, "extra": extra})

    def start(self, timeout: float = 60) -> LocalServiceProcess:
        command = [
            sys.executable,
            "-m",
            "airflow_provider_braket.local.cli",
            "serve",
            "--port",
            str(self.port),
        ]
        command += ["--data-dir", str(self.data_dir), *self.extra_args]
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"local service exited: {self.log_path.read_text()[-3000:]}")
            if self.is_ready():
                return self
            time.sleep(0.1)
        raise TimeoutError(f"local service not ready after {timeout}s: {self.log_path.read_text()[-3000:]}")

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/_local/health", timeout=1) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown code runs."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def admin(self, method: str, path: str, body: bytes | None = None) -> bytes:
        headers = {"content-type": "application/json"}
        token = read_admin_token(self.data_dir)
        if token:
            headers[ADMIN_TOKEN_HEADER] = token
        request = urllib.request.Request(f"{self.endpoint}{path}", data=body, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as answer:
            return bytes(answer.read())

    def __enter__(self) -> LocalServiceProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
