"""Awaiting work that a cancel event or a deadline may cut short, leaving nothing running."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Interrupted(Exception):
    """The work was stopped: `why` is "cancelled" (the event was set) or "timeout"."""

    def __init__(self, why: Literal["cancelled", "timeout"]) -> None:
        super().__init__(why)
        self.why = why


async def stop(job: asyncio.Future[Any]) -> None:
    """Cancel `job` and wait until it has cleaned up (a command's processes are gone)."""
    job.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        try:
            await job
        except Exception:
            log.exception("work failed while being stopped")


async def unless_cancelled(
    work: Awaitable[T], cancel: asyncio.Event, deadline: Callable[[], float] | None = None
) -> T:
    """`work`'s result, unless `cancel` is set or the deadline passes first (then Interrupted).

    `deadline()` is a `time.monotonic()` instant, asked again whenever it seems to have
    passed: it may move (time spent waiting for a human does not count) or be infinite.
    """
    job = asyncio.ensure_future(work)
    if cancel.is_set():
        await stop(job)
        raise Interrupted("cancelled")
    waiter = asyncio.ensure_future(cancel.wait())
    try:
        while True:
            left = None if deadline is None else deadline() - time.monotonic()
            if left is not None and left <= 0:
                break
            done, _ = await asyncio.wait(
                {job, waiter},
                timeout=None if left is None or math.isinf(left) else left,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if done:
                break
    except BaseException:
        await stop(job)  # our caller was cancelled: still leave nothing running
        raise
    finally:
        waiter.cancel()
    if job.done():
        return job.result()
    await stop(job)
    raise Interrupted("cancelled" if cancel.is_set() else "timeout")
