"""Runs when a QAOA sweep has published new results: picks the best point and reports on it.

Scheduled on the asset ``braket_qaoa_sweep_results`` (no timer): each run of
``braket_qaoa_sweep`` that completes publishes one event listing every point's job, device, final
metrics and cost, and that event alone starts this DAG.

best_point (from the event) -> report (reads the best job's results, writes a report to S3)
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from airflow.sdk import Asset, dag, task

SWEEP_RESULTS = Asset(name="braket_qaoa_sweep_results")
METRIC = "expected_cut"  # what qaoa_maxcut.py logs each iteration; larger is better


@dag(schedule=[SWEEP_RESULTS], start_date=datetime(2026, 1, 1), catchup=False, tags=["braket", "example"])
def braket_sweep_report():
    # --8<-- [start:consumer]
    @task
    def best_point(triggering_asset_events: Any = None) -> dict[str, Any]:
        """The completed point with the largest final expected cut, from the newest event."""
        event = triggering_asset_events[SWEEP_RESULTS][-1]
        sweep = event.extra["braketSweep"]
        scored = [p for p in sweep["points"] if p["status"] == "COMPLETED" and METRIC in p["metrics"]]
        best = max(scored, key=lambda point: point["metrics"][METRIC])
        print(f"{sweep['count']} points from run {event.source_run_id}; best: {best['jobArn']}")
        return {**best, "sweepRunId": event.source_run_id, "points": sweep["count"]}

    # --8<-- [end:consumer]

    @task
    def report(best: dict[str, Any]) -> dict[str, Any]:
        """Read the best job's results, compare its cut with the true maximum, store the report."""
        from airflow_provider_braket.hooks.braket import BraketHook

        hook = BraketHook()
        job = hook.get_job(best["jobArn"])
        results = hook.get_results(job)
        edges = json.loads(job["hyperParameters"]["graph"])
        nodes = 1 + max(max(edge) for edge in edges)
        max_cut = max(
            sum(1 for u, v in edges if (mask >> u) & 1 != (mask >> v) & 1) for mask in range(2**nodes)
        )
        summary = {
            "jobArn": best["jobArn"],
            "sweepRunId": best["sweepRunId"],
            "points": best["points"],
            "p": results["p"],
            "seed": results["seed"],
            "expected_cut": results["expected_cut"],
            "approximation_ratio": results["expected_cut"] / max_cut,
            "best_bitstring": results["best_bitstring"],
            "best_cut": results["best_cut"],
            "max_cut": max_cut,
            "cost": best["cost"],
        }
        bucket, _, prefix = best["outputS3Path"].removeprefix("s3://").partition("/")
        key = f"{prefix}/output/sweep-report.json"
        hook.s3_client.put_object(Bucket=bucket, Key=key, Body=json.dumps(summary).encode())
        summary["reportUri"] = f"s3://{bucket}/{key}"
        return summary

    report(best_point())


braket_sweep_report()
