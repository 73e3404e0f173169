"""The "Braket Jobs" page of the provider's plugin, in a real api-server, opened in headless Chromium.

Needs Debian's chromium and chromium-driver (``make test`` installs them). The screenshots go to
``test-output/e2e-ui/``. Runs on the newest Airflow and, through ``make e2e-oldest``, on 3.0.6
(where the menu entry does not exist and its test is skipped).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from deployment import AirflowDeployment

pytestmark = [pytest.mark.e2e, pytest.mark.ui, pytest.mark.timeout(420)]

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
OUTPUT = Path(__file__).parents[2] / "test-output" / "e2e-ui"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail(
            "Debian's chromium and chromium-driver are needed: apt-get install chromium chromium-driver"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # This machine's network is closed: without the background-networking flags Chromium keeps
    # trying to reach Google's hosts.
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1500,1100",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def vqe_job(airflow: AirflowDeployment) -> dict[str, Any]:
    airflow.wait_for_dag("braket_vqe")
    run_id = airflow.trigger("braket_vqe")
    assert airflow.wait_for_run("braket_vqe", run_id, timeout=300) == "success"
    return {"run_id": run_id, **airflow.xcom("braket_vqe", run_id, "vqe")}


def test_successful_runs_log_no_error_lines(airflow: AirflowDeployment, vqe_job: dict[str, Any]) -> None:
    """Found: successful runs printed ``[error] XCom not found ... offset=...`` lines. No task of a
    successful VQE run, nor of an operator feeding a deferred sensor its ``jobArn``, logs an error."""
    for task_id in ("prepare_hamiltonian", "vqe", "post_process"):
        assert airflow.task_log_errors("braket_vqe", vqe_job["run_id"], task_id, 1) == [], task_id
    airflow.wait_for_dag("e2e_sensor")
    run_id = airflow.trigger("e2e_sensor")
    assert airflow.wait_for_run("e2e_sensor", run_id, timeout=300) == "success"
    for task_id in ("job", "sensor"):
        assert airflow.task_log_errors("e2e_sensor", run_id, task_id, 1) == [], task_id
    assert "count 7" in airflow.task_log("e2e_sensor", run_id, "sensor", 1)  # its lines were forwarded


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_page_lists_the_job_with_links_and_shows_its_metric_plot(
    airflow: AirflowDeployment, vqe_job: dict[str, Any], browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    OUTPUT.mkdir(parents=True, exist_ok=True)
    browser.get(f"{airflow.base_url}/braket/jobs")
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-job-arn="{vqe_job["jobArn"]}"]')
    cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
    assert cells[0] == vqe_job["jobName"]
    assert cells[1] == "COMPLETED"
    assert cells[2] == "local:braket/braket.local.qubit"
    assert cells[4] == f"{vqe_job['billableDuration']} s"
    run_path = f"/dags/braket_vqe/runs/{urllib.request.quote(vqe_job['run_id'], safe='')}"
    assert (
        row.find_element(By.CSS_SELECTOR, "a.dag-run").get_attribute("href")
        == f"{airflow.base_url}{run_path}"
    )
    assert row.find_element(By.CSS_SELECTOR, "a.task").get_attribute("href") == (
        f"{airflow.base_url}{run_path}/tasks/vqe"
    )
    assert row.find_elements(By.CSS_SELECTOR, "a.console") == []  # the local service has no console
    browser.save_screenshot(str(OUTPUT / "braket-jobs.png"))

    row.find_element(By.CSS_SELECTOR, "a.job").click()
    plot = WebDriverWait(browser, 60).until(
        lambda driver: driver.execute_script(
            "const img = document.getElementById('metrics-plot');"
            "return img && img.complete && img.naturalWidth > 0 ? img : null;"
        )
    )
    assert plot.get_attribute("alt") == f"metrics of {vqe_job['jobName']}"
    browser.find_element(By.CSS_SELECTOR, "tr.selected")
    browser.save_screenshot(str(OUTPUT / "braket-job-metrics.png"))

    status, svg = fetch(plot.get_attribute("src"))
    assert status == 200
    assert b"<svg" in svg
    assert b"energy" in svg


def test_json_rows_and_authentication(airflow: AirflowDeployment, vqe_job: dict[str, Any]) -> None:
    # The deployment runs the simple auth manager with everyone an admin, which signs every
    # request that brings no token of its own; a token that is not Airflow's is refused.
    status, body = fetch(f"{airflow.base_url}/braket/jobs.json")
    assert status == 200
    rows = {row["jobArn"]: row for row in json.loads(body)}
    row = rows[vqe_job["jobArn"]]
    assert row["status"] == "COMPLETED"
    assert row["taskId"] == "vqe"
    assert row["mapIndex"] == -1
    status, _ = fetch(f"{airflow.base_url}/braket/jobs.json", {"Authorization": "Bearer not-a-token"})
    assert status == 403


def test_the_page_asks_the_auth_manager_before_it_uses_a_connection(
    airflow: AirflowDeployment, vqe_job: dict[str, Any], braket: Any
) -> None:
    viewer = {"Authorization": f"Bearer {airflow.token_for('viewer', 'viewer')}"}
    base = airflow.base_url

    # Airflow's own API refuses a viewer the prod_aws connection, and so does the page...
    assert fetch(f"{base}/api/v2/connections/prod_aws", viewer)[0] == 403
    assert fetch(f"{base}/braket/jobs.json?conn_id=prod_aws", viewer)[0] == 403
    assert fetch(f"{base}/braket/metrics.svg?job={vqe_job['jobArn']}&conn_id=prod_aws", viewer)[0] == 403
    # ...while an admin may use it.
    status, body = fetch(f"{base}/braket/jobs.json?conn_id=prod_aws")
    assert status == 200
    assert vqe_job["jobArn"] in {row["jobArn"] for row in json.loads(body)}
    # braket_default is in [braket] ui_connections: the viewer sees the jobs of the DAGs they may read.
    status, body = fetch(f"{base}/braket/jobs.json", viewer)
    assert status == 200
    assert vqe_job["jobArn"] in {row["jobArn"] for row in json.loads(body)}
    # A connection nobody defined is a 404, never the api-server's own AWS credentials.
    assert fetch(f"{base}/braket/jobs.json?conn_id=nobody_defined_this")[0] == 404
    unknown_job = vqe_job["jobArn"].rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    assert fetch(f"{base}/braket/metrics.svg?job={unknown_job}")[0] == 404

    # One job with a malformed airflow:* tag is shown as such, not a 500 for everyone.
    braket.tag_resource(resourceArn=vqe_job["jobArn"], tags={"airflow:map_index": "notanint"})
    try:
        status, body = fetch(f"{base}/braket/jobs.json")
        assert status == 200
        row = {row["jobArn"]: row for row in json.loads(body)}[vqe_job["jobArn"]]
        assert row["tagProblems"] == ["tag airflow:map_index is not an integer"]
        assert fetch(f"{base}/braket/jobs")[0] == 200
    finally:
        braket.tag_resource(resourceArn=vqe_job["jobArn"], tags={"airflow:map_index": "-1"})


@pytest.mark.parametrize("mode", ["print-hyperparameters", "fail"])
def test_deployed_task_logs_mask_secrets_and_hold_no_false_errors(
    airflow: AirflowDeployment, mode: str
) -> None:
    import uuid

    password = f"pw-{uuid.uuid4().hex}"
    run_id = airflow.trigger("e2e_task_log", {"mode": mode, "password": password})
    expected = "success" if mode == "print-hyperparameters" else "failed"
    assert airflow.wait_for_run("e2e_task_log", run_id, timeout=180) == expected

    log = airflow.task_log("e2e_task_log", run_id, "job", try_number=1)
    assert "XCom not found" not in log
    assert password not in log
    if mode == "print-hyperparameters":
        assert '"db_password": "***"' in log


def test_the_views_are_in_the_airflow_ui_menu_from_3_1_and_the_page_stays_on_3_0(
    airflow: AirflowDeployment, browser: Any
) -> None:
    from airflow_provider_braket.version_compat import AIRFLOW_V_3_1_PLUS

    views = airflow.api("GET", "/plugins")["plugins"]
    braket = next(plugin for plugin in views if plugin["name"] == "braket")
    if not AIRFLOW_V_3_1_PLUS:
        # Airflow 3.0 has no plugin views (its API does not even list them): nothing is offered to
        # its UI, and the page is at /braket/jobs.
        assert braket.get("react_apps", []) == []
        assert braket.get("external_views", []) == []
        assert fetch(f"{airflow.base_url}/braket/jobs")[0] == 200
        return
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    apps = {app["destination"]: app for app in braket["react_apps"]}
    assert {name: app["url_route"] for name, app in apps.items()} == {
        "nav": "braket-jobs",
        "task_instance": "braket-job",
        "dag_run": "braket-sweep",
    }
    assert fetch(f"{airflow.base_url}{apps['nav']['bundle_url']}")[0] == 200
    # Browse > Braket Jobs opens the React view inside Airflow's own page (no iframe).
    browser.get(f"{airflow.base_url}/")
    WebDriverWait(browser, 60).until(
        lambda driver: driver.find_element(By.XPATH, "//*[text()='Browse']")
    ).click()
    WebDriverWait(browser, 30).until(
        lambda driver: driver.find_element(
            By.XPATH, "//a[.//*[text()='Braket Jobs'] or text()='Braket Jobs']"
        )
    ).click()
    WebDriverWait(browser, 60).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR, "[data-testid=braket-jobs]")
    )
    assert browser.current_url.endswith("/plugin/braket-jobs")
    assert browser.find_elements(By.TAG_NAME, "iframe") == []


@pytest.fixture(scope="module")
def qaoa_sweep(airflow: AirflowDeployment) -> tuple[str, list[dict[str, Any]]]:
    """One run of the QAOA sweep example (4 points) and its points' XComs."""
    from deployment import ApiError

    with contextlib.suppress(ApiError):  # made by another test already
        airflow.api("POST", "/pools", {"name": "braket_jobs", "slots": 3, "include_deferred": True})
    run_id = airflow.trigger("braket_qaoa_sweep", {"depths": [1, 2], "seeds": [1, 2], "maxiter": 15})
    assert airflow.wait_for_run("braket_qaoa_sweep", run_id, timeout=300) == "success"
    # Found: a successful sweep's pick_best log had "[error] XCom not found ... offset=4" (it
    # iterated the mapped output, which reads one past the end). No task of a successful run may
    # log an error line.
    for task_id, map_index in (("make_sweep", -1), ("qaoa", 0), ("pick_best", -1), ("publish_results", -1)):
        errors = airflow.task_log_errors("braket_qaoa_sweep", run_id, task_id, 1, map_index)
        assert errors == [], (task_id, errors)
    return run_id, [airflow.xcom("braket_qaoa_sweep", run_id, "qaoa", map_index=index) for index in range(4)]


