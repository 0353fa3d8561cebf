"""Phoenix and the watchdog: a retry is told why the attempt before was stopped, and
attempts stopped again and again for the same reason go to a human instead of burning
every retry on the same loop (issue 14: 40 turns × 5 attempts of one `read_file`)."""

from __future__ import annotations

import pytest
from bosun.agents.api import AttemptReport, AttemptRequest
from bosun.board.errors import InvalidBoardInputError
from bosun.tools.context import SubtaskSpec
from bosun_protocol.engine import PromptKind, ResolveAction, ResolveTaskParams
from bosun_protocol.entities import AttemptOutcome, Profile, TaskState

from .scripted import EngineFactory, ScriptedRunner, Step, fail, finish, plan

_LOOP = "looping: `read_file` was called {n} times with the same arguments (README.md)"


def stopped(error: str) -> Step:
    """An attempt that ended stalled with `error`."""

    async def step(req: AttemptRequest) -> AttemptReport:
        return AttemptReport(outcome=AttemptOutcome.STALLED, error=error)

    return step


def stall(reason: str) -> Step:
    """An attempt the watchdog stopped (its reasons end so)."""
    return stopped(f"{reason} (after one warning)")


def _plan() -> Step:
    return plan(SubtaskSpec(key="x", title="x", profile=Profile.CODER))


async def test_two_stalls_for_the_same_reason_ask_a_human_instead_of_a_third_attempt(
    harness: EngineFactory,
) -> None:
    runner = ScriptedRunner(
        steps={
            "director": [_plan()],
            "x": [stall(_LOOP.format(n=3)), stall(_LOOP.format(n=4)), finish()],
        }
    )
    h = await harness(runner)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {TaskState.WAITING_HUMAN})

    assert len(runner.requests["x"]) == 2  # not max_retries + 1 = 5
    [prompt] = h.engine.humans.queue(run.id)
    assert prompt.kind is PromptKind.STALLED_AGAIN
    assert "attempts 1, 2 were each stopped by the watchdog for the same reason" in prompt.reason
    assert "read_file" in prompt.reason
    assert ResolveAction.RETRY in prompt.options and ResolveAction.SPAWN in prompt.options
    history = runner.requests["x"][1].history
    assert "stopped by the watchdog: looping: `read_file` was called 3 times" in history
    assert "take a different approach from the start" in history
    assert x.attempt == 2
    # A blind retry (what an auto-answering client sends) would loop again: refused.
    with pytest.raises(InvalidBoardInputError, match="would fail the same way"):
        await h.engine.humans.resolve(ResolveTaskParams(task_id=x.id, action=ResolveAction.RETRY))
    told = ResolveTaskParams(task_id=x.id, action=ResolveAction.RETRY,
                             guidance="Read README.md once, then edit src/ right away.")  # fmt: skip
    await h.engine.humans.resolve(told)
    await h.wait_task(run.id, "x", {TaskState.COMPLETE})
    assert len(runner.requests["x"]) == 3
    assert "Read README.md once" in (runner.requests["x"][2].guidance or "")


async def test_stalls_for_different_reasons_are_retried_as_usual(harness: EngineFactory) -> None:
    steps = [stall(_LOOP.format(n=3)), stall("no progress: the worktree has not changed"),
             fail("boom"), finish()]  # fmt: skip
    runner = ScriptedRunner(steps={"director": [_plan()], "x": steps})
    h = await harness(runner)
    run = await h.run()
    await h.wait_task(run.id, "x", {TaskState.COMPLETE})
    assert len(runner.requests["x"]) == 4
    assert h.engine.humans.queue(run.id) == []


async def test_stall_repeats_zero_retries_a_stalling_task_until_retries_are_spent(
    harness: EngineFactory,
) -> None:
    runner = ScriptedRunner(steps={"director": [_plan()], "x": [stall(_LOOP.format(n=3))]})
    h = await harness(runner, stall_repeats=0, max_retries=2)
    run = await h.run()
    await h.wait_task(run.id, "x", {TaskState.WAITING_HUMAN})
    [prompt] = h.engine.humans.queue(run.id)
    assert prompt.kind is PromptKind.RETRIES_SPENT
    assert len(runner.requests["x"]) == 3


async def test_attempts_stopped_for_spending_their_budget_twice_ask_a_human(
    harness: EngineFactory,
) -> None:
    over = "attempt budget of 2000000 tokens ({n} used) is spent"
    steps = [stopped(over.format(n=2_000_104)), stopped(over.format(n=2_000_311))]
    runner = ScriptedRunner(steps={"director": [_plan()], "x": steps})
    h = await harness(runner)
    run = await h.run()
    await h.wait_task(run.id, "x", {TaskState.WAITING_HUMAN})
    [prompt] = h.engine.humans.queue(run.id)
    assert prompt.kind is PromptKind.STALLED_AGAIN
    assert len(runner.requests["x"]) == 2


async def test_supervision_stalls_no_sign_of_life_are_retried_as_before(
    harness: EngineFactory,
) -> None:
    lifeless = stopped("no sign of life for 300 s")  # the engine's, not the watchdog's
    runner = ScriptedRunner(steps={"director": [_plan()], "x": [lifeless, lifeless, finish()]})
    h = await harness(runner)
    run = await h.run()
    await h.wait_task(run.id, "x", {TaskState.COMPLETE})
    assert len(runner.requests["x"]) == 3
