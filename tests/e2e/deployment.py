"""A real Airflow deployment for the end-to-end tests: api-server, scheduler, dag-processor and
triggerer as separate processes (LocalExecutor, SQLite, parallelism 4 by default; the production
suite adds schedulers, triggerers and Celery workers on PostgreSQL), driven over the REST API.

Each component runs in its own process group, so a test can SIGKILL one with everything it
started (the triggerer's runner, the scheduler's workers) and start it again, as an operator of a
real deployment would see after a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from airflow_provider_braket.local.service_process import free_port

# Component name -> the ``airflow`` command line that runs it.
COMPONENTS: dict[str, list[str]] = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
}
TERMINAL_TI_STATES = ("success", "failed", "skipped", "upstream_failed", "removed")


class ApiError(RuntimeError):
    pass


@dataclass
class AirflowDeployment:
    """One Airflow, its home in ``home``, its DAGs from the named bundles.

    :param home: AIRFLOW_HOME (SQLite DB, logs, airflow.cfg).
    :param bundles: Bundle name -> DAG folder.
    :param environment: More environment variables for every component (connections, config).
    :param components: Component name -> its ``airflow`` command line.
    :param component_environment: Component name -> environment variables of that one alone.
    """

    home: Path
    bundles: dict[str, Path]
    environment: dict[str, str] = field(default_factory=dict)
    components: dict[str, list[str]] = field(default_factory=lambda: dict(COMPONENTS))
    component_environment: dict[str, dict[str, str]] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        bundles = [
            {
                "name": name,
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(path), "refresh_interval": 5},
            }
            for name, path in self.bundles.items()
        ]
        return {
            **{key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")},
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": self._secret("api-secret"),
            "AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt-secret"),
            "AIRFLOW__API__ENABLE_XCOM_DESERIALIZE_SUPPORT": "True",
            # Airflow 3.0 leaves the issuer unset, which PyJWT >= 2.10 refuses to sign.
            "AIRFLOW__API_AUTH__JWT_ISSUER": "airflow-e2e",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self._port("worker-log")),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self._port("trigger-log")),
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
            # Runs only when a test asks for one: no scheduled run of an example DAG on its own.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__TRIGGER_TIMEOUT_CHECK_INTERVAL": "2",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            # A killed triggerer's triggers go to the next one after this long without a heartbeat.
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
            **self.environment,
        }

    def _secret(self, name: str) -> str:
        path = self.home / f".{name}"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32))
        return path.read_text()

    def _port(self, name: str) -> int:
        path = self.home / f".{name}-port"
        if not path.exists():
            path.write_text(str(free_port()))
        return int(path.read_text())

    # -- processes -----------------------------------------------------------------------------

    def start(self, timeout: float = 180) -> AirflowDeployment:
        self.home.mkdir(parents=True, exist_ok=True)
        migrated = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], env=self.env(), capture_output=True, text=True
        )
        if migrated.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed: {(migrated.stdout + migrated.stderr)[-3000:]}")
        for component in self.components:
            self.start_component(component)
        self.wait(lambda: self._api_ready(), timeout, "the api-server to answer")
        return self

    def start_component(self, component: str) -> None:
        log = (self.home / f"{component}.log").open("ab")
        self.processes[component] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *self.components[component]],
            env={**self.env(), **self.component_environment.get(component, {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill_component(self, component: str, sig: signal.Signals = signal.SIGKILL, grace: float = 30) -> None:
        """Signal the component's whole process group (SIGKILL: as a crash, nothing runs).

        A gentler signal gets ``grace`` seconds, then the group is killed: a scheduler's graceful
        exit waits on its executor's workers and once took more than 60 s in CI, and the tests that
        restart a component need it gone, not a clean goodbye.
        """
        process = self.processes.pop(component)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)

    def stop(self) -> None:
        """Stop every component at once (one at a time, their graceful exits added up to 20-50 s
        per deployment in CI); whatever is still running after 20 s is killed."""
        self._write_cpu_seconds()
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()

    def _write_cpu_seconds(self) -> None:
        """CPU seconds each running component used, its ended children (task processes) included,
        into ``cpu-seconds.json``: where a deployment's share of the suite's CPU goes."""
        used: dict[str, float] = {}
        for component, process in self.processes.items():
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(process.pid)
                total = 0.0
                for member in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        times = member.cpu_times()
                        total += times.user + times.system + times.children_user + times.children_system
                used[component] = round(total, 1)
        (self.home / "cpu-seconds.json").write_text(json.dumps(used, indent=1))

    def component_log(self, component: str) -> str:
        return (self.home / f"{component}.log").read_text(errors="replace")

    def task_process(self, ti_id: str) -> psutil.Process | None:
        """The process running a task instance's code (its title is ``airflow worker -- <ti id>``)."""
        for process in psutil.process_iter(["cmdline"]):
            if f"airflow worker -- {ti_id}" in " ".join(process.info["cmdline"] or []):
                return process
        return None

    # -- REST API ------------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/api/v2{path}",
            data=data,
            method=method,
            headers={"content-type": "application/json", "accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as error:
            raise ApiError(f"{method} {path}: {error.code} {error.read().decode(errors='replace')}") from None
        return json.loads(raw) if raw else None

    def token_for(self, username: str, role: str) -> str:
        """A JWT of this deployment's auth manager for a user of ``role`` (viewer, user, op, admin)."""
        mint = (
            "import sys\n"
            "from airflow.api_fastapi.app import create_auth_manager\n"
            "from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser\n"
            "user = SimpleAuthManagerUser(username=sys.argv[1], role=sys.argv[2])\n"
            "print(create_auth_manager().generate_jwt(user))\n"
        )
        minted = subprocess.run(
            [sys.executable, "-c", mint, username, role], env=self.env(), check=True, capture_output=True
        )
        return minted.stdout.decode().strip().splitlines()[-1]

    def _api_ready(self) -> bool:
        try:
            self.api("GET", "/monitor/health")
            return True
        except (OSError, ApiError):
            return False

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        def parsed() -> bool:
            try:
                return not self.api("GET", f"/dags/{dag_id}")["is_paused"]
            except ApiError:
                return False

        self.wait(parsed, timeout, f"DAG {dag_id} to be parsed")

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        self.wait_for_dag(dag_id)
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return str(run["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"/dags/{dag_id}/dagRuns/{_quote(run_id)}")["state"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> str:
        self.wait(
            lambda: self.run_state(dag_id, run_id) in ("success", "failed"),
            timeout,
            f"run {run_id} of {dag_id} to end",
            interval=2,  # runs take minutes; each look costs the api-server CPU the run needs
        )
        return self.run_state(dag_id, run_id)

    def task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        path = f"/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances/{task_id}"
        if map_index >= 0:
            path += f"/{map_index}"
        return dict(self.api("GET", path))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self.api("GET", f"/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances?limit=100")
        return list(answer["task_instances"])

    def wait_for_task(
        self, dag_id: str, run_id: str, task_id: str, states: tuple[str, ...], timeout: float = 180
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}

        def reached() -> bool:
            found.update(self.task_instance(dag_id, run_id, task_id))
            return found.get("state") in states

        self.wait(reached, timeout, f"task {task_id} of {run_id} to be {'/'.join(states)}")
        return found

    def set_task_state(self, dag_id: str, run_id: str, task_id: str, state: str, map_index: int = -1) -> None:
        path = f"/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances/{task_id}"
        self.api("PATCH", path + (f"/{map_index}" if map_index >= 0 else ""), {"new_state": state})

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        """The task's log as the UI shows it: worker and triggerer parts merged, as plain text."""
        path = f"/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances/{task_id}/logs/{try_number}"
        answer = self.api("GET", f"{path}?full_content=true&map_index={map_index}")
        lines = []
        for item in answer["content"]:
            lines.append(item.get("event", "") if isinstance(item, dict) else str(item))
        return "\n".join(lines)

    def task_log_errors(
        self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1
    ) -> list[str]:
        """The lines of the task's log at error level or above."""
        path = f"/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances/{task_id}/logs/{try_number}"
        answer = self.api("GET", f"{path}?full_content=true&map_index={map_index}")
        items = [item for item in answer["content"] if isinstance(item, dict)]
        assert any("level" in item for item in items), "the log's lines carry no level to check"
        return [
            str(item.get("event", ""))
            for item in items
            if str(item.get("level", "")).lower() in ("error", "critical")
        ]

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        path = f"/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances/{task_id}/xcomEntries/{key}"
        return self.api("GET", f"{path}?map_index={map_index}&deserialize=true")["value"]

    @staticmethod
    def wait(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(interval)
        raise TimeoutError(f"waited {timeout:.0f} s for {what}")


def jobs_of_run(braket: Any, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    """Every job the local service holds for one DAG run, found by the task-identity tags."""
    summaries = [
        job for page in braket.get_paginator("search_jobs").paginate(filters=[]) for job in page["jobs"]
    ]
    return [
        job
        for job in summaries
        if job.get("tags", {}).get("airflow:dag_id") == dag_id and job["tags"].get("airflow:run_id") == run_id
    ]


def _quote(run_id: str) -> str:
    return urllib.parse.quote(run_id, safe="")