@contextlib.contextmanager
def scheduler_creating_runs(airflow: AirflowDeployment, paused: tuple[str, ...]) -> Iterator[None]:
    """The scheduler restarted with ``use_job_schedule`` on, the ``paused`` DAGs paused meanwhile.

    The suite's scheduler creates no runs of its own (an example DAG's @daily schedule would start
    a 12-job sweep); that setting also stops asset-triggered runs. Turned on with every timed DAG
    paused, the only run the scheduler can create is one an asset event asks for.
    """
    for dag_id in paused:
        airflow.api("PATCH", f"/dags/{dag_id}", {"is_paused": True})
    airflow.kill_component("scheduler", signal.SIGTERM)
    airflow.component_environment["scheduler"] = {"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True"}
    airflow.start_component("scheduler")
    try:
        yield
    finally:
        airflow.kill_component("scheduler", signal.SIGTERM)
        airflow.component_environment.pop("scheduler")
        airflow.start_component("scheduler")
        for dag_id in paused:
            airflow.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})


def test_the_sweeps_asset_event_alone_starts_the_report_on_its_best_point(
    airflow: AirflowDeployment, qaoa_sweep: tuple[str, list[dict[str, Any]]]
) -> None:
    run_id, points = qaoa_sweep
    reports = "/dags/braket_sweep_report/dagRuns"
    assert airflow.api("GET", reports)["dag_runs"] == []  # no timer, and nothing else started it
    runs: list[dict[str, Any]] = []

    def report_ended() -> bool:
        runs[:] = airflow.api("GET", reports)["dag_runs"]
        return len(runs) == 1 and runs[0]["state"] in ("success", "failed")

    # A run of a timed DAG (the study's @daily) would be created, then killed with the scheduler.
    with scheduler_creating_runs(airflow, paused=("braket_qaoa_sweep", "braket_qaoa_study")):
        airflow.wait(report_ended, 180, "the asset-scheduled report to run")
    (report_run,) = runs
    assert (report_run["run_type"], report_run["state"]) == ("asset_triggered", "success")
    # Every timed DAG was paused: a new example with a schedule belongs in the tuple above.
    assert airflow.api("GET", "/dags/~/dagRuns?run_type=scheduled")["dag_runs"] == []
    upstream = airflow.api("GET", f"{reports}/{quote(report_run['dag_run_id'], safe='')}/upstreamAssetEvents")
    # One event for the whole sweep, not one per point, and it came from the sweep's run.
    events = upstream["asset_events"]
    assert [(event["source_dag_id"], event["source_run_id"]) for event in events] == [
        ("braket_qaoa_sweep", run_id)
    ]
    sweep = events[0]["extra"]["braketSweep"]
    assert [point["jobArn"] for point in sweep["points"]] == [point["jobArn"] for point in points]
    best = max(points, key=lambda point: point["metrics"]["expected_cut"])
    report = airflow.xcom("braket_sweep_report", report_run["dag_run_id"], "report")
    assert (report["jobArn"], report["sweepRunId"], report["points"]) == (best["jobArn"], run_id, 4)
    assert report["expected_cut"] == best["results"]["expected_cut"]
    assert 0 < report["approximation_ratio"] <= 1
    assert report["reportUri"] == f"{best['outputS3Path']}/output/sweep-report.json"


