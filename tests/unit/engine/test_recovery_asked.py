"""An attempt's question survives a crash at any point of its ending: it is journaled
(with how to close the attempt) before the attempt is closed, and recovery puts it to a
human exactly once instead of failing the task and retrying it blind."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from bosun import failpoints
from bosun.agents.api import QAReport, QARequest
from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.engine.humans import CLOSING, PROMPTS
from bosun.tools.context import SubtaskSpec
from bosun_protocol.engine import HumanPrompt, PromptKind, ResolveAction, ResolveTaskParams
from bosun_protocol.entities import AttemptOutcome, Lease, Profile, RunState, Task, TaskState

from .scripted import EngineFactory, Harness, ScriptedRunner, ask, finish, plan

_S = TaskState
_O = AttemptOutcome
CLOSED_AS = {
    "outcome": "interrupted",
    "error": "waiting for a human's answer",
    "summary": "looked at the README",
    "files": ["README.md"],
}


async def _asked_before_the_crash(
    store: Store, *, attempt_closed: bool, in_qa: bool = False
) -> HumanPrompt:
    """The board as a crash leaves it once the question is journaled: task active,
    leased by a dead daemon — or, `in_qa`, awaiting QA (no lease: that ends with active)
    and interrupted by a human — with attempt 1 open (or already closed)."""
    run = await store.create_run("crash while asking", None)
    await store.update_run(run.id, event="t", state=RunState.RUNNING)
    [task] = await store.create_tasks(run.id, [TaskSpec(key="x", title="x")])
    await store.transition(task.id, expected=_S.PLANNED, to=_S.READY)
    lease = Lease(boot_id="dead-boot", holder="dead-boot:x:1", acquired_at=datetime.now(UTC))
    await store.transition(task.id, expected=_S.READY, to=_S.ACTIVE, lease=lease, attempt=1)
    await store.start_attempt(task.id, 1)
    if in_qa:
        await store.transition(task.id, expected=_S.ACTIVE, to=_S.AWAITING_QA)
    if attempt_closed:
        await store.finish_attempt(task.id, 1, _O.INTERRUPTED, summary="looked at the README")
    prompt = HumanPrompt(
        prompt_id="p-qa" if in_qa else "p-asked",
        run_id=run.id,
        task_id=task.id,
        kind=PromptKind.INTERRUPTED if in_qa else PromptKind.ASK_HUMAN,
        reason="stop: the README is not the point" if in_qa else "which README section?",
        options=[ResolveAction.RETRY, ResolveAction.ABANDON, ResolveAction.SPAWN],
        created_at=datetime.now(UTC),
    )
    entry = {**prompt.model_dump(mode="json"), CLOSING: CLOSED_AS}
    await store.journal_put(PROMPTS, prompt.prompt_id, entry)
    return prompt


def _journal_when_closed_as_interrupted(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[dict[str, Any], ...]]:
    """What the prompt journal holds each time an attempt is closed as interrupted."""
    seen: list[tuple[dict[str, Any], ...]] = []
    real = store.finish_attempt

    async def finish_attempt(task_id: int, number: int, outcome: _O, **kw: Any) -> Any:
        if outcome is _O.INTERRUPTED:
            seen.append(tuple(data for _, data in await store.journal_list(PROMPTS)))
        return await real(task_id, number, outcome, **kw)

    monkeypatch.setattr(store, "finish_attempt", finish_attempt)
    return seen


async def _retry_completes_having_asked_once(
    h: Harness, store: Store, prompt: HumanPrompt, task_id: int
) -> None:
    """Answer retry: the run completes, the answer reached attempt 2, the question was
    announced once and answered once, and nothing is left in the journal."""
    answer = ResolveTaskParams(prompt_id=prompt.prompt_id, action=ResolveAction.RETRY)
    await h.engine.humans.resolve(answer)
    await h.wait_run(prompt.run_id, {RunState.COMPLETED})
    outcomes = [a.outcome for a in await store.list_attempts(task_id)]
    assert outcomes == [_O.INTERRUPTED, _O.QA_PASSED]
    assert await _prompt_events(store, prompt.prompt_id) == ["human.prompt", "human.answered"]
    assert await store.journal_list(PROMPTS) == []


async def _prompt_events(store: Store, prompt_id: str) -> list[str]:
    events, _ = await store.events_since(0, 10_000)
    return [
        e.kind
        for e in events
        if e.kind in ("human.prompt", "human.answered") and e.data.get("promptId") == prompt_id
    ]


@pytest.mark.parametrize("attempt_closed", [False, True], ids=["attempt-open", "attempt-closed"])
async def test_a_question_journaled_before_the_crash_waits_for_a_human_once_after_restart(
    harness: EngineFactory, store: Store, attempt_closed: bool
) -> None:
    prompt = await _asked_before_the_crash(store, attempt_closed=attempt_closed)
    assert prompt.task_id is not None
    h = await harness(ScriptedRunner())
    task = await h.wait_task(prompt.run_id, "x", {_S.WAITING_HUMAN})
    assert task.reason == prompt.reason
    assert [p.prompt_id for p in h.engine.humans.queue(prompt.run_id)] == [prompt.prompt_id]
    [first] = await store.list_attempts(task.id)
    # closed as the engine would have closed it, not as crashed
    assert first.outcome is _O.INTERRUPTED
    assert first.summary == "looked at the README"
    await _retry_completes_having_asked_once(h, store, prompt, task.id)


async def test_an_agents_question_is_journaled_before_its_attempt_is_closed(
    harness: EngineFactory, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = SubtaskSpec(key="x", title="task x", profile=Profile.CODER)
    runner = ScriptedRunner(steps={"director": [plan(sub)], "x": [ask("which db?"), finish()]})
    seen = _journal_when_closed_as_interrupted(store, monkeypatch)
    h = await harness(runner)
    run = await h.run()
    x: Task = await h.wait_task(run.id, "x", {_S.WAITING_HUMAN})
    [(entry,)] = seen
    assert entry["reason"] == "which db?" and entry["task_id"] == x.id
    assert entry[CLOSING]["outcome"] == _O.INTERRUPTED.value
    [prompt] = h.engine.humans.queue(run.id)
    assert prompt.reason == "which db?"


def test_a_labelled_failpoint_fires_only_at_hits_carrying_its_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    killed: list[int] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: killed.append(sig))
    monkeypatch.setenv("BOSUN_FAILPOINTS", "engine.attempt.finished@interrupted")
    failpoints.reset_for_tests()
    try:
        failpoints.failpoint("engine.attempt.finished", "finished")
        failpoints.failpoint("engine.attempt.finished")
        failpoints.failpoint("engine.human.asked", "interrupted")
        assert killed == []
        failpoints.failpoint("engine.attempt.finished", "interrupted")
        assert len(killed) == 1
        monkeypatch.setenv("BOSUN_FAILPOINTS", "engine.attempt.finished")
        failpoints.reset_for_tests()
        failpoints.failpoint("engine.attempt.finished", "finished")  # unlabelled: every hit
        assert len(killed) == 2
    finally:
        monkeypatch.delenv("BOSUN_FAILPOINTS")
        failpoints.reset_for_tests()


@pytest.mark.parametrize("attempt_closed", [False, True], ids=["attempt-open", "attempt-closed"])
async def test_a_humans_interrupt_during_qa_journaled_before_the_crash_is_asked_once_after_restart(
    harness: EngineFactory, store: Store, attempt_closed: bool
) -> None:
    prompt = await _asked_before_the_crash(store, attempt_closed=attempt_closed, in_qa=True)
    runner = ScriptedRunner()
    h = await harness(runner)
    task = await h.wait_task(prompt.run_id, "x", {_S.WAITING_HUMAN})
    assert task.reason == prompt.reason
    assert [p.prompt_id for p in h.engine.humans.queue(prompt.run_id)] == [prompt.prompt_id]
    assert runner.qa_requests == []  # not judged again: the human said stop
    [first] = await store.list_attempts(task.id)
    assert first.outcome is _O.INTERRUPTED
    await _retry_completes_having_asked_once(h, store, prompt, task.id)


class _QAThatWaits(ScriptedRunner):
    """QA of task x that runs until it is told to stop."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.judging = asyncio.Event()

    async def run_qa(self, request: QARequest) -> QAReport:
        if request.task.key == "x":
            self.judging.set()
            await request.cancel.wait()  # as a real QA run does: it stops when told
        return await super().run_qa(request)


async def test_a_humans_interrupt_during_qa_is_journaled_before_the_attempt_is_closed(
    harness: EngineFactory, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = SubtaskSpec(key="x", title="task x", profile=Profile.CODER)
    runner = _QAThatWaits(steps={"director": [plan(sub)], "x": [finish()]})
    seen = _journal_when_closed_as_interrupted(store, monkeypatch)
    h = await harness(runner)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.AWAITING_QA})
    await runner.judging.wait()
    task = await h.engine.decisions.interrupt(x.id, "not like this")
    assert task.state is _S.WAITING_HUMAN
    [(entry,)] = seen
    assert entry["reason"] == "not like this" and entry["kind"] == PromptKind.INTERRUPTED.value
    assert entry[CLOSING]["outcome"] == _O.INTERRUPTED.value
    [prompt] = h.engine.humans.queue(run.id)
    assert prompt.reason == "not like this"
    [attempt] = await store.list_attempts(x.id)
    assert attempt.outcome is _O.INTERRUPTED
