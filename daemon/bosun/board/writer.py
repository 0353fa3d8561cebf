"""The board's single writer: group commit of concurrent writes, one transaction each.

Every write is a plain function `op(tx) -> result` run inside the writer connection's
thread. Writes queue up; a batch of whatever is queued runs in one
`BEGIN IMMEDIATE … COMMIT` (one fsync for the whole batch under synchronous=FULL). A
request that fails (a lost compare-and-swap, a refused edit) is undone alone and the
others still commit: a failure before any write needs no undoing, and a failure after
one starts the batch over with a SAVEPOINT around each request (batch.py).

Why the writer drains its queue inside the connection's thread: aiosqlite hops
between the event loop and its worker thread once per call, and on this 2-core machine
a hop costs 60–290 µs, more under load (the other thread must win the GIL and the
CPU). The first write after an idle spell starts a drain (one hop); the drain commits
batch after batch in the thread, taking whatever queued up during the previous commit,
until the queue is empty, then lingers LINGER_SECONDS for more before it returns. So an
idle writer commits a lone write at once, a busy one batches, the next batch starts
the moment COMMIT returns instead of waiting for the event loop to wake, announce and
hand the next batch over, and under steady load writes reach the thread without a
hop. Each committed batch is handed back to the loop with one `call_soon_threadsafe`:
announcing and resuming its callers overlaps the next batch's fsync.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bosun_protocol.entities import Event

from bosun.board.batch import Deferred, Notice, Request, WriteTx, apply_batch
from bosun.board.codec import SELECT_EVENT, many
from bosun.board.dialect import Conn, Dialect
from bosun.board.errors import BoardStorageError
from bosun.observe import hooks

__all__ = ["Deferred", "Notice", "WriteTx", "Writer"]

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BATCH = 512
# How long a drain with nothing to do waits for more before it gives the thread back
# (to aiosqlite calls such as close). Measured at 2,000/s offered: p50 0.6–1.0 ms
# against 0.8–1.1 ms without it.
LINGER_SECONDS = 0.02


class Writer:
    """Owns the write connection; batches queued writes into one transaction each."""

    def __init__(
        self,
        run: Callable[[Callable[[Conn], None]], Awaitable[None]],
        where: str,
        dialect: Dialect,
        announce: Callable[[list[Notice]], None],
        *,
        group_commit: bool = True,
        last_seq: int = 0,
    ) -> None:
        # `run(fn)` runs fn on the writer connection in its thread (Backend.write).
        self._run_in_thread = run
        self._where = where
        self._dialect = dialect
        self._announce = announce
        self._max_batch = MAX_BATCH if group_commit else 1
        # The newest seq announced or about to be (owned by the drain's thread).
        self._seq = last_seq
        # Shared with the drain in the connection's thread, always under the lock:
        # whether a drain is running, and the writes it has not taken yet.
        self._lock = threading.Lock()
        self._more = threading.Condition(self._lock)
        self._pending: list[Request[Any]] = []
        self._draining = False
        self._drains: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.transactions = 0
        self.writes = 0
        # Set to a list to record how long each COMMIT took (its fsync, mostly): the
        # benchmark's view of the disk's share of a write's latency.
        self.commit_seconds: list[float] | None = None

    def start(self) -> None:
        """Bind to the running loop (drains are owned by this object, ended by `close`)."""
        self._loop = asyncio.get_running_loop()

    async def submit(self, op: Callable[[WriteTx], T]) -> T:
        """Queue `op`; returns its result once the transaction holding it committed."""
        result: T = await self._submit(op, deferred=False)
        return result

    async def submit_deferred(self, op: Callable[[WriteTx], Deferred[T]]) -> T:
        """Queue a deferred op (see `Deferred`); its result once committed."""
        result: T = await self._submit(op, deferred=True)
        return result

    async def _submit(self, op: Callable[[WriteTx], Any], *, deferred: bool) -> Any:
        if self._closed or self._loop is None:
            raise BoardStorageError(f"the board {self._where} is closed")
        future: asyncio.Future[Any] = self._loop.create_future()
        with self._lock:
            self._pending.append(Request(op, future, deferred))
            idle = not self._draining
            self._draining = True
            self._more.notify()
        if idle:
            # A task, not a direct hop: writes submitted in this same loop iteration
            # are queued by the time the drain starts, and share its first commit.
            drain = self._loop.create_task(self._drain(), name="board-writer")
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)
        return await future

    async def close(self) -> None:
        """Finish every queued write, then stop."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            self._more.notify()  # a lingering drain ends now
        while self._drains:
            await asyncio.gather(*self._drains, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            await self._run_in_thread(self._drain_in_thread)
        except Exception as exc:  # never let a write hang: fail whatever is still queued
            mapped = self._dialect.storage_error(exc, self._where)
            if mapped is exc:
                log.exception("board writer failed")
                error: BaseException = BoardStorageError(
                    f"the board {self._where} writer failed; see the log"
                )
            else:
                log.warning("board writer failed: %s", mapped)
                error = mapped
            with self._lock:
                stranded, self._pending = self._pending, []
                self._draining = False
            for req in stranded:
                req.fail(error)
                req.settle()

    def _drain_in_thread(self, conn: Conn) -> None:
        """Commit batch after batch until nothing is queued (runs in the thread)."""
        loop = self._loop
        assert loop is not None
        batch: list[Request[Any]] = []
        try:
            while True:
                with self._lock:
                    if not self._pending and not self._closed:
                        # Linger a moment: under load the next write comes sooner,
                        # and is then taken without a hop from the loop.
                        self._more.wait(LINGER_SECONDS)
                    batch = self._pending[: self._max_batch]
                    del self._pending[: self._max_batch]
                    if not batch:
                        self._draining = False
                        return
                self._commit(conn, batch)
                loop.call_soon_threadsafe(self._finish, batch)
                batch = []
        except BaseException:
            # Unexpected (the loop is gone?): give the batch in hand back, unsettled,
            # so `_drain` fails it with the rest instead of leaving its callers hanging.
            with self._lock:
                self._pending[:0] = batch
                self._draining = False
            raise

    def _commit(self, conn: Conn, batch: list[Request[Any]]) -> None:
        try:
            took = apply_batch(conn, self._dialect, batch)
        except Exception as exc:
            error = self._dialect.storage_error(exc, self._where)
            for req in batch:
                req.fail(error)
        else:
            self._catch_up(conn, batch)
            self.transactions += 1
            self.writes += len(batch)
            if self.commit_seconds is not None:
                self.commit_seconds.append(took)
            hooks.board_commit(took, len(batch))

    def _catch_up(self, conn: Conn, batch: list[Request[Any]]) -> None:
        """Events that committed unannounced go out first, in seq order: a COMMIT whose
        answer was lost (a server's connection cut as it returned) may have landed, and
        its callers were told it failed; the events are the board's all the same."""
        seqs = [n.event.seq for req in batch if req.error is None for n in req.notices]
        if not seqs:
            return
        if seqs[0] > self._seq + 1:
            sql = SELECT_EVENT + " WHERE e.seq > ? AND e.seq < ? ORDER BY e.seq"
            try:
                missed = many(conn, Event, sql, (self._seq, seqs[0]))
            except self._dialect.errors:
                log.exception("board: reading the events of an unanswered commit failed")
                missed = []
            log.warning(
                "board: %d events committed by a write reported as failed (its COMMIT's "
                "answer was lost); announcing them now",
                len(missed),
            )
            first = next(req for req in batch if req.error is None and req.notices)
            first.notices[:0] = [Notice(event) for event in missed]
        self._seq = max(seqs)

    def _finish(self, batch: list[Request[Any]]) -> None:
        """Back on the loop, in commit order: announce the batch, then resume its callers."""
        # Listeners first, then callers: when a write returns, it has been announced.
        try:
            self._announce([n for req in batch if req.error is None for n in req.notices])
        finally:
            for req in batch:
                req.settle()
