"""Read queries, run in the read connection's thread (never on the writer).

Multi-statement reads open a read transaction so they see one snapshot (WAL gives
readers a consistent view without blocking the writer).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from bosun_protocol.entities import Attempt, Event, Message, Run, Task, TaskState

from bosun.board.codec import (
    SELECT_ATTEMPT,
    SELECT_CALL,
    SELECT_EVENT,
    SELECT_MESSAGE,
    SELECT_RUN,
    SELECT_TASK,
    many,
    one,
)
from bosun.board.dialect import Conn
from bosun.board.models import RecordedCall
from bosun.errors import NotFoundError

T = TypeVar("T")


def snapshot(fn: Callable[[Conn], T]) -> Callable[[Conn], T]:
    """`fn` run inside one read transaction."""

    def run(conn: Conn) -> T:
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")

    return run


def get_task_by_key(conn: Conn, run_id: int, key: str) -> Task:
    """The task with `key` in the run, or NotFoundError."""
    task = one(conn, Task, SELECT_TASK + " WHERE t.run_id = ? AND t.key = ?", (run_id, key))
    if task is None:
        raise NotFoundError(f"run #{run_id} has no task {key!r}", data={"runId": run_id})
    return task


def list_runs(conn: Conn, limit: int, before_id: int | None) -> list[Run]:
    """Newest runs first."""
    if before_id is None:
        return many(conn, Run, SELECT_RUN + " ORDER BY r.id DESC LIMIT ?", (limit,))
    sql = SELECT_RUN + " WHERE r.id < ? ORDER BY r.id DESC LIMIT ?"
    return many(conn, Run, sql, (before_id, limit))


def count_runs(conn: Conn, states: Collection[str]) -> tuple[int, int]:
    """How many runs there are, and how many of them are in `states`."""
    marks = ",".join("?" * len(states)) or "NULL"
    row = conn.execute(
        f"SELECT COUNT(*), COUNT(CASE WHEN state IN ({marks}) THEN 1 END) FROM runs", tuple(states)
    ).fetchone()
    return int(row[0]), int(row[1])


def state_counts(conn: Conn) -> tuple[dict[str, int], dict[str, int]]:
    """(runs by state, tasks by state), counted without reading the rows."""
    runs = dict(conn.execute("SELECT state, COUNT(*) FROM runs GROUP BY state").fetchall())
    tasks = dict(conn.execute("SELECT state, COUNT(*) FROM tasks GROUP BY state").fetchall())
    return runs, tasks


def list_tasks(conn: Conn, run_id: int, states: Collection[TaskState] | None) -> list[Task]:
    """The run's tasks in creation order, optionally only those in `states`."""
    if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
        raise NotFoundError(f"run #{run_id} does not exist", data={"runId": run_id})
    if states is None:
        return many(conn, Task, SELECT_TASK + " WHERE t.run_id = ? ORDER BY t.id", (run_id,))
    values = sorted(s.value for s in states)
    if not values:
        return []
    marks = ",".join("?" * len(values))
    sql = SELECT_TASK + f" WHERE t.run_id = ? AND t.state IN ({marks}) ORDER BY t.id"
    return many(conn, Task, sql, (run_id, *values))


def list_attempts(conn: Conn, task_id: int) -> list[Attempt]:
    """A task's attempts, first to last."""
    return many(
        conn, Attempt, SELECT_ATTEMPT + " WHERE a.task_id = ? ORDER BY a.number", (task_id,)
    )


def events_since(
    conn: Conn, after: int, limit: int, run_id: int | None
) -> tuple[list[Event], bool]:
    """Up to `limit` events with seq > after, and whether more follow."""
    if run_id is None:
        sql = SELECT_EVENT + " WHERE e.seq > ? ORDER BY e.seq LIMIT ?"
        params: tuple[int, ...] = (after, limit + 1)
    else:
        sql = SELECT_EVENT + " WHERE e.run_id = ? AND e.seq > ? ORDER BY e.seq LIMIT ?"
        params = (run_id, after, limit + 1)
    events = many(conn, Event, sql, params)
    return events[:limit], len(events) > limit


def transcript(
    conn: Conn, task_id: int, attempt: int | None, after_id: int, limit: int
) -> tuple[list[Message], bool]:
    """A page of a task's transcript (one attempt, or all), and whether more follow."""
    if attempt is None:
        sql = SELECT_MESSAGE + " WHERE m.task_id = ? AND m.id > ? ORDER BY m.id LIMIT ?"
        params: tuple[int, ...] = (task_id, after_id, limit + 1)
    else:
        sql = (
            SELECT_MESSAGE
            + " WHERE m.task_id = ? AND m.attempt = ? AND m.id > ? ORDER BY m.id LIMIT ?"
        )
        params = (task_id, attempt, after_id, limit + 1)
    messages = many(conn, Message, sql, params)
    return messages[:limit], len(messages) > limit


def recorded_calls(conn: Conn, run_id: int) -> list[RecordedCall]:
    """Every recorded model call of a run, in recording order."""
    return many(conn, RecordedCall, SELECT_CALL + " WHERE c.run_id = ? ORDER BY c.id", (run_id,))


def journal_get(conn: Conn, kind: str, key: str) -> dict[str, Any] | None:
    """One journal entry's data, or None."""
    row = conn.execute("SELECT data FROM journal WHERE kind = ? AND key = ?", (kind, key))
    found = row.fetchone()
    if found is None:
        return None
    data: dict[str, Any] = json.loads(found[0])
    return data


def journal_list(conn: Conn, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Every journal entry of a kind, by key."""
    rows = conn.execute("SELECT key, data FROM journal WHERE kind = ? ORDER BY key", (kind,))
    return [(key, json.loads(data)) for key, data in rows]
