"""The price list the local service serves to the SDK's ``Tracker``.

``braket.tracking`` prices tasks from AWS's bulk offer file, at the URL in
``BRAKET_PRICE_OFFERS_URL`` (default: AWS's public
``https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonBraket/current/index.csv``).
The service serves a price list at :data:`PRICE_LIST_PATH` and points its jobs'
``BRAKET_PRICE_OFFERS_URL`` there, so a job's Tracker prices its tasks without reaching the
internet: the snapshot the package ships (``airflow_provider_braket/pricing/SOURCES.md``), or, with
``--price-list FILE``, a copy of AWS's own offer file.
"""

from __future__ import annotations

from pathlib import Path

from airflow_provider_braket.pricing.price_list import BUNDLED_PRICE_LIST, PriceList, load_offer_file

PRICE_LIST_PATH = "/_local/pricing/AmazonBraket/index.csv"


def served_price_list(path: Path | None) -> bytes:
    """The bytes to serve, checked to be an offer file the SDK can read (``PriceListError``)."""
    file = path or BUNDLED_PRICE_LIST
    data = load_offer_file(file)
    PriceList.parse(data, str(file))
    return data
