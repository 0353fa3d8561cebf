"""Opening the board's two SQLite connections: pragmas, migration, failure messages.

The writer connection gets WAL, synchronous=FULL, foreign keys and the schema
migrations; the reader connection is query-only. Both are aiosqlite connections, so
each has its own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import aiosqlite

from bosun.board.errors import BoardStorageError
from bosun.board.schema import migrate
from bosun.board.writer import in_thread, storage_error

BUSY_TIMEOUT_MS = 5000


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


@dataclass
class Connections:
    """An opened board: its two connections and what opening found."""

    writer: aiosqlite.Connection
    reader: aiosqlite.Connection
    migrated_from: int
    last_seq: int


async def open_connections(path: Path) -> Connections:
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
            raise storage_error(exc, path) from exc
        raise
    return Connections(writer, reader, migrated_from=old, last_seq=last)
