"""The package's shape, as the code review of issue 14 asked for it: no hub module, no cycles.

These read the source; they guard what a reviewer checks by eye, so that it stays true.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_provider_braket"
MAX_MODULE_LINES = 500
# Its docstring, signature, attributes and template fields are some 200 of them: every argument
# of AwsQuantumJob.create and the caps. The logic is the rest.
MAX_OPERATOR_LINES = 400


def _modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }


def _runtime_imports(path: Path) -> set[str]:
    """Modules of this package imported when the module loads: not under TYPE_CHECKING, not in a
    function (a deferred import there is how a cycle is broken on purpose)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE.name):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(PACKAGE.name))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


@pytest.mark.parametrize("module", sorted(_modules()))
def test_no_module_is_over_500_lines(module: str) -> None:
    assert len(_modules()[module].read_text().splitlines()) <= MAX_MODULE_LINES


def test_the_operator_is_not_the_hub() -> None:
    operator = PACKAGE / "operators" / "braket.py"
    assert len(operator.read_text().splitlines()) <= MAX_OPERATOR_LINES


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {
        name: {m for m in _runtime_imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, "import cycle: " + " -> ".join([*visiting[visiting.index(name) :], name])
        visiting.append(name)
        for imported in graph[name]:
            visit(imported)
        visiting.pop()
        done.add(name)

    for name in graph:
        visit(name)


def test_the_local_service_routes_hold_no_domain_logic() -> None:
    """Routes read requests and write answers; the backend object decides."""
    imports = _runtime_imports(PACKAGE / "local" / "api.py")
    assert not imports & {
        f"{PACKAGE.name}.local.store",
        f"{PACKAGE.name}.local.runner",
        f"{PACKAGE.name}.local.records",
        f"{PACKAGE.name}.local.devices",
    }


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
