"""The devices the local service knows, and what CreateJob says about each.

Built in: the three managed simulators, ONLINE. ``devices.json`` in the data dir adds devices or
overrides their status, e.g. to mark SV1 OFFLINE or a QPU RETIRED for a test::

    {"arn:aws:braket:::device/quantum-simulator/amazon/sv1": {"deviceStatus": "OFFLINE"},
     "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1": {"deviceStatus": "ONLINE"}}

A QPU ARN that is not in the table is OFFLINE: local mode has no QPUs.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from airflow_provider_braket.local.errors import (
    DeviceOfflineException,
    DeviceRetiredException,
    ResourceNotFoundException,
    ValidationException,
)

SIMULATORS: dict[str, dict[str, str]] = {
    f"arn:aws:braket:::device/quantum-simulator/amazon/{name}": {
        "deviceName": name.upper(),
        "providerName": "Amazon Braket",
        "deviceType": "SIMULATOR",
        "deviceStatus": "ONLINE",
    }
    for name in ("sv1", "dm1", "tn1")
}
_QPU_ARN = re.compile(r"^arn:aws[a-z\-]*:braket:[a-z0-9\-]*::device/qpu/(?P<provider>[^/]+)/(?P<name>[^/]+)$")
_LOCAL_DEVICE = re.compile(r"^local:[^/\s]+/[^/\s]+$")
NO_QPU_MESSAGE = "the local Braket service has no QPUs; add the device to devices.json to simulate it"
_STATUSES = ("ONLINE", "OFFLINE", "RETIRED")


class DeviceTable:
    """Devices and their status, re-read from ``devices.json`` whenever the file changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._devices: dict[str, dict[str, str]] = dict(SIMULATORS)

    def all(self) -> dict[str, dict[str, str]]:
        with self._lock:
            self._reload_if_changed()
            return dict(self._devices)

    def describe(self, device_arn: str) -> dict[str, Any]:
        """The GetDevice response; ResourceNotFoundException for what is no device at all."""
        known = self.all().get(device_arn) or _unlisted_qpu(device_arn)
        if known is None:
            raise ResourceNotFoundException(f"Device {device_arn} not found")
        return {"deviceArn": device_arn, **known, "deviceCapabilities": json.dumps(_capabilities(known))}

    def check_runnable(self, device: str) -> None:
        """Raise what AWS raises on CreateJob for a device that cannot take the job."""
        if _LOCAL_DEVICE.match(device):
            return
        known = self.all().get(device)
        if known is None:
            if _QPU_ARN.match(device):
                raise DeviceOfflineException(f"Device {device} is offline: {NO_QPU_MESSAGE}")
            raise ValidationException(
                f"deviceConfig.device: {device!r} is neither a known device ARN nor local:<provider>/<name>"
            )
        status = known["deviceStatus"]
        if status == "RETIRED":
            raise DeviceRetiredException(f"Device {device} is retired")
        if status == "OFFLINE":
            raise DeviceOfflineException(f"Device {device} is offline")

    def _reload_if_changed(self) -> None:
        try:
            mtime = self._path.stat().st_mtime
        except FileNotFoundError:
            self._mtime, self._devices = None, dict(SIMULATORS)
            return
        if mtime == self._mtime:
            return
        self._devices = _merge(SIMULATORS, json.loads(self._path.read_text()), self._path)
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
    return {
        "deviceName": match["name"],
        "providerName": match["provider"],
        "deviceType": "QPU",
        "deviceStatus": "OFFLINE",
    }


def _generic(device_arn: str) -> dict[str, str]:
    return {
        "deviceName": device_arn.rsplit("/", 1)[-1],
        "providerName": "Local",
        "deviceType": "SIMULATOR",
        "deviceStatus": "ONLINE",
    }


def _capabilities(device: dict[str, str]) -> dict[str, Any]:
    # Enough of the capabilities document for clients that read the service block; local mode
    # runs no quantum tasks on these devices, so no action block is promised.
    return {
        "braketSchemaHeader": {"name": "braket.device_schema.device_capabilities", "version": "1"},
        "service": {
            "executionWindows": [
                {"executionDay": "Everyday", "windowStartHour": "00:00", "windowEndHour": "23:59:59"}
            ],
            "shotsRange": [0, 100000],
        },
        "action": {},
        "deviceParameters": {},
        "localService": {"note": "described by the local Braket service", "deviceType": device["deviceType"]},
    }
