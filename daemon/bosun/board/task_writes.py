"""Write ops on tasks: creation, state transitions (compare-and-swap), edits, edges.

Each function runs inside the writer's transaction (see writer.py) and returns what the
caller gets; raising rolls back only that request.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from bosun_protocol.entities import Lease, Task, TaskState

from bosun.board.codec import SELECT_TASK, dump, many, one
from bosun.board.dialect import Conn
from bosun.board.errors import InvalidBoardInputError
from bosun.board.fields import assignments
from bosun.board.graph import labels, path_between, refuse_cycle, run_edges
from bosun.board.models import UNSET, TaskSpec, Unset
from bosun.board.writer import Deferred, WriteTx
from bosun.errors import ConflictError, DependencyCycleError, NotFoundError


def load_task(conn: Conn, task_id: int) -> Task:
    """The task, or NotFoundError."""
    task = one(conn, Task, SELECT_TASK + " WHERE t.id = ?", (task_id,))
    if task is None:
        raise NotFoundError(f"task #{task_id} does not exist", data={"taskId": task_id})
    return task


def require_run(conn: Conn, run_id: int) -> None:
    """NotFoundError unless the run exists."""
    if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
        raise NotFoundError(f"run #{run_id} does not exist", data={"runId": run_id})


def create_tasks(tx: WriteTx, run_id: int, specs: Sequence[TaskSpec]) -> list[Task]:
    """Insert a batch of tasks and their dependencies, all or nothing."""
    conn = tx.conn
    require_run(conn, run_id)
    ids: dict[str, int] = dict(
        conn.execute("SELECT key, id FROM tasks WHERE run_id = ?", (run_id,))
    )
    seen: set[str] = set()
    for spec in specs:
        if spec.key in ids or spec.key in seen:
            raise InvalidBoardInputError(
                f"run #{run_id} already has a task with key {spec.key!r}", data={"key": spec.key}
            )
        seen.add(spec.key)
        if spec.parent_id is not None:
            parent = conn.execute("SELECT run_id FROM tasks WHERE id = ?", (spec.parent_id,))
            row = parent.fetchone()
            if row is None or row[0] != run_id:
                raise NotFoundError(
                    f"task {spec.key!r}: parent #{spec.parent_id} is not a task of run #{run_id}"
                )
    stamp = tx.stamp
    created: list[int] = []
    for spec in specs:
        cur = conn.execute(
            "INSERT INTO tasks (run_id, key, title, description, profile, phase, "
            "acceptance_criteria, state, attempt, max_retries, parent_id, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
            (
                run_id,
                spec.key,
                spec.title,
                spec.description,
                spec.profile.value,
                spec.phase,
                dump(spec.acceptance_criteria),
                TaskState.PLANNED.value,
                spec.max_retries,
                spec.parent_id,
                stamp,
                stamp,
            ),
        )
        assert cur.lastrowid is not None
        ids[spec.key] = cur.lastrowid
        created.append(cur.lastrowid)
    for spec in specs:
        for dep in dict.fromkeys(spec.depends_on):
            if dep not in ids:
                raise NotFoundError(
                    f"task {spec.key!r} depends on {dep!r}, which is not a task of run #{run_id}",
                    data={"key": spec.key, "dependsOn": dep},
                )
            conn.execute(
                "INSERT INTO dependencies (task_id, depends_on_id) VALUES (?, ?)",
                (ids[spec.key], ids[dep]),
            )
    refuse_cycle(conn, run_edges(conn, run_id))
    marks = ",".join("?" * len(created))
    tasks = many(conn, Task, SELECT_TASK + f" WHERE t.id IN ({marks}) ORDER BY t.id", created)
    for task in tasks:
        tx.emit(
            "task.created",
            run_id=run_id,
            task_id=task.id,
            data={"key": task.key, "state": task.state},
            task=task,
        )
    return tasks


def transition(
    tx: WriteTx,
    task_id: int,
    expected: TaskState,
    to: TaskState,
    holder: str | None,
    lease: Lease | Unset | None,
    event_data: dict[str, Any],
    columns: dict[str, Any],
) -> Deferred[Task]:
    """Compare-and-swap the task's state (and lease holder when given) and record it.

    A deferred op (writer.py): on a server its one statement goes out with the rest of
    the batch's, and its answer is read after they all went."""
    sets: dict[str, Any] = {"state": to.value, "updated_at": tx.stamp, **columns}
    if lease is UNSET:
        if to is not TaskState.ACTIVE:
            # A lease means "someone is working on it": it ends when the task leaves active.
            sets["lease"] = sets["lease_holder"] = None
    else:
        sets["lease"] = None if lease is None else dump(lease)
        sets["lease_holder"] = None if lease is None else lease.holder
    params = [*sets.values(), task_id, expected.value]
    if holder is not None:
        params.append(holder)
    if tx.dialect.transition_sql is not None:
        return (
            yield from _one_statement(
                tx, task_id, expected, to, holder, event_data, columns, sets, params
            )
        )
    # Measured: UPDATE + SELECT is ~16 µs here, UPDATE … RETURNING the same JSON ~27 µs.
    cur = tx.conn.execute(_cas_sql(tuple(sets), holder is not None), params)
    if cur.rowcount != 1:
        raise _lost(tx.conn, task_id, expected, holder)
    task = load_task(tx.conn, task_id)
    # Plain values only (Store.transition made event_data plain): see WriteTx.emit.
    data = {**event_data, "from": expected.value, "to": to.value, "attempt": task.attempt}
    if task.reason is not None and "reason" in columns:
        data["reason"] = task.reason
    tx.emit(
        "task.transition", run_id=task.run_id, task_id=task_id, data=data, task=task, plain=True
    )
    return task


