"""JobStatusTrigger: waits in the triggerer for a hybrid job to end, forwarding its log lines."""

from __future__ import annotations

import asyncio
import random
import time
import warnings
from collections.abc import AsyncIterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.exceptions import AirflowProviderDeprecationWarning
from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_braket.hooks.connection import DEFAULT_CONN_ID, ConnectionParams, is_transient_error
from airflow_provider_braket.jobs.logs import LogCursor, format_log_line
from airflow_provider_braket.jobs.progress import JobProgress, is_terminal, wants_logs
from airflow_provider_braket.sweeps.pruning import TrialPruning
from airflow_provider_braket.triggers.cost_checks import TriggerCostChecks
from airflow_provider_braket.triggers.log_secrets import register_job_secrets
from airflow_provider_braket.triggers.task_instance import (
    UNKNOWN_STATE,
    save_log_positions,
    saved_log_positions,
    task_state,
)
from airflow_provider_braket.utils.shielding import run_to_the_end
from airflow_provider_braket.version_compat import AIRFLOW_V_3_3_PLUS

if TYPE_CHECKING:
    from airflow_provider_braket.hooks.braket import BraketHook
    from airflow_provider_braket.triggers.poller import JobPoller

USER_ACTION_CANCEL_MSG = "__airflow_user_action__"  # Airflow >= 3.3 cancels with it for a user's act
LOG_READ_JITTER = 0.1
STREAMS_LOOKED_FOR_EVERY = 10  # reads of a running job's lines, once some of its streams are known


