"""Every connected client, and the fan-out of board changes to all of them.

A notification is encoded once and queued on each client's outbox, so a thousand
clients cost one serialisation, and a slow one only fills its own queue.
"""

from __future__ import annotations

import asyncio
import logging

from bosun_protocol.entities import Event, Run, Task
from bosun_protocol.messages import EventNotification, RunChanged, TaskChanged

from bosun.server.connection import Connection
from bosun.server.framing import encode_body, encode_frame

log = logging.getLogger(__name__)


def _notification(method: str, params: dict[str, object]) -> bytes:
    return encode_body({"jsonrpc": "2.0", "method": method, "params": params})


class Hub:
    """The set of live connections."""

    def __init__(self) -> None:
        self.connections: set[Connection] = set()
        self._stopping: set[asyncio.Task[None]] = set()

    def add(self, conn: Connection) -> None:
        self.connections.add(conn)
        log.info("client %d connected over %s from %s", conn.id, conn.transport, conn.peer)

    def discard(self, conn: Connection) -> None:
        """Forget a closed connection and stop its writer in the background."""
        if conn in self.connections:
            self.connections.discard(conn)
            log.info("client %d disconnected", conn.id)
        task = asyncio.create_task(conn.drain_and_stop(), name=f"close-{conn.id}")
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    def count(self) -> int:
        return len(self.connections)

    def on_board_event(self, event: Event, run: Run | None, task: Task | None) -> None:
        """Store listener: notify every initialized client, in seq order."""
        # Only clients that asked for `bosun/*` notifications at initialize (a plain
        # editor would get hundreds per small run it has no use for).
        targets = [
            c
            for c in self.connections
            if c.initialized and not c.closed.is_set() and wants_bosun_notifications(c)
        ]
        if not targets:
            return  # runs inside the board's writer: encode nothing nobody will read
        bodies: list[bytes] = []
        if run is not None:
            bodies.append(
                _notification("bosun/runChanged", _dump(RunChanged(seq=event.seq, run=run)))
            )
        if task is not None:
            bodies.append(
                _notification("bosun/taskChanged", _dump(TaskChanged(seq=event.seq, task=task)))
            )
        bodies.append(_notification("bosun/event", _dump(EventNotification(event=event))))
        framed = b"".join(encode_frame(b) for b in bodies)
        for conn in targets:
            if conn.framed:
                conn.send_raw(framed)
            else:
                for body in bodies:
                    conn.send_raw(body)

    async def close_all(self) -> None:
        """Disconnect everyone and wait for their writers to stop."""
        for conn in list(self.connections):
            conn.close()
        if self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)


def wants_bosun_notifications(conn: Connection) -> bool:
    """Whether the client asked for `bosun/*` notifications at `initialize`.

    Plain editors did not, and a small run sends hundreds. A client that draws prompts
    itself (`richPrompts`) is a rich client and gets them too."""
    options = conn.client_options
    return bool(options.get("bosunNotifications") or options.get("richPrompts"))


def _dump(model: RunChanged | TaskChanged | EventNotification) -> dict[str, object]:
    return model.model_dump(mode="json", by_alias=True)
