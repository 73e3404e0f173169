"""A budget scope's cost is read once per poll interval for all the tasks of a process that share it.

Found (issue 27): each task with a ``run_budget`` read its whole scope at every poll (one
SearchJobs, and a GetJob and a SearchQuantumTasks per running job), so a sweep of N points made
on the order of N^2 reads. Calls are counted by the local service (``/_local/calls``).
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from helpers import start_job, wait_for

from airflow_provider_braket.hooks.braket import BraketHook
from airflow_provider_braket.pricing.cost_limits import BudgetScope, CostCapReached, CostLimits, CostWatch
from airflow_provider_braket.pricing.price_list import configured_price_list
from airflow_provider_braket.pricing.scope_costs import ScopeCosts

pytestmark = [pytest.mark.integration]

RUN_ID = "manual__2026-12-05T08:00:00+00:00"


@pytest.fixture
def service(own_service: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    own_service.extra_args = ["--job-quota", "12", "--job-slots", "6"]
    own_service.start()
    monkeypatch.setenv("AIRFLOW_CONN_BRAKET_DEFAULT", own_service.connection_uri())
    return own_service


def calls(service: Any) -> dict[str, int]:
    return dict(json.loads(service.admin("GET", "/_local/calls")))


def point_tags(prefix: str) -> tuple[str, dict[str, str]]:
    """A new DAG id, and the tags a mapped point of its run gives its job (less its map index)."""
    dag_id = f"{prefix}_{uuid.uuid4().hex[:6]}"
    return dag_id, {"airflow:dag_id": dag_id, "airflow:run_id": RUN_ID, "airflow:task_id": "point"}


def running_sleepers(hook: BraketHook, tags: dict[str, str], indices: range) -> list[dict[str, Any]]:
    """Points that sleep, one per map index, once they all run."""
    jobs = [start_job(hook, "sleep", tags={**tags, "airflow:map_index": str(n)}) for n in indices]
    for job in jobs:
        wait_for(hook.conn, job["jobArn"], ("RUNNING",))
    return jobs


def first_events(triggers: list[Any], then_cancel: list[dict[str, Any]] | None = None) -> list[Any]:
    """Each trigger's first event's payload, the triggers run together in one event loop; then the
    jobs ``then_cancel`` are cancelled, whatever happened."""
    import asyncio

    async def first(trigger: Any) -> Any:
        async for event in trigger.run():
            return event.payload
        return None

    async def watch_all() -> list[Any]:
        return list(await asyncio.gather(*(first(trigger) for trigger in triggers)))

    try:
        return list(asyncio.run(asyncio.wait_for(watch_all(), 60)))
    finally:
        for job in then_cancel or []:
            BraketHook().cancel_job(job["jobArn"])


def budgeted_triggers(
    jobs: list[dict[str, Any]], scope: BudgetScope, seconds: float, waiter_delay: float = 0.5
) -> list[Any]:
    """Deferred points with ``run_budget``, made as the operator makes them (it hands each trigger
    its job's ``instanceConfig``), timing out after ``seconds``."""
    import time

    from airflow_provider_braket.jobs.progress import created_epoch
    from airflow_provider_braket.operators.cost_enforcement import cost_trigger_kwargs
    from airflow_provider_braket.triggers.braket import JobStatusTrigger

    limits = CostLimits.of(run_budget="100")
    return [
        JobStatusTrigger(
            job_arn=job["jobArn"],
            job_name=job["jobName"],
            waiter_delay=waiter_delay,
            created_at=created_epoch(job),
            timeout_at=time.time() + seconds,
            secret_hyperparameters=[],
            **cost_trigger_kwargs(limits, scope, job),
        )
        for job in jobs
    ]


def recorded_searches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, list[dict[str, Any]]]]:
    """(monotonic time, filters) of every SearchJobs the sync hook makes from now on (a budget's
    own reads)."""
    import time

    searched: list[tuple[float, list[dict[str, Any]]]] = []
    original = BraketHook.search_jobs

    def recording(self: BraketHook, filters: Any = None, page_size: int = 100) -> Any:
        searched.append((time.monotonic(), list(filters or [])))
        return original(self, filters, page_size)

    monkeypatch.setattr(BraketHook, "search_jobs", recording)
    return searched


