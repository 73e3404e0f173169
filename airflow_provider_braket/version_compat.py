"""Which Airflow this runs on, for the few behaviours that differ between 3.x releases."""

from __future__ import annotations

from airflow import __version__ as _airflow_version
from packaging.version import Version

AIRFLOW_VERSION = Version(Version(_airflow_version).base_version)
# 3.1 loads plugins' React apps into its UI (react_apps); 3.0 has no plugin views.
AIRFLOW_V_3_1_PLUS = Version("3.1.0") <= AIRFLOW_VERSION
# 3.3 calls BaseTrigger.on_kill() when a user acts on a deferred task; earlier 3.x only cancel it.
AIRFLOW_V_3_3_PLUS = Version("3.3.0") <= AIRFLOW_VERSION

# What the scheduler hands a deferred task whose trigger timeout (or execution_timeout) passed:
# it resumes it with next_method "__fail__" and this error, never calling on_kill.
TRIGGER_FAIL = "__fail__"
TRIGGER_TIMEOUT = "Trigger timeout"

try:
    from airflow.sdk.exceptions import TaskDeferralTimeout
except ImportError:  # Airflow < 3.1 kept it in airflow.exceptions
    from airflow.exceptions import TaskDeferralTimeout  # type: ignore[no-redef]


__all__ = [
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "TRIGGER_FAIL",
    "TRIGGER_TIMEOUT",
    "TaskDeferralTimeout",
]
