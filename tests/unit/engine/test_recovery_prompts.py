"""Recovery of prompts that were open when the daemon died: none vanishes silently."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.engine.humans import PROMPTS
from bosun.engine.recovery import EXPIRED
from bosun_protocol.engine import HumanPrompt, PromptKind, ResolveAction, ToolApprovalInfo
from bosun_protocol.entities import AttemptOutcome, Lease, RunState, Task, TaskState

from .scripted import Harness, ScriptedRunner

_S = TaskState


async def _task(store: Store, *, active: bool) -> Task:
    run = await store.create_run("crash with a prompt open", None)
    await store.update_run(run.id, event="t", state=RunState.RUNNING)
    [task] = await store.create_tasks(run.id, [TaskSpec(key="x", title="x")])
    task = await store.transition(task.id, expected=_S.PLANNED, to=_S.READY)
    if active:  # leased by a daemon that is gone, its attempt open
        lease = Lease(boot_id="dead-boot", holder="dead-boot:x:1", acquired_at=datetime.now(UTC))
        task = await store.transition(
            task.id, expected=_S.READY, to=_S.ACTIVE, lease=lease, attempt=1
        )
        await store.start_attempt(task.id, 1)
    return task


async def _journal(store: Store, task: Task, kind: PromptKind, **fields: object) -> HumanPrompt:
    prompt = HumanPrompt(
        prompt_id=f"p-{kind.value}",
        run_id=task.run_id,
        task_id=task.id,
        kind=kind,
        reason="asked before the crash",
        options=[ResolveAction.APPROVE, ResolveAction.DENY],
        created_at=datetime.now(UTC),
        **fields,
    )
    await store.journal_put(PROMPTS, prompt.prompt_id, prompt.model_dump(mode="json"))
    return prompt


async def _closing_notes(store: Store, prompt_id: str) -> list[tuple[object, object]]:
    """(by, action) of every human.answered event about the prompt."""
    events, _ = await store.events_since(0, 10_000)
    return [
        (e.data["by"], e.data["action"])
        for e in events
        if e.kind == "human.answered" and e.data["promptId"] == prompt_id
    ]


async def test_tool_approval_open_at_a_crash_is_expired_with_a_notice_and_the_attempt_counted(
    harness: Callable[..., Awaitable[Harness]], store: Store
) -> None:
    task = await _task(store, active=True)
    info = ToolApprovalInfo(tool="run_command", arguments={}, rule="ask", attempt=1)
    prompt = await _journal(store, task, PromptKind.TOOL_APPROVAL, approval=info)
    h = await harness(ScriptedRunner())
    await h.wait_run(task.run_id, {RunState.COMPLETED})
    assert await _closing_notes(store, prompt.prompt_id) == [(EXPIRED, "deny")]
    assert await store.journal_list(PROMPTS) == []
    assert h.engine.humans.queue() == []
    outcomes = [a.outcome for a in await store.list_attempts(task.id)]
    assert outcomes == [AttemptOutcome.CRASHED, AttemptOutcome.QA_PASSED]


async def test_a_prompt_whose_task_moved_on_is_closed_with_a_notice_not_dropped(
    harness: Callable[..., Awaitable[Harness]], store: Store
) -> None:
    task = await _task(store, active=False)  # ready: nothing waits for this answer
    prompt = await _journal(store, task, PromptKind.NEEDS_HUMAN)
    h = await harness(ScriptedRunner())
    await h.wait_run(task.run_id, {RunState.COMPLETED})
    assert await _closing_notes(store, prompt.prompt_id) == [(EXPIRED, "abandon")]
    assert h.engine.humans.queue() == []
