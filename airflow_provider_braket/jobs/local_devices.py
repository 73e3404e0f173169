"""The ``local:<provider>/<simulator>`` devices a job can name, checked before any AWS call.

AWS accepts any such string and hands it to the job in ``AMZN_BRAKET_DEVICE_ARN``; a typo then
fails inside the running (and billed) job. For the ``braket`` provider the names are known: the
simulators the Braket SDK registers (entry points ``braket.simulators``: ``braket_sv``,
``braket_dm``, ``braket_ahs``, ``default``) and the PennyLane-Braket plugin's local devices
(``braket.local.qubit``, ``braket.local.ahs``). Other providers (a PennyLane plugin, say) are the
job script's business and are not checked.
"""

from __future__ import annotations

import difflib
from functools import cache
from importlib.metadata import entry_points

from airflow_provider_braket.jobs.models import RequestValidationError

PENNYLANE_BRAKET_LOCAL_DEVICES = ("braket.local.qubit", "braket.local.ahs")
SDK_SIMULATORS = ("braket_sv", "braket_dm", "braket_ahs", "default")


@cache
def braket_local_simulators() -> frozenset[str]:
    registered = {entry.name for entry in entry_points(group="braket.simulators")}
    return frozenset({*SDK_SIMULATORS, *registered, *PENNYLANE_BRAKET_LOCAL_DEVICES})


def check_local_device(device: str) -> None:
    """Raise RequestValidationError, suggesting the closest name, for an unknown braket simulator."""
    if not device.startswith("local:"):
        return
    provider, _, name = device.removeprefix("local:").partition("/")
    if provider != "braket":
        return
    known = braket_local_simulators()
    if name in known:
        return
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"; did you mean 'local:braket/{close[0]}'?" if close else ""
    raise RequestValidationError(
        f"device: {device!r} names no Braket local simulator{hint} (known: {', '.join(sorted(known))})",
        [("device", "local:braket/<name> must name a Braket local simulator")],
    )
