"""The lines SageMaker's training toolkit writes around a job's container code, as AWS logs them.

On AWS a hybrid job's container is a SageMaker training container: the training toolkit
(aws/sagemaker-training-toolkit, ``trainer.py``, ``process.py``, ``logging_config.py`` and
``errors.py``, read 2026-12-05) runs ``braket_container.py`` (``SAGEMAKER_PROGRAM`` in
amazon-braket-containers' Dockerfiles) and logs, through its logger ``sagemaker-training-toolkit``
with the format ``%(asctime)s %(name)-12s %(levelname)-8s %(message)s``:

- before the code: ``Invoking user script``, the training environment as JSON, its ``SM_*``
  variables, and ``Invoking script with the following command:`` with the command line;
- after it: ``Reporting training SUCCESS``; or, when the script exits non-zero, ``Reporting
  training FAILURE``, the ``ExecuteUserScriptError`` (exit code and command) and
  ``Encountered exit_code <n>``.

The job runner plays the toolkit's part (it starts the launcher and waits for it), so these lines
are written by the runner into the job's log, with the local paths in place of ``/opt/ml``.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

from airflow_provider_braket.local.execution.workspace import LAUNCHER_NAME, Workspace

LOGGER_NAME = "sagemaker-training-toolkit"
HOST = "algo-1"


def toolkit_line(level: str, message: str) -> list[str]:
    """``message`` as the toolkit's logger prints it: one prefix, then its lines as they are."""
    moment = datetime.now(timezone.utc)
    stamp = f"{moment:%Y-%m-%d %H:%M:%S},{moment.microsecond // 1000:03d}"
    return f"{stamp} {LOGGER_NAME:<12} {level:<8} {message}".rstrip("\n").split("\n")


def invocation_lines(workspace: Workspace, request: dict[str, Any], command: list[str]) -> list[str]:
    """What the toolkit logs before it starts ``braket_container.py``."""
    environment = training_environment(workspace, request)
    variables = "\n".join(f"{name}={value}" for name, value in sm_variables(environment).items())
    message = (
        "Invoking user script\n\nTraining Env:\n\n"
        f"{json.dumps(environment, indent=4)}\n\nEnvironment variables:\n\n{variables}\n\n"
        f"Invoking script with the following command:\n\n{' '.join(command)}\n\n"
    )
    return toolkit_line("INFO", message)


def outcome_lines(returncode: int, command: list[str]) -> list[str]:
    """What the toolkit logs once ``braket_container.py`` has exited with ``returncode``."""
    if returncode == 0:
        return toolkit_line("INFO", "Reporting training SUCCESS")
    error = f'ExecuteUserScriptError:\nExitCode {returncode}\nErrorMessage ""\nCommand "{" ".join(command)}"'
    return [
        *toolkit_line("ERROR", "Reporting training FAILURE"),
        *toolkit_line("ERROR", error),
        *toolkit_line("ERROR", f"Encountered exit_code {returncode}"),
    ]


def training_environment(workspace: Workspace, request: dict[str, Any]) -> dict[str, Any]:
    """The toolkit's ``Training Env``: the fields a local job has, with local paths."""
    channels = [channel["channelName"] for channel in request.get("inputDataConfig", [])]
    instance = request.get("instanceConfig", {})
    return {
        "additional_framework_parameters": {},
        "channel_input_dirs": {name: str(workspace.input_data / name) for name in channels},
        "current_host": HOST,
        "hosts": [HOST],
        "hyperparameters": request.get("hyperParameters", {}),
        "input_config_dir": str(workspace.hyperparameters_file.parent),
        "input_data_config": {
            name: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"} for name in channels
        },
        "input_dir": str(workspace.input_data.parent),
        "is_master": True,
        "job_name": request["jobName"],
        "log_level": 20,
        "master_hostname": HOST,
        "model_dir": str(workspace.results),
        "module_dir": str(workspace.code),
        "module_name": LAUNCHER_NAME.removesuffix(".py"),
        "num_cpus": os.cpu_count() or 1,
        "num_gpus": 0,
        "output_data_dir": str(workspace.results),
        "resource_config": {
            "current_host": HOST,
            "hosts": [HOST],
            "current_instance_type": instance.get("instanceType", "ml.m5.large"),
        },
        "user_entry_point": LAUNCHER_NAME,
    }


def sm_variables(environment: dict[str, Any]) -> dict[str, str]:
    """The ``SM_*`` variables the toolkit derives from the training environment."""
    variables = {}
    for name, value in environment.items():
        text = value if isinstance(value, str) else json.dumps(value)
        variables[f"SM_{name.upper()}"] = text
    for name, value in environment["hyperparameters"].items():
        variables[f"SM_HP_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return variables
