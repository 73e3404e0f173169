"""Amazon Braket prices, read from a file in the format of AWS's bulk price list (offer file).

The package ships a partial snapshot (``amazon-braket-prices.csv``, sources in ``SOURCES.md``
next to it); ``[braket] price_list`` names another file, typically AWS's own
``AmazonBraket/current/index.csv``. Prices are looked up by the same columns the Braket SDK's
``Tracker`` searches, so a quantum task costs here what the Tracker says it costs.

A price the file does not have is ``None``: callers report it as unpriced, never as zero.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

BUNDLED_PRICE_LIST = Path(__file__).with_name("amazon-braket-prices.csv")
#: AWS's offer file for Braket is a few hundred kB; anything far larger is not one.
MAX_PRICE_LIST_BYTES = 64 * 1024 * 1024
#: No Braket price comes near it; a larger one is a corrupt or hostile file.
MAX_PRICE_PER_UNIT = Decimal(1_000_000)
METADATA_ROWS = 5  # "The first five rows of the CSV are the metadata for the offer file"
REQUIRED_COLUMNS = frozenset({"Product Family", "Region Code", "PricePerUnit", "Currency", "Unit"})

QPU_TASK = "Quantum Task"
QPU_SHOT = "Quantum Task-Shot"
JOB_QPU_TASK = "Braket Managed Jobs QPU Task"
JOB_QPU_SHOT = "Braket Managed Jobs QPU Task Shot"
SIMULATOR_TASK = "Simulator Task"
JOB_SIMULATOR_TASK = "Braket Managed Jobs Simulator Task"
JOB_INSTANCE = "Braket Managed Jobs Instance"
USED_FAMILIES = frozenset(
    {QPU_TASK, QPU_SHOT, JOB_QPU_TASK, JOB_QPU_SHOT, SIMULATOR_TASK, JOB_SIMULATOR_TASK, JOB_INSTANCE}
)
#: ``Unit`` values of time-priced rows, as timedelta arguments (the Tracker passes them to timedelta).
_TIME_UNITS = {"second": "seconds", "minute": "minutes", "hour": "hours", "hrs": "hours", "min": "minutes"}


class PriceListError(ValueError):
    """The file is not an offer file this package (and the Braket SDK) can read."""


@dataclass(frozen=True)
class Rate:
    """One price: ``amount`` USD per ``unit`` (``Task``, ``Shot``, or a time unit)."""

    amount: Decimal
    unit: str

    def unit_seconds(self) -> Decimal:
        """The length of a time unit in seconds; ``ValueError`` for a per-task or per-shot rate."""
        name = self.unit.strip().lower()
        argument = _TIME_UNITS.get(name.rstrip("s"), name)
        try:
            length = timedelta(**{argument: 1})
        except TypeError:
            raise ValueError(f"unit {self.unit!r} is not a unit of time") from None
        return Decimal(str(length.total_seconds()))

    def for_duration(self, seconds: Decimal) -> Decimal:
        """The price of ``seconds`` at a time-priced rate (multiplied first, as the Tracker does)."""
        return self.amount * seconds / self.unit_seconds()

    def per_second(self) -> Decimal:
        return self.for_duration(Decimal(1))


@dataclass(frozen=True)
class PriceList:
    """The rows of an offer file that price Braket tasks and hybrid job instances.

    :param rows: The rows of the families in :data:`USED_FAMILIES`, as the file has them.
    :param published: The file's ``Publication Date``.
    :param source: Where it was read from.
    """

    rows: tuple[dict[str, str], ...]
    published: date
    source: str

    @classmethod
    def read(cls, path: Path) -> PriceList:
        """Read and check an offer file: its size, metadata rows, columns and prices."""
        return cls.parse(load_offer_file(path), str(path))

    @classmethod
    def parse(cls, data: bytes, source: str) -> PriceList:
        lines = io.StringIO(data.decode("utf-8-sig"))
        metadata = dict(_metadata_rows(lines, source))
        reader = csv.DictReader(lines)
        missing = sorted(REQUIRED_COLUMNS - set(reader.fieldnames or []))
        if missing:
            raise PriceListError(f"{source}: not an AWS offer file (the header lacks {missing})")
        rows = tuple(row for row in reader if row.get("Product Family") in USED_FAMILIES)
        for number, row in enumerate(rows, start=METADATA_ROWS + 2):
            _check_row(row, source, number)
        return cls(rows, _publication_date(metadata, source), source)

    def find(self, **columns: str) -> Rate | None:
        """The one USD rate whose columns equal ``columns`` (the Tracker's ``price_search``)."""
        matches = [row for row in self.rows if all(row.get(k) == v for k, v in columns.items())]
        if len(matches) != 1:
            return None
        return Rate(Decimal(matches[0]["PricePerUnit"]), matches[0]["Unit"])

    def qpu_rates(self, region: str, device_name: str, in_job: bool) -> tuple[Rate, Rate] | None:
        """Per-task and per-shot rates of a QPU, looked up as the SDK's Tracker does."""
        # The offer file spells the device column differently for the two families; so does the SDK.
        name_column = "Device Name" if in_job else "DeviceName"
        families = (JOB_QPU_TASK, JOB_QPU_SHOT) if in_job else (QPU_TASK, QPU_SHOT)
        task, shot = (
            self.find(**{"Region Code": region, name_column: device_name, "Product Family": family})
            for family in families
        )
        return (task, shot) if task and shot else None

    def simulator_rate(self, region: str, version: str, in_job: bool) -> Rate | None:
        family, operation = (
            (JOB_SIMULATOR_TASK, "Managed-Jobs") if in_job else (SIMULATOR_TASK, "CompleteTask")
        )
        return self.find(
            **{"Region Code": region, "Version": version, "Product Family": family, "operation": operation}
        )

    def instance_rate(self, region: str, instance_type: str) -> Rate | None:
        return self.find(
            **{"Region Code": region, "Instance Type": instance_type, "Product Family": JOB_INSTANCE}
        )


def load_offer_file(path: Path) -> bytes:
    """The file's bytes, if it is no larger than an offer file can be."""
    size = path.stat().st_size
    if size > MAX_PRICE_LIST_BYTES:
        raise PriceListError(f"{path}: {size} bytes is over the {MAX_PRICE_LIST_BYTES} bytes of a price list")
    return path.read_bytes()


@cache
def _read_cached(path: str, modified_ns: int, size: int) -> PriceList:
    return PriceList.read(Path(path))


def configured_price_list(path: str) -> PriceList:
    """The price list at ``path`` (``[braket] price_list``), or the bundled snapshot when empty; read
    once per change."""
    file = Path(path).expanduser() if path else BUNDLED_PRICE_LIST
    try:
        status = file.stat()
    except OSError as error:
        raise PriceListError(f"[braket] price_list: cannot read {file}: {error.strerror}") from None
    return _read_cached(str(file), status.st_mtime_ns, status.st_size)


def _metadata_rows(lines: io.StringIO, source: str) -> list[tuple[str, str]]:
    rows = list(csv.reader([lines.readline() for _ in range(METADATA_ROWS)]))
    if len(rows) != METADATA_ROWS or any(len(row) < 2 for row in rows):
        raise PriceListError(
            f"{source}: not an AWS offer file (it must start with {METADATA_ROWS} metadata rows)"
        )
    return [(row[0], row[1]) for row in rows]


def _publication_date(metadata: dict[str, str], source: str) -> date:
    text = metadata.get("Publication Date", "")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise PriceListError(f"{source}: 'Publication Date' {text[:40]!r} is not an ISO date") from None


def _check_row(row: dict[str, str], source: str, number: int) -> None:
    try:
        amount = Decimal(row["PricePerUnit"])
    except (InvalidOperation, TypeError):
        raise PriceListError(f"{source}, row {number}: PricePerUnit is not a number") from None
    if not amount.is_finite() or not 0 <= amount <= MAX_PRICE_PER_UNIT:
        raise PriceListError(
            f"{source}, row {number}: PricePerUnit must be a finite number from 0 to {MAX_PRICE_PER_UNIT}"
        )
    if row.get("Currency") != "USD":
        raise PriceListError(f"{source}, row {number}: Currency must be USD (prices here are in USD)")
