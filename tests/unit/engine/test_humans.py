"""Phoenix retries, human prompts and their answers, interrupts, approvals, recovery."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from bosun.agents.api import AttemptReport, AttemptRequest
from bosun.board.store import Store
from bosun.errors import ConflictError
from bosun.tools.context import ApprovalChoice, ApprovalRequest, SubtaskSpec
from bosun_protocol.engine import HumanPrompt, PromptKind, ResolveAction, ResolveTaskParams
from bosun_protocol.entities import AttemptOutcome, Lease, Profile, RunState, TaskState

from .scripted import EngineFactory, Harness, ScriptedRunner, ask, fail, finish, hang, plan

_S = TaskState
_O = AttemptOutcome


def sub(key: str, *deps: str) -> SubtaskSpec:
    return SubtaskSpec(key=key, title=f"task {key}", profile=Profile.CODER, depends_on=list(deps))


def open_prompt(h: Harness, task_id: int) -> HumanPrompt:
    """The task's open prompt, which the test expects to be there."""
    prompt = h.engine.humans.task_prompt(task_id)
    assert prompt is not None, f"no open prompt about task {task_id}"
    return prompt


async def test_failed_attempts_retry_with_history_of_what_went_wrong(
    harness: EngineFactory,
) -> None:
    runner = ScriptedRunner(
        steps={"director": [plan(sub("x"))], "x": [fail("boom one"), finish()]},
        qa_fail={"x": 1},
    )
    h = await harness(runner)
    run = await h.run()
    await h.wait_run(run.id, {RunState.COMPLETED})
    x = await h.store.get_task_by_key(run.id, "x")
    outcomes = [a.outcome for a in await h.store.list_attempts(x.id)]
    assert outcomes == [_O.ERROR, _O.QA_FAILED, _O.QA_PASSED]
    third = runner.requests["x"][2]
    assert "boom one" in third.history and "QA FAIL: tests pass" in third.history
    assert runner.requests["x"][0].history == ""


async def test_spent_retries_ask_a_human_and_retry_brings_guidance(harness: EngineFactory) -> None:
    runner = ScriptedRunner(steps={"director": [plan(sub("x"))], "x": [fail(), fail(), finish()]})
    h = await harness(runner, max_retries=1)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.WAITING_HUMAN})
    assert "retries are spent" in (x.reason or "")
    [prompt] = h.engine.humans.queue(run.id)
    assert prompt.kind is PromptKind.RETRIES_SPENT and prompt.task_id == x.id
    await h.engine.humans.resolve(
        ResolveTaskParams(task_id=x.id, action=ResolveAction.RETRY, guidance="use the cache")
    )
    await h.wait_run(run.id, {RunState.COMPLETED})
    assert runner.requests["x"][-1].guidance == "use the cache"
    assert h.engine.humans.queue(run.id) == []


async def test_first_answer_wins_and_the_second_is_told_who_answered(
    harness: EngineFactory,
) -> None:
    runner = ScriptedRunner(steps={"director": [plan(sub("x"))], "x": [ask("which db?"), finish()]})
    h = await harness(runner)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.WAITING_HUMAN})
    [prompt] = h.engine.humans.queue(run.id)
    assert prompt.kind is PromptKind.ASK_HUMAN and prompt.reason == "which db?"
    first = ResolveTaskParams(prompt_id=prompt.prompt_id, action=ResolveAction.RETRY, by="alice")
    second = ResolveTaskParams(prompt_id=prompt.prompt_id, action=ResolveAction.ABANDON, by="bob")
    results = await asyncio.gather(
        h.engine.humans.resolve(first), h.engine.humans.resolve(second), return_exceptions=True
    )
    assert not isinstance(results[0], BaseException)
    assert isinstance(results[1], ConflictError) and "alice" in results[1].message
    await h.wait_run(run.id, {RunState.COMPLETED})
    assert (await h.store.get_task(x.id)).state is _S.COMPLETE


async def test_abandon_sends_dependents_to_a_human_never_silently_blocked(
    harness: EngineFactory,
) -> None:
    runner = ScriptedRunner(steps={"director": [plan(sub("x"), sub("y", "x"))], "x": [ask("?")]})
    h = await harness(runner)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.WAITING_HUMAN})
    await h.engine.humans.resolve(ResolveTaskParams(task_id=x.id, action=ResolveAction.ABANDON))
    y = await h.wait_task(run.id, "y", {_S.WAITING_HUMAN})
    assert open_prompt(h, y.id).kind is PromptKind.DEPENDENCY_ABANDONED
    # retry on a dependent means: go on without the abandoned dependency
    await h.engine.humans.resolve(ResolveTaskParams(task_id=y.id, action=ResolveAction.RETRY))
    await h.wait_run(run.id, {RunState.COMPLETED})
    final = await h.store.get_task(y.id)
    assert final.state is _S.COMPLETE and x.id not in final.dependencies


