"""Registering a job's secrets with the triggerer's masker before its lines are forwarded.

The task registered them in its worker; the triggerer is another process (Airflow's masker is per
process), and it forwards the job's lines into the same task log. The task hands its trigger the
names of the secret-looking hyperparameters (never their values: trigger arguments are stored in
Airflow's database): with none, nothing is read; otherwise the job is read once, on the shared
poller's client (a client of its own per trigger cost a triggerer of a thousand triggers seconds
of CPU a minute).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from airflow_provider_braket.hooks.connection import is_transient_error
from airflow_provider_braket.utils.masking import mask_secret_hyperparameters
from airflow_provider_braket.utils.shielding import in_thread

if TYPE_CHECKING:
    from airflow_provider_braket.triggers.poller import JobPoller

READ_ATTEMPTS = 3


async def register_job_secrets(poller: JobPoller, job_arn: str, names: list[str] | None, log: Any) -> bool:
    """Register ``job_arn``'s secret hyperparameter values with this process's masker.

    :param names: The secret-looking names the task reported; ``[]`` reads nothing, ``None``
        (unknown: a trigger of an earlier version) reads the job to find out.
    :return: Whether lines may be forwarded: False (logged) if the values could not be read or
        registered, so that no line goes out unmasked.
    """
    if names == []:
        return True
    for attempt in range(1, READ_ATTEMPTS + 1):
        try:
            job = await poller.get_job(job_arn)
            break
        except Exception as error:
            if attempt == READ_ATTEMPTS or not is_transient_error(error):
                log.warning(
                    "Could not read the job's hyperparameters to mask secrets (%s); its log lines "
                    "are not forwarded.",
                    error,
                )
                return False
            await asyncio.sleep(attempt)
    try:
        # In a thread: on Airflow 3.0 mask_secret tells the triggerer's supervisor synchronously,
        # which may not run on the event loop.
        await in_thread(mask_secret_hyperparameters, job.get("hyperParameters") or {})
    except Exception as error:
        log.warning("Could not register the job's secrets (%s); its log lines are not forwarded.", error)
        return False
    return True
