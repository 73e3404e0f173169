"""The provider in a production-shaped Airflow (PostgreSQL, CeleryExecutor, two schedulers, two
triggerers, two Celery workers): sweeps under the job quota, a triggerer or a worker killed, a
deferred task marked failed wherever its trigger runs, and what the triggerers cost in calls.

The ``cancel_on_kill`` scenarios also run on the oldest supported Airflow (``make e2e-oldest``):
there a trigger that moves or whose task is killed is a cancelled coroutine, not ``on_kill``.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from deployment import AirflowDeployment, ApiError, jobs_of_run
from services import PostgresServer

pytestmark = [pytest.mark.e2e, pytest.mark.production, pytest.mark.timeout(420)]

SWEEP, SYNC, SLEEPERS = "prod_sweep", "prod_sync", "prod_sleepers"
SWEEP_POINTS, SLEEPER_COUNT, TICKS = 20, 10, 5


def calls(service: Any) -> dict[str, int]:
    return dict(json.loads(service.admin("GET", "/_local/calls")))


def triggerers_of(postgres: PostgresServer, dag_id: str, run_id: str) -> dict[int, str]:
    """Map index -> the id of the triggerer running that task's trigger, for deferred tasks."""
    rows = postgres.query(
        "SELECT ti.map_index, t.triggerer_id FROM task_instance ti JOIN trigger t ON ti.trigger_id = t.id "
        f"WHERE ti.dag_id = '{dag_id}' AND ti.run_id = '{run_id}' AND ti.state = 'deferred' "
        "AND t.triggerer_id IS NOT NULL"
    )
    return {int(index): triggerer for index, triggerer in rows}


def triggerer_heartbeat_ages(postgres: PostgresServer) -> dict[str, float]:
    """Seconds since each triggerer Airflow holds as running last beat (a SIGKILLed one stays
    "running" in the table; only its heartbeat stops)."""
    rows = postgres.query(
        "SELECT id, extract(epoch from now() - latest_heartbeat) FROM job "
        "WHERE job_type = 'TriggererJob' AND state = 'running'"
    )
    return {row[0]: float(row[1]) for row in rows}


def task_log_folder(production: AirflowDeployment, dag_id: str, run_id: str, map_index: int) -> Path:
    """Where Airflow writes a mapped task's logs (the worker's and each triggerer's)."""
    return (
        production.home
        / "logs"
        / f"dag_id={dag_id}"
        / f"run_id={run_id}"
        / "task_id=job"
        / f"map_index={map_index}"
    )


def trigger_logs(production: AirflowDeployment, dag_id: str, run_id: str, map_index: int) -> set[str]:
    """Ids of the triggerers that ran a trigger of this task (they write attempt=1.log.trigger.<id>.log)."""
    paths = task_log_folder(production, dag_id, run_id, map_index).glob("*.trigger.*.log")
    return {path.name.rsplit(".", 2)[-2] for path in paths}


def trigger_runs_in(
    production: AirflowDeployment, dag_id: str, run_id: str, map_index: int, triggerer: str
) -> bool:
    """Whether the triggerer's own log of this task's trigger shows it running now: started, its
    job seen, and not stopped since (a triggerer stops a trigger it no longer holds)."""
    log = task_log_folder(production, dag_id, run_id, map_index) / f"attempt=1.log.trigger.{triggerer}.log"
    if not log.exists():
        return False
    events = [line for line in log.read_text(errors="replace").splitlines() if '"event":"tick' not in line]
    started = max((n for n, line in enumerate(events) if ") starting" in line), default=-1)
    seen = any("is RUNNING." in line for line in events[started:])
    return started >= 0 and seen and not any("trigger completed" in line for line in events[started:])


def assert_each_line_once(log: str, ticks: int) -> bool:
    """Every "count k" line of a job is in its task log; True if one batch was forwarded twice.

    A repeat is allowed only of the one batch a killed triggerer was forwarding before it could
    save its cursor (docs/reliability.md, Known limits): consecutive lines, each at most twice.
    """
    counts = {tick: log.splitlines().count(f"count {tick}") for tick in range(ticks)}
    assert min(counts.values()) == 1, counts
    repeated = [tick for tick, count in counts.items() if count > 1]
    assert max(counts.values()) <= 2, counts
    assert repeated == list(range(repeated[0], repeated[0] + len(repeated))) if repeated else True, counts
    return bool(repeated)


