"""OpenLineage for Braket hybrid jobs: which S3 data and source went in, which locations came out.

Used by ``get_openlineage_facets_on_complete`` / ``_on_failure`` of the operator and the sensor,
which apache-airflow-providers-openlineage calls when it is installed (the ``[openlineage]``
extra). Everything OpenLineage is imported inside the functions, so DAG parsing pays nothing.

Datasets follow OpenLineage's naming for S3: namespace ``s3://<bucket>``, name the object key or
prefix (``/`` for a whole bucket). Inputs: each input channel's S3 data and the uploaded source;
outputs: the job's output and checkpoint locations. A run facet ``braketHybridJob`` carries the
job's ARN, device, instance type, billable duration, final metrics and cost, and the names of its
hyperparameters, never their values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The run facet's key in an OpenLineage event.
RUN_FACET_KEY = "braketHybridJob"


def s3_dataset_name(uri: str) -> tuple[str, str]:
    """``(namespace, name)`` of an ``s3://`` URI by OpenLineage's S3 naming convention."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return f"s3://{bucket}", key.strip("/") or "/"


def job_locations(job: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The S3 URIs a job read (input channels, source) and wrote (output, checkpoints)."""
    inputs = [
        channel["dataSource"]["s3DataSource"]["s3Uri"]
        for channel in job.get("inputDataConfig") or []
        if channel.get("dataSource", {}).get("s3DataSource", {}).get("s3Uri")
    ]
    source = (job.get("algorithmSpecification") or {}).get("scriptModeConfig", {}).get("s3Uri")
    if source:
        inputs.append(source)
    outputs = [
        uri
        for uri in (
            (job.get("outputDataConfig") or {}).get("s3Path"),
            (job.get("checkpointConfig") or {}).get("s3Uri"),
        )
        if uri
    ]
    return _s3_only(inputs), _s3_only(outputs)


def run_facet_fields(job: Mapping[str, Any], outcome: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the ``braketHybridJob`` run facet says of a job (and of its XCom, once it completed)."""
    instance = job.get("instanceConfig") or {}
    fields: dict[str, Any] = {
        "jobArn": job["jobArn"],
        "jobName": job.get("jobName"),
        "status": job.get("status"),
        "device": (job.get("deviceConfig") or {}).get("device"),
        "instanceType": instance.get("instanceType"),
        "instanceCount": instance.get("instanceCount"),
        "billableDuration": job.get("billableDuration"),
        "hyperparameterNames": sorted(job.get("hyperParameters") or {}),
        "metrics": dict((outcome or {}).get("metrics") or {}),
        "cost": (outcome or {}).get("cost"),
        "failureReason": job.get("failureReason"),
    }
    return fields


def operator_lineage(job: Mapping[str, Any] | None, outcome: Mapping[str, Any] | None) -> Any:
    """The ``OperatorLineage`` of a task that ran or watched ``job`` (empty if it never had one)."""
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import Dataset

    if job is None:
        return OperatorLineage()
    from airflow_provider_braket.lineage.facets import BraketHybridJobRunFacet

    inputs, outputs = job_locations(job)
    return OperatorLineage(
        inputs=[Dataset(*s3_dataset_name(uri)) for uri in inputs],
        outputs=[Dataset(*s3_dataset_name(uri)) for uri in outputs],
        run_facets={RUN_FACET_KEY: BraketHybridJobRunFacet(**run_facet_fields(job, outcome))},
    )


def _s3_only(uris: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for uri in uris:
        if uri.startswith("s3://"):
            seen.setdefault(uri.rstrip("/"), None)
    return list(seen)