def test_twenty_tasks_of_a_sweep_read_their_run_once_per_interval(service: Any) -> None:
    hook = BraketHook()
    dag_id, tags = point_tags("budgeted")
    running = running_sleepers(hook, tags, range(3))
    ended = [start_job(hook, "ok", tags={**tags, "airflow:map_index": str(3 + n)}) for n in range(3)]
    for job in ended:
        wait_for(hook.conn, job["jobArn"])
    prices = configured_price_list("")
    shared = ScopeCosts(hook, prices)
    scope = BudgetScope(dag_id, RUN_ID, run_started_at=None)
    limits = CostLimits.of(run_budget="100")
    watches = [CostWatch(hook, limits, scope, prices, shared_costs=shared, max_age=30.0) for _ in range(20)]
    alone = CostWatch(hook, limits, scope, prices)  # a task's own reader, as before
    try:
        expected = alone.costs.spent("run", *scope.run_search())
        service.admin("DELETE", "/_local/calls")
        with ThreadPoolExecutor(8) as pool:  # as a triggerer's threads check them
            reached = list(pool.map(lambda watch: watch.breach(running[0]["jobArn"]), watches))
        assert reached == [None] * 20  # 100 USD is far away
        counted = calls(service)
        # One read of the scope for all twenty: one SearchJobs, a GetJob per running job (the
        # ended ones' costs were read once, by the first read), and their tasks' searches.
        assert counted["braket:SearchJobs"] == 1, counted
        assert counted["braket:GetJob"] == 6, counted  # first read: every job once
        service.admin("DELETE", "/_local/calls")
        for watch in watches:
            watch.breach(running[0]["jobArn"])
        assert calls(service) == {}  # within the interval: nothing read again
        # The same total as a task reading on its own (within what the running jobs added since).
        total = shared.spent(f"run:{dag_id}/{RUN_ID}", *scope.run_search(), max_age=30.0)
        assert expected <= total < expected + Decimal("0.01")
        service.admin("DELETE", "/_local/calls")
        shared.spent(f"run:{dag_id}/{RUN_ID}", *scope.run_search(), max_age=0.0)
        counted = calls(service)
        # A fresh read lists only the jobs not ended, and those created since that have (two
        # SearchJobs); ended jobs cost nothing more; the running ones' instance time comes from
        # their summaries (no GetJob) and their tasks from one search for all three. Before
        # (issue 27): the whole scope, and a GetJob and a SearchQuantumTasks per running job.
        assert counted["braket:SearchJobs"] == 2, counted
        assert counted.get("braket:GetJob", 0) == 0, counted
        assert counted["braket:SearchQuantumTasks"] == 1, counted
    finally:
        for job in running:
            hook.cancel_job(job["jobArn"])


def test_a_read_counts_the_jobs_that_ended_or_appeared_since_the_last_one(service: Any) -> None:
    """The incremental read (jobs not ended, and those created since that have) must come to the
    total a first read of the whole scope comes to: a job that ended since the last read gets its
    final cost, one created and ended in between is found, and one that never started costs no
    call."""
    hook = BraketHook()
    dag_id, tags = point_tags("budgeted")
    first = start_job(hook, "sleep", tags={**tags, "airflow:map_index": "0"})
    wait_for(hook.conn, first["jobArn"], ("RUNNING",))
    prices = configured_price_list("")
    scope = BudgetScope(dag_id, RUN_ID, run_started_at=None)
    incremental = ScopeCosts(hook, prices)
    name = f"run:{dag_id}/{RUN_ID}"
    assert incremental.spent(name, *scope.run_search()) > 0
    service.admin("PUT", "/_local/limits", json.dumps({"jobSlots": 1}).encode())
    between = start_job(hook, "ok", tags={**tags, "airflow:map_index": "1"})
    never_started = start_job(hook, "ok", tags={**tags, "airflow:map_index": "2"})
    hook.cancel_job(never_started["jobArn"])  # queued behind the first, on the one slot
    hook.cancel_job(first["jobArn"])
    for job in (first, between, never_started):
        wait_for(hook.conn, job["jobArn"])
    service.admin("DELETE", "/_local/calls")
    total = incremental.spent(name, *scope.run_search())
    counted = calls(service)
    whole = ScopeCosts(hook, prices).spent(name, *scope.run_search())
    assert total == whole, (total, whole)
    # The final costs of the first job (ended since) and the one in between: a GetJob each.
    assert counted["braket:GetJob"] == 2, counted


