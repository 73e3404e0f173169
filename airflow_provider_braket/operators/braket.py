"""Operators that create and cancel Amazon Braket Hybrid Jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowTaskTimeout,
)

from airflow_provider_braket.jobs.models import RequestValidationError
from airflow_provider_braket.jobs.progress import is_terminal
from airflow_provider_braket.jobs.results import DEFAULT_MAX_RESULTS_BYTES
from airflow_provider_braket.links.braket import BraketJobLink, BraketJobLogsLink
from airflow_provider_braket.operators.base import BraketBaseOperator, braket_template_fields

# Defined in its own module; importable from here as the design card names it.
from airflow_provider_braket.operators.cancel import CancelHybridJobOperator
from airflow_provider_braket.operators.outcome import JobPublisherMixin, job_summary
from airflow_provider_braket.operators.preparation import PreparedJob, prepare_job
from airflow_provider_braket.operators.submitter import DEFAULT_SUBMIT_TIMEOUT, JobSubmitter, SubmitState
from airflow_provider_braket.operators.timeouts import Deferral, WaitLimits
from airflow_provider_braket.operators.waiting import wait_in_worker
from airflow_provider_braket.sweeps.pruning import TrialPruning
from airflow_provider_braket.triggers.events import (
    fail_if_not_watched,
    read_resubmit_event,
    read_status_event,
)
from airflow_provider_braket.utils.identity import TaskIdentity
from airflow_provider_braket.version_compat import TRIGGER_FAIL, TRIGGER_TIMEOUT

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_braket.operators.cost_enforcement import CostCapEnforcer
    from airflow_provider_braket.pricing.cost_limits import CostLimits


__all__ = ["CancelHybridJobOperator", "CreateHybridJobOperator"]


class CreateHybridJobOperator(JobPublisherMixin, BraketBaseOperator):
    """
    Create an Amazon Braket Hybrid Job, wait for it, and return what it produced.

    The job arguments are those of the Braket SDK's ``AwsQuantumJob.create``. Everything is
    checked before any AWS call (job name, role ARN, hyperparameters, source file and entry point,
    instance type, ...); a bad argument fails the task with a message naming it, without retries.

    Returned to XCom: ``{"jobArn", "jobName", "status", "results", "metrics", "metricSeries",
    "billableDuration", "outputS3Path"}``; ``results`` is the dictionary the job saved with
    ``save_job_result``, ``metrics`` the last value of each metric it logged with ``log_metric``
    and ``metricSeries`` every value of each, per iteration (``{name: {"iteration", "timestamp",
    "value"}}``, which ``airflow_provider_braket.jobs.metrics.plot`` draws). A FAILED or CANCELLED
    job fails the task with the job's failureReason.

    One job per task instance, whatever happens to its tries: the job is tagged with the task's
    identity (``airflow:dag_id``, ``airflow:task_id``, ``airflow:run_id``, ``airflow:map_index``)
    and a new try first looks for it, waiting on a QUEUED or RUNNING one instead of creating
    another. The client token is derived from that identity and the try number. While Braket
    refuses the job for now (concurrent-job quota, throttling) the task keeps submitting, up to
    ``submit_timeout``. See docs/reliability.md.

    Given ``outlets=[Asset(...)]``, the task's asset event carries the job's summary in its extra
    (``{"braket": {"jobArn", "status", "device", "metrics", "outputS3Path", "cost", ...}}``); a
    mapped sweep publishes once per run through
    :class:`~airflow_provider_braket.operators.publish.PublishJobResultsOperator`. With
    apache-airflow-providers-openlineage installed, the task reports the job's S3 inputs, source
    and outputs, and a ``braketHybridJob`` run facet. See docs/chaining.md.

    :param device: Device ARN the job gets priority access to, or ``local:<provider>/<simulator>``.
    :param source_module: The job's code: a local ``.py`` file or package folder (a relative path is
        looked up next to the DAG file first), or an ``s3://`` URI of a ``.tar.gz``.
    :param entry_point: ``module[:function]`` relative to the source module's parent. Default: the
        source module's name (required for an S3 source module).
    :param image_uri: Container image; default: Braket's base jobs image.
    :param job_name: Default: ``<task-id>[-<map-index>]-<timestamp-ms>``, trimmed to 50 characters.
    :param hyperparameters: Names to str, int, float or bool values (sent as strings); at most 100.
    :param input_data: A location, or a dict of channel name to location: a local file or folder
        (uploaded to the job's S3 prefix), an ``s3://`` prefix, or an ``S3DataSourceConfig``.
    :param instance_config: Dict or ``braket.jobs.config.InstanceConfig``. Default: one
        ``ml.m5.large`` with 30 GB.
    :param checkpoint_config: Dict or ``CheckpointConfig``. Default: the job's S3 prefix ``/checkpoints``.
    :param output_data_config: Dict or ``OutputDataConfig``. Default: the job's S3 prefix ``/data``.
    :param stopping_condition: Dict or ``StoppingCondition``. Default: 5 days.
    :param role_arn: Execution role. Default: the connection extra ``jobs_role_arn``, then the
        environment variable ``BRAKET_JOBS_ROLE_ARN``, then the account's
        ``AmazonBraketJobsExecutionRole*`` (as the SDK finds it).
    :param tags: Tags for the job.
    :param reservation_arn: A Braket Direct reservation to run the job in.
    :param create_job_kwargs: Raw CreateJob fields, applied last (e.g. ``{"associations": [...]}``).
    :param code_location: S3 prefix the code is uploaded to. Default: the job's prefix ``/script``.
    :param distribution: ``"data_parallel"`` sets the hyperparameters of SageMaker's data
        parallelism, as the SDK does.
    :param copy_checkpoints_from_job: ARN of a job whose checkpoints are copied to this job's
        checkpoint location before it starts, so that it resumes from them.
    :param wait_for_completion: Wait for the job to end (default True); if False, return at once.
    :param waiter_delay: Seconds between two status checks. Default: ``[braket] waiter_delay`` (30),
        or 2 against a loopback endpoint (the local service).
    :param waiter_max_attempts: Give up (and cancel the job) after this many checks. Default:
        no limit; the job's own stopping condition bounds it.
    :param cancel_on_kill: Cancel the job when the task is killed or its ``execution_timeout``
        passes (default True).
    :param reuse_completed: When an earlier try of this task (same DAG run and map index) already
        COMPLETED a job, return that job's results instead of running it again (default False).
    :param submit_timeout: Seconds (or a timedelta) to keep submitting while Braket refuses the job
        for now (concurrent-job quota, throttling, 5xx); then the task fails. Default: 1 hour.
    :param forward_logs: Copy the job's log lines into the task log while it runs (default True).
    :param allow_pickle: Unpickle results saved in ``pickled_v4`` format (runs code from the job).
    :param max_results_bytes: The largest results.json read into XCom (default 1 MiB); a larger
        one is left in S3, and the XCom says so and where it is (``resultsUri``).
    :param max_cost: USD this job may cost (instance time and quantum tasks, docs/cost.md): it is
        cancelled when it reaches it, and the task fails saying so.
    :param run_budget: USD the Braket jobs of this DAG run may cost together (a mapped sweep): no
        job is created once it is spent, and this task's job is cancelled when it is exceeded.
    :param monthly_budget: The same for the Braket jobs of this DAG in a calendar month (UTC).
    :param fail_on_cap_after_completion: A cap is checked at each look while the job runs; when it
        is found passed only after the job COMPLETED (between two looks), the job is not
        cancelled and by default the task succeeds with its results, warning; True fails it.
    :param study_trial: The point of a study this job is (``expand_kwargs`` over
        ``SuggestPointsOperator``): the study hears its score or failure and cost; its pruner may stop it.
    :param kwargs: ``deferrable`` (wait in the triggerer instead of a worker slot) and the
        connection arguments (``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``) of
        :class:`~airflow_provider_braket.operators.base.BraketBaseOperator`; ``BaseOperator``'s.
    """

    # Everything a DAG could compute upstream (Jinja or XCom); dicts become the SDK's config
    # objects' API form when the task runs.
    template_fields: Sequence[str] = braket_template_fields(
        "device",
        "source_module",
        "entry_point",
        "image_uri",
        "job_name",
        "hyperparameters",
        "input_data",
        "instance_config",
        "checkpoint_config",
        "output_data_config",
        "stopping_condition",
        "role_arn",
        "tags",
        "reservation_arn",
        "create_job_kwargs",
        "code_location",
        "copy_checkpoints_from_job",
        "max_cost",
        "run_budget",
        "monthly_budget",
    )
    template_fields_renderers = dict.fromkeys(
        ("hyperparameters", "tags", "input_data", "instance_config", "checkpoint_config",
         "output_data_config", "stopping_condition", "create_job_kwargs"),
        "json",
    )  # fmt: skip
    operator_extra_links = (BraketJobLink(), BraketJobLogsLink())

    def __init__(
        self,
        *,
        device: str,
        source_module: str,
        entry_point: str | None = None,
        image_uri: str | None = None,
        job_name: str | None = None,
        hyperparameters: dict[str, Any] | None = None,
        input_data: Any = None,
        instance_config: Any = None,
        checkpoint_config: Any = None,
        output_data_config: Any = None,
        stopping_condition: Any = None,
        role_arn: str | None = None,
        tags: dict[str, str] | None = None,
        reservation_arn: str | None = None,
        create_job_kwargs: dict[str, Any] | None = None,
        code_location: str | None = None,
        distribution: str | None = None,
        copy_checkpoints_from_job: str | None = None,
        wait_for_completion: bool = True,
        waiter_delay: float | None = None,
        waiter_max_attempts: int | None = None,
        cancel_on_kill: bool = True,
        reuse_completed: bool = False,
        submit_timeout: float | timedelta = DEFAULT_SUBMIT_TIMEOUT,
        forward_logs: bool = True,
        allow_pickle: bool = False,
        max_results_bytes: int = DEFAULT_MAX_RESULTS_BYTES,
        max_cost: float | str | None = None,
        run_budget: float | str | None = None,
        monthly_budget: float | str | None = None,
        fail_on_cap_after_completion: bool = False,
        study_trial: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not wait_for_completion and self.outlets:
            # Airflow emits the asset event when the task succeeds: here, before the job's output exists.
            raise ValueError(
                "outlets: a task with wait_for_completion=False ends before its job's output exists; "
                "put the asset on the HybridJobSensor that waits for the job"
            )
        self.device = device
        self.source_module = source_module
        self.entry_point = entry_point
        self.image_uri = image_uri
        self.job_name = job_name
        self.hyperparameters = hyperparameters
        self.input_data = input_data
        self.instance_config = instance_config
        self.checkpoint_config = checkpoint_config
        self.output_data_config = output_data_config
        self.stopping_condition = stopping_condition
        self.role_arn = role_arn
        self.tags = tags
        self.reservation_arn = reservation_arn
        self.create_job_kwargs = create_job_kwargs
        self.code_location = code_location
        self.distribution = distribution
        self.copy_checkpoints_from_job = copy_checkpoints_from_job
        self.wait_for_completion = wait_for_completion
        self.waiter_delay = self.configured_waiter_delay(waiter_delay)
        self.waiter_max_attempts = waiter_max_attempts
        self.cancel_on_kill = cancel_on_kill
        self.reuse_completed = reuse_completed
        self.submit_timeout = (
            submit_timeout.total_seconds() if isinstance(submit_timeout, timedelta) else float(submit_timeout)
        )
        self.forward_logs = forward_logs
        self.allow_pickle = allow_pickle
        self.max_results_bytes = max_results_bytes
        self.max_cost = max_cost
        self.run_budget = run_budget
        self.monthly_budget = monthly_budget
        self.fail_on_cap_after_completion = fail_on_cap_after_completion
        self.study_trial = study_trial

    # -- execute ---------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        return self._run(context, SubmitState.begin())

    def execute_resubmit(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after waiting on a timer for Braket to accept the job (quota, throttling)."""
        return self._run(context, SubmitState.from_dict(read_resubmit_event(event)))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired: read the ended job and return (or fail on) its outcome."""
        event = read_status_event(event)
        job_arn = event["jobArn"]
        self.job_arn_to_cancel = job_arn
        status = event["status"]
        if status == "timeout":
            if event.get("reason") == "execution_timeout":
                self._fail_after_execution_timeout(context, job_arn, deferred=True)
            self.limits.cancel_after_attempts(self.hook, job_arn)
        fail_if_not_watched(event, job_arn)
        if status == "pruned":
            return self.conclude_pruned(self.hook.get_job(job_arn), str(event.get("message")))
        if status == "cost_cap":
            self.job_arn_to_cancel = None
            if event.get("endedAs"):  # passed only after the job ended: it was not cancelled
                self._cost_caps(context).after_end(str(event.get("message")), event["endedAs"])
                return self._finish(context, self.hook.get_job(job_arn))
            self.conclude_capped(self.hook.get_job(job_arn), str(event.get("message")))
        return self._finish(context, self.hook.get_job(job_arn))

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        # A deferral that runs past execution_timeout comes back here, with neither on_kill nor
        # the trigger's timeout event: without this the job would run on, billed, unwatched.
        # The reason is Airflow's str Enum, or its value once read back from the database.
        if next_method == TRIGGER_FAIL and (next_kwargs or {}).get("error") == TRIGGER_TIMEOUT:
            self._fail_after_execution_timeout(context, None, deferred=True)
        return super().resume_execution(next_method, next_kwargs, context)

    @property
    def limits(self) -> WaitLimits:
        return WaitLimits(self.waiter_delay, self.waiter_max_attempts, self.execution_timeout)

    def _run(self, context: Context, submit: SubmitState) -> dict[str, Any]:
        identity = TaskIdentity.from_context(context, self.task_id)
        if not submit.refusals:
            self.reserve_links(context, [BraketJobLink, BraketJobLogsLink])
        try:
            job = prepare_job(self, context, identity, submit.timestamp)
            # Only now the connection: bad input fails before any AWS client is made.
            if not submit.refusals:
                self.check_endpoint()
            self.waiter_delay = self.adapt_waiter_delay(self.waiter_delay)
            return self._submit_and_watch(context, identity, job, submit)
        except RequestValidationError as error:
            # Another try would send the same request: fail now, naming the argument.
            raise AirflowFailException(str(error)) from error
        except AirflowTaskTimeout:
            self._fail_after_execution_timeout(context, self.job_arn_to_cancel, deferred=False)

    def _submit_and_watch(
        self, context: Context, identity: TaskIdentity, job: PreparedJob, submit: SubmitState
    ) -> dict[str, Any]:
        submitter = self._submitter()
        caps = self._cost_caps(context, job.limits)
        # A resubmission of this try needs no search: its client token already finds a job
        # that a refused-looking CreateJob did create.
        earlier = None if submit.refusals else submitter.job_of_earlier_try(identity)
        if earlier is not None and earlier["status"] == "COMPLETED":
            self.push_job_keys(context, earlier["jobArn"], earlier["jobName"])
            return self._finish(context, self.hook.get_job(earlier["jobArn"]))
        if earlier is not None:
            return self._watch(context, earlier["jobArn"], earlier["jobName"], caps)
        caps.before_submit(job.spec)
        job_arn = submitter.submit(identity, job, submit, self.limits.execution_deadline(context))
        return self._watch(context, job_arn, job.spec.job_name, caps)

    def _cost_caps(self, context: Context, limits: CostLimits | None = None) -> CostCapEnforcer:
        # Prices: not at DAG parsing.
        from airflow_provider_braket.operators.cost_enforcement import CostCapEnforcer
        from airflow_provider_braket.pricing.cost_limits import CostLimits

        identity, limits = TaskIdentity.from_context(context, self.task_id), limits or CostLimits()
        return CostCapEnforcer(
            self.hook, limits, identity, self.log, self.fail_on_cap_after_completion,
            connection=self.connection_params(), max_age=self.waiter_delay,
        )  # fmt: skip

    def _submitter(self) -> JobSubmitter:
        return JobSubmitter(
            hook=self.hook,
            log=self.log,
            waiter_delay=self.waiter_delay,
            submit_timeout=self.submit_timeout,
            deferrable=self.deferrable,
            min_deferral_seconds=self.min_deferral_seconds(),
            execution_timeout=self.execution_timeout,
            defer=self.defer,
            reuse_completed=self.reuse_completed,
            copy_checkpoints_from_job=self.copy_checkpoints_from_job,
        )

    def _fail_after_execution_timeout(
        self, context: Context, job_arn: str | None, deferred: bool
    ) -> NoReturn:
        self.job_arn_to_cancel = None
        self.limits.fail_after_execution_timeout(
            self.hook,
            self.log,
            TaskIdentity.from_context(context, self.task_id),
            job_arn,
            cancel_on_kill=self.cancel_on_kill,
            deferred=deferred,
        )

    def _watch(self, context: Context, job_arn: str, job_name: str, caps: CostCapEnforcer) -> dict[str, Any]:
        self.job_arn_to_cancel = job_arn
        self.push_job_keys(context, job_arn, job_name)
        self.persist_links(context, [BraketJobLink, BraketJobLogsLink], job_arn=job_arn, job_name=job_name)
        if not self.wait_for_completion:
            return job_summary(self.hook.get_job(job_arn))
        if self.deferrable:
            job = self.hook.get_job(job_arn)
            if not is_terminal(job):
                self.start_log_cursor(context, job_arn)
                self._defer(job, self.limits.deferral(self.limits.execution_deadline(context)), caps)
            return self._finish(context, job)
        job = wait_in_worker(
            self.hook,
            job_arn,
            job_name,
            self.waiter_delay,
            self.log,
            self.forward_logs,
            deadline=self.limits.attempts_deadline(),
            on_deadline=lambda arn: self.limits.cancel_after_attempts(self.hook, arn),
            on_poll=caps.on_poll,
            pruning=TrialPruning.of(self.study_trial),
        )
        return self._finish(context, job)

    def _defer(self, job: dict[str, Any], deferral: Deferral, caps: CostCapEnforcer) -> None:
        self.defer(
            timeout=deferral.backstop,
            trigger=self.status_trigger(
                job,
                self.waiter_delay,
                deferral.timeout_at,
                timeout_reason=deferral.reason,
                cancel_on_kill=self.cancel_on_kill,
                forward_logs=self.forward_logs,
                study_trial=self.study_trial,
                **caps.trigger_kwargs(job),
            ),
            method_name="execute_complete",
        )

    def _finish(self, context: Context, job: dict[str, Any]) -> dict[str, Any]:
        self.job_arn_to_cancel = None
        return self.conclude(context, job, self.allow_pickle, self.max_results_bytes)
