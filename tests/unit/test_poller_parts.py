"""Unit tests of the shared poller's small parts; its rounds run against the local service in
tests/integration/test_shared_poller.py."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, timezone
from typing import Any

from airflow_provider_braket.jobs.models import format_timestamp, validate_search_jobs
from airflow_provider_braket.jobs.progress import created_epoch
from airflow_provider_braket.triggers.braket import JobStatusTrigger
from airflow_provider_braket.triggers.job_watch import JobWatch, RateBudget, Tracked
from airflow_provider_braket.triggers.poller import PollerKey
from airflow_provider_braket.utils.shielding import set_within


def test_rate_budget_spaces_all_callers_together() -> None:
    budget = RateBudget(per_second=20)

    async def ten_calls_from_five_callers() -> float:
        started = time.monotonic()

        async def caller() -> None:
            await budget.spend()
            await budget.spend()

        await asyncio.gather(*(caller() for _ in range(5)))
        return time.monotonic() - started

    elapsed = asyncio.run(ten_calls_from_five_callers())
    assert elapsed >= 9 * 0.05 - 0.01  # the first goes at once, then one every 50 ms
    assert budget.backlog() <= 0.05


def test_triggers_with_the_same_connection_share_a_key() -> None:
    one = PollerKey.of("braket_default", "us-east-1", None, {"retries": {"max_attempts": 3}, "a": 1})
    same = PollerKey.of("braket_default", "us-east-1", None, {"a": 1, "retries": {"max_attempts": 3}})
    other = PollerKey.of("braket_other", "us-east-1", None, None)
    assert one == same
    assert hash(one) == hash(same)
    assert one != other
    assert other.make_hook().aws_conn_id == "braket_other"


def test_a_job_ended_only_once_its_failure_reason_is_known() -> None:
    tracked = Tracked()
    tracked.job = {"status": "FAILED", "jobName": "x"}  # a summary: no failureReason yet
    assert not tracked.ended
    tracked.job = {"status": "FAILED", "jobName": "x", "failureReason": "diverged"}
    assert tracked.ended
    tracked.job = {"status": "COMPLETED", "jobName": "x"}
    assert tracked.ended
    tracked.job = {"status": "CANCELLING", "jobName": "x"}
    assert not tracked.ended


def test_creation_times_round_trip_through_the_search_filter() -> None:
    created = datetime(2026, 11, 25, 6, 7, 8, 123000, tzinfo=timezone.utc)
    assert created_epoch({"createdAt": created}) == created.timestamp()
    assert created_epoch({"createdAt": "2026-11-25T06:07:08.123Z"}) == created.timestamp()
    assert created_epoch({}) is None
    stamp = format_timestamp(created)
    assert stamp == "2026-11-25T06:07:08.123Z"
    validate_search_jobs(
        {"filters": [{"name": "createdAt", "operator": "BETWEEN", "values": [stamp, stamp]}]}
    )


def test_the_trigger_carries_the_creation_time_through_serialisation() -> None:
    trigger = JobStatusTrigger(
        job_arn="arn:aws:braket:us-east-1:123456789012:job/x", job_name="x", created_at=1.5
    )
    _, kwargs = trigger.serialize()
    assert kwargs["created_at"] == 1.5
    assert JobStatusTrigger(**kwargs).created_at == 1.5


def test_urgent_reads_go_before_routine_ones() -> None:
    budget = RateBudget(per_second=20)
    order: list[str] = []

    async def read(name: str, urgent: bool) -> None:
        await budget.spend(urgent=urgent)
        order.append(name)

    async def routine_queue_then_one_urgent() -> None:
        routine = [asyncio.ensure_future(read(f"routine {n}", False)) for n in range(4)]
        await asyncio.sleep(0)
        await asyncio.gather(read("final", True), *routine)

    asyncio.run(routine_queue_then_one_urgent())
    assert order.index("final") <= 1  # at most the one read already under way went first


def test_a_job_that_never_started_has_no_log_lines_to_read() -> None:
    from airflow_provider_braket.jobs.progress import wants_logs

    assert not wants_logs({"status": "CANCELLED"})  # cancelled while QUEUED
    assert not wants_logs({"status": "QUEUED"})
    assert wants_logs({"status": "RUNNING"})
    assert wants_logs({"status": "COMPLETED", "startedAt": "2026-11-25T06:00:00Z"})


def test_a_trigger_cancelled_as_its_poller_wakes_it_is_cancelled_with_the_message() -> None:
    """Before Python 3.12, ``asyncio.wait_for`` returned the result and dropped a cancel that came
    in the same loop step as the result: a trigger woken by its poller at the moment Airflow 3.3
    cancelled it for a user's action ran on, and its job was never cancelled."""

    async def scenario() -> tuple[Any, ...]:
        watch = JobWatch("arn:job", 1.0, None)  # type: ignore[arg-type]
        waiting = asyncio.ensure_future(watch.changed(timeout=10))
        for _ in range(3):
            await asyncio.sleep(0)
        watch._changed.set()  # the poller's news ...
        waiting.cancel("__airflow_user_action__")  # ... and the user's action, in one loop step
        try:
            await waiting
        except asyncio.CancelledError as cancelled:
            return cancelled.args
        raise AssertionError("the cancel was dropped: the trigger would run on")

    assert asyncio.run(scenario()) == ("__airflow_user_action__",)


