"""Small parts of the Braket Jobs page; its data and the page itself run against real services in
tests/integration/test_jobs_page_data.py and tests/e2e/test_ui.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_provider_braket.ui import jobs
from airflow_provider_braket.ui.jobs import JobRow, _remember


def test_remembered_ended_jobs_are_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(jobs, "MAX_REMEMBERED", 3)
    memory: dict[str, Any] = {}
    for number in range(5):
        _remember(memory, f"job-{number}", number)
    assert list(memory) == ["job-2", "job-3", "job-4"]  # the oldest went first


def test_links_to_an_unmapped_task_and_its_run() -> None:
    row = JobRow(
        job_arn="arn:aws:braket:us-east-1:123456789012:job/x",
        job_name="vqe-1",
        status="RUNNING",
        device="local:braket/braket.local.qubit",
        queue_position=None,
        billable_seconds=None,
        created_at=None,
        ended_at=None,
        failure_reason=None,
        dag_id="braket_vqe",
        run_id="scheduled__2026-11-25T00:00:00+00:00",
        task_id="vqe",
        map_index=-1,
        console_url="",
    )
    assert row.dag_run_path() == "dags/braket_vqe/runs/scheduled__2026-11-25T00%3A00%3A00%2B00%3A00"
    assert row.task_instance_path() == row.dag_run_path() + "/tasks/vqe"


def test_plots_show_dollar_signs_as_text_not_math(tmp_path: Path) -> None:
    """Found: a hyperparameter value such as ``$\\frac{$`` made the sweep plot answer 500
    (matplotlib parsed it as math text and failed). Every label is literal text now."""
    from airflow_provider_braket.jobs.metrics import plot
    from airflow_provider_braket.ui.sweeps import SweepPoint, sweep_svg

    hostile = "$\\frac{$"
    points = [
        SweepPoint(
            index, "qaoa", f"arn:{index}", f"job-{index}", "COMPLETED", {"ansatz": value}, {"e": 1.0}, None
        )
        for index, value in enumerate([hostile, "$x$", "plain"])
    ]
    svg = sweep_svg(points, "e", "ansatz", points[0]).decode()
    assert "frac" in svg
    series: dict[str, dict[str, list[float | None]]] = {
        "$cost{": {"iteration": [0.0, 1.0], "timestamp": [1.0, 2.0], "value": [1.0, 0.5]}
    }
    written = plot(series, tmp_path / "m", title=hostile)
    assert all(Path(file).stat().st_size > 0 for file in written)
