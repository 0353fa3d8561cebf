"""What a human's answer does to a task: retry, abandon (with its cascade), spawn a
replacement, and interrupting a task on request.

Abandoning never leaves a dependent silently blocked: every unfinished task that waited
for the abandoned one is put in front of a human (`dependency_abandoned`), where retry
means "go on without it". A spawned replacement takes over the original's dependents
(their edges move to it in one board write each), then the original is abandoned with
nobody left waiting for it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bosun_protocol.engine import HumanPrompt, PromptKind, ResolveTaskParams, ResolveTaskResult
from bosun_protocol.engine import ResolveAction as A
from bosun_protocol.entities import Task, TaskState
from pydantic import BaseModel

from bosun.board.models import TaskSpec
from bosun.engine.end_causes import CAUSE, REPLACED
from bosun.errors import ConflictError, InvalidTransitionError, NotFoundError

if TYPE_CHECKING:
    from bosun.engine.core import Engine

log = logging.getLogger(__name__)
_S = TaskState
_INTERRUPTIBLE = frozenset({_S.PLANNED, _S.READY, _S.FAILED, _S.AWAITING_QA, _S.AWAITING_REVIEW})


class _Edits(BaseModel):
    description: str | None = None
    acceptance_criteria: list[str] | None = None


class Decisions:
    """Task-level human decisions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def decide(
        self, prompt: HumanPrompt, params: ResolveTaskParams, by: str
    ) -> ResolveTaskResult:
        """Apply retry / abandon / spawn to the prompt's task."""
        assert prompt.task_id is not None
        if params.action is A.RETRY:
            return ResolveTaskResult(task=await self.retry(prompt.task_id, params, prompt.kind, by))
        if params.action is A.SPAWN:
            old, new = await self.spawn(prompt.task_id, params, by)
            return ResolveTaskResult(task=old, spawned=new)
        task = await self.abandon(prompt.task_id, _S.WAITING_HUMAN, f"abandoned by {by}")
        return ResolveTaskResult(task=task)

    async def _edit(self, task: Task, params: ResolveTaskParams) -> Task:
        edits = _Edits(
            description=params.description, acceptance_criteria=params.acceptance_criteria
        )
        fields = edits.model_dump(exclude_none=True)
        if fields:
            return await self.engine.store.edit_task(task.id, **fields)
        return task

    async def retry(
        self, task_id: int, params: ResolveTaskParams, kind: PromptKind, by: str
    ) -> Task:
        """Run the task again, with a fresh retry allowance and the human's changes."""
        e = self.engine
        task = await self._edit(await e.store.get_task(task_id), params)
        gone = [d for d in task.dependencies if self._state(d) is _S.ABANDONED]
        if gone:
            task = await e.store.edit_task(task_id, remove_dependencies=gone)
        notes = await e.phoenix.notes(task_id)
        notes.granted_at = task.attempt
        if params.guidance:
            notes.guidance = params.guidance
        if kind is PromptKind.MERGE_CONFLICT:
            notes.reset_next = True  # redo the work on the run's current head
        await e.phoenix.save_notes(task_id, notes)
        to = _S.READY if e.graph.deps_complete(task_id) else _S.PLANNED
        return await e.store.transition(
            task_id,
            expected=_S.WAITING_HUMAN,
            to=to,
            reason=None,
            event_data={"by": by, "action": "retry"},
        )

    def _state(self, task_id: int) -> TaskState | None:
        node = self.engine.graph.nodes.get(task_id)
        return node.state if node is not None else None

    async def abandon(
        self, task_id: int, expected: TaskState, reason: str, holder: str | None = None
    ) -> Task:
        """Abandon the task, then ask a human about each dependent left waiting for it."""
        e = self.engine
        task = await e.store.transition(
            task_id, expected=expected, to=_S.ABANDONED, holder=holder, reason=reason
        )
        await e.merging.on_abandoned(task)
        await self.cascade(task, reason)
        return task

    async def cascade(self, task: Task, reason: str) -> None:
        """Each open dependent in planned/ready goes to a human (never silently blocked)."""
        e = self.engine
        for dep_id in e.graph.open_dependents(task.id):
            state = self._state(dep_id)
            if state not in (_S.PLANNED, _S.READY):
                continue  # already with a human, or running on a dependency added late
            why = (
                f"task #{task.id} ({task.key}), which this task depends on, was abandoned "
                f"({reason}). Retry goes on without it; abandon gives this task up too."
            )
            await e.humans.ask(
                dep_id,
                PromptKind.DEPENDENCY_ABANDONED,
                why,
                [A.RETRY, A.ABANDON, A.SPAWN],
                expected=state,
            )

    async def spawn(self, task_id: int, params: ResolveTaskParams, by: str) -> tuple[Task, Task]:
        """A replacement task that takes over the original's dependents."""
        e = self.engine
        task = await e.store.get_task(task_id)
        if task.state is not _S.WAITING_HUMAN:
            raise InvalidTransitionError(f"task {task_id} is {task.state.value}, not waiting")
        key = await self._free_key(task.run_id, task.key)
        deps = [d for d in task.dependencies if self._state(d) is not _S.ABANDONED]
        dep_keys = [(await e.store.get_task(d)).key for d in deps]
        spec = TaskSpec(
            key=key,
            title=task.title,
            description=params.description or task.description,
            profile=task.profile,
            phase=task.phase,
            depends_on=dep_keys,
            acceptance_criteria=params.acceptance_criteria or task.acceptance_criteria,
            max_retries=task.max_retries,
            parent_id=task.parent_id,
        )
        [new] = await e.store.create_tasks(task.run_id, [spec])
        if params.guidance:
            notes = await e.phoenix.notes(new.id)
            notes.guidance = params.guidance
            await e.phoenix.save_notes(new.id, notes)
        for dependent in e.graph.open_dependents(task.id):
            await e.store.edit_task(
                dependent, add_dependencies=[new.id], remove_dependencies=[task.id]
            )
        old = await e.store.transition(
            task.id,
            expected=_S.WAITING_HUMAN,
            to=_S.ABANDONED,
            reason=f"replaced by task #{new.id} ({new.key}) by {by}",
            event_data={CAUSE: REPLACED, "replacement": new.id},
        )
        return old, await e.store.get_task(new.id)

    async def _free_key(self, run_id: int, key: str) -> str:
        for n in range(2, 1000):
            candidate = f"{key[:190]}-r{n}"
            try:
                await self.engine.store.get_task_by_key(run_id, candidate)
            except NotFoundError:
                return candidate
        raise ConflictError(f"no free key for a replacement of {key}")

    async def interrupt(self, task_id: int, reason: str) -> Task:
        """Stop the task now (killing its attempt) and put it in front of a human."""
        e = self.engine
        handle = e.active.get(task_id)
        if handle is not None:
            handle.stop("interrupt", reason)
            e.humans.withdraw_approvals(task_id)
            await asyncio.wait_for(handle.finished.wait(), e.settings.cancel_grace_s + 30)
            task = await e.store.get_task(task_id)
            if task.state is not _S.WAITING_HUMAN:
                # The attempt got past its last stop check first (QA's verdict was in and
                # the merge under way): nothing was interrupted, and the caller is told.
                raise InvalidTransitionError(
                    f"task {task_id} finished before the interrupt took effect (it is "
                    f"{task.state.value} now); nothing was interrupted",
                    data={"state": task.state.value},
                )
            return task
        task = await e.store.get_task(task_id)
        if task.state not in _INTERRUPTIBLE:
            raise InvalidTransitionError(
                f"task {task_id} is {task.state.value}; only unfinished tasks that are not "
                "already waiting for a human can be interrupted",
                data={"state": task.state.value},
            )
        asked = await e.humans.ask(
            task_id,
            PromptKind.INTERRUPTED,
            reason,
            [A.RETRY, A.ABANDON, A.SPAWN],
            expected=task.state,
        )
        if asked is None:
            raise ConflictError(f"task {task_id} changed while being interrupted; try again")
        return asked
