"""Waiting for a hybrid job in a worker: poll its status, log progress, forward its log lines.

The deferrable path waits in the triggerer instead (:mod:`.triggers.braket`); both log the same
progress messages and the same log lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_braket.hooks.connection import is_transient_error
from airflow_provider_braket.jobs.logs import LogCursor, format_log_line
from airflow_provider_braket.jobs.progress import Backoff, JobProgress, is_terminal, wants_logs
from airflow_provider_braket.operators.outcome import PRUNED_KEY

if TYPE_CHECKING:
    from airflow_provider_braket.hooks.braket import BraketHook
    from airflow_provider_braket.sweeps.pruning import TrialPruning

# The task's logger: a stdlib logger or Airflow's structlog one; both take printf-style calls.
Logger = Any


def wait_in_worker(
    hook: BraketHook,
    job_arn: str,
    job_name: str,
    waiter_delay: float,
    log: Logger,
    forward_logs: bool = True,
    deadline: float | None = None,
    on_deadline: Callable[[str], Any] | None = None,
    on_poll: Callable[[dict[str, Any]], Any] | None = None,
    pruning: TrialPruning | None = None,
) -> dict[str, Any]:
    """Poll until the job ends and return its GetJob answer.

    Throttling, 5xx answers and lost connections are waited out with capped backoff.

    :param deadline: Epoch seconds after which ``on_deadline(job_arn)`` is called (it is
        expected to raise, e.g. after cancelling the job).
    :param on_poll: Called with each GetJob answer of the job while it has not ended (cost caps);
        it may raise to stop waiting.
    :param pruning: The study's pruner, fed the job's objective metric from its log lines (read
        even when they are not forwarded); a job it stops is cancelled and returned with
        ``prunedBecause`` set.
    """
    progress, cursor = JobProgress(), LogCursor()
    backoff = Backoff.from_delay(waiter_delay)
    while True:
        try:
            job = hook.get_job(job_arn)
        except Exception as error:
            if not is_transient_error(error):
                raise
            delay = backoff.next_delay()
            log.warning("Reading job %s failed (%s); again in %.0f s.", job_arn, error, delay)
            time.sleep(delay)
            continue
        backoff.reset()
        for message in progress.update(job):
            log.info(message)
        if (forward_logs or pruning) and wants_logs(job):
            forward_log_lines(hook, job_name, job_arn, cursor, log, forward_logs, pruning)
        if is_terminal(job):
            return job
        if pruning is not None and pruning.should_stop():
            hook.cancel_job(job_arn)
            return {**hook.get_job(job_arn), PRUNED_KEY: pruning.message()}
        if on_poll is not None:
            on_poll(job)
        if deadline is not None and on_deadline is not None and time.time() >= deadline:
            on_deadline(job_arn)
        time.sleep(waiter_delay)


def forward_log_lines(
    hook: BraketHook,
    job_name: str,
    job_arn: str,
    cursor: LogCursor,
    log: Logger,
    forward: bool = True,
    pruning: TrialPruning | None = None,
) -> None:
    """Copy the job's log lines not yet seen by ``cursor`` into ``log`` (if ``forward``) and to
    ``pruning``; a transient failure waits."""
    try:
        streams = len(cursor.positions) or 1
        for stream, event in hook.iter_log_events(job_name, job_arn, cursor):
            if forward:
                log.info("%s", format_log_line(stream, event["message"], streams))
            if pruning is not None:
                pruning.observe(event["message"])
    except Exception as error:
        if not is_transient_error(error):
            raise
        log.warning("Reading the job's log lines failed (%s); will try again.", error)
