"""How the Braket operations read their records: by client token, by ARN, or a page of a search."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from airflow_provider_braket.local.exceptions import (
    BraketError,
    ResourceNotFoundException,
    ValidationException,
)
from airflow_provider_braket.local.storage.records import RecordStore, SearchFilter

_R = TypeVar("_R")


class SearchQuery(Protocol):
    """A validated SearchJobs or SearchQuantumTasks request."""

    @property
    def filters(self) -> Sequence[SearchFilter]: ...

    @property
    def maxResults(self) -> int | None: ...

    @property
    def nextToken(self) -> str | None: ...


class Retriable(Protocol):
    """A record made by a request that carried a client token."""

    @property
    def request_hash(self) -> str: ...


_T = TypeVar("_T", bound=Retriable)


def earlier_record(
    store: RecordStore[_T], token: str, fingerprint: str, refuse: Callable[[_T], BraketError]
) -> _T | None:
    """What an earlier request with the same client token made, if anything: a retry of the same
    request gets it back (nothing is made twice); a different request raises ``refuse(record)``."""
    existing = store.get_by_token(token)
    if existing is not None and existing.request_hash != fingerprint:
        raise refuse(existing)
    return existing


def find_record(store: RecordStore[_R], arn: str, pattern: str, malformed: str, missing: str) -> _R:
    """The record of ``arn``: ValidationException ``malformed`` if it is no ARN of its kind,
    ResourceNotFoundException ``missing`` if there is none."""
    if not re.match(pattern, arn):
        raise ValidationException(malformed)
    record = store.get(arn)
    if record is None:
        raise ResourceNotFoundException(missing)
    return record


def search_page(store: RecordStore[Any], query: SearchQuery, list_key: str, page_size: int) -> dict[str, Any]:
    """A Search* answer: ``{list_key: [summaries], "nextToken"?}``, newest first."""
    try:
        records, token = store.search(query.filters, query.maxResults or page_size, query.nextToken)
    except ValueError as error:
        raise ValidationException(f"nextToken: {error}") from None
    answer: dict[str, Any] = {list_key: [record.summary() for record in records]}
    if token:
        answer["nextToken"] = token
    return answer
