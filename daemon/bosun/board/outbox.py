"""The webhook outbox on the board: deliveries owed, their retries, and the event cursor.

A Store mixin (kept apart so each module stays one concern). Rows are written through
the board's one writer like everything else, emit no events (an outbox write must not
be a board event that could itself call for a webhook), and are read with the reader.
`state` is `pending` until a receiver answered 2xx (`delivered`) or the tries are spent
(`failed`); a row is settled in its own committed write before the next is sent.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from bosun_protocol.entities import Event

from bosun.board.codec import SELECT_EVENT, many
from bosun.board.dialect import Conn
from bosun.board.writer import Writer, WriteTx
from bosun.failpoints import flagged

T = TypeVar("T")

_CURSOR = "events"


@dataclass(frozen=True)
class OutboxItem:
    """A delivery to owe: which hook, which event, its key and its JSON payload."""

    hook: str
    event: str
    key: str
    payload: dict[str, Any]
    source_seq: int


@dataclass(frozen=True)
class OutboxRow:
    """A delivery as the outbox holds it."""

    id: int
    hook: str
    event: str
    key: str
    payload: str
    state: str
    attempts: int
    next_at: float
    last_error: str | None
    delivered_at: str | None


_SELECT = (
    "SELECT id, hook, event, idempotency_key, payload, state, attempts, next_at, last_error, "
    "delivered_at FROM webhook_outbox"
)


def _rows(conn: Conn, sql: str, params: Sequence[Any] = ()) -> list[OutboxRow]:
    return [OutboxRow(*row) for row in conn.execute(sql, tuple(params)).fetchall()]


def _enqueue(tx: WriteTx, items: Sequence[OutboxItem], cursor: int, now: float) -> int:
    if flagged("OUTBOX_WRITE"):  # the injected fault: this write fails as SQLite's would
        raise sqlite3.OperationalError("the OUTBOX_WRITE fault: this outbox write fails")
    added = 0
    for item in items:
        cur = tx.conn.execute(
            "INSERT OR IGNORE INTO webhook_outbox (hook, event, idempotency_key, payload, "
            "source_seq, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (item.hook, item.event, item.key, json.dumps(item.payload), item.source_seq, now,
             tx.stamp),
        )  # fmt: skip
        added += cur.rowcount
    tx.conn.execute(
        "INSERT INTO webhook_cursor (name, seq) VALUES (?, ?) ON CONFLICT(name) DO UPDATE "
        "SET seq = max(seq, excluded.seq)",
        (_CURSOR, cursor),
    )
    return added


def _cursor(tx: WriteTx, start: int) -> int:
    tx.conn.execute(
        "INSERT OR IGNORE INTO webhook_cursor (name, seq) VALUES (?, ?)", (_CURSOR, start)
    )
    row = tx.conn.execute("SELECT seq FROM webhook_cursor WHERE name = ?", (_CURSOR,)).fetchone()
    return int(row[0])


def _settle(
    tx: WriteTx, row_id: int, state: str, attempts: int, next_at: float, error: str | None
) -> None:
    delivered = tx.stamp if state == "delivered" else None
    tx.conn.execute(
        "UPDATE webhook_outbox SET state = ?, attempts = ?, next_at = ?, last_error = ?, "
        "delivered_at = ? WHERE id = ?",
        (state, attempts, next_at, error, delivered, row_id),
    )


class OutboxMixin:
    """The outbox's reads and writes; needs Store's writer and reader."""

    _writer: Writer

    async def _read(self, fn: Callable[[Conn], T]) -> T:
        raise NotImplementedError  # provided by Store

    async def outbox_cursor(self, start: int) -> int:
        """The last event seq the outbox looked at (set to `start` the first time)."""
        return await self._writer.submit(partial(_cursor, start=start))

    async def outbox_enqueue(self, items: Sequence[OutboxItem], cursor: int, now: float) -> int:
        """Owe these deliveries (a key already owed is kept) and move the cursor; how many new."""
        return await self._writer.submit(partial(_enqueue, items=items, cursor=cursor, now=now))

    async def outbox_settle(
        self, row_id: int, *, state: str, attempts: int, next_at: float, error: str | None
    ) -> None:
        """Record a try's result: delivered, failed for good, or pending until `next_at`."""
        await self._writer.submit(
            partial(_settle, row_id=row_id, state=state, attempts=attempts, next_at=next_at,
                    error=error)
        )  # fmt: skip

    async def outbox_due(self, now: float, limit: int = 50) -> list[OutboxRow]:
        """Pending deliveries whose time has come, oldest first."""
        sql = _SELECT + " WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?"
        return await self._read(partial(_rows, sql=sql, params=(now, limit)))

    async def outbox_next_at(self) -> float | None:
        """When the next pending delivery is due (None when nothing is pending)."""

        def query(conn: Conn) -> float | None:
            row = conn.execute(
                "SELECT min(next_at) FROM webhook_outbox WHERE state = 'pending'"
            ).fetchone()
            return None if row[0] is None else float(row[0])

        return await self._read(query)

    async def outbox_rows(self) -> list[OutboxRow]:
        """Every row (for `bosun doctor` and tests)."""
        return await self._read(partial(_rows, sql=_SELECT + " ORDER BY id"))

    async def events_of_kinds(self, after: int, kinds: Sequence[str], limit: int) -> list[Event]:
        """Events after `after` of these kinds, oldest first (the outbox's catch-up)."""
        marks = ",".join("?" * len(kinds)) or "NULL"
        sql = SELECT_EVENT + f" WHERE e.seq > ? AND e.kind IN ({marks}) ORDER BY e.seq LIMIT ?"

        def query(conn: Conn) -> list[Event]:
            return many(conn, Event, sql, (after, *kinds, limit))

        return await self._read(query)
