"""The commands of docs/connecting-local.md, run as written on a fresh AIRFLOW_HOME."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

REPO = Path(__file__).parents[2]
DOC = REPO / "docs" / "connecting-local.md"
DOC_PORT = 8975


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connecting_local_runs_as_written(tmp_path: Path) -> None:
    block = re.search(r"```bash\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert block is not None
    script = block.group(1)
    if not _free(DOC_PORT):  # another service (a demo, say) has it: the only change made
        port = _free_port()
        script = script.replace(str(DOC_PORT), str(port)).replace(
            "braket-local serve &", f"braket-local serve --port {port} &"
        )
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "BRAKET_LOCAL"))
    }
    environment.update(
        AIRFLOW_HOME=str(tmp_path / "airflow"),  # fresh: no database, no airflow.cfg
        HOME=str(tmp_path),  # the service's default data dir goes under it
    )
    process = subprocess.Popen(
        ["bash", "-e", "-c", script],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=540)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-3000:]
    assert "state=success" in text or "success" in text.lower()
    assert re.search(r"VQE energy -1\.85", text), text[-3000:]