class JobStatusTrigger(BaseTrigger):
    """
    Wait for a Braket hybrid job to end; fire one event with its final status.

    The event is ``{"status": <COMPLETED|FAILED|CANCELLED>, "jobArn", "failureReason"}``, or
    ``{"status": "timeout", ...}`` when ``timeout_at`` passes first and ``{"status": "error",
    "message"}`` when the job cannot be read at all (e.g. it does not exist). Throttling, 5xx
    answers and dropped connections are waited out with capped backoff, not reported.

    The trigger does not poll on its own: it registers its job with the triggerer process's
    :class:`~airflow_provider_braket.triggers.poller.JobPoller` for its connection, which reads the
    status of all registered jobs with a few SearchJobs calls per poll interval and wakes the
    triggers whose job changed.

    Status changes and queue position go to the task log, and so do the job's own log lines while
    it runs. How far forwarding got is kept in the task instance's XCom ``braket_log_cursor``: a
    trigger that runs again after a triggerer restart or on another triggerer goes on from there,
    so each line reaches the task log once. When the task is killed by a user (marked failed or
    success, or cleared) the job is cancelled, but only after confirming that the task really left
    the DEFERRED state: a triggerer restart or a move to another triggerer never cancels anything.

    :param job_arn: The job to watch.
    :param job_name: Its name (its log streams are named after it).
    :param waiter_delay: Seconds between two looks at the job's status (and its log lines), as the
        operators' ``waiter_delay``.
    :param timeout_at: Epoch seconds after which to stop waiting and report ``timeout``.
    :param timeout_reason: What ``timeout_at`` stands for; handed back in the ``timeout`` event.
    :param not_before: Epoch seconds before which no event fires, so that a task does not resume
        within moments of deferring (``[braket] min_deferral_seconds``, see ``settings``).
    :param cancel_on_kill: Cancel the job when a user kills the deferred task.
    :param forward_logs: Copy the job's log lines into the task log.
    :param log_positions: Where log forwarding stopped before (a serialised ``LogCursor``).
    :param secret_hyperparameters: The names (never the values) of the job's hyperparameters that
        look secret, whose values this process must mask before it forwards a line: ``[]`` costs
        no call; ``None`` (unknown, or a trigger serialised by an earlier version) reads the job
        once, before its first forwarded line, to find out.
    :param created_at: The job's ``createdAt`` (epoch seconds), if known: the shared poller finds
        the job by it without a search by ARN first.
    :param cost_limits: Cost caps (:class:`~airflow_provider_braket.pricing.cost_limits.CostLimits`,
        serialised): checked at every look at a job that has not ended; when one is reached the job
        is cancelled and the event is ``{"status": "cost_cap", "message"}``.
    :param budget_scope: The DAG run and DAG the budgets of ``cost_limits`` cover.
    :param instance_config: The job's ``instanceConfig``, if known: budgets price its instance time
        without reading the job for it.
    :param study_trial: The study trial the job is (``SuggestPointsOperator``'s): with a pruner,
        its objective metric goes to the pruner as the job logs it, and a job the pruner stops is
        cancelled; the event is then ``{"status": "pruned", "message"}``.
    :param aws_conn_id: The Airflow connection.
    :param region_name: AWS region, if not the connection's.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: botocore client configuration as a dict.
    :param poll_interval: Deprecated: the former name of ``waiter_delay``, still read from triggers
        serialised by earlier versions.
    """

    def __init__(
        self,
        job_arn: str,
        job_name: str,
        waiter_delay: float = 30,
        timeout_at: float | None = None,
        not_before: float | None = None,
        timeout_reason: str = "timeout_at",
        cancel_on_kill: bool = True,
        forward_logs: bool = True,
        log_positions: dict[str, dict[str, int]] | None = None,
        secret_hyperparameters: list[str] | None = None,
        created_at: float | None = None,
        cost_limits: dict[str, str | None] | None = None,
        budget_scope: dict[str, Any] | None = None,
        instance_config: dict[str, Any] | None = None,
        study_trial: dict[str, Any] | None = None,
        aws_conn_id: str | None = DEFAULT_CONN_ID,
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        poll_interval: float | None = None,
    ) -> None:
        super().__init__()
        if poll_interval is not None:
            warnings.warn(
                "JobStatusTrigger(poll_interval=...) is deprecated; use waiter_delay",
                AirflowProviderDeprecationWarning,
                stacklevel=2,
            )
            waiter_delay = poll_interval
        self.job_arn = job_arn
        self.job_name = job_name
        self.waiter_delay = waiter_delay
        self.timeout_at = timeout_at
        self.not_before = not_before
        self.timeout_reason = timeout_reason
        self.cancel_on_kill = cancel_on_kill
        self.forward_logs = forward_logs
        self.log_positions = log_positions or {}
        self.secret_hyperparameters = secret_hyperparameters
        self.created_at = created_at
        self.cost_limits = cost_limits
        self.budget_scope = budget_scope
        self.instance_config = instance_config
        self.study_trial = study_trial
        self.connection = ConnectionParams.of(aws_conn_id, region_name, verify, botocore_config)
        self._secrets_masked = False
        self._costs = TriggerCostChecks(
            cost_limits,
            budget_scope,
            self.connection,
            lambda: self.hook,
            waiter_delay,
            job_arn,
            instance_config,
        )
        self._log_reads = 0

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_arn": self.job_arn,
                "job_name": self.job_name,
                "waiter_delay": self.waiter_delay,
                "timeout_at": self.timeout_at,
                "not_before": self.not_before,
                "timeout_reason": self.timeout_reason,
                "cancel_on_kill": self.cancel_on_kill,
                "forward_logs": self.forward_logs,
                "log_positions": self.log_positions,
                "secret_hyperparameters": self.secret_hyperparameters,
                "created_at": self.created_at,
                "cost_limits": self.cost_limits,
                "budget_scope": self.budget_scope,
                "instance_config": self.instance_config,
                "study_trial": self.study_trial,
                **self.connection.as_kwargs(),
            },
        )

    @cached_property
    def hook(self) -> BraketHook:
        return self.connection.make_hook()

    def _poller(self) -> JobPoller:
        """This process's poller for the trigger's connection (see :mod:`.poller`)."""
        from airflow_provider_braket.triggers.poller import shared_poller

        return shared_poller(self.connection)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            event = await self._watch()
            if self.not_before is not None:
                await asyncio.sleep(max(0.0, self.not_before - time.time()))
            yield TriggerEvent(event)
        except asyncio.CancelledError as cancelled:
            # Airflow >= 3.3 calls on_kill() for a user's action; before 3.3 this is the only signal.
            if not AIRFLOW_V_3_3_PLUS and not _is_user_action(cancelled):
                await run_to_the_end(self._cancel_job_if_task_left_deferred())
            raise

    async def _watch(self) -> dict[str, Any]:
        progress = JobProgress()
        if self.forward_logs:
            self.log_positions = await self._saved_log_positions() or self.log_positions
        cursor = LogCursor(self.log_positions)
        list_since = self._costs.list_since()  # first: failing to read budgets must leave no poller
        poller, pruning = self._poller(), self._trial_pruning()
        async with poller.watch(self.job_arn, self.waiter_delay, self.created_at, list_since) as watch:
            while True:
                await watch.changed(timeout=self._next_look(watch.job))
                for warning in watch.take_warnings():
                    self.log.warning("%s", warning)
                if watch.error is not None:
                    return {"status": "error", "jobArn": self.job_arn, "message": watch.error}
                job = watch.job
                if job is not None:
                    for message in progress.update(job):
                        self.log.info(message)
                    if (self.forward_logs or pruning) and wants_logs(job) and self._logs_due(poller, job):
                        # Once, before the first line: a queued job costs no extra call.
                        if self.forward_logs and not self._secrets_masked:
                            await self._mask_secret_hyperparameters(poller)
                        # Forwarding is off if the job's secrets could not be masked; pruning reads on.
                        if self.forward_logs or pruning:
                            await self._forward_logs(poller, cursor, is_terminal(job), pruning)
                        if pruning and not is_terminal(job) and await asyncio.to_thread(pruning.should_stop):
                            return await self._prune(pruning)
                    if is_terminal(job):
                        return {
                            "status": job["status"],
                            "jobArn": self.job_arn,
                            "failureReason": job.get("failureReason"),
                        }
                    capped = await self._costs.reached(self.job_arn, self.log)
                    if capped is not None:
                        return capped
                    watch.list_since = self._costs.list_since()
                if self.timeout_at is not None and time.time() >= self.timeout_at:
                    return {
                        "status": "timeout",
                        "jobArn": self.job_arn,
                        "lastStatus": job["status"] if job else None,
                        "reason": self.timeout_reason,
                    }

    async def _mask_secret_hyperparameters(self, poller: JobPoller) -> None:
        """Register the job's secrets with this process's masker (:mod:`.log_secrets`); forward no
        line if that fails."""
        if await register_job_secrets(poller, self.job_arn, self.secret_hyperparameters, self.log):
            self._secrets_masked = True
        else:
            self.forward_logs = False

    def _next_look(self, job: dict[str, Any] | None) -> float | None:
        """Seconds until the trigger must look again without news: log lines to read, a deadline."""
        waits = []
        if job is not None and self.forward_logs and wants_logs(job):
            # Jittered, so that the triggers of a sweep do not all read at the same moment.
            waits.append(self.waiter_delay * random.uniform(1 - LOG_READ_JITTER, 1 + LOG_READ_JITTER))
        if self.timeout_at is not None:
            waits.append(max(0.0, self.timeout_at - time.time()))
        cost_check = self._costs.next_check_in()
        if cost_check is not None and job is not None and not is_terminal(job):
            waits.append(cost_check)
        return min(waits, default=None)

    def _logs_due(self, poller: JobPoller, job: dict[str, Any]) -> bool:
        """Read now, unless the process's log budget is booked for longer than a poll interval.

        A job that ended is always read (its last lines come before its event); a running one
        skips a read rather than queue behind the others, and reads on its next look.
        """
        return is_terminal(job) or poller.log_budget.backlog() <= self.waiter_delay

    async def _forward_logs(
        self, poller: JobPoller, cursor: LogCursor, final: bool = False, pruning: TrialPruning | None = None
    ) -> None:
        # A failed read costs only a delay: the cursor has not moved past what was not logged.
        # The cursor is saved after each page of lines, before the next call waits for the budget,
        # so that a triggerer killed mid-read repeats as few lines as possible.
        async def save_cursor() -> None:
            await self._save_log_positions_if_moved(cursor)

        # Streams (one per instance) appear as the job starts; a late one is found by a later look
        # and read from its start. DescribeLogStreams has CloudWatch Logs' tightest quota.
        known = list(cursor.positions)
        rediscover = final or not known or self._log_reads % STREAMS_LOOKED_FOR_EVERY == 0
        self._log_reads += 1
        try:
            streams = len(cursor.positions) or 1
            async for stream, event in poller.iter_log_events(
                self.job_name,
                self.job_arn,
                cursor,
                urgent=final,
                before_call=save_cursor,
                streams=None if rediscover else known,
            ):
                if self.forward_logs:
                    self.log.info("%s", format_log_line(stream, event["message"], streams))
                if pruning is not None:
                    pruning.observe(event["message"])
        except Exception as error:
            if not is_transient_error(error):
                raise
            self.log.warning("Reading the job's log lines failed (%s); will try again.", error)
        await save_cursor()

    def _trial_pruning(self) -> TrialPruning | None:
        """The job's pruning, if its study has a pruner; a study that cannot be read prunes nothing."""
        try:
            return TrialPruning.of(self.study_trial)
        except Exception as error:
            self.log.warning("Early stopping is off for hybrid job %s: %s", self.job_arn, error)
            return None

    async def _prune(self, pruning: TrialPruning) -> dict[str, Any]:
        message = pruning.message()
        self.log.warning("%s; cancelling hybrid job %s.", message, self.job_arn)
        try:
            await self.hook.cancel_job_async(self.job_arn)
        except Exception as error:  # the task cancels it again when it resumes
            self.log.warning("Could not cancel hybrid job %s yet: %s", self.job_arn, error)
        return {"status": "pruned", "jobArn": self.job_arn, "message": message}

    async def _save_log_positions_if_moved(self, cursor: LogCursor) -> None:
        positions = cursor.serialize()
        if positions != self.log_positions:
            self.log_positions = positions
            await self._save_log_positions(positions)

    async def _saved_log_positions(self) -> dict[str, dict[str, int]] | None:
        """Where an earlier run of this trigger stopped forwarding this job's log lines, if anywhere."""
        return await saved_log_positions(self.task_instance, self.job_arn, self.log)

    async def _save_log_positions(self, positions: dict[str, dict[str, int]]) -> None:
        await save_log_positions(self.task_instance, self.job_arn, positions, self.log)

    async def on_kill(self) -> None:
        """Cancel the job when a user kills the deferred task (Airflow >= 3.3 calls this).

        The work runs to its end even when ``on_kill`` is cancelled: Airflow 3.3.2's triggerer
        sends a trigger's cancel again with each sync until the trigger has ended (about once a
        second), each one lands in the running ``on_kill``, and Airflow then abandons it.
        """
        await run_to_the_end(self._cancel_job_if_task_left_deferred())

    async def _cancel_job_if_task_left_deferred(self) -> None:
        if not self.cancel_on_kill:
            self.log.info("cancel_on_kill is off; hybrid job %s keeps running.", self.job_arn)
            return
        state = await self._task_state()
        if state in ("deferred", UNKNOWN_STATE):
            self.log.info(
                "Task is %s; not cancelling hybrid job %s (the trigger only moved or stopped).",
                state,
                self.job_arn,
            )
            return
        self.log.info("Task is %s; cancelling hybrid job %s.", state or "cleared", self.job_arn)
        try:
            await self.hook.cancel_job_async(self.job_arn)
        except Exception:
            self.log.exception("Could not cancel hybrid job %s; it may still be running.", self.job_arn)

    async def _task_state(self) -> str | None:
        return await task_state(self.task_instance, self.log)


def _is_user_action(cancelled: asyncio.CancelledError) -> bool:
    return bool(cancelled.args) and cancelled.args[0] == USER_ACTION_CANCEL_MSG


class ResubmitTrigger(BaseTrigger):
    """
    Wake a task at ``moment`` to submit its hybrid job again, handing back where submitting stood.

    The operator defers on it while Braket refuses the job for now (concurrent-job quota,
    throttling), so the wait holds no worker slot. The state travels in the event, not in the
    deferral's kwargs, so it reaches the task however the resume is run.

    :param moment: Epoch seconds to fire at.
    :param submit: The operator's submission state (``SubmitState.to_dict()``).
    """

    def __init__(self, moment: float, submit: dict[str, Any]) -> None:
        super().__init__()
        self.moment = moment
        self.submit = submit

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"moment": self.moment, "submit": self.submit},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        await asyncio.sleep(max(0.0, self.moment - time.time()))
        yield TriggerEvent({"submit": self.submit})
