"""Apache Airflow provider for Amazon Braket Hybrid Jobs, and a local Braket service.

The package's map is docs/architecture.md.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("airflow-provider-braket")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0"
