"""A Braket price list for the SDK's ``Tracker``, served by the local service.

``braket.tracking`` prices tasks from AWS's bulk offer file, at the URL in
``BRAKET_PRICE_OFFERS_URL`` (default: AWS's public
``https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonBraket/current/index.csv``).
With ``--price-list FILE`` the service serves that file, a copy of AWS's offer file saved by the
user, at :data:`PRICE_LIST_PATH`, and points its jobs' ``BRAKET_PRICE_OFFERS_URL`` there, so a
job's Tracker prices its tasks exactly as on AWS without reaching the internet. Without it a job
inherits the user's environment, and its Tracker fetches AWS's file itself.

No prices ship with the project: every price the Tracker uses comes from AWS's own file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

PRICE_LIST_PATH = "/_local/pricing/AmazonBraket/index.csv"
#: AWS's offer file for Braket is a few hundred kB; anything far larger is not one.
MAX_PRICE_LIST_BYTES = 64 * 1024 * 1024
_METADATA_ROWS = 5  # "The first five rows of the CSV are the metadata for the offer file"
_REQUIRED_COLUMNS = {"Product Family", "Region Code", "PricePerUnit", "Currency", "Unit"}


class PriceListError(ValueError):
    """The file is not an AWS offer file the SDK can read."""


def load_price_list(path: Path) -> bytes:
    """Read and check an offer file: size, the 5 metadata rows, and the columns the SDK reads."""
    size = path.stat().st_size
    if size > MAX_PRICE_LIST_BYTES:
        raise PriceListError(f"{path}: {size} bytes is over the {MAX_PRICE_LIST_BYTES} bytes of a price list")
    data = path.read_bytes()
    lines = io.StringIO(data.decode("utf-8"))
    for _ in range(_METADATA_ROWS):
        lines.readline()
    header = next(csv.reader(lines), [])
    missing = sorted(_REQUIRED_COLUMNS - set(header))
    if missing:
        raise PriceListError(
            f"{path}: not an AWS offer file "
            f"(after {_METADATA_ROWS} metadata rows, the header lacks {missing})"
        )
    return data
