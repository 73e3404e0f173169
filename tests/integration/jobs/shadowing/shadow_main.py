"""Imports user modules named like the local service's own modules, as AWS's container allows."""

import os
import sys

import config
import errors
import psutil
from braket.jobs import save_job_result


def run():
    try:
        import airflow_provider_braket  # noqa: F401

        service_visible = True
    except ModuleNotFoundError:
        service_visible = False
    save_job_result(
        {
            "config": config.ORIGIN,
            "errors": errors.ORIGIN,
            "psutil": getattr(psutil, "ORIGIN", "installed"),
            "service_visible": service_visible,
            "cwd": os.getcwd(),
            "source_last_on_path": sys.path[-1] == os.getcwd(),
        }
    )
