"""How ``make test`` spreads test files over its two pytest-xdist workers: longest first.

xdist's ``loadfile`` mode hands out files by their number of tests, most first, and gives a worker
its next file while it still has two tests to run. The production suite has three tests and takes
five minutes: it started last, the next file waited behind it, and the other worker sat idle for
minutes at the end of CI. Here the slowest files (measured in CI; docs/benchmarks.md) go first, and
a worker takes its next file only at the last test of the one it runs.
"""

from __future__ import annotations

from typing import Any

import pytest

#: Files that take minutes (a real Airflow deployment, a fresh virtualenv, whole example DAGs),
#: slowest first. Every other file keeps its place after them.
SLOWEST_FIRST = (
    "tests/production/test_celery_deployment.py",
    "tests/e2e/test_reliability.py",
    "tests/e2e/test_ui.py",
    "tests/integration/test_example_dags.py",
    "tests/integration/test_packaging.py",
    "tests/integration/test_docs_commands.py",
    "tests/integration/test_lineage.py",
    "tests/integration/test_operator.py",
)


def slowest_first(items: list[pytest.Item]) -> None:
    """Reorder ``items`` in place: the files of :data:`SLOWEST_FIRST` first, in that order."""
    rank = {path: position for position, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))


def longest_first_scheduler(config: pytest.Config, log: Any) -> Any:
    """A ``loadfile`` scheduler that keeps the collection's order and hands out a file at a time."""
    from xdist.scheduler import LoadFileScheduling

    class LongestFirst(LoadFileScheduling):
        def __init__(self, config: pytest.Config, log: Any = None) -> None:
            super().__init__(config, log)
            config.option.loadscopereorder = False

        def _reschedule(self, node: Any) -> None:
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            # One test pending is the one the worker holds until it knows what comes next.
            if self._pending_of(self.assigned_work[node]) > 1:
                return
            self._assign_work_unit(node)

    return LongestFirst(config, log)
