"""One batch of queued writes in one transaction: what a write op sees (`WriteTx`),
the requests, and running them (writer.py owns the queue and the thread).

A request that fails (a lost compare-and-swap, a refused edit) is undone alone and the
others still commit: a failure before any write needs no undoing, and a failure after
one starts the batch over with a SAVEPOINT around each request (`_run`). On a database
server a batch's deferred ops (transitions) go out in one pipeline (`_run_pipelined`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import pydantic_core
from bosun_protocol.entities import Event, Run, Task

from bosun.board.codec import now
from bosun.board.dialect import Conn, Dialect
from bosun.board.errors import BoardStorageError
from bosun.errors import BosunError
from bosun.failpoints import armed, failpoint, flagged

T = TypeVar("T")


@dataclass
class Notice:
    """An event to announce after commit, with the run and/or task it changed."""

    event: Event
    run: Run | None = None
    task: Task | None = None


class WriteTx:
    """What a write op sees: the raw connection inside the open transaction."""

    def __init__(self, conn: Conn, moment: datetime, stamp: str, dialect: Dialect) -> None:
        self.conn = conn
        self.dialect = dialect
        self.notices: list[Notice] = []
        # The batch's clock reading: its rows and its events carry the same time.
        self.moment = moment
        self.stamp = stamp

    def emit(
        self,
        kind: str,
        *,
        run_id: int | None = None,
        task_id: int | None = None,
        data: dict[str, Any] | None = None,
        run: Run | None = None,
        task: Task | None = None,
        plain: bool = False,
    ) -> Event:
        """Append an event in this transaction; it is announced only if we commit.

        `plain=True` promises that `data` holds only JSON values (str, int, float,
        bool, None, lists and str-keyed dicts of them) that read back unchanged, so the
        listeners can get `data` itself instead of a parsed copy of its text.
        """
        body = data or {}
        text = pydantic_core.to_json(body).decode()
        cur = self.conn.execute(
            "INSERT INTO events (ts, kind, run_id, task_id, data) VALUES (?, ?, ?, ?, ?)",
            (self.stamp, kind, run_id, task_id, text),
        )
        assert cur.lastrowid is not None
        if not plain:
            # The listeners get data exactly as a later events_since() will read it back.
            body = json.loads(text)
        return self.recorded(cur.lastrowid, kind, run_id, task_id, body, run=run, task=task)

    def recorded(
        self,
        seq: int,
        kind: str,
        run_id: int | None,
        task_id: int | None,
        data: dict[str, Any],
        *,
        run: Run | None = None,
        task: Task | None = None,
    ) -> Event:
        """An event a write op inserted itself (with seq `seq`), announced if we commit."""
        # (Validated construction is pydantic's C path: cheaper than model_construct.)
        event = Event(seq=seq, ts=self.moment, kind=kind, run_id=run_id, task_id=task_id, data=data)
        self.notices.append(Notice(event, run, task))
        return event


# A deferred write op: sends its statement(s), yields (at most once), then reads the
# answers and returns its result. On a server the writer sends a whole batch's deferred
# ops before reading any answer (Dialect.pipeline); elsewhere it runs them straight on.
# After its yield an op only reads: a failure there means it wrote nothing.
Deferred = Generator[None, None, T]


@dataclass
class Request(Generic[T]):
    op: Callable[[WriteTx], Any]
    future: asyncio.Future[T]
    deferred: bool = False
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


def apply_batch(conn: Conn, dialect: Dialect, batch: list[Request[Any]]) -> float:
    """Run a batch in one transaction; a request that fails is undone alone.

    Returns how long the COMMIT took, in seconds.
    """
    conn.execute("BEGIN IMMEDIATE")
    if flagged("DISK_FULL"):
        conn.execute("ROLLBACK")
        raise dialect.disk_full()
    # One clock reading per batch (they all commit at once); `now()` is UTC, so
    # isoformat() is exactly codec.ts().
    moment = now()
    stamp = moment.isoformat()
    try:
        if not _run_pipelined(conn, dialect, batch, moment, stamp):
            # A request failed after it had written: only a savepoint undoes its
            # writes alone, so start the batch over with one around each request.
            conn.execute("ROLLBACK")
            conn.execute("BEGIN IMMEDIATE")
            _run(conn, dialect, batch, moment, stamp, savepoints=True)
        if armed():
            # Labelled with the batch's event kinds: `…@attempt.started` dies mid-run,
            # not at the daemon's first write.
            kinds = {n.event.kind for req in batch for n in req.notices}
            failpoint("board.after_write_before_commit", *sorted(kinds))
        start = time.perf_counter()
        conn.execute("COMMIT")
        return time.perf_counter() - start
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(*dialect.errors):
                conn.execute("ROLLBACK")
        raise


def _run_pipelined(
    conn: Conn, dialect: Dialect, batch: list[Request[Any]], moment: datetime, stamp: str
) -> bool:
    """`_run` without savepoints, inside the dialect's pipeline when it has one."""
    if dialect.pipeline is None:
        return _run(conn, dialect, batch, moment, stamp, savepoints=False)
    try:
        with dialect.pipeline(conn):
            return _run(conn, dialect, batch, moment, stamp, savepoints=False)
    except dialect.fatal:
        raise
    except dialect.errors:
        # A statement failed inside the pipeline (its answer came when the pipeline
        # closed): which request's is unknown, so the batch is redone one by one.
        return False


