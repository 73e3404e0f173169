"""Metrics a job logs with ``braket.jobs.metrics.log_metric``, read back from its log lines.

The SDK prints ``Metrics - timestamp=...; energy=-1.13; iteration_number=3;``; its own parser
matches ``(\\w+)\\s*=\\s*([^;]+)\\s*;`` and casts each value to float, so this does too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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
