"""Runs a hybrid job's entry point the way AWS's job container does (``braket_container.py``).

The runner copies this file into ``<job>/code/braket_container.py`` and starts it there, so the
job's ``sys.path[0]`` holds this file alone, as ``/opt/ml/code`` does in the container; the
unpacked source is ``<job>/source``. What it reproduces, from amazon-braket-containers'
``src/braket_container.py``:

- the source folder is APPENDED to ``sys.path``: an installed module wins over a user module of
  the same name;
- every ``requirements.txt`` under the source is installed with ``pip install -r`` from the source
  folder, and a failed install does not stop the job (the container ignores pip's exit code);
- ``pkg.mod:fn`` imports the module in the launcher and calls ``fn`` in a child process, with the
  working directory set to the source folder; the hyperparameters are passed only if ALL of them
  bind to ``fn``'s signature, each converted by calling its annotation on the string (default
  ``str``): ``flag: bool`` given ``"False"`` is ``True``, and a string annotation (``from
  __future__ import annotations``) fails, as in the container; ``pkg.mod`` runs like
  ``python -m pkg.mod``;
- an exception of the code is written to the failure file as ``<Type>: <message>`` (``<Type>``
  when the message is empty) and the child's exit code becomes the launcher's.

It uses the standard library only: the job's interpreter may not have this package installed,
and the service's own modules are hidden from the job (importing them fails as on AWS).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.metadata
import inspect
import json
import multiprocessing
import os
import runpy
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

JOB_ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = JOB_ROOT / "source"
DEPENDENCIES_DIR = JOB_ROOT / "dependencies"
FAILURE_FILE = JOB_ROOT / "output" / "failure"
HIDDEN_PACKAGES = ("airflow_provider_braket",)


class _HideServiceModules(importlib.abc.MetaPathFinder):
    """The service runs in the same interpreter; its package is not there for the job on AWS."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.partition(".")[0] in HIDDEN_PACKAGES:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def log_failure(text: str) -> None:
    with FAILURE_FILE.open("a") as failure:
        failure.write(text)


def install_additional_requirements() -> None:
    print("Checking for Additional Requirements", flush=True)
    for root, _, files in os.walk(SOURCE_DIR):
        if "requirements.txt" in files:
            # Into a folder of this job rather than the shared interpreter: local jobs share it.
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--target",
                    str(DEPENDENCIES_DIR),
                    "-r",
                    os.path.join(root, "requirements.txt"),
                ],
                cwd=SOURCE_DIR,
            )
    if DEPENDENCIES_DIR.is_dir() and any(DEPENDENCIES_DIR.iterdir()):
        # In the container pip installs into site-packages, ahead of the appended source folder.
        sys.path.insert(1, str(DEPENDENCIES_DIR))
    print("Additional Requirements Check Finished", flush=True)


def extract_customer_code(entry_point: str) -> Callable[..., Any]:
    if ":" in entry_point:
        module_name, _, function_name = entry_point.partition(":")
        module = importlib.import_module(module_name)
        function: Callable[..., Any] = getattr(module, function_name)
        return function

    def run_module() -> Any:
        return runpy.run_module(entry_point, run_name="__main__")

    return run_module


def try_bind_hyperparameters(function: Callable[..., Any]) -> dict[str, Any] | None:
    hp_file = os.getenv("AMZN_BRAKET_HP_FILE")
    if hp_file is None:
        return None
    with open(hp_file) as handle:
        hyperparameters = json.load(handle)
    try:
        inspect.signature(function).bind(**hyperparameters)
    except TypeError:
        return None
    annotations = inspect.getfullargspec(function).annotations
    return {name: annotations.get(name, str)(value) for name, value in hyperparameters.items()}


@contextlib.contextmanager
def in_source_dir() -> Iterator[None]:
    current = os.getcwd()
    try:
        os.chdir(SOURCE_DIR)
        yield
    finally:
        os.chdir(current)


def wrap_customer_code(function: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        with in_source_dir():
            return function(**kwargs)
    except Exception as error:
        name = type(error).__name__
        log_failure(f"{name}: {error}" if str(error) else name)
        raise


def run_customer_code() -> None:
    entry_point = os.environ["AMZN_BRAKET_SCRIPT_ENTRY_POINT"]
    with contextlib.suppress(ValueError):
        sys.path.remove(str(SOURCE_DIR))
    sys.path.append(str(SOURCE_DIR))
    install_additional_requirements()
    function = extract_customer_code(entry_point)
    print("Running Code As Process", flush=True)
    process_kwargs: dict[str, Any] = {"target": wrap_customer_code, "args": (function,)}
    arguments = try_bind_hyperparameters(function)
    if arguments is not None:
        process_kwargs["kwargs"] = arguments
    process = multiprocessing.Process(**process_kwargs)
    process.start()
    process.join()
    print("Code Run Finished", flush=True)
    if process.exitcode:
        sys.exit(process.exitcode)


def enter_containment() -> None:
    """The local service's part, before anything of the job runs (see execution/containment.py):
    join the job's cgroups while still allowed to, then become the job's own user for good."""
    for cgroup in filter(None, os.environ.pop("BRAKET_LOCAL_CGROUPS", "").split(os.pathsep)):
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:
            procs.write("0")
    run_as = os.environ.pop("BRAKET_LOCAL_RUN_AS", "")
    if run_as:
        uid = int(run_as)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def main() -> None:
    enter_containment()
    sys.meta_path.insert(0, _HideServiceModules())
    # The container prints it when it imports boto3; read from the metadata, as importing boto3
    # here would cost every job a quarter of a second.
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        print("Boto3 Version: ", importlib.metadata.version("boto3"), flush=True)
    print("Beginning Setup", flush=True)
    run_customer_code()


if __name__ == "__main__":
    main()
