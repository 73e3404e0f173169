"""The devices the local service knows, and what CreateJob and CreateQuantumTask say about each.

Built in: the managed simulators, described by :mod:`~airflow_provider_braket.local.devices.simulators`; the
QPUs emulated from sourced capabilities snapshots (:mod:`~airflow_provider_braket.local.devices.qpus`); and
the QPUs AWS retired, RETIRED (:mod:`~airflow_provider_braket.local.devices.retired`). ``devices.json`` in the
data dir overrides a device's status, e.g. to mark SV1 OFFLINE or a QPU RETIRED for a test::

    {"arn:aws:braket:::device/quantum-simulator/amazon/sv1": {"deviceStatus": "OFFLINE"},
     "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet": {"deviceStatus": "RETIRED"}}

Any other QPU ARN (no sourced snapshot): GetDevice answers ResourceNotFoundException saying so,
CreateJob and CreateQuantumTask DeviceOfflineException (or DeviceRetiredException when
devices.json says RETIRED).
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from airflow_provider_braket.local.devices.qpus import QPUS
from airflow_provider_braket.local.devices.retired import RETIRED_QPUS
from airflow_provider_braket.local.devices.simulators import SIMULATORS as MANAGED_SIMULATORS
from airflow_provider_braket.local.exceptions import (
    DeviceOfflineException,
    DeviceRetiredException,
    ResourceNotFoundException,
    ValidationException,
)


def _entry(name: str, provider: str, device_type: str, status: str) -> dict[str, str]:
    """A device as GetDevice and SearchDevices describe it, but for its capabilities."""
    return {"deviceName": name, "providerName": provider, "deviceType": device_type, "deviceStatus": status}


SIMULATORS = {
    arn: _entry(sim.name, "Amazon Braket", "SIMULATOR", sim.status) for arn, sim in MANAGED_SIMULATORS.items()
}
EMULATED = {arn: _entry(qpu.name, qpu.provider, "QPU", qpu.status) for arn, qpu in QPUS.items()}
RETIRED = {arn: _entry(qpu.name, qpu.provider, "QPU", "RETIRED") for arn, qpu in RETIRED_QPUS.items()}
BUILT_IN = {**RETIRED, **SIMULATORS, **EMULATED}
_QPU_ARN = re.compile(
    r"^arn:aws[a-z\-]*:braket:[a-z0-9\-]*::device/qpu/(?P<provider>[^/]+)/(?P<name>[^/]+)\Z"
)
_LOCAL_DEVICE = re.compile(r"^local:[^/\s]+/[^/\s]+\Z")
NO_QPU_MESSAGE = (
    "the local Braket service does not emulate this QPU: no capabilities snapshot with a public "
    "source is available for it (it emulates "
    + ", ".join(sorted(arn for arn, qpu in QPUS.items() if qpu.status == "ONLINE"))
    + "; see docs/local-service.md)"
)
_STATUSES = ("ONLINE", "OFFLINE", "RETIRED")
#: ``arn:aws:braket:<region>:<account>:reservation/<id>``, as CreateReservation answers (Braket Direct).
_RESERVATION_ARN = re.compile(
    r"^arn:aws[a-z\-]*:braket:(?P<region>[a-z0-9\-]+):(?P<account>[0-9]{12}):reservation/[A-Za-z0-9\-]+\Z"
)


#: The regions Amazon Braket serves, where the managed simulators answer: "Amazon Braket endpoints
#: and quotas", https://docs.aws.amazon.com/general/latest/gr/braket.html (read 2026-12-04).
BRAKET_REGIONS = frozenset({"us-east-1", "us-west-1", "us-west-2", "eu-west-2", "eu-north-1"})


def serves_in(device_arn: str, region: str | None, home_region: str | None = None) -> bool:
    """Whether a client in ``region`` sees the device: a QPU only in the region its ARN names.

    The SDK relies on it: ``AwsDevice`` switches its session to a QPU's region, and
    ``AwsDevice.get_devices`` asks each region and keeps what each answers. The managed
    simulators (no region in their ARNs) answer in every Braket region, and in the service's
    own ``--region`` whatever it is.
    """
    if region is None:
        return True
    if _QPU_ARN.match(device_arn):
        return _arn_region(device_arn) in ("", region)
    if device_arn in MANAGED_SIMULATORS:
        return region in BRAKET_REGIONS or region == home_region
    return True


def _not_in_region(device_arn: str, region: str | None) -> str:
    if _QPU_ARN.match(device_arn):
        home = _arn_region(device_arn)
        return f"Device {device_arn} not found in {region}: a QPU answers in its own region, {home}"
    return (
        f"Device {device_arn} not found in {region}: Amazon Braket serves {', '.join(sorted(BRAKET_REGIONS))}"
    )


def _arn_region(device_arn: str) -> str:
    return device_arn.split(":")[3]


def check_reservation(
    associations: list[dict[str, str]] | None, device: str, account_id: str, field: str
) -> None:
    """A Braket Direct reservation ARN: well formed, this account's, in the device's region, on a QPU.

    The local service makes no reservations: a well-formed one of this account on a QPU it emulates
    is taken, and the task or job runs as without it (docs/local-service.md).
    """
    for association in associations or []:
        arn = association["arn"]
        match = _RESERVATION_ARN.match(arn)
        if match is None:
            raise ValidationException(
                f"{field}: {arn!r} is not a reservation ARN "
                "(arn:aws:braket:<region>:<account>:reservation/<id>)"
            )
        if not _QPU_ARN.match(device):
            raise ValidationException(f"Braket Direct is not supported for {device}")
        device_region = device.split(":")[3]
        if match["account"] != account_id or (device_region and match["region"] != device_region):
            raise ValidationException(
                f"{field}: reservation {arn} is not one of account {account_id} for {device}"
            )


class DeviceTable:
    """Devices and their status, re-read from ``devices.json`` whenever the file changes."""

    def __init__(self, path: Path, home_region: str | None = None) -> None:
        self._path = path
        self._home_region = home_region
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._devices: dict[str, dict[str, str]] = dict(BUILT_IN)

    def all(self) -> dict[str, dict[str, str]]:
        with self._lock:
            self._reload_if_changed()
            return dict(self._devices)

    def describe(self, device_arn: str, region: str | None = None) -> dict[str, Any]:
        """The GetDevice response (without ``deviceQueueInfo``, which the task queue knows).

        :param region: the caller's region: a QPU answers only in its own, as on AWS.
        """
        capabilities = self._capabilities_json(device_arn, region)
        return {"deviceArn": device_arn, **self.all()[device_arn], "deviceCapabilities": capabilities}

    def _capabilities_json(self, device_arn: str, region: str | None) -> str:
        if not serves_in(device_arn, region, self._home_region):
            raise ResourceNotFoundException(_not_in_region(device_arn, region))
        if device_arn in MANAGED_SIMULATORS:
            return json.dumps(MANAGED_SIMULATORS[device_arn].capabilities())
        if device_arn in QPUS:
            return json.dumps(QPUS[device_arn].capabilities())
        if device_arn in RETIRED_QPUS:
            return RETIRED_QPUS[device_arn].capabilities_json
        if _QPU_ARN.match(device_arn):
            raise ResourceNotFoundException(f"Device {device_arn}: {NO_QPU_MESSAGE}")
        raise ResourceNotFoundException(f"Device {device_arn} not found")

    def describable(self, region: str | None = None) -> dict[str, dict[str, str]]:
        """The devices SearchDevices lists in ``region``: those GetDevice can describe there."""
        return {
            arn: settings
            for arn, settings in self.all().items()
            if arn in BUILT_IN and serves_in(arn, region, self._home_region)
        }

    def check_runnable(self, device: str, for_task: bool = False, region: str | None = None) -> None:
        """Raise what AWS raises on CreateJob (or CreateQuantumTask) for a device that cannot take it."""
        if for_task and not serves_in(device, region, self._home_region):
            raise ResourceNotFoundException(_not_in_region(device, region))
        if _LOCAL_DEVICE.match(device):
            if for_task:
                raise ValidationException(
                    f"deviceArn: {device!r} is a simulator inside the SDK (LocalSimulator); "
                    "quantum tasks go to a device ARN"
                )
            return
        known = self.all().get(device)
        if known is None or (for_task and device not in BUILT_IN):
            if _QPU_ARN.match(device):
                raise DeviceOfflineException(f"Device {device} is offline: {NO_QPU_MESSAGE}")
            field = "deviceArn" if for_task else "deviceConfig.device"
            raise ValidationException(
                f"{field}: {device!r} is neither a known device ARN nor local:<provider>/<name>"
            )
        status = known["deviceStatus"]
        # A retired QPU has nothing to run on here, whatever devices.json says.
        if status == "RETIRED" or device in RETIRED_QPUS:
            raise DeviceRetiredException(f"Device {device} is retired")
        if status == "OFFLINE":
            raise DeviceOfflineException(f"Device {device} is offline")

    def _reload_if_changed(self) -> None:
        try:
            mtime = self._path.stat().st_mtime
        except FileNotFoundError:
            self._mtime, self._devices = None, dict(BUILT_IN)
            return
        if mtime == self._mtime:
            return
        self._devices = _merge(BUILT_IN, json.loads(self._path.read_text()), self._path)
        self._mtime = mtime


def _merge(base: dict[str, dict[str, str]], table: Any, path: Path) -> dict[str, dict[str, str]]:
    if not isinstance(table, dict):
        raise ValueError(f"{path}: expected an object of device ARN -> settings")
    merged = {arn: dict(settings) for arn, settings in base.items()}
    for arn, settings in table.items():
        status = settings.get("deviceStatus", "ONLINE")
        if status not in _STATUSES:
            raise ValueError(f"{path}: {arn}.deviceStatus must be one of {_STATUSES}, got {status!r}")
        entry = merged.setdefault(arn, _unlisted_qpu(arn) or _generic(arn))
        entry.update({key: str(value) for key, value in settings.items()})
    return merged


def _unlisted_qpu(device_arn: str) -> dict[str, str] | None:
    match = _QPU_ARN.match(device_arn)
    if not match:
        return None
    return _entry(match["name"], match["provider"], "QPU", "OFFLINE")


def _generic(device_arn: str) -> dict[str, str]:
    return _entry(device_arn.rsplit("/", 1)[-1], "Local", "SIMULATOR", "ONLINE")
