"""Metric series for XCom, and plot() drawing them with real matplotlib to real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_braket.jobs.metrics import metric_series, parse_metrics, plot

LINES = [
    "Metrics - timestamp=100.0; energy=-1.2; iteration_number=0;",
    "not a metric",
    "Metrics - timestamp=101.5; energy=-1.7; iteration_number=1;",
    "Metrics - timestamp=103.0; energy=-1.85; gradient=0.02; iteration_number=2;",
    "Metrics - timestamp=104.0; accuracy=0.9;",
]


def test_series_keep_every_value_in_order_as_plain_json() -> None:
    series = metric_series(parse_metrics(LINES))
    assert series["energy"] == {
        "iteration": [0, 1, 2],
        "timestamp": [100.0, 101.5, 103.0],
        "value": [-1.2, -1.7, -1.85],
    }
    assert series["gradient"] == {"iteration": [2], "timestamp": [103.0], "value": [0.02]}
    assert series["accuracy"] == {"iteration": [None], "timestamp": [104.0], "value": [0.9]}
    assert json.loads(json.dumps(series)) == series  # travels in XCom as is


def test_plot_writes_png_and_svg(tmp_path: Path) -> None:
    series = metric_series(parse_metrics(LINES))
    written = plot(series, tmp_path / "plots" / "convergence", metrics=["energy", "gradient"], title="job-1")
    assert written == [tmp_path / "plots" / "convergence.png", tmp_path / "plots" / "convergence.svg"]
    assert written[0].read_bytes().startswith(b"\x89PNG\r\n")
    svg = written[1].read_text()
    assert "<svg" in svg
    assert "job-1" in svg  # the title is drawn as text
    assert plot(series, tmp_path / "all", formats=["png"]) == [tmp_path / "all.png"]


def test_plot_names_a_metric_the_series_does_not_have(tmp_path: Path) -> None:
    series = metric_series(parse_metrics(LINES))
    with pytest.raises(ValueError, match=r"metrics: \['loss'\] not in the series"):
        plot(series, tmp_path / "x", metrics=["loss"])
    with pytest.raises(ValueError, match="metrics: none"):
        plot({}, tmp_path / "x")
    assert not list(tmp_path.iterdir())