def _one_statement(
    tx: WriteTx,
    task_id: int,
    expected: TaskState,
    to: TaskState,
    holder: str | None,
    event_data: dict[str, Any],
    columns: dict[str, Any],
    sets: dict[str, Any],
    params: list[Any],
) -> Deferred[Task]:
    """`transition` as the dialect's one statement (a server's round trips: Dialect)."""
    build = tx.dialect.transition_sql
    assert build is not None
    with_reason = "reason" in columns
    sql = build(tuple(sets), holder is not None, with_reason)
    data = {**event_data, "from": expected.value, "to": to.value}
    cur = tx.conn.execute(sql, [*params, tx.stamp, dump(data)])
    yield  # sent; the answer is read once the batch's other statements went too
    row = cur.fetchone()
    if row is None:
        raise _lost(tx.conn, task_id, expected, holder)
    task = Task.model_validate_json(row[0])
    data["attempt"] = task.attempt
    if with_reason and task.reason is not None:
        data["reason"] = task.reason
    tx.recorded(row[1], "task.transition", task.run_id, task_id, data, task=task)
    return task


@lru_cache(maxsize=256)
def _cas_sql(columns: tuple[str, ...], with_holder: bool) -> str:
    """The compare-and-swap UPDATE; the same few texts recur, so build each once."""
    text, _ = assignments(dict.fromkeys(columns))
    where = "id = ? AND state = ?" + (" AND lease_holder = ?" if with_holder else "")
    return f"UPDATE tasks SET {text} WHERE {where}"


def _lost(conn: Conn, task_id: int, expected: TaskState, holder: str | None) -> Exception:
    row = conn.execute("SELECT state, lease_holder FROM tasks WHERE id = ?", (task_id,)).fetchone()
    if row is None:
        return NotFoundError(f"task #{task_id} does not exist", data={"taskId": task_id})
    state, actual_holder = row
    wanted = expected.value + (f" held by {holder}" if holder is not None else "")
    found = state + (f" held by {actual_holder}" if actual_holder else "")
    return ConflictError(
        f"task #{task_id} is {found}, not {wanted}: it changed first; re-read it and retry",
        data={
            "taskId": task_id,
            "expected": expected.value,
            "actual": state,
            "holder": actual_holder,
        },
    )


def update_task(
    tx: WriteTx, task_id: int, event: str, data: dict[str, Any], columns: dict[str, Any]
) -> Task:
    """Change non-state fields of a task and record `event`."""
    text, params = assignments({**columns, "updated_at": tx.stamp})
    cur = tx.conn.execute(f"UPDATE tasks SET {text} WHERE id = ?", [*params, task_id])
    if cur.rowcount != 1:
        raise NotFoundError(f"task #{task_id} does not exist", data={"taskId": task_id})
    task = load_task(tx.conn, task_id)
    body = {**data, "fields": sorted(columns)}
    tx.emit(event, run_id=task.run_id, task_id=task_id, data=body, task=task)
    return task


def add_dependency(tx: WriteTx, task_id: int, depends_on_id: int) -> Task:
    """Make task_id wait for depends_on_id, refusing self, cross-run and cycles."""
    conn = tx.conn
    task = load_task(conn, task_id)
    target = load_task(conn, depends_on_id)
    if target.run_id != task.run_id:
        raise InvalidBoardInputError(
            f"task #{task_id} (run #{task.run_id}) cannot depend on task #{depends_on_id} "
            f"of another run (#{target.run_id})",
            data={"taskId": task_id, "dependsOn": depends_on_id},
        )
    if depends_on_id in task.dependencies:
        return task
    back = path_between(run_edges(conn, task.run_id), depends_on_id, task_id)
    if task_id == depends_on_id or back is not None:
        cycle = [task_id, *(back or [task_id])]
        raise DependencyCycleError(cycle, labels(conn, cycle))
    conn.execute(
        "INSERT INTO dependencies (task_id, depends_on_id) VALUES (?, ?)", (task_id, depends_on_id)
    )
    return _edge_changed(tx, task_id, depends_on_id, "task.dependency_added")


def remove_dependency(tx: WriteTx, task_id: int, depends_on_id: int) -> Task:
    """Stop task_id waiting for depends_on_id."""
    cur = tx.conn.execute(
        "DELETE FROM dependencies WHERE task_id = ? AND depends_on_id = ?", (task_id, depends_on_id)
    )
    if cur.rowcount != 1:
        load_task(tx.conn, task_id)
        raise NotFoundError(
            f"task #{task_id} does not depend on task #{depends_on_id}",
            data={"taskId": task_id, "dependsOn": depends_on_id},
        )
    return _edge_changed(tx, task_id, depends_on_id, "task.dependency_removed")


def _edge_changed(tx: WriteTx, task_id: int, depends_on_id: int, kind: str) -> Task:
    tx.conn.execute("UPDATE tasks SET updated_at = ? WHERE id = ?", (tx.stamp, task_id))
    task = load_task(tx.conn, task_id)
    data = {"dependsOn": depends_on_id}
    tx.emit(kind, run_id=task.run_id, task_id=task_id, data=data, task=task)
    return task
