"""The seam between the board's SQL and the database under it (SQLite or PostgreSQL).

The write ops (run_writes, task_writes, record_writes, outbox…) and the read queries are
written once, against the small part of a DB-API connection they use: `execute` with
`?` parameters, a cursor's `fetchone`/`fetchall`/iteration, `rowcount` and `lastrowid`,
and the connection's `total_changes` and `in_transaction`. `sqlite3.Connection` is that
already; the PostgreSQL backend wraps a psycopg connection to look the same
(board/postgres/connection.py) and translates the few statements that differ.

A backend owns the two connections (one writer, one reader), each used from its own
thread, and says how its driver's failures read to a person (`Dialect.storage_error`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Cursor(Protocol):
    """What the ops read from a statement they ran."""

    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Conn(Protocol):
    """The connection the ops run on, inside the backend's thread."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    @property
    def total_changes(self) -> int: ...

    @property
    def in_transaction(self) -> bool: ...


@dataclass(frozen=True)
class Dialect:
    """What differs between databases beyond the SQL text."""

    name: str
    # Every error the driver raises.
    errors: tuple[type[BaseException], ...]
    # Errors after which no request of the batch can be trusted (the transaction may be
    # gone: disk full, I/O error, the connection lost): the whole batch fails.
    fatal: tuple[type[BaseException], ...]
    # A driver error as an error a person can act on (naming `where`); others unchanged.
    storage_error: Callable[[BaseException, str], BaseException]
    # The driver's own error for a full disk (the DISK_FULL injected fault).
    disk_full: Callable[[], BaseException]
    # A transition as one statement (UPDATE, its event, the task's JSON back), built from
    # (columns set, holder checked, reason reported); None: the three statements of
    # task_writes.transition. Each statement is a round trip to a server, while SQLite
    # runs the three faster than one RETURNING.
    transition_sql: Callable[[tuple[str, ...], bool, bool], str] | None = None
    # While inside it, statements are sent without waiting for each answer (a server's
    # pipeline): the writer runs a batch's deferred ops (transitions) in it, so a batch
    # costs about one round trip instead of one per statement. None: not needed.
    pipeline: Callable[[Conn], AbstractContextManager[None]] | None = None


class Backend(Protocol):
    """An open board: a writer and a reader connection, each in its own thread."""

    dialect: Dialect
    migrated_from: int
    last_seq: int

    @property
    def where(self) -> str:
        """How messages name the board: a file's path, or a server's address and schema."""
        ...

    def write(self, fn: Callable[[Conn], T]) -> Awaitable[T]:
        """Run `fn` on the writer connection, in its thread."""
        ...

    def read(self, fn: Callable[[Conn], T]) -> Awaitable[T]:
        """Run `fn` on the reader connection, in its thread."""
        ...

    async def close(self) -> None:
        """Close both connections."""