def test_the_sweep_view_marks_the_best_point_and_plots_the_sweep(
    airflow: AirflowDeployment, browser: Any, qaoa_sweep: tuple[str, list[dict[str, Any]]]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    OUTPUT.mkdir(parents=True, exist_ok=True)
    run_id, points = qaoa_sweep

    browser.get(f"{airflow.base_url}/braket/jobs?days=1")
    run_row = browser.find_element(By.CSS_SELECTOR, f'#runs tr[data-run-id="{run_id}"]')
    total = sum(point["cost"]["total"] for point in points)
    assert run_row.find_elements(By.TAG_NAME, "td")[2].text.startswith(f"{total:.4f}")
    browser.save_screenshot(str(OUTPUT / "braket-jobs-costs.png"))
    run_row.find_element(By.CSS_SELECTOR, "a.sweep").click()

    WebDriverWait(browser, 60).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#points tbody tr"))
    browser.find_element(By.CSS_SELECTOR, "select[name=goal] option[value=max]").click()
    before = browser.find_element(By.CSS_SELECTOR, "#points")
    browser.find_element(By.CSS_SELECTOR, "form button").click()
    # Found in CI (Airflow 3.0.6): the plots of the page before the submit were still there, and
    # the rows were read from the next page while it loaded. Wait for the page to be replaced.
    WebDriverWait(browser, 60).until(expected_conditions.staleness_of(before))
    WebDriverWait(browser, 60).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#points tbody tr"))
    for image in ("sweep-plot", "runs-plot"):
        WebDriverWait(browser, 60).until(
            lambda driver, image=image: driver.execute_script(
                f"const img = document.getElementById('{image}');"
                "return img && img.complete && img.naturalWidth > 0;"
            )
        )
    rows = browser.find_elements(By.CSS_SELECTOR, "#points tbody tr")
    assert [row.get_attribute("data-map-index") for row in rows] == ["0", "1", "2", "3"]
    # Ranked by default by the jobs' saved answer that they also logged as a metric.
    chosen = browser.find_element(By.CSS_SELECTOR, "select[name=metric] option:checked").text
    assert chosen == "results.expected_cut"
    best_index = max(range(4), key=lambda index: points[index]["results"]["expected_cut"])
    best_row = browser.find_element(By.CSS_SELECTOR, "#points tr.best")
    assert best_row.get_attribute("data-map-index") == str(best_index)
    assert f"map index {best_index}" in browser.find_element(By.ID, "best").text
    assert browser.find_element(By.ID, "sweep-total").text == f"{total:.4f}"
    browser.save_screenshot(str(OUTPUT / "braket-sweep.png"))


# The React views (Airflow >= 3.1): Browse > Braket Jobs, a task instance's "Braket Job" tab and a
# DAG run's "Braket Sweep" tab, in Airflow's light and dark themes. Their screenshots are those of
# docs/ui.md.
MODES = ("light", "dark")


def open_view(browser: Any, airflow: AirflowDeployment, path: str, mode: str, ready: str) -> None:
    """Open ``path`` of Airflow's UI in ``mode`` (Airflow keeps the choice in localStorage)."""
    from selenium.webdriver.common.by import By

    browser.get(f"{airflow.base_url}/")
    browser.execute_script("localStorage.setItem('theme', arguments[0])", mode)
    browser.get(f"{airflow.base_url}{path}")
    patient(browser, 90).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ready))
    assert browser.execute_script("return document.documentElement.classList.contains('dark')") == (
        mode == "dark"
    )


