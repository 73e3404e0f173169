"""Which Airflow this runs on, for the few behaviours that differ between 3.x releases."""

from __future__ import annotations

from airflow import __version__ as _airflow_version
from packaging.version import Version

AIRFLOW_VERSION = Version(Version(_airflow_version).base_version)
# 3.3 calls BaseTrigger.on_kill() when a user acts on a deferred task; earlier 3.x only cancel it.
AIRFLOW_V_3_3_PLUS = Version("3.3.0") <= AIRFLOW_VERSION
