"""A client's edit of a task as one write: dependencies and fields, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bosun_protocol.entities import Task, TaskState

from bosun.board import task_writes
from bosun.board.writer import WriteTx
from bosun.errors import InvalidStateError

NOT_STARTED = frozenset({TaskState.PLANNED, TaskState.READY})


def edit_task(
    tx: WriteTx,
    task_id: int,
    add: Sequence[int],
    remove: Sequence[int],
    columns: dict[str, Any],
) -> Task:
    """Remove, then add dependencies, then change fields; any refusal undoes all of it.
    The profile changes only while the task has not started.

    Removals go first so that an edit which swaps one dependency for another is judged
    on the graph it produces, not on the one in between.
    """
    task = task_writes.load_task(tx.conn, task_id)
    if "profile" in columns and (task.state not in NOT_STARTED or task.attempt > 0):
        # The profile picks the agent, its tools and its prompt: changing it under an
        # attempt's feet (or between attempts that build on each other) is not an edit.
        raise InvalidStateError(
            f"task {task_id} is {task.state.value} (attempt {task.attempt}); its profile "
            "can change only before it starts"
        )
    for dep in remove:
        task = task_writes.remove_dependency(tx, task_id, dep)
    for dep in add:
        task = task_writes.add_dependency(tx, task_id, dep)
    if columns:
        task = task_writes.update_task(tx, task_id, "task.edited", {}, columns)
    return task
