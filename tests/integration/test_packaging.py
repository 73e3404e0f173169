"""The built wheel and sdist, not the editable tree: every file of the package is in the wheel,
``twine check`` passes, and the wheel installed in a fresh virtualenv runs the example DAGs
against its own ``braket-local``.

The fresh virtualenv gets the same versions as the test virtualenv (a constraints file frozen
from it), so uv installs from its cache and the test checks the package, not the resolver.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

REPO = Path(__file__).parents[2]
PACKAGE = "airflow_provider_braket"

# Run by the fresh virtualenv's Python, outside the repository: imports the installed wheel.
DRIVER = r"""
import json, os, subprocess, sys
from pathlib import Path
from airflow_provider_braket.local.service_process import LocalServiceProcess

root = Path(sys.argv[1])
with LocalServiceProcess(root / "braket-local") as service:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "example_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
        "AIRFLOW__BRAKET__WAITER_DELAY": "1",
        "AIRFLOW__BRAKET__MIN_DEFERRAL_SECONDS": "0",
        "AIRFLOW_CONN_BRAKET_DEFAULT": service.connection_uri(),
    }
    airflow = [str(Path(sys.executable).parent / "airflow")]
    subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    for dag_id, conf in (("braket_vqe", {}), ("braket_qaoa_sweep", {"depths": [1], "seeds": [1, 2]})):
        run = subprocess.run([*airflow, "dags", "test", dag_id, "--conf", json.dumps(conf)], env=env,
                             capture_output=True, text=True)
        print(f"=== {dag_id} exit {run.returncode}")
        print(run.stdout[-20000:])
        print(run.stderr[-20000:])
"""


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert found, "uv is installed with the virtualenv (make install)"
    return found


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [_uv(), "build", "--wheel", "--sdist", "--out-dir", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    return out


def _tracked_package_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", PACKAGE], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.split()
    return {name for name in listed if "__pycache__" not in name}


def test_the_wheel_holds_every_file_of_the_package(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = sorted(_tracked_package_files() - names)
    assert not missing, f"not in the wheel: {missing}"
    # Package data the code reads at run time, named so a rename is caught here too.
    for data in (
        "pricing/amazon-braket-prices.csv",
        "local/devices/snapshots",
        "ui/templates",
        "ui/static/braket-ui.js",
        "py.typed",
    ):
        assert any(name.startswith(f"{PACKAGE}/{data}") for name in names), data


def test_the_sdist_holds_what_builds_the_wheel(dist: Path) -> None:
    import tarfile

    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "LICENSE"} <= names
    assert not sorted(_tracked_package_files() - names)


def test_twine_check_passes_and_the_readme_renders(dist: Path) -> None:
    built = [*dist.glob("*.whl"), *dist.glob("*.tar.gz")]
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, built)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2, checked.stdout


def documented_install(wheel: Path, constraints: Path) -> list[str]:
    """The arguments of docs/index.md's install command with every extra, for this wheel.

    The docs install with Airflow's constraints file, as Airflow asks (found: a plain install
    resolved Airflow 3.2.2 with pydantic 2.14.4, and every task failed). That file is a freeze of
    an environment Airflow tested; GitHub, where it lives, is out of this machine's reach, so the
    test passes the freeze of the suite's own tested environment in its place.
    """
    import re
    import shlex

    from airflow import __version__ as airflow_version

    line = next(
        line
        for line in (REPO / "docs" / "index.md").read_text().splitlines()
        if line.startswith("pip install") and "[local,plots]" in line
    )
    words = shlex.split(line.split("#")[0])
    assert words[:2] == ["pip", "install"], line
    assert "--constraint" in words, "the docs install without Airflow's constraints file"
    values = {"${AIRFLOW_VERSION}": airflow_version, "$CONSTRAINTS": str(constraints)}
    arguments = []
    for word in words[2:]:
        word = re.sub(r"\$\{AIRFLOW_VERSION\}|\$CONSTRAINTS", lambda match: values[match.group(0)], word)
        arguments.append(word.replace("./airflow-provider-braket", str(wheel)))
    return arguments


def test_the_installed_wheel_runs_the_example_dags(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    frozen = subprocess.run(
        [_uv(), "pip", "freeze", "--python", sys.executable], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(
        "\n".join(line for line in frozen if not line.startswith("-e") and "provider-braket" not in line)
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            _uv(),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            *documented_install(wheel, constraints),
        ],
        check=True,
        capture_output=True,
    )
    shutil.copytree(REPO / "example_dags", tmp_path / "example_dags")
    (tmp_path / "driver.py").write_text(DRIVER)
    # Bytecode is written (if the environment says not to): without it every process of the run
    # (the service, each CLI call, each job) compiles Airflow and the Braket SDK again.
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AIRFLOW", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"))
    }

    run = subprocess.run(
        [str(python), str(tmp_path / "driver.py"), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=800,
    )

    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:]
    located = subprocess.run(
        [str(python), "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert str(venv) in located.stdout  # the wheel's copy, not the repository's
    for dag_id in ("braket_vqe", "braket_qaoa_sweep"):
        assert f"=== {dag_id} exit 0" in output, output[-8000:]
    assert output.count("state=success") >= 2, output[-8000:]
    assert "VQE energy" in output
