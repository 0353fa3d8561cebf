"""A psycopg connection made to look like the sqlite3 one the board's ops are written for.

`PgConn` translates each statement (sql.py), turns a `RETURNING id` into the cursor's
`lastrowid`, keeps `total_changes` (the writer's sign that a failed request had written;
a failed statement counts too, since it aborts PostgreSQL's whole transaction), and
connects again by itself when the server went away — between transactions only: a
transaction the server lost is the writer's to fail, never to replay.

Results come back as SQLite gave them: JSON as its text (pydantic parses it in one
pass), times as ISO 8601 text in UTC.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import psycopg
from psycopg import errors as pgerrors
from psycopg.pq import TransactionStatus
from psycopg.types.datetime import TimestamptzLoader
from psycopg.types.string import TextLoader

from bosun.board.dialect import Dialect
from bosun.board.errors import BoardStorageError, BoardUnwritableError
from bosun.board.postgres.sql import transition_sql, translate

log = logging.getLogger(__name__)

Raw = psycopg.Connection[tuple[Any, ...]]
_WRITES = ("INSERT", "UPDATE", "DELETE", "WITH")
_IN_TRANSACTION = (TransactionStatus.INTRANS, TransactionStatus.INERROR, TransactionStatus.ACTIVE)


class _IsoTimestamptz(TimestamptzLoader):
    """timestamptz as `datetime.isoformat()` text, the form SQLite rows hold."""

    def load(self, data: Any) -> Any:
        return super().load(data).isoformat()


def prepare(raw: Raw, schema: str) -> None:
    """A new connection's settings: UTC, the workspace's schema, results as text."""
    raw.adapters.register_loader("json", TextLoader)
    raw.adapters.register_loader("jsonb", TextLoader)
    raw.adapters.register_loader("timestamptz", _IsoTimestamptz)
    raw.execute("SET TIME ZONE 'UTC'")
    raw.execute(f'SET search_path TO "{schema}"')


class PgCursor:
    """The part of a sqlite3 cursor the ops use (its answer waited for when pipelined)."""

    def __init__(
        self, cur: psycopg.Cursor[tuple[Any, ...]], lastrowid: int | None, conn: PgConn
    ) -> None:
        self._cur = cur
        self.lastrowid = lastrowid
        self._conn = conn

    @property
    def rowcount(self) -> int:
        self._conn.settle()
        return self._cur.rowcount

    def fetchone(self) -> Any:
        self._conn.settle()
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        self._conn.settle()
        return self._cur.fetchall()

    def __iter__(self) -> Iterator[Any]:
        self._conn.settle()
        return iter(self._cur)


def _clean(params: Sequence[Any]) -> Sequence[Any]:
    # PostgreSQL's text cannot hold NUL (SQLite's can): a tool's output with one in it
    # would fail the whole write. It reads back as U+FFFD, like other undecodable bytes.
    if any(isinstance(p, str) and "\x00" in p for p in params):
        return [p.replace("\x00", "\ufffd") if isinstance(p, str) else p for p in params]
    return params


class PgConn:
    """The board's view of one PostgreSQL session; used from one thread only."""

    def __init__(self, connect: Callable[[], Raw]) -> None:
        self._connect = connect
        self._raw: Raw | None = None
        self._changes = 0
        # Inside `pipeline()`: the pipeline, and the writes whose row counts have not
        # come back yet (statements sent, answers not read).
        self._pipe: psycopg.Pipeline | None = None
        self._uncounted: list[psycopg.Cursor[tuple[Any, ...]]] = []

    @property
    def raw(self) -> Raw:
        """The live psycopg connection, connecting (again) when there is none."""
        raw = self._raw
        if raw is None or raw.closed or raw.broken:
            if raw is not None:
                with contextlib.suppress(Exception):
                    raw.close()
                log.info("board: connecting to PostgreSQL again")
            self._raw = None
            self._raw = raw = self._connect()
        return raw

    @property
    def total_changes(self) -> int:
        self.settle()
        return self._changes

    @contextlib.contextmanager
    def pipeline(self) -> Iterator[None]:
        """Send statements without waiting for their answers until one is read."""
        with self.raw.pipeline() as pipe:
            self._pipe = pipe
            try:
                yield
            finally:
                self._pipe = None
                self._uncounted.clear()

    def settle(self) -> None:
        """Wait for every answer the pipeline owes (nothing to do outside one)."""
        pipe = self._pipe
        if pipe is None:
            return
        try:
            pipe.sync()
        except psycopg.Error:
            self._changes += 1  # see execute()
            raise
        for cur in self._uncounted:
            self._changes += max(cur.rowcount, 0)
        self._uncounted.clear()

    @property
    def in_transaction(self) -> bool:
        raw = self._raw
        if raw is None or raw.closed or raw.broken:
            return False
        return raw.info.transaction_status in _IN_TRANSACTION

    def execute(self, sql: str, parameters: Any = (), /) -> PgCursor:
        text, returning = translate(sql)
        # Inside a transaction the session it started on is the only one to use: if
        # that is gone, the statement must fail, not run on a new session.
        raw = self._raw if self.in_transaction else self.raw
        if raw is None:
            raise psycopg.OperationalError("the connection to PostgreSQL was lost")
        try:
            cur = raw.execute(text, _clean(parameters))
        except psycopg.Error:
            self._changes += 1  # the transaction is spoilt: the writer must redo the batch
            raise
        lastrowid = None
        if returning:
            self.settle()
            row = cur.fetchone()
            lastrowid = None if row is None else int(row[0])
        if text.startswith(_WRITES):
            if self._pipe is not None:
                self._uncounted.append(cur)
            else:
                self._changes += max(cur.rowcount, 0)
        return PgCursor(cur, lastrowid, self)

    def close(self) -> None:
        """Close the session (and with it the advisory lock it holds)."""
        raw, self._raw = self._raw, None
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.close()


