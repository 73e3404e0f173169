"""The price list and job costs: parsing hostile files, costs computed by hand, and the SDK's Tracker
applied to the same file and tasks (its own functions, not a copy of them)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from airflow_provider_braket.pricing.job_cost import QuantumTaskUsage, job_cost, qpu_price_name, task_cost
from airflow_provider_braket.pricing.price_list import (
    BUNDLED_PRICE_LIST,
    MAX_PRICE_LIST_BYTES,
    PriceList,
    PriceListError,
    configured_price_list,
)

HEADER = '"SKU","Unit","PricePerUnit","Currency","Product Family","Region Code","Version","operation"\n'
METADATA = (
    '"FormatVersion","v1.0"\n"Disclaimer","test"\n"Publication Date","2026-01-02T00:00:00Z"\n'
    '"Version","t"\n"OfferCode","AmazonBraket"\n'
)
GARNET_TASK = "arn:aws:braket:eu-north-1:123456789012:quantum-task/1"
GARNET = "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1 = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"
SV1_TASK = "arn:aws:braket:us-east-1:123456789012:quantum-task/2"


@pytest.fixture(scope="module")
def bundled() -> PriceList:
    return PriceList.read(BUNDLED_PRICE_LIST)


def test_the_bundled_snapshot_has_its_sourced_prices(bundled: PriceList) -> None:
    assert bundled.published.isoformat() == "2026-11-26"
    task, shot = bundled.qpu_rates("eu-north-1", "Garnet", in_job=False) or (None, None)
    assert (task.amount, shot.amount) == (Decimal("0.30"), Decimal("0.00145"))  # type: ignore[union-attr]
    assert bundled.qpu_rates("us-east-1", "Forte-1", in_job=True) is not None
    sv1 = bundled.simulator_rate("us-east-1", "SV1", in_job=True)
    assert sv1 is not None
    assert sv1.per_second() == Decimal("0.075") / 60
    m5 = bundled.instance_rate("us-east-1", "ml.m5.large")
    assert m5 is not None
    assert m5.per_second() == Decimal("0.115") / 3600
    # No public source was found for these: absent, never guessed.
    assert bundled.simulator_rate("us-east-1", "DM1", in_job=False) is None
    assert bundled.instance_rate("us-east-1", "ml.c5.xlarge") is None


def _sv1_price(path: Path) -> Decimal | None:
    rate = configured_price_list(str(path)).simulator_rate("us-east-1", "SV1", in_job=False)
    return rate.amount if rate else None


def test_configured_price_list_reads_the_file_given_and_rereads_it_when_it_changes(tmp_path: Path) -> None:
    offer = tmp_path / "index.csv"
    row = '"A","minutes","{}","USD","Simulator Task","us-east-1","SV1","CompleteTask"\n'
    offer.write_text(METADATA + HEADER + row.format("1.0"))
    assert _sv1_price(offer) == 1
    offer.write_text(METADATA + HEADER + row.format("2.25"))
    assert _sv1_price(offer) == Decimal("2.25")
    with pytest.raises(PriceListError, match="price_list: cannot read"):
        configured_price_list(str(tmp_path / "missing.csv"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n", "5 metadata rows"),
        (METADATA + '"SKU","Unit"\n', "the header lacks"),
        (METADATA.replace("2026-01-02T00:00:00Z", "yesterday") + HEADER, "not an ISO date"),
        (METADATA + HEADER + '"A","Shot","-1","USD","Quantum Task-Shot","us-east-1","",""\n', "from 0 to"),
        (METADATA + HEADER + '"A","Shot","NaN","USD","Quantum Task-Shot","us-east-1","",""\n', "finite"),
        (
            METADATA + HEADER + '"A","Shot","1e999999999","USD","Quantum Task-Shot","us-east-1","",""\n',
            "finite",
        ),
        (
            METADATA + HEADER + '"A","Shot","abc","USD","Quantum Task-Shot","us-east-1","",""\n',
            "not a number",
        ),
        (METADATA + HEADER + '"A","Shot","0.1","EUR","Quantum Task-Shot","us-east-1","",""\n', "must be USD"),
    ],
)
def test_a_hostile_or_broken_price_list_is_refused_naming_the_rule(
    text: str, message: str, tmp_path: Path
) -> None:
    offer = tmp_path / "index.csv"
    offer.write_text(text)
    with pytest.raises(PriceListError, match=message):
        PriceList.read(offer)


def test_a_price_list_larger_than_any_offer_file_is_not_read(tmp_path: Path) -> None:
    offer = tmp_path / "huge.csv"
    with offer.open("wb") as handle:
        handle.truncate(MAX_PRICE_LIST_BYTES + 1)  # sparse: no disk used
    with pytest.raises(PriceListError, match="over the"):
        PriceList.read(offer)


def test_rows_of_other_families_in_aws_file_are_ignored(tmp_path: Path) -> None:
    offer = tmp_path / "index.csv"
    rows = '"A","GB-Mo","0.1","USD","Braket Managed Jobs Volume","us-east-1","",""\n' * 3
    offer.write_text(METADATA + HEADER + rows)
    assert PriceList.read(offer).rows == ()


def test_job_cost_by_hand(bundled: PriceList) -> None:
    job = {
        "jobArn": "arn:aws:braket:us-east-1:123456789012:job/j",
        "billableDuration": 120,
        "instanceConfig": {"instanceType": "ml.m5.large", "instanceCount": 2},
    }
    garnet_in_job = "arn:aws:braket:eu-north-1:123456789012:quantum-task/3"
    tasks = [
        QuantumTaskUsage(SV1_TASK, SV1, "COMPLETED", 100, in_job=True, execution_ms=1200),  # billed 3 s
        QuantumTaskUsage(SV1_TASK, SV1, "COMPLETED", 100, in_job=True, execution_ms=4500),
        QuantumTaskUsage(garnet_in_job, GARNET, "COMPLETED", 100, in_job=True),
        QuantumTaskUsage(garnet_in_job, GARNET, "FAILED", 100, in_job=True),  # not billed
        QuantumTaskUsage(garnet_in_job, GARNET, "COMPLETED", 100, in_job=True, reserved=True),  # reservation
        QuantumTaskUsage(SV1_TASK, DM1, "COMPLETED", 10, in_job=True, execution_ms=10),  # no DM1 price
    ]

    cost = job_cost(bundled, job, tasks)

    instance = Decimal(120) * Decimal("0.115") / 3600 * 2
    sv1 = Decimal("0.075") / 60 * (Decimal(3) + Decimal("4.5"))
    garnet = Decimal("0.30") + Decimal("0.00145") * 100
    assert cost.instance == pytest.approx(instance)
    assert cost.quantum_tasks == pytest.approx(sv1 + garnet)
    assert cost.total == pytest.approx(instance + sv1 + garnet)
    assert cost.unpriced == ["simulator DM1 in us-east-1"]
    shown = cost.to_dict()
    assert shown["currency"] == "USD"
    assert shown["priceListDate"] == "2026-11-26"
    assert shown["total"] == pytest.approx(float(instance + sv1 + garnet), abs=1e-6)


def test_billable_duration_unit_can_be_milliseconds(bundled: PriceList) -> None:
    job = {
        "jobArn": "arn:aws:braket:us-east-1:1:job/j",
        "billableDuration": 120_000,
        "instanceConfig": {"instanceType": "ml.m5.large"},
    }
    assert job_cost(bundled, job, [], "milliseconds").instance == pytest.approx(
        Decimal(120) * Decimal("0.115") / 3600
    )
    with pytest.raises(ValueError, match="billable_duration_unit"):
        job_cost(bundled, job, [], "minutes")


def test_an_instance_type_without_a_price_is_reported_not_zeroed(bundled: PriceList) -> None:
    job = {
        "jobArn": "arn:aws:braket:us-east-1:1:job/j",
        "billableDuration": 60,
        "instanceConfig": {"instanceType": "ml.c5.xlarge"},
    }
    cost = job_cost(bundled, job, [])
    assert cost.instance is None
    assert cost.to_dict()["instance"] is None
    assert cost.unpriced == ["instance ml.c5.xlarge in us-east-1"]


@pytest.mark.parametrize("in_job", [False, True])
@pytest.mark.parametrize("status", ["COMPLETED", "FAILED", "CANCELLED", "RUNNING"])
@pytest.mark.parametrize("reserved", [False, True])
def test_task_costs_equal_the_sdk_trackers_on_the_same_file(
    bundled: PriceList, monkeypatch: pytest.MonkeyPatch, in_job: bool, status: str, reserved: bool
) -> None:
    from datetime import timedelta

    from braket.tracking import pricing, tracker

    # The Tracker's own lookup, over the rows of the same file (it reads them from a URL on AWS).
    rows = [dict(row) for row in bundled.rows]
    monkeypatch.setattr(pricing._pricing, "_price_list", rows)
    pricing.Pricing.price_search.cache_clear()

    qpu = QuantumTaskUsage(GARNET_TASK, GARNET, status, 1000, in_job=in_job, reserved=reserved)
    details = {
        "shots": 1000,
        "device": GARNET,
        "status": status,
        "job_task": in_job,
        "has_reservation_arn": reserved,
    }
    assert task_cost(bundled, qpu, []) == tracker._get_qpu_task_cost(GARNET_TASK, details)

    sim = QuantumTaskUsage(SV1_TASK, SV1, status, 100, in_job=in_job, reserved=reserved, execution_ms=4321)
    billed = timedelta(0) if reserved else max(timedelta(milliseconds=4321), tracker.MIN_SIMULATOR_DURATION)
    details = {"shots": 100, "device": SV1, "status": status, "job_task": in_job, "billed_duration": billed}
    # Exactly equal, not only to the cent: the same Decimal operations in the same order.
    assert task_cost(bundled, sim, []) == tracker._get_simulator_task_cost(SV1_TASK, details)


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1", "Forte-1"),
        ("arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3", "Ankaa-3"),
        ("arn:aws:braket:::device/qpu/d-wave/Advantage_system6", "Advantage_system"),
    ],
)
def test_qpu_names_are_derived_as_the_sdk_derives_them(arn: str, name: str) -> None:
    assert qpu_price_name(arn) == name


@pytest.mark.parametrize("value", [0, -1, "abc", "NaN", "inf", True, [5], "1e99"])
def test_a_cap_that_is_not_a_positive_amount_is_refused_naming_it(value: object) -> None:
    from airflow_provider_braket.jobs.models import RequestValidationError
    from airflow_provider_braket.pricing.cost_limits import CostLimits

    with pytest.raises(RequestValidationError, match="run_budget: must be a positive number of US dollars"):
        CostLimits.of(run_budget=value)


def test_caps_from_templates_and_their_round_trip_through_a_trigger() -> None:
    from airflow_provider_braket.pricing.cost_limits import CostLimits

    limits = CostLimits.of(max_cost=" 2.5 ", run_budget=10, monthly_budget=None)
    assert limits == CostLimits(Decimal("2.5"), Decimal(10), None)
    assert CostLimits.deserialize(limits.serialize()) == limits
    assert not CostLimits.of().active


def test_the_month_budget_counts_this_dags_jobs_created_this_month() -> None:
    from datetime import datetime, timezone

    from airflow_provider_braket.pricing.cost_limits import BudgetScope

    scope = BudgetScope("sweep", "run-1")
    filters, belongs = scope.month_search(now=datetime(2026, 11, 26, 5, tzinfo=timezone.utc))
    assert filters[0]["values"][0].startswith("2026-10-31T23:50")  # the month, less clock skew
    mine = {
        "tags": {"airflow:dag_id": "sweep"},
        "createdAt": datetime(2026, 11, 1, 0, 1, tzinfo=timezone.utc),
    }
    assert belongs(mine)
    assert not belongs({**mine, "createdAt": datetime(2026, 10, 31, 23, 55, tzinfo=timezone.utc)})
    assert not belongs({**mine, "tags": {"airflow:dag_id": "other"}})
