from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent / "integration")]

from servers import LocalServiceProcess  # noqa: E402 - importable once the path is set


@pytest.fixture(scope="session")
def local_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServiceProcess]:
    """The real local service, shared by the tests that do not change its settings."""
    service = LocalServiceProcess(tmp_path_factory.mktemp("braket-local") / "data").start()
    yield service
    service.stop()


@pytest.fixture
def own_service(tmp_path: Path) -> Iterator[LocalServiceProcess]:
    """A service of this test alone (for limits, device tables, restarts)."""
    service = LocalServiceProcess(tmp_path / "data")
    yield service
    service.stop()
