"""Unit tests of the provider's pure parts: logs, metrics, results, requests, sources, links, trigger."""

from __future__ import annotations

import ast
import asyncio
import base64
import importlib
import io
import json
import os
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_braket.jobs.logs import LogCursor, StreamReader, format_log_line, log_stream_prefix
from airflow_provider_braket.jobs.metrics import latest_values, parse_metric_line, parse_metrics
from airflow_provider_braket.jobs.models import RequestValidationError
from airflow_provider_braket.jobs.request import (
    HybridJobSpec,
    JobLocation,
    default_job_name,
    normalize_hyperparameters,
    normalize_input_data,
    to_api_dict,
)
from airflow_provider_braket.jobs.results import (
    ResultsFormatError,
    ResultsTooLargeError,
    read_results_archive,
)
from airflow_provider_braket.jobs.source import check_entry_point, pack_source_module

ALGORITHMS = Path(__file__).parents[2] / "example_dags" / "algorithms"
ARN = "arn:aws:braket:us-east-1:123456789012:job/0b1c"


def event(ts: int, message: str) -> dict:
    return {"timestamp": ts, "message": message}


def test_stream_reader_skips_what_was_seen_at_the_same_timestamp() -> None:
    cursor = LogCursor({"s": {"timestamp": 5, "skip": 2}})
    reader = StreamReader("s", cursor.position("s"))
    assert reader.request["startTime"] == 5
    page = {"events": [event(5, "a"), event(5, "b"), event(5, "c"), event(7, "d")], "nextForwardToken": "t1"}
    new = reader.take(page)
    for item in new:
        reader.position.passed(item)
    assert [item["message"] for item in new] == ["c", "d"]
    assert cursor.serialize() == {"s": {"timestamp": 7, "skip": 1}}
    assert not reader.done
    assert reader.request["nextToken"] == "t1"
    # Later pages are not filtered again; the end is the same token handed back, or no events.
    assert reader.take({"events": [event(7, "e")], "nextForwardToken": "t2"}) == [event(7, "e")]
    reader.take({"events": [], "nextForwardToken": "t2"})
    assert reader.done


def test_log_names_and_lines() -> None:
    assert log_stream_prefix("vqe-1", ARN) == "vqe-1/0b1c/"
    assert format_log_line("vqe-1/0b1c/algo-1-1", "hello\n", 1) == "hello"
    assert format_log_line("vqe-1/0b1c/algo-2-1", "hello", 2) == "[algo-2-1] hello"


def test_metrics_are_parsed_like_the_sdk() -> None:
    line = "Metrics - timestamp=1795477922.15; energy=-1.13; iteration_number=3;"
    assert parse_metric_line(line) == {"timestamp": 1795477922.15, "energy": -1.13, "iteration_number": 3.0}
    assert parse_metric_line("energy=-1.13;") is None
    records = parse_metrics([line, "noise", "Metrics - energy=-1.5; loss=0.2; iteration_number=4;"])
    assert latest_values(records) == {"energy": -1.5, "loss": 0.2}


