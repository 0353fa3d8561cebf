"""Opening a board in PostgreSQL: the two sessions, the workspace's lock, migrations.

Each session lives in a thread of its own (psycopg's blocking API, as aiosqlite does
for SQLite): the writer's drain then commits batch after batch without a hop to the
event loop (writer.py), and the ops stay plain functions shared with SQLite.

One daemon per workspace: the writer's session holds a session-level advisory lock on
(bosun.board, schema) for as long as it lives. A second daemon on the same workspace
and database is refused at open with a message naming the holder; after the server
restarted (which ends every session and lock) the writer takes the lock again before
its first write, and is refused the same way if another daemon took it meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg

from bosun.board.dialect import Conn, Dialect
from bosun.board.errors import BoardLockedError, BoardStorageError
from bosun.board.location import PostgresBoard
from bosun.board.postgres.connection import POSTGRES, PgConn, Raw, prepare, storage_error
from bosun.board.postgres.schema import migrate

T = TypeVar("T")

LOCK_NAMESPACE = "bosun.board"
CONNECT_TIMEOUT_S = 10
# TCP keepalives: a connection cut without a reset (a cable, a NAT, a firewall) is found
# within about a minute instead of the kernel's two hours.
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 20,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def _connect(board: PostgresBoard, application: str) -> Raw:
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "connect_timeout": CONNECT_TIMEOUT_S,
        "application_name": application[:63],
        **_KEEPALIVES,
    }
    if board.password is not None:
        kwargs["password"] = board.password
    raw: Raw = psycopg.connect(board.url, **kwargs)
    try:
        prepare(raw, board.schema)
    except BaseException:
        raw.close()
        raise
    return raw


def _holder(raw: Raw, schema: str) -> str:
    """Who holds the workspace's lock, as well as the server will say."""
    with contextlib.suppress(psycopg.Error):
        row = raw.execute(
            "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks AS l "
            "JOIN pg_stat_activity AS a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.granted AND l.classid = hashtext(%s)::oid AND l.objid = hashtext(%s)::oid "
            "AND l.objsubid = 2",
            (LOCK_NAMESPACE, schema),
        ).fetchone()
        if row is not None:
            name, addr, since = row
            return f"{name or 'a session'} from {addr or 'a local socket'}, connected since {since}"
    return "another session"


def _lock(raw: Raw, board: PostgresBoard) -> None:
    row = raw.execute(
        "SELECT pg_try_advisory_lock(hashtext(%s), hashtext(%s))", (LOCK_NAMESPACE, board.schema)
    ).fetchone()
    if row is None or not row[0]:
        holder = _holder(raw, board.schema)
        raw.close()
        raise BoardLockedError(
            f"the board {board.where} is in use by another bosun daemon ({holder}): one "
            "workspace's board serves one daemon at a time; stop the other daemon, or give "
            "this workspace its own board.schema_name",
            data={"where": board.where},
        )


@dataclass
class PgBackend:
    """An opened PostgreSQL board: the writer's and the reader's sessions and threads."""

    board: PostgresBoard
    writer: PgConn
    reader: PgConn
    migrated_from: int = 0
    last_seq: int = 0
    dialect: Dialect = POSTGRES
    _write_thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="board-pg-writer")
    )
    _read_thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="board-pg-reader")
    )

    @property
    def where(self) -> str:
        return self.board.where

    async def write(self, fn: Callable[[Conn], T]) -> T:
        """`fn` on the writer session, in its thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._write_thread, fn, self.writer)

    async def read(self, fn: Callable[[Conn], T]) -> T:
        """`fn` on the reader session, in its thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._read_thread, fn, self.reader)

    async def close(self) -> None:
        """Close both sessions (releasing the workspace's lock) and their threads."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._write_thread, self.writer.close)
        await loop.run_in_executor(self._read_thread, self.reader.close)
        self._write_thread.shutdown(wait=False)
        self._read_thread.shutdown(wait=False)


def _application(boot_id: str, role: str) -> str:
    return f"bosun {role} {boot_id} {socket.gethostname()} pid {os.getpid()}"


def _open_writer(backend: PgBackend) -> None:
    """In the writer's thread: connect, lock, migrate, read the last seq."""
    conn = backend.writer
    raw = conn.raw  # connects and takes the lock (see open_postgres)
    backend.migrated_from = migrate(raw, backend.board.schema, backend.where)
    row = raw.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
    backend.last_seq = int(row[0]) if row is not None else 0


async def open_postgres(board: PostgresBoard, *, boot_id: str) -> PgBackend:
    """Connect to the board's database, take the workspace's lock, migrate its schema."""

    def connect_writer() -> Raw:
        raw = _connect(board, _application(boot_id, "board writer"))
        _lock(raw, board)
        return raw

    def connect_reader() -> Raw:
        return _connect(board, _application(boot_id, "board reader"))

    backend = PgBackend(board, PgConn(connect_writer), PgConn(connect_reader))
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(backend._write_thread, _open_writer, backend)
        await loop.run_in_executor(backend._read_thread, lambda: backend.reader.raw)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            await backend.close()
        if isinstance(exc, psycopg.Error):
            raise storage_error(exc, board.where) from exc
        if isinstance(exc, BoardStorageError):
            raise
        raise
    return backend


def board_refusal(board: PostgresBoard) -> str | None:
    """Why the board in PostgreSQL cannot be used now, or None (`bosun doctor`): the
    server answers, the login works, the user may create the schema or it exists."""
    try:
        raw = _connect(board, _application("doctor", "check"))
    except psycopg.Error as exc:
        error = storage_error(exc, board.where)
        return error.message if isinstance(error, BoardStorageError) else str(exc)
    try:
        row = raw.execute(
            "SELECT has_database_privilege(current_database(), 'CREATE'), "
            "EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)",
            (board.schema,),
        ).fetchone()
    finally:
        raw.close()
    if row is not None and not row[0] and not row[1]:
        return (
            f"the database user may not create the board's schema {board.schema}: "
            "GRANT CREATE ON DATABASE to it, or create the schema for it"
        )
    return None
