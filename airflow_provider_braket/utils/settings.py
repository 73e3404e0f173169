"""The ``[braket]`` configuration section: each option's default, defined once.

``get_provider_info`` publishes these defaults to Airflow (``airflow config list``), and the code
reads the options through :func:`braket_float` and :func:`braket_str`, falling back to the same
values, so the two can never disagree. Kept free of Airflow imports at module level: DAG files
and ``get_provider_info`` import it.
"""

from __future__ import annotations

from typing import Any

# The defaults, as Airflow's config would hold them.
DEFAULTS: dict[str, Any] = {
    "waiter_delay": 30.0,
    "default_bucket": "",
    "log_requests_per_second": 5.0,
    # AWS allows GetJob and SearchJobs 5 calls a second each, per account and region (Amazon
    # Braket Developer Guide, "Amazon Braket quotas"); a triggerer's poller leaves the rest of the
    # account one of them.
    "status_requests_per_second": 4.0,
    # Airflow 3.2 and 3.3 can fail a deferred task whose trigger fires before the scheduler has
    # processed the exit of the worker that deferred it: the stale "success" of that exit is read as
    # the resumed try's (apache/airflow#66374, #72716). Resuming no sooner than this after deferring
    # keeps clear of that window; a hybrid job runs for minutes, so the wait costs nothing that matters.
    "min_deferral_seconds": 10.0,
    "ui_connections": "braket_default",
    # Empty: the snapshot the package ships (airflow_provider_braket/pricing/SOURCES.md).
    "price_list": "",
    # The unit of GetJob's billableDuration (docs/cost.md says why it is a setting).
    "billable_duration_unit": "seconds",
}


def default_text(name: str) -> str:
    """The default as ``get_provider_info`` states it (a string, as in airflow.cfg)."""
    value = DEFAULTS[name]
    return f"{value:g}" if isinstance(value, float) else str(value)


def braket_float(name: str) -> float:
    from airflow.providers.common.compat.sdk import conf

    return float(conf.getfloat("braket", name, fallback=DEFAULTS[name]))


def braket_str(name: str) -> str:
    from airflow.providers.common.compat.sdk import conf

    return str(conf.get("braket", name, fallback=DEFAULTS[name]))
