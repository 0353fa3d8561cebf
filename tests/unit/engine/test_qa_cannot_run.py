"""Tests that cannot run ask a human once and burn neither QA retries nor attempts."""

from __future__ import annotations

from bosun.tools.context import SubtaskSpec
from bosun_protocol.engine import PromptKind, ResolveAction, ResolveTaskParams
from bosun_protocol.entities import AttemptOutcome, Profile, RunState, TaskState

from .scripted import EngineFactory, ScriptedRunner, plan


async def test_tests_that_cannot_run_wait_for_a_human_once_with_no_retry_spent(
    harness: EngineFactory,
) -> None:
    x = SubtaskSpec(key="x", title="task x", profile=Profile.CODER)
    runner = ScriptedRunner(steps={"director": [plan(x)]}, qa_cannot_run={"x": 1})
    # No retries at all: a counted failure would send it to `retries_spent` instead.
    h = await harness(runner, max_retries=0, qa_retries=2)
    run = await h.run()
    task = await h.wait_task(run.id, "x", {TaskState.WAITING_HUMAN})

    [prompt] = h.engine.humans.queue(run.id)
    assert prompt.kind is PromptKind.TESTS_CANNOT_RUN
    assert "No module named pytest" in prompt.reason
    assert [r.task.key for r in runner.qa_requests].count("x") == 1  # QA not retried
    [attempt] = await h.store.list_attempts(task.id)
    assert attempt.outcome is AttemptOutcome.FINISHED
    assert "could not run" in (attempt.error or "")

    await h.engine.humans.resolve(
        ResolveTaskParams(task_id=task.id, action=ResolveAction.RETRY, guidance="pytest is in")
    )
    await h.wait_run(run.id, {RunState.COMPLETED})
    outcomes = [a.outcome for a in await h.store.list_attempts(task.id)]
    assert outcomes == [AttemptOutcome.FINISHED, AttemptOutcome.QA_PASSED]
