"""Metrics a job logs with ``braket.jobs.metrics.log_metric``, read back from its log lines.

The SDK prints ``Metrics - timestamp=...; energy=-1.13; iteration_number=3;``; its own parser
matches ``(\\w+)\\s*=\\s*([^;]+)\\s*;`` and casts each value to float, so this does too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

METRICS_MARKER = "Metrics - "
_DEFINITION = re.compile(r"(\w+)\s*=\s*([^;]+)\s*;")
# Columns the SDK adds to every record; they index a metric rather than being one.
INDEX_COLUMNS = frozenset({"timestamp", "iteration_number", "node_id"})


def parse_metric_line(message: str) -> dict[str, float] | None:
    """The metrics on one log line, or ``None`` when the line logs none."""
    marker = message.find(METRICS_MARKER)
    if marker < 0:
        return None
    record: dict[str, float] = {}
    for name, value in _DEFINITION.findall(message[marker + len(METRICS_MARKER) :]):
        try:
            record[name] = float(value)
        except ValueError:
            continue
    return record or None


def parse_metrics(messages: Iterable[str]) -> list[dict[str, float]]:
    """Every metrics record in ``messages``, in order."""
    return [record for message in messages if (record := parse_metric_line(message)) is not None]


def latest_values(records: Iterable[dict[str, float]]) -> dict[str, float]:
    """The last value logged for each metric name (index columns left out)."""
    latest: dict[str, float] = {}
    for record in records:
        latest.update({name: value for name, value in record.items() if name not in INDEX_COLUMNS})
    return latest


def metric_series(records: Iterable[dict[str, float]]) -> dict[str, dict[str, list[float | None]]]:
    """Every value logged for each metric, in order, as columns: ``{name: {"iteration", "timestamp",
    "value"}}`` (``iteration`` and ``timestamp`` hold ``None`` where a record had none).

    Plain JSON, so it travels in XCom; :func:`plot` draws it.
    """
    series: dict[str, dict[str, list[float | None]]] = {}
    for record in records:
        for name, value in record.items():
            if name in INDEX_COLUMNS:
                continue
            columns = series.setdefault(name, {"iteration": [], "timestamp": [], "value": []})
            columns["iteration"].append(record.get("iteration_number"))
            columns["timestamp"].append(record.get("timestamp"))
            columns["value"].append(value)
    return series


def plot(
    series: dict[str, dict[str, list[float | None]]],
    path: str | Path,
    *,
    metrics: Sequence[str] | None = None,
    title: str | None = None,
    formats: Sequence[str] = ("png", "svg"),
) -> list[Path]:
    """Draw metric series (one panel per metric) and save them; return the files written.

    Needs matplotlib: ``pip install 'airflow-provider-braket[plots]'``.

    :param series: What :func:`metric_series` returns, or the operator XCom's ``metricSeries``.
    :param path: Where to save, without suffix: ``plots/convergence`` gives ``plots/convergence.png``
        and ``plots/convergence.svg``.
    :param metrics: Which metrics to draw, in order; all of them by default.
    :param title: A title over the figure, e.g. the job name.
    :param formats: File formats, each a suffix matplotlib knows.
    """
    names = list(metrics) if metrics is not None else sorted(series)
    unknown = [name for name in names if name not in series]
    if unknown or not names:
        raise ValueError(f"metrics: {unknown or 'none'} not in the series (it has {sorted(series)})")
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    written = [base.with_name(f"{base.name}.{suffix}") for suffix in formats]
    with literal_text():
        figure = new_figure(figsize=(7, 2.6 * len(names)))
        axes = figure.subplots(len(names), 1, squeeze=False, sharex=True)
        for axis, name in zip(axes[:, 0], names, strict=True):
            x, label = _x_axis(series[name])
            axis.plot(x, series[name]["value"], marker="o", markersize=3, linewidth=1.2)
            axis.set_ylabel(name)
            axis.grid(True, alpha=0.3)
        axes[-1, 0].set_xlabel(label)
        if title:
            figure.suptitle(title)
        figure.tight_layout()
        for file in written:
            figure.savefig(file, dpi=120)
    return written


def _x_axis(columns: dict[str, list[float | None]]) -> tuple[list[float], str]:
    """Iterations when every record has one, else seconds since the first record, else the count."""
    iterations, stamps = columns["iteration"], columns["timestamp"]
    if all(value is not None for value in iterations):
        return [float(value) for value in iterations if value is not None], "iteration"
    if all(value is not None for value in stamps):
        first = min(value for value in stamps if value is not None)
        return [float(value) - first for value in stamps if value is not None], "seconds"
    return [float(number) for number in range(len(columns["value"]))], "record"


_RENDERING = threading.Lock()


@contextmanager
def literal_text() -> Iterator[None]:
    """Draw and save a figure inside this: its labels are the user's text (metric names,
    hyperparameter values), never matplotlib math, so ``$\\frac{$`` is drawn, not parsed (and
    failed on). The setting is matplotlib's global one, so figures are drawn one at a time."""
    import matplotlib

    with _RENDERING, matplotlib.rc_context({"text.parse_math": False}):
        yield


def new_figure(figsize: tuple[float, float]) -> Any:
    # A bare Figure, not pyplot: no global backend or figure registry, so it is safe in a worker,
    # a triggerer or the api-server, from any thread.
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plot() needs matplotlib: pip install 'airflow-provider-braket[plots]'") from None
    return Figure(figsize=figsize)