async def test_spawned_replacement_takes_over_the_dependents(harness: EngineFactory) -> None:
    runner = ScriptedRunner(steps={"director": [plan(sub("x"), sub("y", "x"))], "x": [ask("?")]})
    h = await harness(runner)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.WAITING_HUMAN})
    result = await h.engine.humans.resolve(
        ResolveTaskParams(task_id=x.id, action=ResolveAction.SPAWN, description="simpler")
    )
    assert result.spawned is not None and result.spawned.description == "simpler"
    await h.wait_run(run.id, {RunState.COMPLETED})
    y = await h.store.get_task_by_key(run.id, "y")
    assert result.spawned.id in y.dependencies and x.id not in y.dependencies
    assert (await h.store.get_task(x.id)).state is _S.ABANDONED
    assert y.state is _S.COMPLETE


async def test_interrupt_stops_the_attempt_records_it_and_asks(harness: EngineFactory) -> None:
    runner = ScriptedRunner(steps={"director": [plan(sub("x"))], "x": [hang(), finish()]})
    h = await harness(runner)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.ACTIVE})
    await runner.wait_running(1)
    task = await h.engine.decisions.interrupt(x.id, "wrong approach")
    assert task.state is _S.WAITING_HUMAN
    [attempt] = await h.store.list_attempts(x.id)
    assert attempt.outcome is _O.INTERRUPTED
    assert runner.requests["x"][0].cancel.is_set()
    await h.engine.humans.resolve(ResolveTaskParams(task_id=x.id, action=ResolveAction.RETRY))
    await h.wait_run(run.id, {RunState.COMPLETED})


async def test_stalled_attempts_end_as_counted_failures(harness: EngineFactory) -> None:
    runner = ScriptedRunner(steps={"director": [plan(sub("x"))], "x": [hang(), hang(), finish()]})
    # A limit the scripted steps that do not hang stay far below even on a loaded
    # machine (at 0.2 s an event-loop stall of a busy CI host stalled `finish()` too).
    h = await harness(runner, stall_timeout_s=1.5, cancel_grace_s=0.5)
    run = await h.run()
    await h.wait_run(run.id, {RunState.COMPLETED})
    x = await h.store.get_task_by_key(run.id, "x")
    outcomes = [a.outcome for a in await h.store.list_attempts(x.id)]
    assert outcomes == [_O.STALLED, _O.STALLED, _O.QA_PASSED]


async def test_tool_approval_waits_with_the_task_active_until_approved(
    harness: EngineFactory,
) -> None:
    decisions: list[ApprovalChoice] = []

    async def needs_ok(req: AttemptRequest) -> AttemptReport:
        assert req.approver is not None
        decision = await req.approver.request_approval(
            ApprovalRequest(
                run_id=req.run.id, task_id=req.task.id, attempt=req.attempt,
                tool="run_command", arguments={"command": "rm -rf build"}, rule="ask rm",
            )
        )  # fmt: skip
        decisions.append(decision.choice)
        return AttemptReport(outcome=_O.FINISHED, summary="ok")

    runner = ScriptedRunner(steps={"director": [plan(sub("x"))], "x": [needs_ok]})
    h = await harness(runner, stall_timeout_s=0.3)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.ACTIVE})

    async def prompt_open() -> HumanPrompt | None:
        return h.engine.humans.task_prompt(x.id)

    from .scripted import wait_for

    prompt = await wait_for(h.store, prompt_open, 5)
    assert prompt.kind is PromptKind.TOOL_APPROVAL
    assert prompt.approval is not None and prompt.approval.tool == "run_command"
    await asyncio.sleep(0.5)  # longer than the stall limit: waiting for a human is not a stall
    assert (await h.store.get_task(x.id)).state is _S.ACTIVE
    await h.engine.humans.resolve(
        ResolveTaskParams(prompt_id=prompt.prompt_id, action=ResolveAction.APPROVE, always=True)
    )
    await h.wait_run(run.id, {RunState.COMPLETED})
    assert decisions == [ApprovalChoice.ALLOW_ALWAYS]


