"""The board's single writer: group commit of concurrent writes, one transaction each.

Every write is a plain function `op(tx) -> result` run inside the writer connection's
thread. One coroutine takes whatever writes are queued, runs them all in one
`BEGIN IMMEDIATE … COMMIT` (one fsync for the whole batch under synchronous=FULL), each
under its own SAVEPOINT so a request that fails (a lost compare-and-swap, a refused
edit) is rolled back alone and the others still commit.

Why whole batches run in the thread: aiosqlite hops between the event loop and its
worker thread once per statement. A transition is five statements (savepoint, update,
select, insert event, release) plus its share of BEGIN and COMMIT. Measured with
bench/board_transitions.py on this 2-core machine, a hop costs 60–290 µs depending
on load, while statements shipped five per hop cost 12–50 µs each: per-statement
hops would spend more time switching threads than writing. So the writer hops once
per batch, and every op is a plain function over the sqlite3 connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import aiosqlite
import pydantic_core
from bosun_protocol.entities import Event, Run, Task

from bosun.board.codec import now, ts
from bosun.board.errors import BoardStorageError
from bosun.errors import BosunError
from bosun.failpoints import failpoint

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BATCH = 512


async def in_thread(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn(sqlite3 connection)` in `conn`'s worker thread, in one hop."""
    # aiosqlite's only way to run our own function in its thread is `_execute` (stable
    # since 0.17); every other use of the raw connection goes through here.
    raw = conn._conn
    result: T = await conn._execute(fn, raw)  # type: ignore[no-untyped-call]
    return result


@dataclass
class Notice:
    """An event to announce after commit, with the run and/or task it changed."""

    event: Event
    run: Run | None = None
    task: Task | None = None


class WriteTx:
    """What a write op sees: the raw connection inside the open transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.notices: list[Notice] = []
        # One clock reading per request: its rows and its events carry the same time.
        self.moment = now()
        self.stamp = ts(self.moment)

    def emit(
        self,
        kind: str,
        *,
        run_id: int | None = None,
        task_id: int | None = None,
        data: dict[str, Any] | None = None,
        run: Run | None = None,
        task: Task | None = None,
    ) -> Event:
        """Append an event in this transaction; it is announced only if we commit."""
        text = pydantic_core.to_json(data or {}).decode()
        cur = self.conn.execute(
            "INSERT INTO events (ts, kind, run_id, task_id, data) VALUES (?, ?, ?, ?, ?)",
            (self.stamp, kind, run_id, task_id, text),
        )
        assert cur.lastrowid is not None
        # The listeners get data exactly as a later events_since() will read it back.
        body = json.loads(text)
        event = Event(
            seq=cur.lastrowid, ts=self.moment, kind=kind, run_id=run_id, task_id=task_id, data=body
        )
        self.notices.append(Notice(event, run, task))
        return event


@dataclass
class _Request(Generic[T]):
    op: Callable[[WriteTx], T]
    future: asyncio.Future[T]
    result: Any = None
    error: BaseException | None = None
    notices: list[Notice] = field(default_factory=list)

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.notices = []

    def settle(self) -> None:
        if self.future.done():  # the caller was cancelled; the write stands regardless
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.result)


def storage_error(exc: BaseException, path: Path) -> BaseException:
    """A sqlite3 failure as an error a person can act on; other errors unchanged."""
    if not isinstance(exc, sqlite3.Error):
        return exc
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    name = getattr(exc, "sqlite_errorname", type(exc).__name__)
    if code == sqlite3.SQLITE_FULL:
        text = (
            f"the disk is full: writing the board {path} failed and was rolled back, "
            "nothing was saved; free some disk space and retry"
        )
    elif code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        text = (
            f"{path} is not a bosun board or is corrupt ({exc}); stop the daemon and "
            f"move it aside (mv {path} {path}.broken): bosun then starts a new, empty board"
        )
    elif code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY):
        text = (
            f"cannot open or write the board {path} ({exc}); check that you own the file "
            "and its directory and that they are writable"
        )
    elif code == sqlite3.SQLITE_BUSY:
        text = f"the board {path} is locked by another process ({exc}); is a second daemon running?"
    elif code == sqlite3.SQLITE_IOERR:
        text = f"I/O error on the board {path} ({exc}); the write was rolled back"
    else:
        text = f"the board {path} failed: {exc} ({name})"
    error = BoardStorageError(text, data={"path": str(path), "sqlite": name})
    error.__cause__ = exc
    return error


class Writer:
    """Owns the write connection; batches queued writes into one transaction each."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        path: Path,
        announce: Callable[[list[Notice]], None],
        *,
        group_commit: bool = True,
    ) -> None:
        self._conn = conn
        self._path = path
        self._announce = announce
        self._max_batch = MAX_BATCH if group_commit else 1
        self._queue: asyncio.Queue[_Request[Any] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.transactions = 0
        self.writes = 0

    def start(self) -> None:
        """Start the writer coroutine (owned by this object, stopped by `close`)."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="board-writer")

    async def submit(self, op: Callable[[WriteTx], T]) -> T:
        """Queue `op`; returns its result once the transaction holding it committed."""
        if self._closed:
            raise BoardStorageError(f"the board {self._path} is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Request(op, future))
        return await future

    async def close(self) -> None:
        """Finish every queued write, then stop."""
        if self._closed:
            return
        self._closed = True
        self._queue.put_nowait(None)
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        stop = False
        while not stop:
            first = await self._queue.get()
            if first is None:
                break
            batch: list[_Request[Any]] = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                await self._commit(batch)
            except Exception as exc:  # never let the writer die: callers would hang
                log.exception("board writer failed on a batch of %d", len(batch))
                for req in batch:
                    req.fail(exc)
                    req.settle()

    async def _commit(self, batch: list[_Request[Any]]) -> None:
        try:
            await in_thread(self._conn, lambda raw: _apply(raw, batch))
        except Exception as exc:
            error = storage_error(exc, self._path)
            for req in batch:
                req.fail(error)
        else:
            self.transactions += 1
            self.writes += len(batch)
        # Listeners first, then callers: when a write returns, it has been announced.
        self._announce([n for req in batch if req.error is None for n in req.notices])
        for req in batch:
            req.settle()


def _apply(conn: sqlite3.Connection, batch: list[_Request[Any]]) -> None:
    """Run a batch in one transaction, each request under its own savepoint."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for req in batch:
            conn.execute("SAVEPOINT req")
            tx = WriteTx(conn)
            try:
                req.result = req.op(tx)
            except sqlite3.OperationalError:
                # Disk full, I/O error…: SQLite may already have rolled the whole
                # transaction back, so no request of this batch can be trusted.
                raise
            except Exception as exc:
                conn.execute("ROLLBACK TO req")
                conn.execute("RELEASE req")
                req.fail(exc if isinstance(exc, BosunError) else _wrap(exc))
                continue
            conn.execute("RELEASE req")
            req.notices = tx.notices
        failpoint("board.after_write_before_commit")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def _wrap(exc: Exception) -> BaseException:
    if isinstance(exc, sqlite3.Error):
        error = BoardStorageError(f"the board refused a write: {exc}")
        error.__cause__ = exc
        return error
    return exc
