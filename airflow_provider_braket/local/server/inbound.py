"""Request bodies as they arrive: size-capped, hashed while read, spooled to disk when large.

A body is read only after its headers passed the signature pre-check, never beyond the
configured maximum, and its SHA-256 is computed on the way in so that the signature check
does not need the whole body in memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import IO, Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]

SPOOL_IN_MEMORY_BYTES = 1 << 20
REPLAY_CHUNK_BYTES = 1 << 20


class RequestTooLarge(Exception):
    """The body is (or says it is) larger than the service accepts.

    :param limit: the maximum, in bytes.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Your proposed upload exceeds the maximum allowed size of {limit} bytes "
            "(braket-local --max-request-mb); upload large files in parts (boto3 does above 8 MB)"
        )
        self.limit = limit


def declared_length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length":
            try:
                return max(0, int(value))
            except ValueError:
                return None
    return None


class ReceivedBody:
    """A request body read into a spooled temporary file, with its size and SHA-256."""

    def __init__(self) -> None:
        # Closed by close(), which the caller reaches through try/finally.
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
        self._hash = hashlib.sha256()
        self.size = 0

    def _append(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def read_all(self) -> bytes:
        self._file.seek(0)
        return self._file.read()

    def chunks(self) -> Iterator[bytes]:
        self._file.seek(0)
        while chunk := self._file.read(REPLAY_CHUNK_BYTES):
            yield chunk

    def close(self) -> None:
        self._file.close()


async def read_body(receive: Receive, limit: int) -> ReceivedBody:
    """Read the body, refusing it with RequestTooLarge as soon as it passes ``limit`` bytes."""
    body = ReceivedBody()
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            data = message.get("body", b"")
            if body.size + len(data) > limit:
                raise RequestTooLarge(limit)
            body._append(data)
            if not message.get("more_body"):
                break
    except BaseException:
        body.close()
        raise
    return body


def replay(body: ReceivedBody | bytes) -> Receive:
    """An ASGI ``receive`` that hands an already-read body to the next application, in chunks."""
    chunks = iter([body] if isinstance(body, bytes) else body.chunks())
    pending: bytes | None = next(chunks, b"")
    done = False

    async def receive() -> Message:
        nonlocal pending, done
        if done:
            await asyncio.Event().wait()  # like a real client that sends nothing more
        current = pending or b""
        pending = next(chunks, None)
        done = pending is None
        return {"type": "http.request", "body": current, "more_body": not done}

    return receive
