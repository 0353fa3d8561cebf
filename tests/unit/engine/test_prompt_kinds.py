"""Prompts say what they are, and a retry that cannot succeed unchanged is not taken
blindly (issue 20 item 9: "the model cannot be used" was an `ask_human` with no
choices, and a client answering questions by itself looped 1,598 attempts on it)."""

from __future__ import annotations

import pytest
from bosun.agents.api import AttemptReport, AttemptRequest
from bosun.board.errors import InvalidBoardInputError
from bosun.tools.context import SubtaskSpec
from bosun_protocol.engine import PromptKind, ResolveAction, ResolveTaskParams
from bosun_protocol.entities import AttemptOutcome, Profile, RunState, TaskState

from .scripted import EngineFactory, ScriptedRunner, Step, ask, finish, plan

_S = TaskState


def _sub(key: str) -> SubtaskSpec:
    return SubtaskSpec(key=key, title=f"task {key}", profile=Profile.CODER)


def unusable(kind: str, why: str) -> Step:
    """An attempt that ends as the worker loop ends on a failure only a person can fix."""

    async def step(req: AttemptRequest) -> AttemptReport:
        return AttemptReport(
            outcome=AttemptOutcome.ERROR, error=why, needs_human=why, human_kind=kind
        )

    return step


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        (PromptKind.MODEL_UNUSABLE, "the model cannot be used: key refused; set OPENAI_API_KEY"),
        (PromptKind.SETUP_FAILED, "the worktree's set-up `make env` exited 2"),
    ],
)
async def test_a_failure_only_a_person_can_fix_is_its_own_kind_without_a_blind_retry(
    harness: EngineFactory, kind: PromptKind, why: str
) -> None:
    runner = ScriptedRunner(steps={"director": [plan(_sub("x"))], "x": [unusable(kind, why)]})
    h = await harness(runner)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.WAITING_HUMAN})
    [prompt] = h.engine.humans.queue(run.id)
    assert prompt.kind is kind and prompt.kind is not PromptKind.ASK_HUMAN
    assert prompt.choices == [] and prompt.fix_first
    assert ResolveAction.SPAWN not in prompt.options
    # What an auto-answering client did: retry, nothing said, nothing changed.
    with pytest.raises(InvalidBoardInputError) as refused:
        await h.engine.humans.resolve(ResolveTaskParams(task_id=x.id, action=ResolveAction.RETRY))
    assert "would fail the same way" in refused.value.message
    assert (await h.store.get_task(x.id)).state is _S.WAITING_HUMAN
    assert len(await h.store.list_attempts(x.id)) == 1  # no attempt spent on it


async def test_a_retry_after_a_settings_change_or_saying_what_was_fixed_goes_on(
    harness: EngineFactory,
) -> None:
    why = "the model cannot be used: unknown model gpt-nope"
    runner = ScriptedRunner(
        steps={
            "director": [plan(_sub("x"), _sub("y"))],
            "x": [unusable("model_unusable", why), finish()],
            "y": [unusable("model_unusable", why), finish()],
        }
    )
    h = await harness(runner)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.WAITING_HUMAN})
    y = await h.wait_task(run.id, "y", {_S.WAITING_HUMAN})
    h.engine.update_settings(h.engine.settings)  # config.toml reloaded (the model fixed)
    await h.engine.humans.resolve(ResolveTaskParams(task_id=x.id, action=ResolveAction.RETRY))
    await h.engine.humans.resolve(
        ResolveTaskParams(
            task_id=y.id, action=ResolveAction.RETRY, guidance="set the key in my environment"
        )
    )
    await h.wait_run(run.id, {RunState.COMPLETED})


async def test_an_agents_question_is_still_ask_human_with_its_choices(
    harness: EngineFactory,
) -> None:
    runner = ScriptedRunner(steps={"director": [plan(_sub("x"))], "x": [ask("which?"), finish()]})
    h = await harness(runner)
    run = await h.run()
    x = await h.wait_task(run.id, "x", {_S.WAITING_HUMAN})
    [prompt] = h.engine.humans.queue(run.id)
    assert prompt.kind is PromptKind.ASK_HUMAN and prompt.fix_first is None
    await h.engine.humans.resolve(ResolveTaskParams(task_id=x.id, action=ResolveAction.RETRY))
    await h.wait_run(run.id, {RunState.COMPLETED})
