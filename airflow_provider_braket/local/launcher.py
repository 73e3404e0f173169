"""Runs a hybrid job's entry point the way the Braket job container's launcher does.

This file is executed by path in the job's interpreter, which may not have this package
installed: it uses the standard library only. The runner starts it with the working directory
set to the unpacked source and every ``AMZN_BRAKET_*`` variable set.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import runpy
import subprocess
import sys
import traceback
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

FAILURE_FILE_VARIABLE = "BRAKET_LOCAL_FAILURE_FILE"
DEPENDENCIES_DIR = ".braket-local-deps"


def main() -> int:
    print("Beginning Setup", flush=True)
    source_dir = Path.cwd()
    sys.path.insert(0, str(source_dir))
    try:
        _install_requirements(source_dir)
        hyperparameters = _load_hyperparameters()
        entry_point = os.environ["AMZN_BRAKET_SCRIPT_ENTRY_POINT"]
        print("Running Code As Process", flush=True)
        _run(entry_point, hyperparameters)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if code != 0:
            _record_failure(f"AlgorithmError: SystemExit: {stop.code}, exit code: {code}")
        return code
    except BaseException as error:
        traceback.print_exc()
        _record_failure(f"AlgorithmError: {type(error).__name__}: {error}, exit code: 1")
        return 1
    finally:
        sys.stdout.flush()
    print("Code Run Finished", flush=True)
    return 0


def _run(entry_point: str, hyperparameters: dict[str, str]) -> None:
    module_name, _, function_name = entry_point.partition(":")
    if importlib.util.find_spec(module_name) is None:
        raise ModuleNotFoundError(
            f"entry point {entry_point!r}: no module named {module_name!r} in the source"
        )
    if not function_name:
        runpy.run_module(module_name, run_name="__main__", alter_sys=True)
        return
    module = importlib.import_module(module_name)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise AttributeError(
            f"entry point {entry_point!r}: module {module_name!r} has no function {function_name!r}"
        )
    function(**_bind(function, hyperparameters))


def _bind(function: Callable[..., Any], hyperparameters: dict[str, str]) -> dict[str, Any]:
    """Pass the hyperparameters the signature names, cast by their annotations (default str)."""
    parameters = inspect.signature(function).parameters
    try:
        hints = typing.get_type_hints(function)
    except Exception:
        hints = {}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    return {
        name: _cast(value, hints.get(name, str))
        for name, value in hyperparameters.items()
        if takes_any or name in parameters
    }


def _cast(value: str, annotation: Any) -> Any:
    if annotation is bool:
        return value.strip().lower() in ("1", "true", "yes", "on")
    if annotation in (int, float, str):
        return annotation(value)
    return value


def _load_hyperparameters() -> dict[str, str]:
    path = os.environ.get("AMZN_BRAKET_HP_FILE")
    if not path or not Path(path).exists():
        return {}
    with open(path) as handle:
        loaded: dict[str, str] = json.load(handle)
    return loaded


def _install_requirements(source_dir: Path) -> None:
    requirements = source_dir / "requirements.txt"
    if not requirements.exists():
        return
    # Into a folder of the job, not the interpreter: local jobs share one Python.
    target = source_dir / DEPENDENCIES_DIR
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*command, "--target", str(target), "-r", str(requirements)], check=True)
    sys.path.insert(1, str(target))


def _record_failure(reason: str) -> None:
    path = os.environ.get(FAILURE_FILE_VARIABLE)
    if path:
        Path(path).write_text(reason[:1024])


if __name__ == "__main__":
    sys.exit(main())
