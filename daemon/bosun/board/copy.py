"""Copying a whole board between databases (SQLite ⇄ PostgreSQL), nothing left out.

Both ends are opened as the daemon opens them (created and migrated to this bosun's
schema, the PostgreSQL end under the workspace's advisory lock), the target must hold
no board yet, and every row of every table is copied as stored — ids, event seqs,
times, JSON text — in one transaction of the target: a copy that fails leaves the
target empty. `bosun board export/import` (cli/board_commands.py) are its commands.

COLUMNS names every table and column of the current schema; a test fails when a
migration adds one that is not listed, so a copy can never drop data silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bosun.board.dialect import Backend, Conn
from bosun.board.errors import InvalidBoardInputError
from bosun.board.location import BoardLocation, PostgresBoard

# Parents before children (foreign keys), each table's rows in key order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "runs": ("id", "objective", "state", "options", "base_branch", "base_commit", "run_branch",
             "head_commit", "cost", "reason", "created_at", "updated_at"),
    "tasks": ("id", "run_id", "key", "title", "description", "profile", "phase",
              "acceptance_criteria", "state", "attempt", "max_retries", "lease", "worktree",
              "branch", "base_commit", "head_commit", "verdicts", "cost", "reason",
              "parent_id", "created_at", "updated_at", "lease_holder"),
    "dependencies": ("task_id", "depends_on_id"),
    "attempts": ("task_id", "number", "outcome", "error", "summary", "files_changed",
                 "verdicts", "cost", "started_at", "ended_at"),
    "events": ("seq", "ts", "kind", "run_id", "task_id", "data"),
    "messages": ("id", "task_id", "attempt", "role", "content", "tool_calls", "tool_call_id",
                 "name", "ts"),
    "recorded_calls": ("id", "run_id", "task_id", "attempt", "role", "key", "turn", "request",
                       "response", "ts"),
    "journal": ("kind", "key", "data", "updated_at"),
    "webhook_outbox": ("id", "hook", "event", "idempotency_key", "payload", "source_seq",
                       "state", "attempts", "next_at", "last_error", "created_at",
                       "delivered_at"),
    "webhook_cursor": ("name", "seq"),
}  # fmt: skip
_ORDER = {
    "dependencies": "task_id, depends_on_id",
    "attempts": "task_id, number",
    "events": "seq",
    "journal": "kind, key",
    "webhook_cursor": "name",
}
PAGE = 2000  # rows read (and held in memory) at a time


@dataclass(frozen=True)
class CopyReport:
    """How many rows of each table were copied, and between which boards."""

    source: str
    target: str
    rows: dict[str, int]


async def open_backend(location: BoardLocation, boot_id: str) -> Backend:
    """The board at `location`, opened (created, migrated, locked) as a daemon opens it."""
    if isinstance(location, PostgresBoard):
        from bosun.board.postgres.backend import open_postgres

        return await open_postgres(location, boot_id=boot_id)
    from bosun.board.sqlite_backend import open_sqlite

    return await open_sqlite(Path(location))


def _count(conn: Conn, table: str) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _page(conn: Conn, table: str, offset: int) -> list[tuple[Any, ...]]:
    order = _ORDER.get(table, "id")
    sql = f"SELECT {', '.join(COLUMNS[table])} FROM {table} ORDER BY {order} LIMIT ? OFFSET ?"
    return [tuple(row) for row in conn.execute(sql, (PAGE, offset)).fetchall()]


def _insert(conn: Conn, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
    columns = COLUMNS[table]
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    for row in rows:
        conn.execute(sql, row)


def _finish(conn: Conn, dialect: str) -> None:
    if dialect == "postgresql":
        # Rows came with their ids: the identity columns continue after them.
        from bosun.board.postgres.sql import ID_TABLES

        for table in sorted(ID_TABLES):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce(max(id), 0) + 1, false) FROM {table}"
            )
    conn.execute("COMMIT")


def _begin(conn: Conn) -> None:
    conn.execute("BEGIN IMMEDIATE")


def _rollback(conn: Conn) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _occupied(conn: Conn) -> list[str]:
    return [t for t in COLUMNS if _count(conn, t)]


async def copy_board(
    source: BoardLocation, target: BoardLocation, *, boot_id: str = "board-copy"
) -> CopyReport:
    """Copy every row of the board at `source` into the empty board at `target`."""
    src = await open_backend(source, boot_id)
    try:
        dst = await open_backend(target, boot_id)
    except BaseException:
        await src.close()
        raise
    try:
        if src.where == dst.where:
            raise InvalidBoardInputError(f"{src.where} is both the source and the target")
        taken = await dst.write(_occupied)
        if taken:
            raise InvalidBoardInputError(
                f"{dst.where} already holds a board ({', '.join(taken)} not empty): copy into "
                "an empty one (a new file, or another board.schema_name)",
                data={"target": dst.where, "tables": taken},
            )
        rows = await _copy_rows(src, dst)
    finally:
        await dst.close()
        await src.close()
    return CopyReport(source=src.where, target=dst.where, rows=rows)


async def _copy_rows(src: Backend, dst: Backend) -> dict[str, int]:
    copied: dict[str, int] = {}
    await dst.write(_begin)
    try:
        for table in COLUMNS:
            done = 0
            while True:
                rows = await src.read(partial(_page, table=table, offset=done))
                if not rows:
                    break
                await dst.write(partial(_insert, table=table, rows=rows))
                done += len(rows)
            copied[table] = done
        await dst.write(partial(_finish, dialect=dst.dialect.name))
    except BaseException:
        await dst.write(_rollback)
        raise
    return copied
