"""The React views' bundle: built from the committed sources, and what Airflow's loader needs.

Airflow's UI (3.1+) imports ``bundle_url`` as a module, then takes the component from
``globalThis[<app name>]`` or ``globalThis.AirflowPlugin``; it passes React and the JSX runtime as
globals. Headless Chromium renders the views in a real api-server in tests/e2e/test_ui.py.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from airflow_provider_braket.ui import plugin

ROOT = Path(__file__).parents[2]


def load_stamp_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stamp", ROOT / "frontend" / "stamp.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundle_is_built_from_the_committed_sources() -> None:
    stamp = load_stamp_module()
    recorded = json.loads(stamp.STAMP.read_text())
    assert recorded["bundle"] == stamp.bundle_digest(), "the bundle was changed by hand: run `make ui`"
    assert recorded["sources"] == stamp.sources_digest(), (
        "frontend/ changed since the bundle was built: run `make ui` and commit the bundle"
    )


def test_the_stamp_sees_a_changed_source(tmp_path: Path) -> None:
    stamp = load_stamp_module()
    before = stamp.sources_digest()
    copy = tmp_path / "frontend"
    (copy / "src").mkdir(parents=True)
    for name in stamp.BUILD_INPUTS:
        (copy / name).write_bytes((stamp.FRONTEND / name).read_bytes())
    for source in (stamp.FRONTEND / "src").rglob("*"):
        if source.is_file():
            (copy / "src" / source.name).write_bytes(source.read_bytes())
    stamp.FRONTEND = copy
    assert stamp.sources_digest() == before
    main = copy / "src" / "main.tsx"
    main.write_text(main.read_text() + "\n// one more line\n")
    assert stamp.sources_digest() != before


def test_the_bundle_serves_every_react_app_and_shares_the_hosts_react() -> None:
    bundle = (plugin.STATIC / "braket-ui.js").read_text()
    apps = plugin.react_apps()
    assert [(app["destination"], app["url_route"]) for app in apps] == [
        ("nav", "braket-jobs"),
        ("task_instance", "braket-job"),
        ("dag_run", "braket-sweep"),
    ]
    for app in apps:
        # Airflow imports one URL once: the bundle registers its component under each app's name.
        assert json.dumps(app["name"]) in bundle or f"`{app['name']}`" in bundle, app["name"]
        assert app["bundle_url"].startswith("/braket/static/braket-ui.js?v=")
    # React, ReactDOM and the JSX runtime are the host's globals, never a second copy.
    assert "b.AirflowPlugin=" in bundle or ".AirflowPlugin=" in bundle
    assert "ReactJSXRuntime" in bundle
    assert "__CLIENT_INTERNALS_DO_NOT_USE_OR_WARN_USERS_THEY_CANNOT_UPGRADE" not in bundle
    assert "react-dom.production" not in bundle


def test_airflow_30_gets_no_react_apps() -> None:
    """Airflow 3.0 has no React plugin views; its users keep the page at /braket/jobs."""
    import importlib

    import airflow_provider_braket.version_compat as compat

    original = compat.AIRFLOW_V_3_1_PLUS
    try:
        compat.AIRFLOW_V_3_1_PLUS = False
        reloaded = importlib.reload(plugin)
        assert reloaded.BraketJobsPlugin.react_apps == []
    finally:
        compat.AIRFLOW_V_3_1_PLUS = original
        importlib.reload(plugin)