def test_in_a_triggerer_budgets_read_their_scope_from_the_poller_s_rounds(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found (issue 27): a budget scope's read listed the scope's jobs not ended with SearchJobs
    pages of its own, the same jobs the triggerer's poller lists every round (at 10,000 jobs, 100
    pages twice). Deferred tasks with a ``run_budget`` now read them from the poller's round; the
    scope's own search is the first whole listing (and, after rounds that list only the jobs not
    ended, one for the jobs ended since)."""
    import time

    from airflow_provider_braket.jobs.progress import created_epoch
    from airflow_provider_braket.triggers.braket import JobStatusTrigger

    hook = BraketHook()
    dag_id, tags = point_tags("budgeted")
    jobs = running_sleepers(hook, tags, range(3))
    searched = recorded_searches(monkeypatch)
    scope = {"dag_id": dag_id, "run_id": RUN_ID, "run_started_at": time.time() - 600}
    triggers = [
        JobStatusTrigger(
            job_arn=job["jobArn"],
            job_name=job["jobName"],
            waiter_delay=0.5,
            created_at=created_epoch(job),
            timeout_at=time.time() + 5,
            secret_hyperparameters=[],
            cost_limits=CostLimits.of(run_budget="100").serialize(),
            budget_scope=scope,
        )
        for job in jobs
    ]

    events = first_events(triggers, then_cancel=jobs)
    assert [event["status"] for event in events] == ["timeout"] * 3
    status_names = [{item["name"] for item in filters} for _, filters in searched]
    lists_not_ended = [
        filters
        for _, filters in searched
        if any(item["name"] == "status" and "RUNNING" in item["values"] for item in filters)
    ]
    assert {"createdAt"} in status_names  # it did read: the first read lists the whole scope
    # Before: a listing of the scope's jobs not ended at every read (about 10 in 5 s).
    assert len(lists_not_ended) <= 1, lists_not_ended


def test_deferred_points_tell_the_budget_their_instance_so_a_running_point_costs_no_get_job(
    service: Any,
) -> None:
    """Found (issue 27): in the 200-point budget benchmark, half the GetJobs a budget made were one
    per point as it started, for its instance type alone. The operator knows it (the job it
    created) and hands it to its trigger; the scope's reader prices a running point from the
    poller's summary without a GetJob."""
    import time

    hook = BraketHook()
    dag_id, tags = point_tags("instances")
    jobs = running_sleepers(hook, tags, range(3))
    triggers = budgeted_triggers(jobs, BudgetScope(dag_id, RUN_ID, run_started_at=time.time() - 600), 4)
    assert triggers[0].serialize()[1]["instance_config"] == jobs[0]["instanceConfig"]
    service.admin("DELETE", "/_local/calls")

    events = first_events(triggers, then_cancel=jobs)
    assert [event["status"] for event in events] == ["timeout"] * 3
    counted = calls(service)
    assert counted.get("braket:SearchQuantumTasks", 0) >= 1, counted  # the budget was read
    assert counted.get("braket:GetJob", 0) == 0, counted  # before: one per running point


