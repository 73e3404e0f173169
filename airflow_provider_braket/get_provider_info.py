"""What ``airflow providers ...`` lists for this package (entry point ``apache_airflow_provider``).

Only plain data: Airflow imports this in every process that lists providers.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_braket import __version__
from airflow_provider_braket.utils.settings import default_text

INTEGRATION = "Amazon Braket"
PACKAGE = "airflow_provider_braket"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-braket",
        "name": "Amazon Braket",
        "description": "Amazon Braket Hybrid Jobs as Airflow tasks, with a local Braket Hybrid Jobs service.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://aws.amazon.com/braket/",
                "tags": ["aws"],
            }
        ],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": [f"{PACKAGE}.hooks.braket"]}],
        "operators": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [f"{PACKAGE}.operators.braket", f"{PACKAGE}.operators.cancel"],
            }
        ],
        "sensors": [{"integration-name": INTEGRATION, "python-modules": [f"{PACKAGE}.sensors.braket"]}],
        "triggers": [{"integration-name": INTEGRATION, "python-modules": [f"{PACKAGE}.triggers.braket"]}],
        "extra-links": [
            f"{PACKAGE}.links.braket.BraketJobLink",
            f"{PACKAGE}.links.braket.BraketJobLogsLink",
        ],
        "connection-types": [
            {
                "hook-class-name": f"{PACKAGE}.hooks.braket.BraketHook",
                "hook-name": "Amazon Braket",
                "connection-type": "braket",
            }
        ],
        "config": {
            "braket": {
                "description": "Defaults of the Amazon Braket provider's operators and sensors.",
                "options": {
                    "waiter_delay": {
                        "description": "Seconds between two status checks of a hybrid job, when an "
                        "operator or sensor does not set its own.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "10",
                        "default": default_text("waiter_delay"),
                    },
                    "default_bucket": {
                        "description": "S3 bucket for job code, input data and outputs. Empty: "
                        "amazon-braket-<region>-<account>, created if missing (as the Braket SDK does).",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "my-braket-jobs",
                        "default": default_text("default_bucket"),
                    },
                    "log_requests_per_second": {
                        "description": "CloudWatch Logs calls per second that all deferred Braket tasks "
                        "of one triggerer process may make to forward their jobs' log lines. Status is "
                        "read for all of them by one shared poller and does not count against it.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "10",
                        "default": default_text("log_requests_per_second"),
                    },
                    "status_requests_per_second": {
                        "description": "Braket SearchJobs and GetJob calls per second that the shared "
                        "poller of one triggerer process makes at most, for all the deferred Braket "
                        "tasks it watches on one connection (AWS's quota: 5 a second each, per account "
                        "and region). With many thousands of jobs a round of pages then takes longer "
                        "than the poll interval, and rounds follow each other as this allows.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "2",
                        "default": default_text("status_requests_per_second"),
                    },
                    "min_deferral_seconds": {
                        "description": "Shortest time a deferred Braket task waits before it resumes. "
                        "Airflow 3.2-3.3 can fail a task that resumes within moments of deferring "
                        "(apache/airflow#72716); 0 turns the guard off.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "0",
                        "default": default_text("min_deferral_seconds"),
                    },
                    "ui_connections": {
                        "description": "Comma-separated AWS connections any signed-in user of the "
                        "Braket Jobs page may list jobs through (the page shows only jobs of DAGs the "
                        "user may read). Any other ?conn_id= needs permission to read that connection.",
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": "braket_default,braket_prod",
                        "default": default_text("ui_connections"),
                    },
                    "price_list": {
                        "description": "AWS's bulk price list for Amazon Braket (the offer file "
                        "AmazonBraket/current/index.csv) to compute job costs and enforce cost caps "
                        "with. Empty: the partial snapshot the package ships (see docs/cost.md).",
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": "/opt/airflow/braket-prices.csv",
                        "default": default_text("price_list"),
                    },
                    "billable_duration_unit": {
                        "description": "The unit of GetJob's billableDuration: seconds or "
                        "milliseconds. AWS's API reference does not state it (see docs/cost.md).",
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": "milliseconds",
                        "default": default_text("billable_duration_unit"),
                    },
                },
            }
        },
    }
