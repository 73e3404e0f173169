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
from airflow_provider_braket.pricing.cost_limits import BudgetScope, CostLimits, CostWatch
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


def test_twenty_tasks_of_a_sweep_read_their_run_once_per_interval(service: Any) -> None:
    hook = BraketHook()
    dag_id = f"budgeted_{uuid.uuid4().hex[:6]}"
    tags = {"airflow:dag_id": dag_id, "airflow:run_id": RUN_ID, "airflow:task_id": "point"}
    running = [start_job(hook, "sleep", tags={**tags, "airflow:map_index": str(n)}) for n in range(3)]
    ended = [start_job(hook, "ok", tags={**tags, "airflow:map_index": str(3 + n)}) for n in range(3)]
    for job in ended:
        wait_for(hook.conn, job["jobArn"])
    for job in running:
        wait_for(hook.conn, job["jobArn"], ("RUNNING",))
    prices = configured_price_list("")
    shared = ScopeCosts(hook, prices)
    scope = BudgetScope(dag_id, RUN_ID, run_started_at=None)
    limits = CostLimits.of(run_budget="100")
    watches = [CostWatch(hook, limits, scope, prices, costs=shared, max_age=30.0) for _ in range(20)]
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
        # A fresh read: ended jobs cost nothing more; running ones a GetJob and a task search each.
        assert (counted["braket:SearchJobs"], counted["braket:GetJob"]) == (1, 3), counted
    finally:
        for job in running:
            hook.cancel_job(job["jobArn"])