def _finish(gen: Deferred[Any]) -> Any:
    """Run a started deferred op to its end; its result."""
    try:
        next(gen)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("a deferred board write yielded more than once")


def _complete(gen: Deferred[Any]) -> Any:
    """Run a deferred op straight through (no pipeline); its result."""
    try:
        next(gen)
    except StopIteration as stop:
        return stop.value
    return _finish(gen)


def _run(
    conn: Conn,
    dialect: Dialect,
    batch: list[Request[Any]],
    moment: datetime,
    stamp: str,
    *,
    savepoints: bool,
) -> bool:
    """Run every request; False as soon as one fails after writing (without savepoints).

    Most failures come before a request writes anything (a lost compare-and-swap
    updates no row, bad input is refused first), so the usual batch runs without the
    SAVEPOINT and RELEASE statements around each request: two of a transition's five.
    `total_changes` tells whether a failed request had written (on PostgreSQL it also
    counts a failed statement, which spoils the whole transaction there).

    In a pipeline (`_run_pipelined`) deferred ops are started in order, and finished
    once every request has been sent: the first answer read waits for all of them.
    """
    pipelined = not savepoints and dialect.pipeline is not None
    started: list[tuple[Request[Any], WriteTx, Deferred[Any]]] = []
    for req in batch:
        req.result, req.error, req.notices = None, None, []
        if savepoints:
            conn.execute("SAVEPOINT req")
        tx = WriteTx(conn, moment, stamp, dialect)
        # (Reading total_changes waits for the pipeline: a deferred op needs it not.)
        before = 0 if req.deferred and pipelined else conn.total_changes
        try:
            if not req.deferred:
                req.result = req.op(tx)
            elif pipelined:
                gen = req.op(tx)
                try:
                    next(gen)
                except StopIteration as stop:
                    req.result = stop.value
                else:
                    started.append((req, tx, gen))
                    continue
            else:
                req.result = _complete(req.op(tx))
        except dialect.fatal:
            # Disk full, I/O error, connection lost…: the database may already have
            # rolled the whole transaction back, so no request of this batch can be trusted.
            raise
        except Exception as exc:
            if savepoints:
                conn.execute("ROLLBACK TO req")
                conn.execute("RELEASE req")
            elif pipelined and isinstance(exc, dialect.errors):
                return False  # maybe an earlier request's statement: redo one by one
            elif not (req.deferred and pipelined) and conn.total_changes != before:
                return False
            req.fail(exc if isinstance(exc, BosunError) else _wrap(exc, dialect))
            continue
        if savepoints:
            conn.execute("RELEASE req")
        req.notices = tx.notices
    for req, tx, gen in started:
        try:
            req.result = _finish(gen)
        except dialect.fatal:
            raise
        except Exception as exc:
            if isinstance(exc, dialect.errors):
                return False
            # After its yield an op only reads (a lost swap): it wrote nothing.
            req.fail(exc if isinstance(exc, BosunError) else _wrap(exc, dialect))
            continue
        req.notices = tx.notices
    return True


def _wrap(exc: Exception, dialect: Dialect) -> BaseException:
    if isinstance(exc, dialect.errors):
        error = BoardStorageError(f"the board refused a write: {exc}")
        error.__cause__ = exc
        return error
    return exc