async def test_an_option_not_offered_is_refused(harness: EngineFactory) -> None:
    runner = ScriptedRunner(steps={"director": [plan(sub("x"))], "x": [ask("?")]})
    h = await harness(runner)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.WAITING_HUMAN})
    with pytest.raises(Exception, match="not an option"):
        await h.engine.humans.resolve(ResolveTaskParams(task_id=x.id, action=ResolveAction.APPROVE))
    assert h.engine.humans.task_prompt(x.id) is not None


async def test_crashed_attempt_counts_and_the_run_completes_after_restart(
    harness: EngineFactory, store: Store
) -> None:
    run = await store.create_run("crash", None)
    await store.update_run(run.id, event="t", state=RunState.RUNNING)
    from bosun.board.models import TaskSpec

    [t] = await store.create_tasks(run.id, [TaskSpec(key="x", title="x", max_retries=1)])
    await store.transition(t.id, expected=_S.PLANNED, to=_S.READY)
    lease = Lease(boot_id="dead-boot", holder="dead-boot:x:1", acquired_at=datetime.now(UTC))
    await store.transition(t.id, expected=_S.READY, to=_S.ACTIVE, lease=lease, attempt=1)
    # no attempt row: the crash came between the lease and opening the attempt
    h = await harness(ScriptedRunner())
    await h.wait_run(run.id, {RunState.COMPLETED})
    outcomes = [a.outcome for a in await store.list_attempts(t.id)]
    assert outcomes == [_O.CRASHED, _O.QA_PASSED]


async def test_a_run_that_crashed_before_its_director_gets_one_on_restart(
    harness: EngineFactory, store: Store
) -> None:
    run = await store.create_run("crashed early", None)
    await store.update_run(run.id, event="t", state=RunState.RUNNING)
    h = await harness(ScriptedRunner())
    done = await h.wait_run(run.id, {RunState.COMPLETED})
    assert [t.key for t in await store.list_tasks(done.id)] == ["director"]


async def test_bad_requests_get_clear_errors_and_change_nothing(harness: EngineFactory) -> None:
    from bosun.errors import InvalidStateError, InvalidTransitionError, NotFoundError

    runner = ScriptedRunner(steps={"director": [plan(sub("x"))]})
    h = await harness(runner)
    run = await h.run()
    await h.wait_run(run.id, {RunState.COMPLETED})
    x = await h.store.get_task_by_key(run.id, "x")
    with pytest.raises(InvalidTransitionError, match="not waiting for a human"):
        await h.engine.humans.resolve(ResolveTaskParams(task_id=x.id, action=ResolveAction.RETRY))
    with pytest.raises(NotFoundError):
        await h.engine.humans.resolve(
            ResolveTaskParams(prompt_id="nope", action=ResolveAction.RETRY)
        )
    with pytest.raises(InvalidTransitionError, match="complete"):
        await h.engine.decisions.interrupt(x.id, "too late")
    for control in (h.engine.lifecycle.pause, h.engine.lifecycle.resume):
        with pytest.raises(InvalidStateError):
            await control(run.id)
    with pytest.raises(InvalidStateError, match="already completed"):
        await h.engine.lifecycle.cancel(run.id, "")
    with pytest.raises(InvalidStateError):
        await h.engine.lifecycle.replan(run.id, "more")
    assert (await h.store.get_task(x.id)).state is _S.COMPLETE


async def test_time_limit_ends_an_attempt_as_timeout_and_it_counts(harness: EngineFactory) -> None:
    runner = ScriptedRunner(steps={"director": [plan(sub("x"))], "x": [hang()]})
    h = await harness(runner, task_time_limit_s=0.2, cancel_grace_s=0.5, max_retries=1)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.WAITING_HUMAN})
    outcomes = [a.outcome for a in await h.store.list_attempts(x.id)]
    assert outcomes == [_O.TIMEOUT, _O.TIMEOUT]
    assert open_prompt(h, x.id).kind is PromptKind.RETRIES_SPENT
    assert all(r.cancel.is_set() for r in runner.requests["x"])  # each was told to stop


async def test_daemon_shutdown_requeues_running_work_without_counting_it(
    harness: EngineFactory,
) -> None:
    runner = ScriptedRunner(steps={"director": [plan(sub("x"))], "x": [hang(), finish()]})
    h = await harness(runner, max_retries=0)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.ACTIVE})
    await runner.wait_running(1)
    await h.engine.stop()
    assert (await h.store.get_task(x.id)).state is _S.READY
    h2 = await harness(runner, max_retries=0)  # the next daemon picks it up
    await h2.wait_run(run.id, {RunState.COMPLETED})
    outcomes = [a.outcome for a in await h.store.list_attempts(x.id)]
    assert outcomes == [_O.INTERRUPTED, _O.QA_PASSED]  # max_retries=0, yet no human needed