def results_archive(document: dict, before: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        if before:
            info = tarfile.TarInfo("model.bin")
            info.size = len(before)
            tar.addfile(info, io.BytesIO(before))
        body = json.dumps(document).encode()
        info = tarfile.TarInfo("results.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def test_results_plaintext_and_pickled() -> None:
    assert read_results_archive(results_archive({"dataDictionary": {"e": 1}, "dataFormat": "plaintext"})) == {
        "e": 1
    }
    pickled = {
        "dataDictionary": {"e": base64.b64encode(pickle.dumps({1, 2})).decode()},
        "dataFormat": "pickled_v4",
    }
    with pytest.raises(ResultsFormatError, match="allow_pickle=True"):
        read_results_archive(results_archive(pickled))
    assert read_results_archive(results_archive(pickled), allow_pickle=True) == {"e": {1, 2}}


class _OneWayStream(io.RawIOBase):
    """An S3 body: read front to back only, and counting what was asked of it at once."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(size)
        self.largest_read = max(self.largest_read, len(chunk))
        return chunk


def test_results_are_streamed_and_capped() -> None:
    document = {"dataDictionary": {"e": "x" * 5000}, "dataFormat": "plaintext"}
    archive = results_archive(document, before=os.urandom(4 << 20))
    stream = _OneWayStream(archive)
    assert read_results_archive(stream) == {"e": "x" * 5000}  # type: ignore[arg-type]
    assert stream.largest_read < 1 << 20  # never the whole 4 MB archive at once
    with pytest.raises(ResultsTooLargeError, match="more than the 1000 bytes"):
        read_results_archive(archive, max_bytes=1000)


def test_request_defaults_follow_the_sdk() -> None:
    spec = HybridJobSpec(device="local:braket/braket.local.qubit", entry_point="vqe_h2", job_name="vqe-1")
    request = spec.request(JobLocation("bucket", "vqe-1", "17"), "arn:aws:iam::123456789012:role/r", "token")
    assert request["algorithmSpecification"] == {
        "scriptModeConfig": {
            "entryPoint": "vqe_h2",
            "s3Uri": "s3://bucket/jobs/vqe-1/17/script/source.tar.gz",
            "compressionType": "GZIP",
        }
    }
    assert request["instanceConfig"] == {
        "instanceType": "ml.m5.large",
        "volumeSizeInGb": 30,
        "instanceCount": 1,
    }
    assert request["outputDataConfig"] == {"s3Path": "s3://bucket/jobs/vqe-1/17/data"}
    assert request["checkpointConfig"] == {
        "localPath": "/opt/jobs/checkpoints",
        "s3Uri": "s3://bucket/jobs/vqe-1/17/checkpoints",
    }
    assert request["stoppingCondition"] == {"maxRuntimeInSeconds": 432000}
    spec.validate()


def test_argument_names_in_errors() -> None:
    spec = HybridJobSpec(
        device="d", entry_point="m", job_name="-bad", instance_config={"instanceType": "ml.x"}
    )
    with pytest.raises(RequestValidationError) as raised:
        spec.validate()
    assert "job_name (jobName)" in str(raised.value)
    assert "instance_config (instanceConfig.instanceType)" in str(raised.value)


def test_small_helpers() -> None:
    assert default_job_name("prep_data.vqe", "1795487441465") == "prep-data-vqe-1795487441465"
    assert default_job_name("t" * 60, "1795487441465", map_index=11) == "t" * 33 + "-11-1795487441465"
    assert normalize_hyperparameters({"p": 2, "lr": 0.1, "flag": True}) == {
        "p": "2",
        "lr": "0.1",
        "flag": "True",
    }
    with pytest.raises(RequestValidationError, match=r"hyperparameters\['w'\]"):
        normalize_hyperparameters({"w": {"a": 1}})
    assert normalize_input_data("s3://b/p") == {"input": "s3://b/p"}
    with pytest.raises(RequestValidationError, match="input_data"):
        normalize_input_data({"x": ""})

    from braket.jobs.config import InstanceConfig

    assert to_api_dict(InstanceConfig(instanceCount=2), "instance_config") == {
        "instanceType": "ml.m5.large",
        "volumeSizeInGb": 30,
        "instanceCount": 2,
    }


def test_source_is_packed_exactly_like_the_sdk(tmp_path: Path) -> None:
    from braket.jobs.quantum_job_creation import _tar_and_upload_to_code_location

    class Recorder:
        def upload_to_s3(self, filename: str, uri: str) -> None:
            self.body = Path(filename).read_bytes()

    recorder = Recorder()
    _tar_and_upload_to_code_location(ALGORITHMS, recorder, "s3://b/code")  # type: ignore[arg-type]

    def listing(body: bytes) -> list[tuple[str, int]]:
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            return sorted((member.name, member.size) for member in tar.getmembers())

    assert listing(pack_source_module(ALGORITHMS)) == listing(recorder.body)


def test_entry_points_are_checked_without_importing(tmp_path: Path) -> None:
    assert check_entry_point(ALGORITHMS / "vqe_h2.py", None) == "vqe_h2"
    assert check_entry_point(ALGORITHMS, "algorithms.qaoa_maxcut:main") == "algorithms.qaoa_maxcut:main"
    with pytest.raises(RequestValidationError, match="not defined"):
        check_entry_point(ALGORITHMS / "vqe_h2.py", "vqe_h2:nothing")
    with pytest.raises(RequestValidationError, match="not found"):
        check_entry_point(ALGORITHMS / "vqe_h2.py", "qaoa_maxcut")  # a sibling file, outside the module


def test_links() -> None:
    from airflow_provider_braket.links.braket import BraketJobLink, BraketJobLogsLink

    fields = {"region_name": "us-west-2", "aws_domain": "aws.amazon.com", "job_arn": ARN, "job_name": "vqe-1"}
    assert BraketJobLink().format_link(**fields) == (
        "https://console.aws.amazon.com/braket/home?region=us-west-2#/jobs/"
        "arn%3Aaws%3Abraket%3Aus-east-1%3A123456789012%3Ajob%2F0b1c"
    )
    assert BraketJobLogsLink().format_link(**fields) == (
        "https://console.aws.amazon.com/cloudwatch/home?region=us-west-2#logsV2:log-groups/log-group/"
        "$252Faws$252Fbraket$252Fjobs$3FlogStreamNameFilter$3Dvqe-1$252F0b1c$252F"
    )
    # Found: a job of the local service linked to the AWS console. It opens in Airflow's Braket
    # Jobs page instead, and its CloudWatch link is hidden.
    local = {**fields, "console": False}
    assert BraketJobLink().format_link(**local) == (
        "/braket/jobs?job=arn%3Aaws%3Abraket%3Aus-east-1%3A123456789012%3Ajob%2F0b1c"
    )
    assert BraketJobLogsLink().format_link(**local) == ""


def test_only_an_aws_endpoint_has_the_aws_console() -> None:
    from airflow_provider_braket.jobs.endpoints import is_aws_endpoint

    assert is_aws_endpoint(None)
    assert is_aws_endpoint("https://braket.us-east-1.amazonaws.com")
    assert is_aws_endpoint("https://vpce-0a1b-abc.braket.us-east-1.vpce.amazonaws.com")
    assert not is_aws_endpoint("http://127.0.0.1:8975")
    assert not is_aws_endpoint("http://braket-local.internal:8975")
    assert not is_aws_endpoint("https://amazonaws.com.example.org")


def test_trigger_serialization_round_trip() -> None:
    from airflow_provider_braket.triggers.braket import JobStatusTrigger

    trigger = JobStatusTrigger(
        job_arn=ARN,
        job_name="vqe-1",
        waiter_delay=5,
        timeout_at=1.5e9,
        cancel_on_kill=False,
        log_positions={"vqe-1/0b1c/algo-1-1": {"timestamp": 3, "skip": 1}},
        region_name="eu-west-2",
        botocore_config={"retries": {"mode": "standard"}},
    )
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert classpath == "airflow_provider_braket.triggers.braket.JobStatusTrigger"


class _StateTrigger:
    """A JobStatusTrigger whose view of the task state is fixed: the decision alone is tested here;
    reading the real state needs a triggerer and is covered by the end-to-end tests."""

    @staticmethod
    def make(state: str | None, cancelled: list[str]):
        from airflow_provider_braket.triggers.braket import JobStatusTrigger

        class Fixed(JobStatusTrigger):
            async def _task_state(self) -> str | None:
                return state

        trigger = Fixed(job_arn=ARN, job_name="vqe-1")

        class Hook:
            async def cancel_job_async(self, job_arn: str) -> str:
                cancelled.append(job_arn)
                return "CANCELLING"

        trigger.__dict__["hook"] = Hook()
        return trigger


@pytest.mark.parametrize(
    ("state", "cancels"),
    [
        ("deferred", False),
        ("unknown", False),
        ("failed", True),
        ("success", True),
        (None, True),
        ("scheduled", True),
    ],
)
def test_on_kill_cancels_only_once_the_task_left_deferred(state: str | None, cancels: bool) -> None:
    cancelled: list[str] = []
    asyncio.run(_StateTrigger.make(state, cancelled).on_kill())
    assert cancelled == ([ARN] if cancels else [])


# The execution API's answer to GET /execution/task-instances/states for a run, as Airflow 3.0
# to 3.3 build it: a mapped task instance is keyed "<task_id>_<map_index>".
RUN_STATES = {"job": "deferred", "job_0": "deferred", "job_19": "deferred", "job_3": "failed", "job_4": None}


@pytest.mark.parametrize(
    ("map_index", "expected"),
    [(-1, "deferred"), (19, "deferred"), (3, "failed"), (4, None), (7, "unknown")],
)
def test_the_task_state_is_read_under_the_key_of_its_map_index(map_index: int, expected: str | None) -> None:
    from airflow_provider_braket.triggers.task_instance import state_of as _state_of

    # Map index 19 read as "job" found nothing, taken for cleared: its job was cancelled when its
    # trigger moved to another triggerer (seen in the production-shaped e2e suite).
    assert _state_of(RUN_STATES, "job", map_index) == expected


def loaded_after(statements: str, watched: set[str]) -> list[str]:
    """Which of ``watched`` (top-level packages or full module names) a fresh process has loaded
    after running ``statements``."""
    code = (
        f"import sys\n{statements}\n"
        "names = set(sys.modules) | {name.split('.')[0] for name in sys.modules}\n"
        f"print(sorted(names & set({sorted(watched)!r})))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(ast.literal_eval(run.stdout.strip()))


DAG_IMPORTS = (
    "import airflow_provider_braket.get_provider_info\n"
    "for m in ('hooks', 'operators', 'sensors', 'triggers', 'links'):\n"
    "    __import__(f'airflow_provider_braket.{m}.braket')"
)


def test_modules_a_dag_imports_stay_light() -> None:
    assert loaded_after(DAG_IMPORTS, {"braket", "aiobotocore", "moto", "fastapi", "uvicorn"}) == []


def test_provider_info_names_what_exists() -> None:
    from airflow_provider_braket.get_provider_info import get_provider_info

    info = get_provider_info()
    for kind in ("hooks", "operators", "sensors", "triggers"):
        for module in info[kind][0]["python-modules"]:
            importlib.import_module(module)
    for path in [*info["extra-links"], info["connection-types"][0]["hook-class-name"]]:
        module, _, name = path.rpartition(".")
        assert hasattr(importlib.import_module(module), name)
    assert set(info["config"]["braket"]["options"]) == {
        "waiter_delay",
        "default_bucket",
        "log_requests_per_second",
        "status_requests_per_second",
        "min_deferral_seconds",
        "ui_connections",
        "price_list",
        "billable_duration_unit",
    }


def test_the_ui_plugin_is_an_entry_point_and_loads_nothing_heavy() -> None:
    from importlib.metadata import entry_points

    (plugin,) = [point for point in entry_points(group="airflow.plugins") if point.name == "braket"]
    assert plugin.value == "airflow_provider_braket.ui.plugin:BraketJobsPlugin"
    # Every Airflow process loads plugins; FastAPI, the hook and matplotlib wait for a request.
    statements = (
        "import airflow_provider_braket.ui.plugin as p\n"
        "assert p.BraketJobsPlugin.fastapi_apps[0]['url_prefix'] == '/braket'"
    )
    assert loaded_after(statements, {"fastapi", "boto3", "matplotlib", "braket"}) == []


def test_operators_sensors_triggers_and_links_leave_the_aws_hook_to_run_time() -> None:
    # AwsBaseHook with boto3 costs a DAG file about half a second; a task loads it when it runs.
    statements = DAG_IMPORTS.replace("'hooks', ", "")
    watched = {"boto3", "airflow.providers.amazon.aws.hooks.base_aws", "airflow_provider_braket.hooks.braket"}
    assert loaded_after(statements, watched) == []


def test_resume_events_are_checked_before_a_task_acts_on_them() -> None:
    from airflow.providers.common.compat.sdk import AirflowException

    from airflow_provider_braket.triggers.events import read_resubmit_event, read_status_event

    good = {"status": "COMPLETED", "jobArn": "arn:aws:braket:us-east-1:123456789012:job/x"}
    assert read_status_event(good) == good
    assert (
        read_status_event({"status": "timeout", "jobArn": good["jobArn"], "reason": "x"})["status"]
        == "timeout"
    )
    for bad in (None, [], {"status": "COMPLETED"}, {"status": "DONE", "jobArn": "a"}, {"submit": {}}):
        with pytest.raises(AirflowException, match="not a hybrid job status event"):
            read_status_event(bad)
    assert read_resubmit_event({"submit": {"timestamp": "1"}}) == {"timestamp": "1"}
    with pytest.raises(AirflowException, match="not a resubmit event"):
        read_resubmit_event(good)


def test_lineage_names_s3_locations_by_openlineages_convention() -> None:
    from airflow_provider_braket.lineage import job_locations, run_facet_fields, s3_dataset_name

    assert s3_dataset_name("s3://bucket/jobs/a/data/") == ("s3://bucket", "jobs/a/data")
    assert s3_dataset_name("s3://bucket") == ("s3://bucket", "/")
    assert s3_dataset_name("s3://bucket/") == ("s3://bucket", "/")
    job = {
        "jobArn": "arn:aws:braket:us-east-1:123456789012:job/a",
        "inputDataConfig": [
            {"channelName": "points", "dataSource": {"s3DataSource": {"s3Uri": "s3://in/points/"}}},
            {"channelName": "dup", "dataSource": {"s3DataSource": {"s3Uri": "s3://in/points"}}},
        ],
        "algorithmSpecification": {"scriptModeConfig": {"s3Uri": "s3://b/jobs/a/script/source.tar.gz"}},
        "outputDataConfig": {"s3Path": "s3://b/jobs/a/data"},
        "checkpointConfig": {"s3Uri": "s3://b/jobs/a/checkpoints", "localPath": "/opt/jobs/checkpoints"},
        "hyperParameters": {"seed": "1", "db_password": "hunter2"},
        "instanceConfig": {"instanceType": "ml.m5.large", "instanceCount": 1, "volumeSizeInGb": 30},
        "deviceConfig": {"device": "arn:aws:braket:::device/quantum-simulator/amazon/sv1"},
    }
    inputs, outputs = job_locations(job)
    assert inputs == ["s3://in/points", "s3://b/jobs/a/script/source.tar.gz"]
    assert outputs == ["s3://b/jobs/a/data", "s3://b/jobs/a/checkpoints"]
    fields = run_facet_fields(job, {"metrics": {"energy": -1.85}, "cost": None})
    assert fields["hyperparameterNames"] == ["db_password", "seed"]
    assert "hunter2" not in repr(fields)
    assert fields["device"] == job["deviceConfig"]["device"]
    assert fields["metrics"] == {"energy": -1.85}


def test_a_sweeps_asset_event_lists_each_point_once_in_map_index_order() -> None:
    from airflow_provider_braket.lineage.assets import POINT_KEYS, job_event_extra, sweep_event_extra

    outcomes = [
        {"jobArn": f"arn:{n}", "status": status, "mapIndex": n, "results": {"big": "x"}, "metricSeries": {}}
        for n, status in ((2, "COMPLETED"), (0, "COMPLETED"), (1, "FAILED"))
    ]
    sweep = sweep_event_extra([*outcomes, None])["braketSweep"]
    assert [point["mapIndex"] for point in sweep["points"]] == [0, 1, 2]
    assert (sweep["count"], sweep["completed"]) == (3, 2)
    assert all(set(point) == set(POINT_KEYS) for point in sweep["points"])  # no results, no series
    assert set(job_event_extra(outcomes[0])["braket"]) == set(POINT_KEYS)


def test_asset_publishing_refuses_what_would_publish_the_wrong_thing() -> None:
    from airflow.sdk import Asset

    from airflow_provider_braket.operators.braket import CreateHybridJobOperator
    from airflow_provider_braket.operators.publish import PublishJobResultsOperator

    with pytest.raises(ValueError, match="outlets: a task with wait_for_completion=False"):
        CreateHybridJobOperator(
            task_id="t", device="local:braket/braket.local.qubit", source_module="x.py",
            wait_for_completion=False, outlets=[Asset(name="results")],
        )  # fmt: skip
    context: dict[str, Any] = {"outlet_events": {}}
    with pytest.raises(AirflowFailException, match="outlets must name at least one Asset"):
        PublishJobResultsOperator(task_id="p", results=[]).execute(context)  # type: ignore[arg-type]
    with pytest.raises(AirflowFailException, match="results: must be the XCom of a Braket job task"):
        PublishJobResultsOperator(task_id="p", results=["arn"], outlets=[Asset(name="r")]).execute(
            context  # type: ignore[arg-type]
        )


def test_a_supervisor_call_runs_to_its_end_when_its_trigger_is_cancelled_twice() -> None:
    """Airflow 3.0's triggerer may cancel a trigger again while it cleans up; a call cut between
    its request and its answer killed the trigger runner on 3.0.6 ("Response read out of order")."""
    from airflow_provider_braket.utils.shielding import run_to_the_end

    async def scenario() -> list[str]:
        answers: list[str] = []

        async def supervisor_call() -> str:
            await asyncio.sleep(0.2)
            answers.append("answer read")
            return "state"

        async def trigger() -> None:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                await run_to_the_end(supervisor_call())
                raise

        task = asyncio.ensure_future(trigger())
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.05)
        task.cancel()  # the second cancel, in the middle of the call
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.3)
        return answers

    assert asyncio.run(scenario()) == ["answer read"]


def test_every_braket_task_templates_its_connection_arguments() -> None:
    """Found: the template fields were listed by hand in each task, and ``verify`` (a CA bundle's
    path, often a Jinja variable) was templated in none."""
    from airflow_provider_braket.operators.braket import CancelHybridJobOperator, CreateHybridJobOperator
    from airflow_provider_braket.sensors.braket import HybridJobSensor

    for task in (CreateHybridJobOperator, CancelHybridJobOperator, HybridJobSensor):
        assert {"aws_conn_id", "region_name", "verify"} <= set(task.template_fields), task.__name__
        assert len(set(task.template_fields)) == len(task.template_fields), task.__name__


def test_connection_arguments_are_declared_once_and_accepted_by_partial_and_expand() -> None:
    """The connection arguments live on the bases; Airflow checks ``partial``/``expand`` arguments
    against each ``BaseOperator`` class's ``__init__`` in the MRO, so they must be accepted there."""
    import inspect
    from datetime import datetime

    from airflow.sdk import DAG

    from airflow_provider_braket.operators.base import BraketBaseOperator, BraketBaseSensor
    from airflow_provider_braket.operators.braket import CancelHybridJobOperator, CreateHybridJobOperator
    from airflow_provider_braket.sensors.braket import HybridJobSensor

    connection = {"aws_conn_id", "region_name", "verify", "botocore_config"}
    for task in (CreateHybridJobOperator, CancelHybridJobOperator, HybridJobSensor):
        assert not connection & set(inspect.signature(task.__init__).parameters), task.__name__
    for base in (BraketBaseOperator, BraketBaseSensor):
        assert connection <= set(inspect.signature(base.__init__).parameters)
    with DAG("connection_arguments", schedule=None, start_date=datetime(2026, 1, 1)):
        created = CreateHybridJobOperator(
            task_id="create",
            device="local:braket/braket.local.qubit",
            source_module="algo.py",
            aws_conn_id="braket_other",
            region_name="eu-north-1",
            verify="/etc/ca.pem",
        )
        CancelHybridJobOperator.partial(task_id="cancel", aws_conn_id="braket_other").expand(
            job_arn=["arn:aws:braket:us-east-1:123456789012:job/a"]
        )
        HybridJobSensor.partial(task_id="sense", verify=False).expand(job_arn=["arn"])
    assert created.connection_params().as_kwargs() == {
        "aws_conn_id": "braket_other",
        "region_name": "eu-north-1",
        "verify": "/etc/ca.pem",
        "botocore_config": None,
    }


def test_the_trigger_names_its_poll_interval_as_the_operators_do() -> None:
    """Found: one concept, three names (``waiter_delay``, ``poke_interval``, ``poll_interval``).
    The trigger takes ``waiter_delay`` now; a trigger serialised by an earlier version still
    deserialises from ``poll_interval``, with a deprecation warning."""
    from airflow.exceptions import AirflowProviderDeprecationWarning

    from airflow_provider_braket.triggers.braket import JobStatusTrigger

    assert JobStatusTrigger(job_arn="arn", job_name="n", waiter_delay=7).serialize()[1]["waiter_delay"] == 7
    with pytest.warns(AirflowProviderDeprecationWarning, match="use waiter_delay"):
        old = JobStatusTrigger(job_arn="arn", job_name="n", poll_interval=5)
    assert old.waiter_delay == 5
    assert "poll_interval" not in old.serialize()[1]


def test_the_configuration_page_lists_every_option_with_its_default() -> None:
    """docs/configuration.md says what ``airflow config list`` says: the same options, defaults."""
    from airflow_provider_braket.get_provider_info import get_provider_info

    options = get_provider_info()["config"]["braket"]["options"]
    page = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    rows = {
        cells[0].strip("` "): cells[1].strip("` ")
        for line in page.splitlines()
        if line.startswith("| `")
        for cells in [line.strip("|").split("|")]
    }
    assert set(rows) == set(options)
    for name, option in options.items():
        assert rows[name] == (option["default"] or "empty"), name
        assert option["description"], name
