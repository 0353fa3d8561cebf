"""Restarting a cancelled or failed run: its unfinished work is reopened on the run
branch as it stands, its attempt history and spend kept, under the run's budgets.

An abandoned task never moves again (the board's transitions end there), so each task
to reopen gets a replacement, `KEY-rN`, with the same title, description, profile,
criteria and parent, whose dependencies are the original's: a complete one as it is, a
reopened one as its replacement, any other abandoned one left out. The original's
Phoenix notes (what its attempts learned) go to the replacement, so its first attempt
reads them as history. The run's spend stays on the run, so its budgets bind on the
total.

Which tasks: `from_tasks` and everything downstream of them that was abandoned; or, by
default, every task the run's end abandoned: for a cancelled run, the tasks its last
cancellation abandoned; for a failed one, every abandoned task nobody replaced or
dropped, nor reopened by an earlier restart. Both are read from the cause each
abandoning transition recorded (bosun.engine.end_causes) and the `run.restarted` events,
never from a reason's text.

The run branch is where the replacements start. `bosun gc` removes a finished run's
branch once another branch holds its tip (a run cancelled before anything merged); the
board still records its head, so the branch is recreated there first.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bosun_protocol.entities import Run, RunState, Task, TaskState

from bosun.board.models import TaskSpec
from bosun.engine.end_causes import DROPPED, REPLACED, RUN_CANCELLED, abandon_cause
from bosun.engine.lifecycle import PLANNING_PROFILES
from bosun.errors import InvalidStateError

if TYPE_CHECKING:
    from bosun.board.store import Store
    from bosun.engine.core import Engine

_S = TaskState
RESTARTABLE = frozenset({RunState.CANCELLED, RunState.FAILED})
_EVENT_PAGE = 5000


def _free_key(key: str, taken: set[str]) -> str:
    base = re.sub(r"-r\d+$", "", key)[:190]  # b-r2 reopened again is b-r3
    for n in range(2, 1000):
        candidate = f"{base}-r{n}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise InvalidStateError(f"no free key for a replacement of {key}")


async def _abandon_causes(store: Store, run_id: int) -> tuple[dict[int, tuple[int, str]], int]:
    """Each abandoned task's (event seq, cause) of its abandoning, and the seq of the run's
    last cancellation (0 if none). A task an earlier restart reopened counts as replaced."""
    causes: dict[int, tuple[int, str]] = {}
    cancelled, after, more = 0, 0, True
    while more:
        events, more = await store.events_since(after, _EVENT_PAGE, run_id)
        for ev in events:
            after = ev.seq
            if ev.kind == "run.cancelled":
                cancelled = ev.seq
            elif ev.kind == "run.restarted":  # an earlier restart replaced these
                for old in ev.data.get("reopened") or {}:
                    causes[int(old)] = (ev.seq, REPLACED)
            elif (
                ev.task_id is not None
                and ev.kind == "task.transition"
                and ev.data.get("to") == _S.ABANDONED.value
            ):
                causes[ev.task_id] = (ev.seq, abandon_cause(ev.data) or "")
    return causes, cancelled


def _targets(
    run: Run,
    tasks: dict[int, Task],
    chosen: list[int],
    causes: dict[int, tuple[int, str]],
    cancelled_at: int,
) -> list[Task]:
    """The abandoned tasks to reopen, in id order."""
    abandoned = {i: t for i, t in tasks.items() if t.state is _S.ABANDONED}
    if chosen:
        wrong = [tasks[i] for i in chosen if i in tasks and i not in abandoned]
        unknown = [i for i in chosen if i not in tasks]
        if unknown:
            raise InvalidStateError(f"run {run.id} has no task {unknown[0]}")
        if wrong:
            t = wrong[0]
            raise InvalidStateError(
                f"task {t.id} ({t.key}) is {t.state.value}: only abandoned tasks reopen"
            )
        picked = set(chosen)
        grew = True
        while grew:  # everything downstream that was abandoned with them
            more = {i for i, t in abandoned.items() if picked & set(t.dependencies)}
            grew = not more <= picked
            picked |= more
        return [abandoned[i] for i in sorted(picked)]
    if run.state is RunState.CANCELLED:
        return [
            t
            for i, t in abandoned.items()
            if i in causes and causes[i][1] == RUN_CANCELLED and causes[i][0] > cancelled_at
        ]
    return [t for i, t in abandoned.items() if causes.get(i, (0, ""))[1] not in (REPLACED, DROPPED)]


async def restart(engine: Engine, run_id: int, from_tasks: list[int]) -> tuple[Run, list[Task]]:
    """Reopen the run's unfinished work; the run, now live, and the replacements."""
    e = engine
    run = await e.store.get_run(run_id)
    if run.state not in RESTARTABLE:
        hint = " (`bosun resume` continues a paused run)" if run.state is RunState.PAUSED else ""
        raise InvalidStateError(
            f"run {run_id} is {run.state.value}; only a cancelled or failed run restarts{hint}"
        )
    tasks = {t.id: t for t in await e.store.list_tasks(run_id)}
    causes, cancelled_at = await _abandon_causes(e.store, run_id)
    targets = _targets(run, tasks, from_tasks, causes, cancelled_at)
    if not targets:
        raise InvalidStateError(f"run {run_id} has no abandoned task to reopen")
    run = await e.git.restore_run_branch(run_id)
    taken = {t.key for t in tasks.values()}
    new_key = {t.id: _free_key(t.key, taken) for t in targets}
    specs = []
    for t in targets:
        deps = []
        for d in t.dependencies:
            if d in new_key:
                deps.append(new_key[d])
            elif d in tasks and tasks[d].state is _S.COMPLETE:
                deps.append(tasks[d].key)
        specs.append(
            TaskSpec(
                key=new_key[t.id],
                title=t.title,
                description=t.description,
                profile=t.profile,
                phase=t.phase,
                depends_on=deps,
                acceptance_criteria=t.acceptance_criteria,
                max_retries=t.max_retries,
                parent_id=t.parent_id,
            )
        )
    # Tracked before its tasks are created, so the scheduler sees them; dispatched only
    # once the run's state says so.
    e.runs[run_id] = run
    for task in tasks.values():
        e.graph.apply(task)
    created = await e.store.create_tasks(run_id, specs)
    for old, new in zip(targets, created, strict=True):
        notes = await e.phoenix.notes(old.id)
        await e.phoenix.save_notes(new.id, notes)
    worked = any(t.profile not in PLANNING_PROFILES and t.attempt > 0 for t in tasks.values())
    to = RunState.RUNNING if worked else RunState.PLANNING
    run = await e.store.update_run(
        run_id, event="run.restarted", expected_state=run.state, state=to, reason=None,
        data={"reopened": {str(o.id): n.id for o, n in zip(targets, created, strict=True)}},
    )  # fmt: skip
    e.runs[run_id] = run
    e.dispatcher.pump()
    return run, created