# SQLSTATE classes that pass on their own or with an operator's help (disk space,
# a server starting or shutting down, a read-only standby): the engine pauses for them.
_PASSING_CLASSES = ("08", "53", "57", "58")


def _refused_login(detail: str) -> bool:
    # libpq reports these as plain connection failures (no SQLSTATE); they do not pass
    # by waiting, so they must not pause the engine as an outage would.
    text = detail.lower()
    return "authentication failed" in text or (
        "does not exist" in text and ("database" in text or "role" in text)
    )


def storage_error(exc: BaseException, where: str) -> BaseException:
    """A psycopg failure as an error a person can act on; other errors unchanged."""
    if not isinstance(exc, psycopg.Error):
        return exc
    state = exc.sqlstate or ""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.OperationalError) and not state and _refused_login(str(exc)):
        text = (
            f"the PostgreSQL server of the board {where} refused the login ({detail}): check "
            "the user and database in board.url and the password in the environment "
            "variable named by board.password_env"
        )
        kind: type[BoardStorageError] = BoardStorageError
    elif isinstance(exc, psycopg.OperationalError) and not state:
        text = (
            f"the PostgreSQL server of the board {where} cannot be reached ({detail}); "
            "nothing of the failed write was saved, and runs wait until it answers again"
        )
        kind = BoardUnwritableError
    elif isinstance(exc, pgerrors.DiskFull) or state.startswith("53"):
        text = (
            f"the PostgreSQL server of the board {where} is out of resources ({detail}); "
            "the write was rolled back: free disk space or raise the server's limits"
        )
        kind = BoardUnwritableError
    elif isinstance(exc, pgerrors.ReadOnlySqlTransaction):
        text = (
            f"the PostgreSQL server of the board {where} is read-only ({detail}): is it a "
            "standby? Point board.url at the primary"
        )
        kind = BoardUnwritableError
    elif state.startswith(_PASSING_CLASSES):
        text = f"the PostgreSQL server of the board {where} went away ({detail}); the write was rolled back"
        kind = BoardUnwritableError
    elif isinstance(exc, pgerrors.InsufficientPrivilege):
        text = (
            f"the board {where} refused the database user ({detail}): it needs to create "
            "its schema and tables, or to own the schema (GRANT CREATE ON DATABASE …)"
        )
        kind = BoardStorageError
    else:
        text = f"the board {where} failed: {detail} (SQLSTATE {state or 'none'})"
        kind = BoardStorageError
    error = kind(text, data={"where": where, "sqlstate": state})
    error.__cause__ = exc
    return error


def _pipeline(conn: Any) -> contextlib.AbstractContextManager[None]:
    return cast(PgConn, conn).pipeline()


def _disk_full() -> BaseException:
    return pgerrors.DiskFull("could not extend file: No space left on device (injected fault)")


POSTGRES = Dialect(
    name="postgresql",
    errors=(psycopg.Error,),
    fatal=(psycopg.OperationalError, pgerrors.AdminShutdown, pgerrors.DiskFull),
    storage_error=storage_error,
    disk_full=_disk_full,
    transition_sql=transition_sql,
    pipeline=_pipeline,
)