def sweep_jobs_completed(
    production: AirflowDeployment, braket: Any, run_id: str
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The sweep's 20 COMPLETED jobs, and each task's log by map index."""
    assert production.wait_for_run(SWEEP, run_id, timeout=360) == "success"
    tis = production.task_instances(SWEEP, run_id)
    assert sorted(ti["map_index"] for ti in tis) == list(range(SWEEP_POINTS))
    assert {ti["state"] for ti in tis} == {"success"}
    jobs = jobs_of_run(braket, SWEEP, run_id)
    assert len(jobs) == SWEEP_POINTS, [job["jobName"] for job in jobs]
    assert {job["status"] for job in jobs} == {"COMPLETED"}
    assert sorted(int(job["tags"]["airflow:map_index"]) for job in jobs) == list(range(SWEEP_POINTS))
    logs = {
        ti["map_index"]: production.task_log(SWEEP, run_id, "job", ti["try_number"], ti["map_index"])
        for ti in tis
    }
    return jobs, logs


@pytest.mark.cancel_on_kill
def test_a_sweep_of_20_survives_a_killed_triggerer_and_costs_two_pollers_not_one_per_job(
    production: AirflowDeployment, braket: Any, production_service: Any, postgres: PostgresServer
) -> None:
    """One sweep of 20 under a quota of 3 for two claims (a sweep is 2-3 minutes of the suite):
    a triggerer SIGKILLed mid-sweep hands its triggers to the other, and the sweep's status checks
    cost the triggerers' shared pollers, not a GetJob per job per second."""
    production_service.admin("DELETE", "/_local/calls")
    started = time.monotonic()
    run_id = production.trigger(SWEEP)
    held: dict[int, str] = {}

    def both_triggerers_watch() -> bool:
        # Held in the database is not enough: under load a triggerer can be killed before it
        # started any trigger it was given, and then nothing of it is left to move. Each must
        # have written a trigger's log.
        held.clear()
        held.update(triggerers_of(postgres, SWEEP, run_id))
        logged = {
            triggerer
            for index, triggerer in held.items()
            if triggerer in trigger_logs(production, SWEEP, run_id, index)
        }
        return len(logged) == 2 and len(jobs_of_run(braket, SWEEP, run_id)) >= 4

    production.wait(both_triggerers_watch, 180, "both triggerers to run triggers of the sweep")
    production.kill_component("triggerer-1", signal.SIGKILL)
    try:
        jobs, logs = sweep_jobs_completed(production, braket, run_id)
        elapsed = time.monotonic() - started
        ages = triggerer_heartbeat_ages(postgres)
    finally:
        production.start_component("triggerer-1")

    (dead,) = [triggerer for triggerer, age in ages.items() if age > 20]
    # Only a job whose trigger ran on the killed triggerer may show one batch twice (the batch it
    # was forwarding before it could save its cursor); every other job's lines appear once.
    touched = {index for index in logs if dead in trigger_logs(production, SWEEP, run_id, index)}
    # The lines the killed triggerer forwarded are in its trigger log file, which the API serves
    # through that triggerer: read the touched tasks' logs again now that it is back (found in
    # CI: read while it was down, a job whose trigger forwarded all its lines there showed none).
    tis = {ti["map_index"]: ti for ti in production.task_instances(SWEEP, run_id)}

    def touched_logs_read() -> bool:
        for index in touched:
            logs[index] = production.task_log(SWEEP, run_id, "job", tis[index]["try_number"], index)
        return all("count 0" in logs[index] for index in touched)

    production.wait(touched_logs_read, 60, "the restarted triggerer to serve its trigger logs")
    repeats = sum(assert_each_line_once(logs[index], TICKS) for index in touched)
    for index in set(logs) - touched:
        assert not assert_each_line_once(logs[index], TICKS), index
    (survivor,) = [triggerer for triggerer, age in ages.items() if age <= 20]
    moved = [index for index, triggerer in held.items() if triggerer == dead]
    counted = calls(production_service)
    # Watched one by one, each job would cost a GetJob per second of its life (waiter_delay=1).
    seconds_watched = sum(_lifetime(braket, job["jobArn"]) for job in jobs)
    print(
        f"\nsweep of {SWEEP_POINTS} in {elapsed:.0f} s; triggers held when triggerer {dead} was "
        f"killed: {held}; moved to {survivor}: {moved}; jobs with one batch of log lines repeated: "
        f"{repeats}; Braket calls: {counted}; job-seconds watched {seconds_watched:.0f}"
    )
    for index in moved:  # the survivor ran each of the dead one's triggers to the end (some the
        # dead one had been given but not yet started)
        assert survivor in trigger_logs(production, SWEEP, run_id, index), index
    assert any(dead in trigger_logs(production, SWEEP, run_id, index) for index in moved)
    assert all(braket.get_job(jobArn=job["jobArn"])["status"] == "COMPLETED" for job in jobs)
    # The status polling is the triggerers' shared pollers: at most 2 SearchJobs (the window, then
    # by ARN) a round, a round a second, per triggerer; fewer calls than job-seconds watched.
    searches = counted.get("braket:SearchJobs", 0)
    assert searches <= 2 * 2 * elapsed, counted
    assert searches < seconds_watched, (searches, seconds_watched)
    # GetJob only a fixed few times per job however long it runs: the trigger's read of its
    # hyperparameters (to mask secrets), the task's read of its result, and its cost; a moved
    # trigger reads the hyperparameters once more.
    assert counted.get("braket:GetJob", 0) <= 4 * SWEEP_POINTS + len(moved), counted
    assert counted.get("braket:CreateJob", 0) >= SWEEP_POINTS  # and some refused for the quota
    assert counted.get("braket:CancelJob", 0) == 0


def test_c_a_celery_worker_killed_mid_job_the_retry_reattaches(
    production: AirflowDeployment, braket: Any
) -> None:
    run_id = production.trigger(SYNC)
    _wait_for_log(production, SYNC, run_id, "count 3")
    ti = production.task_instance(SYNC, run_id, "job")
    task = production.task_process(ti["id"])
    assert task is not None, "no process titled 'airflow worker -- <ti id>'"
    ancestors = {parent.pid for parent in task.parents()}
    (worker,) = [name for name, process in production.processes.items() if process.pid in ancestors]
    assert worker.startswith("worker-"), worker

    production.kill_component(worker, signal.SIGKILL)
    try:
        assert production.wait_for_run(SYNC, run_id, timeout=240) == "success"
    finally:
        production.start_component(worker)

    assert production.task_instance(SYNC, run_id, "job")["try_number"] == 2
    jobs = jobs_of_run(braket, SYNC, run_id)
    assert [job["status"] for job in jobs] == ["COMPLETED"]
    log = production.task_log(SYNC, run_id, "job", 2)
    assert "was started by an earlier try of this task; waiting on it" in log
    assert production.xcom(SYNC, run_id, "job")["jobArn"] == jobs[0]["jobArn"]


@pytest.fixture
def room_for_sleepers(production_service: Any) -> Iterator[None]:
    """Every sleeper's job running at once, so both triggerers watch some of them."""
    before = json.loads(production_service.admin("GET", "/_local/limits"))
    limits = {"concurrentJobQuota": SLEEPER_COUNT, "jobSlots": SLEEPER_COUNT}
    production_service.admin("PUT", "/_local/limits", json.dumps(limits).encode())
    yield
    restore = {name: before[name] for name in limits}
    production_service.admin("PUT", "/_local/limits", json.dumps(restore).encode())


@pytest.mark.cancel_on_kill
def test_d_a_deferred_task_marked_failed_in_either_triggerer_cancels_only_its_job(
    production: AirflowDeployment, braket: Any, postgres: PostgresServer, room_for_sleepers: None
) -> None:
    run_id = production.trigger(SLEEPERS)
    held: dict[int, str] = {}

    def all_watched_by_both() -> bool:
        held.clear()
        held.update(triggerers_of(postgres, SLEEPERS, run_id))
        jobs = jobs_of_run(braket, SLEEPERS, run_id)
        running = len(jobs) == SLEEPER_COUNT and all(job["status"] == "RUNNING" for job in jobs)
        if not running or len(held) != SLEEPER_COUNT:
            return False
        chosen.clear()  # one task per triggerer, whose trigger that triggerer runs now
        for index, triggerer in sorted(held.items()):
            if triggerer not in chosen and trigger_runs_in(production, SLEEPERS, run_id, index, triggerer):
                chosen[triggerer] = index
        return len(chosen) == 2

    chosen: dict[str, int] = {}
    production.wait(all_watched_by_both, 240, "every sleeper's job RUNNING, watched by both triggerers")
    jobs = {
        int(job["tags"]["airflow:map_index"]): job["jobArn"] for job in jobs_of_run(braket, SLEEPERS, run_id)
    }

    for index in chosen.values():
        production.set_task_state(SLEEPERS, run_id, "job", "failed", map_index=index)
    marked = time.monotonic()
    # What is checked is that the job is cancelled, not how fast: in CI a loaded triggerer once
    # took 20 s from starting a trigger to its first line, and 15 s here was not enough.
    for triggerer, index in chosen.items():
        production.wait(
            lambda index=index: braket.get_job(jobArn=jobs[index])["status"] == "CANCELLED",
            90,
            f"the job of task {index} (trigger in triggerer {triggerer}) to be CANCELLED",
        )
    print(f"\nboth jobs CANCELLED {time.monotonic() - marked:.1f} s after their tasks were marked failed")
    others = [index for index in jobs if index not in chosen.values()]
    assert {braket.get_job(jobArn=jobs[index])["status"] for index in others} == {"RUNNING"}

    # Leave nothing running for the next scenario: the other jobs are cancelled through Braket,
    # then the run is marked failed (whether marking a whole run cancels its deferred jobs is not
    # what this scenario checks).
    for index in others:
        braket.cancel_job(jobArn=jobs[index])
    production.api("PATCH", f"/dags/{SLEEPERS}/dagRuns/{quote(run_id, safe='')}", {"state": "failed"})


def _wait_for_log(production: AirflowDeployment, dag_id: str, run_id: str, text: str) -> None:
    def logged() -> bool:
        try:
            return text in production.task_log(dag_id, run_id, "job", 1)
        except ApiError:
            return False

    production.wait(logged, 120, f"{text!r} in the log")


def _lifetime(braket: Any, job_arn: str) -> float:
    job = braket.get_job(jobArn=job_arn)
    return float((job["endedAt"] - job["createdAt"]).total_seconds())