def text_is_light(browser: Any, css: str) -> bool:
    """Whether the element's text is drawn light (on a dark background) in the current theme.

    The colour is painted on a canvas and read back: computed styles may be in any CSS colour space.
    """
    rgb = browser.execute_script(
        "const color = getComputedStyle(document.querySelector(arguments[0])).color;"
        "const context = document.createElement('canvas').getContext('2d');"
        "context.fillStyle = color; context.fillRect(0, 0, 1, 1);"
        "return Array.from(context.getImageData(0, 0, 1, 1).data);",
        css,
    )
    return sum(rgb[:3]) / 3 > 128


def patient(browser: Any, seconds: float) -> Any:
    """A wait that looks again when the view re-rendered what it found (a stale element)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, ignored_exceptions=(StaleElementReferenceException,))


def column_words(browser: Any, column: int) -> set[str]:
    """The first word of each cell of a column of the jobs table, read at once (the table is
    re-rendered whenever the view reads the jobs again, which leaves found elements stale)."""
    texts = browser.execute_script(
        "return Array.from(document.querySelectorAll("
        "`[data-testid=jobs-table] tbody td:nth-child(${arguments[0]})`)).map(cell => cell.innerText);",
        column,
    )
    return {text.split()[0] for text in texts if text.split()}


def run_path(dag_id: str, run_id: str) -> str:
    return f"/dags/{dag_id}/runs/{quote(run_id, safe='')}"


@pytest.mark.react
def test_the_jobs_view_lists_filters_and_fits_1280_pixels(
    airflow: AirflowDeployment, vqe_job: dict[str, Any], browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    OUTPUT.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(1280, 900)
    try:
        for mode in MODES:
            open_view(
                browser, airflow, "/plugin/braket-jobs", mode, f'tr[data-job-arn="{vqe_job["jobArn"]}"]'
            )
            assert text_is_light(browser, "[data-testid=braket-jobs] h2") == (mode == "dark")
            # Read at once: a re-render (the view reads the jobs again while some run) would leave
            # found elements stale.
            row = browser.execute_script(
                "const row = document.querySelector(`tr[data-job-arn='${arguments[0]}']`);"
                "const cells = Array.from(row.querySelectorAll('td'));"
                "const device = cells[2].querySelector('span');"
                "return {texts: cells.map(cell => cell.innerText.trim()), device: device.innerText,"
                " deviceTitle: device.title, link: cells[0].querySelector('a').href};",
                vqe_job["jobArn"],
            )
            texts = row["texts"]
            assert texts[0] == vqe_job["jobName"]
            assert texts[1].startswith("COMPLETED")
            assert (row["device"], row["deviceTitle"]) == (
                "braket.local.qubit",
                "local:braket/braket.local.qubit",
            )
            assert texts[6] == f"{vqe_job['cost']['total']:.4f} USD"
            # The job's name opens its task instance's Braket Job tab.
            tab = f"{run_path('braket_vqe', vqe_job['run_id'])}/tasks/vqe/plugin/braket-job"
            assert row["link"] == f"{airflow.base_url}{tab}"
            # Found: the old page's Task and Console columns were cut off at 1600 px.
            widths = browser.execute_script(
                "const view = document.querySelector('[data-testid=braket-jobs]');"
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
                " view.scrollWidth, view.clientWidth];"
            )
            assert widths[0] <= widths[1], widths
            assert widths[2] <= widths[3], widths
            browser.save_screenshot(str(OUTPUT / f"react-braket-jobs-{mode}.png"))

        # What the filters keep is tested on the view's data (test_jobs_page_data.py); here, that the
        # view asks for it and shows only what was kept.
        Select(browser.find_element(By.CSS_SELECTOR, "select[name=status]")).select_by_value("COMPLETED")
        Select(browser.find_element(By.CSS_SELECTOR, "select[name=dag_id]")).select_by_value("braket_vqe")
        patient(browser, 30).until(lambda driver: column_words(driver, 4) == {"braket_vqe"})
        assert column_words(browser, 2) == {"COMPLETED"}
        assert browser.find_elements(By.CSS_SELECTOR, f'tr[data-job-arn="{vqe_job["jobArn"]}"]')
    finally:
        browser.set_window_size(1500, 1100)


@pytest.mark.react
def test_the_task_instance_tab_shows_its_job_metrics_cost_and_log(
    airflow: AirflowDeployment, vqe_job: dict[str, Any], browser: Any
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = f"{run_path('braket_vqe', vqe_job['run_id'])}/tasks/vqe/plugin/braket-job"
    for mode in MODES:
        open_view(browser, airflow, path, mode, "[data-testid=metric-chart] canvas")
        assert browser.find_element(By.CSS_SELECTOR, "[data-testid=job-name]").text == vqe_job["jobName"]
        assert browser.find_element(
            By.CSS_SELECTOR, "[data-testid=job-detail] [data-testid=status]"
        ).text == ("COMPLETED")
        assert browser.find_element(By.CSS_SELECTOR, "[data-testid=cost]").text == (
            f"{vqe_job['cost']['total']:.4f} USD"
        )
        timeline = browser.find_element(By.CSS_SELECTOR, "[data-testid=timeline]").text
        assert all(label in timeline for label in ("Created", "Started", "Ended", "Ran for"))
        assert (
            "Reporting training SUCCESS"
            in browser.find_element(By.CSS_SELECTOR, "[data-testid=log-tail]").text
        )
        assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=cancel]") == []  # it has ended
        # The metric's value on hover: Chart.js draws its tooltip on the canvas.
        canvas = browser.find_element(By.CSS_SELECTOR, "[data-testid=metric-chart] canvas")
        before = canvas.screenshot_as_png
        ActionChains(browser).move_to_element_with_offset(
            canvas, -canvas.size["width"] // 2 + 60, 0
        ).perform()
        browser.implicitly_wait(0)
        assert canvas.screenshot_as_png != before
        browser.save_screenshot(str(OUTPUT / f"react-task-instance-{mode}.png"))


@pytest.mark.react
def test_a_running_job_refreshes_by_itself_and_an_editor_cancels_it(
    airflow: AirflowDeployment, browser: Any, braket: Any
) -> None:
    from selenium.webdriver.common.by import By

    run_id = airflow.trigger("e2e_deferred", {"mode": "sleep", "ticks": 0})
    airflow.wait_for_task("e2e_deferred", run_id, "job", ("deferred",), timeout=120)
    api = f"{airflow.base_url}/braket/api"
    query = f"dag_id=e2e_deferred&run_id={quote(run_id, safe='')}&task_id=job"
    status, body = fetch(f"{api}/task-instance?{query}")
    assert status == 200
    view = json.loads(body)
    job_arn = view["job"]["jobArn"]
    assert view["mayCancel"] is True  # an admin may edit the DAG
    viewer = {"Authorization": f"Bearer {airflow.token_for('viewer', 'viewer')}"}
    assert json.loads(fetch(f"{api}/task-instance?{query}", viewer)[1])["mayCancel"] is False
    cancel = json.dumps({"jobArn": job_arn}).encode()

    def post(body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(f"{api}/cancel", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    # A viewer may read the job but not cancel it; another site's form (not JSON) cannot either.
    assert post(cancel, {**viewer, "Content-Type": "application/json"}) == 403
    assert post(f"jobArn={job_arn}".encode(), {"Content-Type": "application/x-www-form-urlencoded"}) == 422
    # Hostile bodies are refused before Braket is asked: too long, unknown fields, not a job of ours.
    as_json = {"Content-Type": "application/json"}
    assert post(json.dumps({"jobArn": "a" * 10_000}).encode(), as_json) == 422
    assert post(json.dumps({"jobArn": job_arn, "force": True}).encode(), as_json) == 422
    assert post(b"{" * 100_000, as_json) == 422
    unknown = job_arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    assert post(json.dumps({"jobArn": unknown}).encode(), as_json) == 404
    assert post(json.dumps({"jobArn": "not an arn"}).encode(), as_json) == 404
    assert braket.get_job(jobArn=job_arn)["status"] in ("QUEUED", "RUNNING")

    path = f"{run_path('e2e_deferred', run_id)}/tasks/job/plugin/braket-job"
    open_view(browser, airflow, path, "light", "[data-testid=job-detail]")
    patient(browser, 60).until(
        lambda driver: (
            driver.find_element(By.CSS_SELECTOR, "[data-testid=job-detail] [data-testid=status]").text
            == "RUNNING"
        )
    )
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=cost]").text.endswith("USD")
    # The tail grows without a reload: the view reads the job again while it runs.
    patient(browser, 60).until(
        lambda driver: "tick 5" in driver.find_element(By.CSS_SELECTOR, "[data-testid=log-tail]").text
    )
    browser.save_screenshot(str(OUTPUT / "react-task-instance-running.png"))
    browser.find_element(By.CSS_SELECTOR, "[data-testid=cancel]").click()
    patient(browser, 10).until(lambda driver: driver.switch_to.alert).accept()
    patient(browser, 120).until(
        lambda driver: (
            driver.find_element(By.CSS_SELECTOR, "[data-testid=job-detail] [data-testid=status]").text
            == "CANCELLED"
        )
    )
    assert braket.get_job(jobArn=job_arn)["status"] == "CANCELLED"
    assert airflow.wait_for_run("e2e_deferred", run_id, timeout=120) == "failed"


@pytest.mark.react
def test_the_sweep_tab_ranks_by_a_chosen_score_and_marks_the_best(
    airflow: AirflowDeployment, browser: Any, qaoa_sweep: tuple[str, list[dict[str, Any]]]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    run_id, points = qaoa_sweep
    total = sum(point["cost"]["total"] for point in points)
    best_index = max(range(4), key=lambda index: points[index]["results"]["expected_cut"])
    for mode in MODES:
        open_view(
            browser,
            airflow,
            f"{run_path('braket_qaoa_sweep', run_id)}/plugin/braket-sweep",
            mode,
            "[data-testid=points-table] tbody tr",
        )
        rank = Select(browser.find_element(By.CSS_SELECTOR, "select[name=score]"))
        # Ranked by default by the jobs' saved answer that they also logged as a metric.
        assert rank.first_selected_option.text == "results.expected_cut"
        Select(browser.find_element(By.CSS_SELECTOR, "select[name=goal]")).select_by_value("max")
        patient(browser, 30).until(
            lambda driver: (
                driver.find_element(By.CSS_SELECTOR, "tr[data-best=true]").get_attribute("data-map-index")
                == str(best_index)
            )
        )
        rows = browser.find_elements(By.CSS_SELECTOR, "[data-testid=points-table] tbody tr")
        assert [row.get_attribute("data-map-index") for row in rows] == ["0", "1", "2", "3"]
        assert f"map index {best_index}" in browser.find_element(By.CSS_SELECTOR, "[data-testid=best]").text
        assert browser.find_element(By.CSS_SELECTOR, "[data-testid=sweep-total]").text == f"{total:.4f} USD"
        assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=sweep-chart] canvas")
        patient(browser, 60).until(
            lambda driver: driver.find_elements(By.CSS_SELECTOR, "[data-testid=runs-chart] canvas")
        )
        # Any score can rank: a metric the jobs logged instead of their saved results.
        rank.select_by_value("expected_cut")
        assert browser.find_element(By.CSS_SELECTOR, "tr[data-best=true]").get_attribute(
            "data-map-index"
        ) == str(max(range(4), key=lambda index: points[index]["metrics"]["expected_cut"]))
        rank.select_by_value("results.expected_cut")
        browser.save_screenshot(str(OUTPUT / f"react-sweep-{mode}.png"))


@pytest.mark.react
def test_the_sweep_tab_shows_the_study_over_every_run(airflow: AirflowDeployment, browser: Any) -> None:
    """Two runs of the braket_qaoa_study example: the second run's tab shows both runs' trials,
    the best so far, Optuna's parameter importances, and a viewer cannot name a connection of
    their choosing for the study's database."""
    from deployment import ApiError
    from selenium.webdriver.common.by import By

    with contextlib.suppress(ApiError):  # made by another test already
        airflow.api("POST", "/pools", {"name": "braket_jobs", "slots": 3, "include_deferred": True})
    runs = []
    for _ in range(2):
        run_id = airflow.trigger("braket_qaoa_study", {"points": 2})
        assert airflow.wait_for_run("braket_qaoa_study", run_id, timeout=300) == "success"
        runs.append(run_id)
    base = airflow.base_url
    status, body = fetch(f"{base}/braket/api/sweep?dag_id=braket_qaoa_study&run_id={quote(runs[1], safe='')}")
    assert status == 200
    assert json.loads(body)["study"] == {"name": "qaoa_maxcut", "connId": ""}
    status, body = fetch(f"{base}/braket/api/study?dag_id=braket_qaoa_study&name=qaoa_maxcut")
    assert status == 200
    study = json.loads(body)
    assert {trial["runId"] for trial in study["trials"]} >= set(runs)
    unfinished = [trial for trial in study["trials"] if trial["state"] not in ("COMPLETE", "PRUNED")]
    assert not unfinished, (unfinished, [airflow.task_instances("braket_qaoa_study", run) for run in runs])
    values = [best["value"] for best in study["bestSoFar"]]
    assert values == sorted(values)  # maximised: the best so far never falls
    viewer = {"Authorization": f"Bearer {airflow.token_for('viewer', 'viewer')}"}
    query = "dag_id=braket_qaoa_study&name=qaoa_maxcut&study_conn_id=prod_aws"
    assert fetch(f"{base}/braket/api/study?{query}", viewer)[0] == 403
    assert fetch(f"{base}/braket/api/study?dag_id=braket_qaoa_study&name=no_such_study")[0] == 404

    for mode in MODES:
        open_view(
            browser,
            airflow,
            f"{run_path('braket_qaoa_study', runs[1])}/plugin/braket-sweep",
            mode,
            "[data-testid=trials-table] tbody tr",
        )
        rows = browser.find_elements(By.CSS_SELECTOR, "[data-testid=trials-table] tbody tr")
        assert [int(row.get_attribute("data-trial")) for row in rows] == sorted(
            (trial["number"] for trial in study["trials"]), reverse=True
        )
        assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=study-chart] canvas")
        assert "best:" in browser.find_element(By.CSS_SELECTOR, "[data-testid=study-best]").text
        if study["importances"]:
            assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=importances]")
        # The study maximises: the points are ranked largest first unless the user picks.
        goal = browser.find_element(By.CSS_SELECTOR, "select[name=goal]")
        assert goal.get_attribute("value") == "max"
        panel = browser.find_element(By.CSS_SELECTOR, "[data-testid=study]")
        browser.execute_script("arguments[0].scrollIntoView()", panel)
        browser.save_screenshot(str(OUTPUT / f"react-study-{mode}.png"))
