"""A person's edits of a live run's plan that need the engine: dropping a task.

Dependencies, titles, descriptions, criteria and (before a task starts) its profile
are board edits (`bosun/updateTask`); the scheduler reacts to them as to any change.
Dropping a task is more: it must not have started, and its dependents must not be left
waiting for a task that will never run. It is abandoned first (a compare-and-swap on
its state, so a task dispatched meanwhile is refused and nothing changes), then its
dependents are either rewired, waiting for what it waited for instead (`rewire`, the
default), or dropped with it (`drop`, each of them unstarted too). No human prompt
follows, unlike an abandon: the person who dropped it already decided.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bosun_protocol.engine import DropTaskParams, DropTaskResult
from bosun_protocol.entities import Task, TaskState

from bosun.engine.end_causes import CAUSE, DROPPED
from bosun.engine.graph import TERMINAL
from bosun.engine.lifecycle import LIVE
from bosun.errors import InvalidStateError

if TYPE_CHECKING:
    from bosun.engine.core import Engine

_S = TaskState
NOT_STARTED = frozenset({_S.PLANNED, _S.READY})


class PlanEdits:
    """Plan changes that are more than a board edit."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _startable(self, task: Task) -> bool:
        return task.state in NOT_STARTED and task.attempt == 0 and task.id not in self.engine.active

    async def drop(self, params: DropTaskParams, by: str) -> DropTaskResult:
        """Drop a task that has not started; rewire or drop its open dependents."""
        e = self.engine
        task = await e.store.get_task(params.task_id)
        run = await e.store.get_run(task.run_id)
        if run.state not in LIVE:
            raise InvalidStateError(
                f"run {run.id} is {run.state.value}; only a live run's plan can change"
            )
        if not self._startable(task):
            raise InvalidStateError(
                f"task {task.id} ({task.key}) is {task.state.value} at attempt {task.attempt}: "
                "only a task that has not started can be dropped (`bosun interrupt` stops an "
                "active one, `bosun resolve TASK abandon` gives one up)"
            )
        tasks = {t.id: t for t in await e.store.list_tasks(run.id)}
        dependents: dict[int, list[int]] = {i: [] for i in tasks}
        for t in tasks.values():
            for d in t.dependencies:
                if d in dependents and t.state not in TERMINAL:
                    dependents[d].append(t.id)
        doomed = [task.id]
        if params.dependents == "drop":
            for current in doomed:  # grows as it goes: everything downstream
                doomed += [d for d in sorted(dependents[current]) if d not in doomed]
            started = [tasks[i] for i in doomed[1:] if not self._startable(tasks[i])]
            if started:
                shown = ", ".join(f"#{t.id} {t.key} ({t.state.value})" for t in started[:8])
                raise InvalidStateError(
                    f"cannot drop task {task.id} ({task.key}) with its dependents: these have "
                    f"started: {shown}; drop it with --dependents rewire, or deal with them first"
                )
        dropped = []
        for i in doomed:
            why = params.reason
            if i != task.id:
                why = f"dropped with task #{task.id} ({task.key}), which it depended on"
            data = {"by": by, "dropped": True, CAUSE: DROPPED}
            moved = await e.store.transition(
                i, expected=tasks[i].state, to=_S.ABANDONED, reason=why, event_data=data
            )
            dropped.append(moved)
        rewired = []
        if params.dependents == "rewire":
            for d in sorted(dependents[task.id]):
                add = [x for x in task.dependencies if x not in tasks[d].dependencies]
                rewired.append(
                    await e.store.edit_task(d, add_dependencies=add, remove_dependencies=[task.id])
                )
        return DropTaskResult(dropped=dropped, rewired=rewired)
