"""The package's shape: no module too long to read, no hub, nothing of the local service loaded
by the provider.

Imports between the package's parts (the layers, no cycles, the routes' reach) are contracts in
pyproject.toml's ``[tool.importlinter]``, checked by ``make lint``; docs/architecture.md draws them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_provider_braket"
# A module longer than this holds more than one concept (issue 24's layout review).
MAX_MODULE_LINES = 400


def _modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }


@pytest.mark.parametrize("module", sorted(_modules()))
def test_no_module_is_over_400_lines(module: str) -> None:
    assert len(_modules()[module].read_text().splitlines()) <= MAX_MODULE_LINES


def test_the_provider_runs_without_the_local_extra() -> None:
    """What a production Airflow loads (hooks, operators, sensors, triggers, the UI page) needs none
    of the ``[local]`` extra: the Braket SDK, its simulators, moto (issue 16's lean install)."""
    import subprocess
    import sys

    modules = sorted(name for name in _modules() if ".local" not in name)
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'braket', 'moto', 'a2wsgi'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