def test_set_within_reports_the_event_or_the_timeout() -> None:
    async def scenario() -> tuple[bool, bool, float]:
        event = asyncio.Event()
        started = time.monotonic()
        timed_out = await set_within(event, 0.05)
        waited = time.monotonic() - started
        asyncio.get_running_loop().call_later(0.01, event.set)
        return timed_out, await set_within(event, 5), waited

    timed_out, woken, waited = asyncio.run(scenario())
    assert (timed_out, woken) == (False, True)
    assert waited >= 0.05


def test_an_endpoint_that_refuses_the_status_filter_is_searched_by_creation_time_alone() -> None:
    """AWS's API reference names only ``jobArn`` and ``createdAt`` as SearchJobs filters (the
    service's OpenAPI document adds ``status``), and AWS cannot be called here: a client that
    answers ValidationException to a status filter stands in for an endpoint that refuses it.
    The poller must then list the window without it, not fall back to a GetJob per job."""
    from botocore.exceptions import ClientError

    from airflow_provider_braket.triggers.poller import JobPoller

    job = {"jobArn": "arn:aws:braket:us-east-1:123456789012:job/a", "status": "RUNNING", "jobName": "a"}
    asked: list[list[str]] = []

    class RefusesStatus:
        async def search_jobs(self, filters: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
            names = [item["name"] for item in filters]
            asked.append(names)
            if "status" in names:
                error = {"Error": {"Code": "ValidationException", "Message": "invalid filter name: status"}}
                raise ClientError(error, "SearchJobs")
            return {"jobs": [job]}

    poller = JobPoller(PollerKey.of("braket_default", "us-east-1", None, None), 5.0, 1000.0)
    poller._searches._ended_in_window = 10_000  # a long sweep's window: the status filter pays
    tracked = {job["jobArn"]: Tracked(created_at=time.time())}
    found = asyncio.run(poller._searches.search(RefusesStatus(), tracked, lambda _: None))
    again = asyncio.run(poller._searches.search(RefusesStatus(), tracked, lambda _: None))
    assert found == again == {job["jobArn"]: job}
    assert asked == [["createdAt", "status"], ["createdAt"], ["createdAt"]]  # refused once, then never asked
    assert poller._searches.works


def six_jobs() -> list[dict[str, Any]]:
    """Six watched jobs, RUNNING, created a second apart."""
    arn, base = "arn:aws:braket:us-east-1:123456789012:job/{}", 1_800_000_000.0
    return [{"jobArn": arn.format(n), "status": "RUNNING", "createdAt": base + n} for n in range(6)]


class ScriptedPages:
    """A SearchJobs client that answers ``listed`` in pages and records its calls in ``calls``
    (``page N``, ``by ARN``), to see their order against what the round does between them.

    :param by_arn: The answer to a search by ARN.
    """

    def __init__(self, listed: list[dict[str, Any]], calls: list[str], by_arn: list[dict[str, Any]]) -> None:
        self.listed, self.calls, self.by_arn = listed, calls, by_arn
        self.filters: list[list[dict[str, Any]]] = []

    async def search_jobs(self, filters: list[dict[str, Any]], maxResults: int, nextToken: str = "0") -> Any:
        self.filters.append(filters)
        if filters[0]["name"] == "jobArn":
            self.calls.append("by ARN")
            return {"jobs": self.by_arn}
        statuses = [item["values"] for item in filters if item["name"] == "status"]
        listed = [job for job in self.listed if not statuses or job["status"] in statuses[0]]
        start = int(nextToken)
        self.calls.append(
            f"page {start // maxResults}" + ("" if not statuses else f" of {len(statuses[0])} statuses")
        )
        more = start + maxResults < len(listed)
        return {
            "jobs": listed[start : start + maxResults],
            **({"nextToken": str(start + maxResults)} if more else {}),
        }


def test_a_job_that_ended_is_asked_for_as_soon_as_the_pages_pass_it() -> None:
    """With thousands of watched jobs a round is a hundred pages: a job that ended (no longer on
    the listing of jobs not ended) is asked for by ARN once the pages, newest first, have passed
    its creation time, not after the last page. A scripted client stands in for the pages, to
    see the order of the calls."""
    from airflow_provider_braket.triggers import job_search
    from airflow_provider_braket.triggers.job_search import RoundSearch

    jobs = six_jobs()
    ended = jobs[4]  # the second newest: on the first page, were it not ended
    listed = [job for job in reversed(jobs) if job is not ended]
    calls: list[str] = []
    pages = ScriptedPages(listed, calls, by_arn=[{**ended, "status": "CANCELLED"}])

    sizes = job_search.PAGE_SIZE, job_search.ARNS_PER_SEARCH
    job_search.PAGE_SIZE, job_search.ARNS_PER_SEARCH = 2, 1  # a batch of ARNs is full at one
    try:
        tracked = {job["jobArn"]: Tracked(created_at=job["createdAt"]) for job in jobs}
        early: list[str] = []
        search = RoundSearch(RateBudget(1000.0))
        search._ended_in_window = 10_000  # a long sweep's window: only the jobs not ended are listed
        found = asyncio.run(search.search(pages, tracked, lambda answered: early.extend(answered)))
    finally:
        job_search.PAGE_SIZE, job_search.ARNS_PER_SEARCH = sizes
    assert found[ended["jobArn"]]["status"] == "CANCELLED"
    assert early == [ended["jobArn"]]
    # Pages of 2: jobs 5, 3 | 2, 1 | 0. Job 4 is passed by the first page; asked for after it.
    active = " of 3 statuses"
    assert calls == ["page 0" + active, "by ARN", "page 1" + active, "page 2" + active], calls


def round_of_six(ended: int, status: str, known_window: bool) -> tuple[list[str], dict[str, Any], Any, Any]:
    """One round over :func:`six_jobs` in pages of 2, job ``ended`` having ended as ``status``:
    the calls in order with each end handed over among them, what was found, the pages' client
    and the round's search.

    :param known_window: Whether the last round knew the window (5 jobs not ended, 1 ended), where
        listing the ended jobs first would cost a page more; else it is a new poller's first round.
    """
    from airflow_provider_braket.triggers import job_search
    from airflow_provider_braket.triggers.job_search import RoundSearch

    jobs = six_jobs()
    jobs[ended] = {**jobs[ended], "status": status}
    calls: list[str] = []
    pages = ScriptedPages(list(reversed(jobs)), calls, by_arn=[])

    def handed(answered: dict[str, dict[str, Any]]) -> None:
        calls.extend(
            f"handed {arn.rsplit('/', 1)[1]}" for arn, job in answered.items() if job["status"] == status
        )

    size = job_search.PAGE_SIZE
    job_search.PAGE_SIZE = 2
    try:
        tracked = {job["jobArn"]: Tracked(created_at=job["createdAt"]) for job in jobs}
        search = RoundSearch(RateBudget(1000.0))
        if known_window:
            search._learn(not_ended=5, ended_on_pages=1, ending=1, only_active=False, since=0.0)
        found = asyncio.run(search.search(pages, tracked, handed))
    finally:
        job_search.PAGE_SIZE = size
    assert set(found) == {job["jobArn"] for job in jobs}
    assert found[jobs[ended]["jobArn"]]["status"] == status
    return calls, found, pages, search


def test_a_job_seen_ended_on_a_page_is_handed_over_before_the_next_page() -> None:
    """Found (issue 27): at 10,000 jobs an end was noticed a whole 30 s interval after it, at the
    median, where half of one was expected: on a round of every status, a job seen ended on a page
    was handed to its trigger only after the round's last page, a hundred pages (25 s at the
    paced rate) later. It is handed over as its page is read, as a job asked for by ARN is."""
    calls, _, pages, _ = round_of_six(ended=4, status="COMPLETED", known_window=True)
    every_status = ["status" not in [item["name"] for item in filters] for filters in pages.filters]
    assert all(every_status), pages.filters
    # Pages of 2: jobs 5, 4 | 3, 2 | 1, 0. Before: handed over after page 2, by the round's end.
    assert calls[:2] == ["page 0", "handed 4"], calls


def test_a_new_poller_s_first_round_lists_the_ended_jobs_before_the_others() -> None:
    """Found (issue 27): at 10,000 jobs, a job that ended half a minute before a triggerer restart
    was noticed 71 s after its end (2.4 intervals of 30 s): the restarted poller's first round
    listed every status, newest first, a hundred pages, and the job was among the oldest. A first
    round lists the window's ended jobs first (a page more at most), then those not ended."""
    # The oldest: on the last page of every status.
    calls, _, _, search = round_of_six(ended=0, status="CANCELLED", known_window=False)
    # Before: pages 5, 4 | 3, 2 | 1, 0 of every status, the end handed over after the third.
    assert calls == [
        "page 0 of 3 statuses",
        "handed 0",
        "page 0 of 3 statuses",
        "page 1 of 3 statuses",
        "page 2 of 3 statuses",
    ], calls
    assert (search._ended_in_window, search._not_ended) == (1, 5)  # counted as on every status
    assert not search._ended_first_pays(watched=6)  # known now: the split would cost a page more


def test_listing_the_ended_jobs_first_never_costs_a_call_more() -> None:
    """Found in CI (2026-12-05): a sweep of 20 under a quota of 3 made more SearchJobs than a
    GetJob per job per second would have: a window with no ended job was listed in two, an empty
    page of ended jobs and a page of the others, every round. An empty listing costs a call too;
    a first round over less than a page of jobs has every end on its one page anyway."""
    from airflow_provider_braket.triggers.job_search import PAGE_SIZE, RoundSearch

    jobs = six_jobs()[:3]
    calls: list[str] = []
    pages = ScriptedPages(list(reversed(jobs)), calls, by_arn=[])
    tracked = {job["jobArn"]: Tracked(created_at=job["createdAt"]) for job in jobs}
    search = RoundSearch(RateBudget(1000.0))
    for _ in range(2):  # a new poller's first round, then one that knows no job has ended
        asyncio.run(search.search(pages, tracked, lambda _: None))
    assert calls == ["page 0", "page 0"], calls  # before: two listings a round
    # Where the split costs no call more, a known window is listed ended first: 1 + 2 pages.
    search._learn(not_ended=2 * PAGE_SIZE, ended_on_pages=PAGE_SIZE, ending=5, only_active=False, since=0.0)
    assert search._ended_first_pays(watched=3 * PAGE_SIZE)


AFTER_THE_CANCEL = {
    "0": "QUEUED",
    "1": "QUEUED",
    "2": "CANCELLED",
    "3": "QUEUED",
    "4": "QUEUED",
    "5": "RUNNING",
}


def queued_sweep_round(
    list_since: float | None, first_list_since: float | None = -1.0
) -> tuple[list[str], dict[str, Any], Any, Any]:
    """Two rounds over :func:`six_jobs` in pages of 2: the first sees jobs 0-4 QUEUED and job 5
    RUNNING; before the second, job 2 is cancelled while still queued. The second round's calls
    with each end handed over among them, what it found, the pages' client and the round search.

    :param first_list_since: The first round's ``list_since``; the second's unless given.
    """
    first_list_since = list_since if first_list_since == -1.0 else first_list_since
    from airflow_provider_braket.triggers import job_search
    from airflow_provider_braket.triggers.job_search import RoundSearch

    before = [{**job, "status": "QUEUED" if n < 5 else "RUNNING"} for n, job in enumerate(six_jobs())]
    calls: list[str] = []
    pages = ScriptedPages(list(reversed(before)), calls, by_arn=[])
    tracked = {job["jobArn"]: Tracked(created_at=job["createdAt"]) for job in before}
    size = job_search.PAGE_SIZE
    job_search.PAGE_SIZE = 2
    try:
        search = RoundSearch(RateBudget(1000.0))
        for arn, job in asyncio.run(search.search(pages, tracked, lambda _: None, first_list_since)).items():
            tracked[arn].job = job  # as the poller publishes them
        pages.listed = [
            {**job, "status": "CANCELLED"} if job["jobArn"].endswith("/2") else job for job in pages.listed
        ]
        calls.clear()
        pages.filters.clear()

        def handed(answered: dict[str, dict[str, Any]]) -> None:
            calls.extend(f"handed {arn.rsplit('/', 1)[1]}" for arn in answered)

        found = asyncio.run(search.search(pages, tracked, handed, list_since))
    finally:
        job_search.PAGE_SIZE = size
    return calls, found, pages, search


def test_a_round_leaves_out_the_jobs_it_knows_are_queued() -> None:
    """A sweep far above Braket's concurrent-job quota (3 by default) is nearly all QUEUED for
    most of its run; at 1,000 points each round paged through all of them, ten pages, to find the
    few that had started or ended. A queued job leaves the queue only to a status the listing of
    every status but QUEUED holds, so a job last seen QUEUED and not on it is still QUEUED."""
    calls, found, pages, _ = queued_sweep_round(list_since=None)
    # Before: jobs 5, 4 | 3, 2 | 1, 0 of every status, three pages.
    assert calls == ["page 0 of 5 statuses", "handed 2"], calls
    assert "QUEUED" not in pages.filters[0][1]["values"]
    statuses = {arn.rsplit("/", 1)[1]: job["status"] for arn, job in found.items()}
    assert statuses == AFTER_THE_CANCEL


def test_a_round_a_budget_reads_hands_it_the_queued_jobs_as_last_listed() -> None:
    """A budget reads every job not ended of its scope off the round's listing, and searches by
    ARN, ten a call, for one missing from it: a round that leaves QUEUED out hands it the queued
    jobs as the last listing of them showed them. (Before, a budget's round listed them all.)"""
    since = 1_700_000_000.0
    calls, _, _, search = queued_sweep_round(list_since=since)
    assert calls == ["page 0 of 5 statuses", "handed 2"], calls
    listing = search.listed_since(since, 60.0)
    assert listing is not None
    assert listing.complete
    statuses = {job["jobArn"].rsplit("/", 1)[1]: job["status"] for job in listing.jobs}
    assert statuses == AFTER_THE_CANCEL
    assert len(listing.jobs) == 6


def test_a_budget_s_first_round_lists_the_queued_jobs_even_where_the_poller_knows_them(
    monkeypatch: Any,
) -> None:
    """Found with benchmarks/watching.py (200 points with ``run_budget``: 94 SearchJobs where the
    same sweep without made 15): a trigger tells the poller to list for its budget after its first
    check, so the poller's first round had listed for no budget, the next left QUEUED out, and
    the budgets, handed no queued job, searched for every one of them by ARN at every read."""
    since = 1_700_000_000.0
    calls, _, _, search = queued_sweep_round(list_since=since, first_list_since=None)
    assert "of 5 statuses" not in calls[0], calls
    listing = search.listed_since(since, 60.0)
    assert listing is not None
    assert {job["jobArn"].rsplit("/", 1)[1]: job["status"] for job in listing.jobs} == AFTER_THE_CANCEL
    # Listed for a budget once, the rounds after leave QUEUED out again.
    from airflow_provider_braket.triggers import job_search

    monkeypatch.setattr(job_search, "PAGE_SIZE", 2)
    assert search._listings({}, since, 6, budgets_read=True)[2]


def test_a_round_lists_every_status_until_the_window_s_ended_jobs_outnumber_what_ends_per_round() -> None:
    """At 1,000 jobs an hour into a sweep, listing every status costs a page more than listing the
    jobs not ended, which costs an ARN ask per ten that ended since; a sweep hours long has
    thousands of ended points in its window. Each round takes the cheaper, by the last round."""
    from airflow_provider_braket.triggers.job_search import RoundSearch

    search = RoundSearch(RateBudget(1000.0))
    assert not search._status_filter_pays(0.0)  # nothing known yet: every status, no ARN asks
    search._learn(not_ended=900, ended_on_pages=100, ending=15, only_active=False, since=0.0)
    assert not search._status_filter_pays(0.0)  # 10 pages against 9 + 2 asks
    search._learn(not_ended=900, ended_on_pages=400, ending=15, only_active=False, since=0.0)
    assert search._status_filter_pays(0.0)  # 13 pages against 9 + 2
    search._learn(not_ended=900, ended_on_pages=0, ending=15, only_active=True, since=0.0)
    assert search._ended_in_window == 415  # grown by what ended, not counted on the pages


def test_a_window_that_moved_on_has_its_ended_jobs_counted_again() -> None:
    """Found (issue 27): a round of every status counted 200 ended jobs of a sweep run before, in
    a budget's window reaching ten minutes before its run; once the window's start moved past them
    the count stayed, and every later round listed only the jobs not ended, with an ARN ask per
    ten ended and, for the budget, a search for those ended since. A round of every status counts
    again once the window has moved on, at most one in RECOUNT_ROUNDS."""
    from airflow_provider_braket.triggers.job_search import RECOUNT_ROUNDS, RoundSearch

    search = RoundSearch(RateBudget(1000.0))
    search._learn(not_ended=200, ended_on_pages=200, ending=5, only_active=False, since=100.0)
    assert search._status_filter_pays(100.0)  # 4 pages against 2 + 1
    for _ in range(RECOUNT_ROUNDS - 1):
        search._learn(not_ended=200, ended_on_pages=0, ending=5, only_active=True, since=700.0)
        assert search._status_filter_pays(700.0)  # not yet: at most one recount in so many rounds
    search._learn(not_ended=200, ended_on_pages=0, ending=5, only_active=True, since=700.0)
    assert not search._status_filter_pays(700.0)  # the window moved on: every status, to count
    search._learn(not_ended=200, ended_on_pages=0, ending=5, only_active=False, since=700.0)
    assert not search._status_filter_pays(700.0)  # 2 pages, nothing ended in the new window


def test_a_trigger_that_fails_before_watching_leaves_no_poller_behind(monkeypatch: Any) -> None:
    """Found (CI of 2026-12-05): a trigger took its event loop's poller, then failed reading its
    budgets before it watched anything; the poller stayed registered for good, holding its closed
    event loop, and the next tests of the process counted that idle poller instead of theirs."""
    from airflow_provider_braket.triggers import poller as poller_module
    from airflow_provider_braket.triggers.cost_checks import TriggerCostChecks

    def unreadable(self: TriggerCostChecks) -> Any:
        raise RuntimeError("the price list cannot be read")

    monkeypatch.setattr(TriggerCostChecks, "watch", property(unreadable))
    trigger = JobStatusTrigger(job_arn="arn:aws:braket:us-east-1:123456789012:job/x", job_name="x")

    async def first_event() -> None:
        async for _ in trigger.run():
            return

    before = dict(poller_module._pollers)
    with contextlib.suppress(RuntimeError):
        asyncio.run(first_event())
    assert poller_module._pollers == before


def test_reading_budgets_starts_no_poller() -> None:
    """Found (CI of 2026-12-05): building a trigger's budget reader took its loop's poller for the
    listing its rounds make, so a cap check outside a watch (as test_cost_caps makes one) left an
    idle poller registered."""
    from airflow_provider_braket.pricing.cost_limits import BudgetScope, CostLimits
    from airflow_provider_braket.triggers import poller as poller_module
    from airflow_provider_braket.utils.identity import TaskIdentity

    trigger = JobStatusTrigger(
        job_arn="arn:aws:braket:us-east-1:123456789012:job/x",
        job_name="x",
        region_name="us-east-1",
        cost_limits=CostLimits.of(run_budget="1").serialize(),
        budget_scope=BudgetScope.of(TaskIdentity.from_context({}, "job")).serialize(),
    )

    async def read_budgets() -> Any:
        watch = trigger._costs.watch
        assert watch is not None
        return watch.listing(time.time() - 60, 10.0)

    before = dict(poller_module._pollers)
    assert asyncio.run(read_budgets()) is None  # no poller lists for it: the reader searches itself
    assert poller_module._pollers == before


def test_pollers_of_closed_event_loops_are_dropped() -> None:
    from airflow_provider_braket.triggers import poller as poller_module

    key = PollerKey.of("braket_default", "us-east-1", None, None)

    async def take() -> Any:
        return poller_module.shared_poller(key)

    stale = asyncio.run(take())  # registered, never watched: its loop is closed now
    fresh = asyncio.run(take())
    assert fresh is not stale
    assert stale not in poller_module._pollers.values()
    poller_module._forget(fresh)


def test_triggers_resumed_over_seconds_share_the_first_round(monkeypatch: Any) -> None:
    """Found (issue 27): at 10,000 jobs, jobs that ended just before a triggerer restart were
    noticed 35-40 s after it (30 s polls): the restarted poller began its first round half a second
    after the first trigger came back, and the triggers that came back after that waited a whole
    interval for the second. The first round now waits until triggers stop arriving (for half a
    second), at most ten seconds. The rounds' calls are replaced, to see which jobs each covers."""
    from airflow_provider_braket.triggers.poller import FIRST_ROUND_DELAY, JobPoller

    poller = JobPoller(PollerKey.of("braket_default", "us-east-1", None, None), 5.0, 1000.0)
    covered: list[int] = []

    async def poll_once(braket: Any) -> None:
        covered.append(len(poller._tracked))
        poller._stopping = True

    monkeypatch.setattr(poller, "poll_once", poll_once)

    def start() -> None:  # the rounds alone, without the clients they would call
        if poller._task is None:
            poller._task = asyncio.get_running_loop().create_task(poller._poll(None))

    monkeypatch.setattr(poller, "_start", start)

    async def resume() -> None:
        async with contextlib.AsyncExitStack() as watches:
            for batch in range(4):  # each batch sooner after the last than the first round waits
                for n in range(5):
                    arn = f"arn:aws:braket:us-east-1:123456789012:job/{batch}-{n}"
                    await watches.enter_async_context(poller.watch(arn, 5.0, time.time()))
                await asyncio.sleep(FIRST_ROUND_DELAY * 0.6)
            assert poller._task is not None
            await asyncio.wait_for(asyncio.shield(poller._task), 5)

    asyncio.run(resume())
    assert covered == [20], covered  # before: 10, the first two batches
