"""What a JobStatusTrigger asks Airflow about its task instance: where log forwarding got, and
whether the task is still deferred.

Both go through the execution API (``XCom`` and ``RuntimeTaskInstance``) from the triggerer; a
trigger run without a task instance (``dag.test()``, a unit test) asks nothing.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_braket.utils.shielding import in_thread

#: The task instance's XCom that remembers how far log forwarding got, so that a trigger started
#: again (triggerer restart, a move to another triggerer) resumes there instead of from the start.
LOG_CURSOR_XCOM_KEY = "braket_log_cursor"
#: A task state that could not be read: nothing may be cancelled on it.
UNKNOWN_STATE = "unknown"


async def saved_log_positions(ti: Any, job_arn: str, log: Any) -> dict[str, dict[str, int]] | None:
    """Where an earlier run of this trigger stopped forwarding ``job_arn``'s log lines, if anywhere."""
    try:
        saved = await _cursor_xcom(ti, "get_one")
    except Exception as error:
        log.warning("Could not read where log forwarding stopped (%s); starting over.", error)
        return None
    # The task saves an empty cursor when it creates the job: that is no earlier run.
    if isinstance(saved, dict) and saved.get("jobArn") == job_arn and saved.get("positions"):
        log.info("Forwarding the job's log lines from where an earlier trigger run stopped.")
        return dict(saved["positions"])
    return None


async def save_log_positions(ti: Any, job_arn: str, positions: dict[str, dict[str, int]], log: Any) -> None:
    try:
        await _cursor_xcom(ti, "set", value={"jobArn": job_arn, "positions": positions})
    except Exception as error:
        # Forwarding goes on; only a restart of this trigger would repeat lines.
        log.warning("Could not save where log forwarding got (%s).", error)


async def _cursor_xcom(ti: Any, method: str, **value: Any) -> Any:
    """``XCom.get_one`` or ``XCom.set`` of the task instance's log cursor (no-op without one)."""
    if ti is None:
        return None
    from airflow.providers.common.compat.sdk import XCom

    return await in_thread(
        getattr(XCom, method),
        key=LOG_CURSOR_XCOM_KEY,
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        map_index=ti.map_index,
        **value,
    )


async def task_state(ti: Any, log: Any) -> str | None:
    """The task's state as the API server knows it now (None once cleared, or gone).

    :data:`UNKNOWN_STATE` when it cannot be asked (no task instance, e.g. under ``dag.test()``,
    or the call failed) or the answer does not name it: with no proof that the task left
    DEFERRED, nothing is cancelled.
    """
    if ti is None:
        return UNKNOWN_STATE
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    try:
        states = await in_thread(
            RuntimeTaskInstance.get_task_states,
            dag_id=ti.dag_id,
            task_ids=[ti.task_id],
            run_ids=[ti.run_id],
            map_index=ti.map_index,
        )
    except Exception:
        log.exception("Could not read the state of task %s.", ti.task_id)
        return UNKNOWN_STATE
    return state_of(states.get(ti.run_id, {}), ti.task_id, ti.map_index)


def state_of(run_states: dict[str, Any], task_id: str, map_index: int) -> str | None:
    """A task instance's state in the execution API's answer for its run.

    The API keys a mapped task instance ``<task_id>_<map_index>``, an unmapped one ``<task_id>``
    (Airflow 3.0 to 3.3). Reading a mapped one by its task id alone found nothing, which read as
    "cleared": a sweep's trigger that moved to another triggerer cancelled its job.
    """
    key = task_id if map_index < 0 else f"{task_id}_{map_index}"
    if key not in run_states:
        return UNKNOWN_STATE
    state = run_states[key]
    return None if state is None else str(getattr(state, "value", state))
