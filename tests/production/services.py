"""PostgreSQL and Redis from Debian's packages, started on free loopback ports with throw-away
data folders, as the production-shaped suite's metadata database and Celery broker.

``make test`` installs the packages when they are missing (``make services``); the servers are
started by the suite itself, like the local Braket service, and removed with their data after it.
PostgreSQL refuses to run as root: as root, its folder is given to Debian's ``postgres`` user and
its commands run as that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from airflow_provider_braket.local.service_process import free_port

SERVICE_PACKAGES = "postgresql redis-server"


def _binary(name: str, *patterns: str) -> str:
    found = shutil.which(name) or next(
        (path for pattern in patterns for path in sorted(glob.glob(pattern), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(f"{name} is not installed; `make services` installs {SERVICE_PACKAGES}")
    return found


@dataclass
class PostgresServer:
    """One PostgreSQL cluster on 127.0.0.1 with trust authentication, database ``airflow``."""

    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="airflow-pg-")))

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.port}/airflow"

    @property
    def celery_result_backend(self) -> str:
        return f"db+postgresql+psycopg2://airflow@127.0.0.1:{self.port}/airflow"

    def _as_owner(self, *command: str) -> list[str]:
        if os.geteuid() != 0:
            return list(command)
        return ["runuser", "-u", "postgres", "--", *command]

    def start(self, timeout: float = 60) -> PostgresServer:
        bin_folder = "/usr/lib/postgresql/*/bin/"
        initdb = _binary("initdb", bin_folder + "initdb")
        pg_ctl = _binary("pg_ctl", bin_folder + "pg_ctl")
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        data = self.folder / "data"
        subprocess.run(
            self._as_owner(initdb, "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8"),
            check=True,
            capture_output=True,
        )
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=300"
        # fsync off: a throw-away cluster; what it holds is lost with the test anyway.
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(
            self._as_owner(
                pg_ctl,
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(self.folder / "server.log"),
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ),
            check=True,
            capture_output=True,
        )
        self._psql("CREATE DATABASE airflow")
        return self

    def _psql(self, sql: str, database: str = "postgres") -> str:
        answer = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "airflow", "-d", database, "-Atc", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return answer.stdout

    def query(self, sql: str) -> list[list[str]]:
        """Rows of a query on the Airflow database, as text (what the test reads of Airflow's state)."""
        return [line.split("|") for line in self._psql(sql, "airflow").splitlines() if line]

    def stop(self) -> None:
        pg_ctl = _binary("pg_ctl", "/usr/lib/postgresql/*/bin/pg_ctl")
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(
                self._as_owner(pg_ctl, "-D", str(self.folder / "data"), "-m", "immediate", "stop"),
                check=True,
                capture_output=True,
            )
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class RedisServer:
    """One Redis on 127.0.0.1, nothing saved to disk."""

    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="airflow-redis-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30) -> RedisServer:
        server = _binary("redis-server")
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return self
            time.sleep(0.2)
        raise TimeoutError(f"redis-server did not answer on port {self.port}: {self.folder / 'redis.log'}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)
