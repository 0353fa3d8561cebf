"""Per-client admission: a client that floods waits for its own answers, not others.

Requests are served concurrently, and every handler that reads the board queues on the
board's one reader connection. Without a cap, a client that writes 5,000 requests
without reading one had 5,000 handler tasks queued ahead of everyone else's next read:
another client's `bosun/status` waited seconds (issue 20 item 10). So each connection
has at most `server.max_requests_in_flight` requests being handled; its next message is
not read from the socket until one of them is answered, and the kernel's socket buffer
pushes back on the flooding client alone. Its unread answers fill only its own outbox,
which is cut off past `server.client_queue_bytes` (outbox.py).
"""

from __future__ import annotations

import asyncio
from typing import Any


class InFlight:
    """Counts one connection's requests being handled; `room()` waits under the cap."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self._room = asyncio.Event()
        self._room.set()

    def started(self, future: Any) -> None:
        """A request is being handled; `future` (pygls's) completes when it is answered."""
        self.count += 1
        if self.count >= self.limit:
            self._room.clear()
        future.add_done_callback(self._finished)

    def _finished(self, _future: Any) -> None:
        self.count -= 1
        if self.count < self.limit:
            self._room.set()

    async def room(self) -> None:
        """Return once another request may be taken (at once under the cap)."""
        while self.count >= self.limit:
            self._room.clear()
            await self._room.wait()
