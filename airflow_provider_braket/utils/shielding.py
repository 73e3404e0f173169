"""Calls a trigger makes that a cancel must neither cut short nor strip of its message."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: Calls still running after the trigger that made them was cancelled (kept referenced until done).
_RUNNING_ON: set[asyncio.Future[Any]] = set()


async def run_to_the_end(call: Awaitable[T]) -> T:
    """Await ``call``; if the caller is cancelled meanwhile, ``call`` still runs to its end, and the
    caller gets the cancel as it was sent, message included.

    A call to the triggerer's supervisor (a task's state, an XCom) writes a request and then reads
    its answer. Airflow 3.0's triggerer cancels a trigger, and may cancel it again while it cleans
    up; a cancel landing between the write and the read leaves that answer unread, the next call
    of any trigger reads it as its own, and the whole trigger runner dies ("Response read out of
    order"), stopping every trigger it ran. Seen on 3.0.6 when a deferred task was marked failed.
    """
    return await asyncio.shield(in_background(call))


def in_background(call: Awaitable[T]) -> asyncio.Future[T]:
    """Run ``call`` as a future of its own, kept referenced until it is done (the event loop holds
    only weak references to its tasks)."""
    future = asyncio.ensure_future(call)
    _RUNNING_ON.add(future)
    future.add_done_callback(_RUNNING_ON.discard)
    return future


async def in_thread(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` in a worker thread, through asgiref (which Airflow's supervisor
    calls need), run to its end however the caller is cancelled.

    asgiref's ``sync_to_async`` answers a cancel with a bare ``CancelledError``. Airflow >= 3.3
    tells a user's action (task marked failed, cleared) from a triggerer stopping by the cancel's
    message, and calls the trigger's ``on_kill`` only for the first: a task marked failed while its
    trigger waited on a thread left its hybrid job running (seen in CI).
    """
    from asgiref.sync import sync_to_async

    return await run_to_the_end(sync_to_async(func)(*args, **kwargs))


async def set_within(event: asyncio.Event, timeout: float | None) -> bool:
    """Whether ``event`` is set within ``timeout`` seconds (None: no limit).

    Not ``asyncio.wait_for``: before Python 3.12 it returns the result, and drops the cancel, when
    the caller is cancelled in the same loop step as the event is set (python/cpython#86296). A
    trigger woken by its poller at the moment Airflow cancelled it ran on, and its on_kill never came.
    """
    waiting = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait([waiting], timeout=timeout)
    finally:
        waiting.cancel()
    return bool(done)
