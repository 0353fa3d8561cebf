"""The board on SQLite: its two connections (pragmas, migration) and failure messages.

The writer connection gets WAL, synchronous=FULL, foreign keys and the schema
migrations; the reader connection is query-only. Both are aiosqlite connections, so
each has its own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import aiosqlite

from bosun.board.dialect import Conn, Dialect
from bosun.board.errors import BoardStorageError, BoardUnwritableError
from bosun.board.schema import migrate

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000


# Failures of the disk under the board rather than of the board: they pass (space is
# freed, permissions fixed), and the daemon waits for that instead of failing work.
_UNWRITABLE = frozenset(
    {
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PERM,
    }
)


def storage_error(exc: BaseException, path: str) -> BaseException:
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
    unwritable = code in _UNWRITABLE
    kind = BoardUnwritableError if unwritable else BoardStorageError
    error = kind(text, data={"path": path, "sqlite": name})
    error.__cause__ = exc
    return error


def _disk_full() -> sqlite3.OperationalError:
    """The error SQLite raises on a full disk (the DISK_FULL injected fault)."""
    exc = sqlite3.OperationalError("database or disk is full")
    exc.sqlite_errorcode = sqlite3.SQLITE_FULL
    exc.sqlite_errorname = "SQLITE_FULL"
    return exc


async def in_thread(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn(sqlite3 connection)` in `conn`'s worker thread, in one hop."""
    # aiosqlite's only way to run our own function in its thread is `_execute` (stable
    # since 0.17); every other use of the raw connection goes through here.
    raw = conn._conn
    result: T = await conn._execute(fn, raw)  # type: ignore[no-untyped-call]
    return result


SQLITE = Dialect(
    name="sqlite",
    errors=(sqlite3.Error,),
    fatal=(sqlite3.OperationalError,),
    storage_error=storage_error,
    disk_full=_disk_full,
)


@dataclass
class SqliteBackend:
    """An opened SQLite board: its two aiosqlite connections and what opening found."""

    writer: aiosqlite.Connection
    reader: aiosqlite.Connection
    where: str
    migrated_from: int
    last_seq: int
    dialect: Dialect = SQLITE

    async def write(self, fn: Callable[[Conn], T]) -> T:
        """`fn` on the writer connection, in its thread."""
        return await in_thread(self.writer, fn)

    async def read(self, fn: Callable[[Conn], T]) -> T:
        """`fn` on the reader connection, in its thread."""
        return await in_thread(self.reader, fn)

    async def close(self) -> None:
        """Close both connections."""
        await self.writer.close()
        await self.reader.close()


def _prepare_writer(conn: sqlite3.Connection, path: Path) -> tuple[int, int]:
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise BoardStorageError(f"{path}: SQLite refused WAL mode (got {mode}); is it on NFS?")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    old = migrate(conn, path)
    last = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
    return old, int(last)


def _probe(path: Path) -> None:
    # Surface "cannot open" and "not a database" with plain sqlite3 first: when
    # aiosqlite's connect fails, its worker thread outlives the attempt and may report
    # to an event loop that is gone.
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA schema_version").fetchone()
    finally:
        conn.close()


def _prepare_reader(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA query_only = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


async def open_sqlite(path: Path) -> SqliteBackend:
    """Open, configure and migrate the board at `path`; errors name the file and fix."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BoardStorageError(
            f"cannot create {path.parent} for the board: {exc.strerror}; check permissions"
        ) from exc
    conns: list[aiosqlite.Connection] = []
    try:
        await asyncio.to_thread(_probe, path)
        writer = await aiosqlite.connect(path, isolation_level=None)
        conns.append(writer)
        old, last = await in_thread(writer, partial(_prepare_writer, path=path))
        reader = await aiosqlite.connect(path, isolation_level=None)
        conns.append(reader)
        await in_thread(reader, _prepare_reader)
    except BaseException as exc:
        for conn in conns:
            with contextlib.suppress(Exception):
                await conn.close()
        if isinstance(exc, sqlite3.Error):
            raise storage_error(exc, str(path)) from exc
        raise
    return SqliteBackend(writer, reader, str(path), migrated_from=old, last_seq=last)
