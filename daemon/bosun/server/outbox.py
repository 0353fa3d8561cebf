"""A connection's outgoing queue: bounded, drained by its own task.

Writers never await a peer: a slow or vanished client fills its own outbox and is
disconnected when the outbox passes its byte limit, so it can never stall the daemon
or the other clients.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

SendBytes = Callable[[bytes], Awaitable[None]]


class Outbox:
    """Queue bytes for one peer; `on_overflow` runs once if the limit is passed."""

    def __init__(
        self,
        send: SendBytes,
        limit: int,
        on_overflow: Callable[[], None],
        stall_s: float = float("inf"),
    ) -> None:
        self._send = send
        self._limit = limit
        self._on_overflow = on_overflow
        self._stall_s = stall_s
        self._moved_at = 0.0  # loop time the queue last moved (a send, or it filled)
        self._items: deque[bytes] = deque()
        self._size = 0
        self._wake = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin draining."""
        self._task = asyncio.create_task(self._drain(), name="outbox")

    @property
    def pending_bytes(self) -> int:
        return self._size

    def put(self, data: bytes) -> None:
        """Queue `data`; never blocks."""
        if self._closed:
            return
        now = asyncio.get_running_loop().time()
        if self._size + len(data) > self._limit:
            log.warning(
                "client too slow: %d bytes queued, limit %d; disconnecting",
                self._size + len(data),
                self._limit,
            )
            self._closed = True
            self._on_overflow()
            return
        if not self._items:
            self._moved_at = now
        elif now - self._moved_at > self._stall_s:
            log.warning(
                "client reads nothing: %d bytes queued, none sent for %.0f s; disconnecting",
                self._size,
                now - self._moved_at,
            )
            self._closed = True
            self._on_overflow()
            return
        self._items.append(data)
        self._size += len(data)
        self._wake.set()

    async def _drain(self) -> None:
        try:
            while True:
                while self._items:
                    data = self._items.popleft()
                    self._size -= len(data)
                    await self._send(data)
                    self._moved_at = asyncio.get_running_loop().time()
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
        except (ConnectionError, OSError) as exc:
            log.info("peer gone while writing: %s", exc)
            self._closed = True
            self._on_overflow()
        except Exception:
            log.exception("outbox failed")
            self._closed = True
            self._on_overflow()

    async def close(self, flush: bool = True) -> None:
        """Stop; with `flush`, first send what is queued (bounded by the caller's timeout)."""
        self._closed = True
        self._wake.set()
        task = self._task
        if task is None:
            return
        if not flush:
            task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