def test_points_that_end_cost_a_deferred_budget_no_call_of_its_own(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found (issue 27): in the 200-point budget benchmark, most of the calls a budget still made
    were for points that ended: a GetJob each for its ``billableDuration``, and SearchJobs for how
    they ended (those created since the last read, and by ARN those gone from the listing), though
    the poller's round had just listed them. Now the round's listing holds the ended points too,
    and an ended point whose instance the trigger told is counted at a bound of its cost until the
    scope nears its budget: once the poller lists the scope, the budget's reads make no GetJob and
    no SearchJobs of their own."""
    import time

    hook = BraketHook()
    dag_id, tags = point_tags("ending")
    jobs = [start_job(hook, "sleep", tags={**tags, "airflow:map_index": str(n)}) for n in range(2)]
    # They end while they are watched, after the poller lists the scope (its second round).
    jobs += [
        start_job(hook, "count", ticks=8, tick_seconds=0.5, tags={**tags, "airflow:map_index": str(n)})
        for n in range(2, 4)
    ]
    for job in jobs:
        wait_for(hook.conn, job["jobArn"], ("RUNNING", "COMPLETED"))
    searched = recorded_searches(monkeypatch)
    scope = BudgetScope(dag_id, RUN_ID, run_started_at=time.time() - 600)
    triggers = budgeted_triggers(jobs, scope, 9, waiter_delay=1.0)
    service.admin("DELETE", "/_local/calls")
    started = time.monotonic()
    events = first_events(triggers, then_cancel=jobs[:2])
    assert [event["status"] for event in events] == ["timeout", "timeout", "COMPLETED", "COMPLETED"]
    counted = calls(service)
    assert counted.get("braket:SearchQuantumTasks", 0) >= 2, counted  # the budget was read
    # Before: a GetJob per point that ended, for its billableDuration.
    assert counted.get("braket:GetJob", 0) == 0, counted
    # The first read lists the whole scope itself, and tells the poller how far back to list; a read
    # before the poller's next round has listed that searches again (which of the two comes first
    # is the jitter's). Past those, before: a search at every read for the points created since
    # that had ended (about six in this window); now none, or one read's two on a loaded machine
    # whose round came late.
    assert searched, searched
    assert searched[0][1][0]["name"] == "createdAt", searched
    steady = [filters for moment, filters in searched if moment > started + 3 * 1.0]
    assert len(steady) <= 2, searched


def test_ended_jobs_counted_at_a_bound_are_read_before_the_bound_could_decide(service: Any) -> None:
    """An ended job's instance time is bounded from its summary (creation to end, a minute more,
    in whole minutes) so that a budget far from its limit reads no GetJob for it. The decision
    must stay the exact cost's: when the bound reaches the budget, the jobs are read and the exact
    total decides, and what a sweep reports as spent is always exact."""
    from airflow_provider_braket.pricing.scope_costs import instance_time_bound

    hook = BraketHook()
    dag_id, tags = point_tags("bounded")
    jobs = [start_job(hook, "ok", tags={**tags, "airflow:map_index": str(n)}) for n in range(2)]
    ended = [wait_for(hook.conn, job["jobArn"]) for job in jobs]
    prices = configured_price_list("")
    scope = BudgetScope(dag_id, RUN_ID, run_started_at=None)
    name = f"run:{dag_id}/{RUN_ID}"
    exact = ScopeCosts(hook, prices).spent(name, *scope.run_search())
    assert exact > 0

    def told() -> ScopeCosts:
        costs = ScopeCosts(hook, prices)
        for job in jobs:
            costs.know_instance_config(job["jobArn"], job["instanceConfig"])
        return costs

    bounds = [instance_time_bound(job) for job in ended]
    assert all(bound is not None and bound >= 120 for bound in bounds)  # seconds of jobs of 1-2 s
    costs = told()
    service.admin("DELETE", "/_local/calls")
    high = Decimal(1000)
    bounded = costs.spent(name, *scope.run_search(), limit=high)
    assert bounded > exact * 10  # the bound, far above what the jobs cost
    assert calls(service).get("braket:GetJob", 0) == 0
    # The budget between the two: the bound would breach it, the exact cost does not.
    middle = (exact + bounded) / 2
    service.admin("DELETE", "/_local/calls")
    assert costs.spent(name, *scope.run_search(), limit=middle) == exact
    assert calls(service)["braket:GetJob"] == 2
    watch = CostWatch(hook, CostLimits.of(run_budget=str(middle)), scope, prices, shared_costs=told())
    assert watch.breach(jobs[0]["jobArn"]) is None
    assert watch.spending()[0][2] == exact
    below = CostWatch(hook, CostLimits.of(run_budget=str(exact / 2)), scope, prices, shared_costs=told())
    reached = below.breach(jobs[0]["jobArn"])
    assert reached is not None
    assert f"USD {exact:.4f}" in reached
    with pytest.raises(CostCapReached, match="is spent"):
        below.check_before_submit()


def test_a_read_narrows_how_far_back_the_next_listing_reaches(service: Any) -> None:
    """Found (issue 27): a budget's listing reached back to the run's start less ten minutes of
    clock skew for the whole run: every job of the account created in those minutes (in the
    benchmark, the 200 points of the sweep before) and every point that had long ended was on
    every round's pages (SearchJobs 47 a run against 20 without the budget). Before its first
    read a budget needs nothing listed; after a read, only the jobs from the oldest one not
    ended, or from the newest one seen."""
    import time

    from airflow_provider_braket.jobs.progress import created_epoch

    hook = BraketHook()
    dag_id, tags = point_tags("floor")
    first = start_job(hook, "ok", tags={**tags, "airflow:map_index": "0"})
    wait_for(hook.conn, first["jobArn"])
    time.sleep(1.5)  # more than the second a listing's floor keeps in hand
    later = start_job(hook, "sleep", tags={**tags, "airflow:map_index": "1"})
    try:
        wait_for(hook.conn, later["jobArn"], ("RUNNING",))
        prices = configured_price_list("")
        scope = BudgetScope(dag_id, RUN_ID, run_started_at=None)
        watch = CostWatch(hook, CostLimits.of(run_budget="100"), scope, prices)
        # Before any read: nothing for a poller to list (the first read lists the scope itself,
        # from the run's start less the clock skew).
        assert watch.list_since() is None
        assert watch.breach(later["jobArn"]) is None
        narrowed = watch.list_since()
        assert narrowed is not None
        # The ended first point is left out; the running one is still in.
        assert created_epoch(first) < narrowed <= created_epoch(later)
        assert narrowed >= created_epoch(later) - 1.0
    finally:
        hook.cancel_job(later["jobArn"])
    wait_for(hook.conn, later["jobArn"])
    assert watch.breach(later["jobArn"]) is None
    # Nothing left running: from the newest job seen, which is no older than the last one.
    after_end = watch.list_since()
    assert after_end is not None
    assert after_end >= narrowed
