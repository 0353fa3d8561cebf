"""A run recorded against a (fake) provider through its real SDK replays exactly, offline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage, ModelRequest, ToolSpec
from bosun.llm.model import CallContext
from bosun.llm.settings import LlmSettings
from bosun_protocol.entities import RunOptions

from tests.fakes.llm_settings import fake_settings
from tests.fakes.replies import FakeProvider, FakeReply, FakeToolCall, fault, text


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "board.db", boot_id="replay-test")
    yield s
    await s.close()


async def test_a_recorded_provider_run_replays_exactly(fake: FakeProvider, store: Store) -> None:
    run = await store.create_run("objective", RunOptions())
    [task] = await store.create_tasks(run.id, [TaskSpec(key="k", title="K")])
    await store.start_attempt(task.id, 1)
    tools = [ToolSpec(name="write_file", parameters={"type": "object"})]
    conversation = [ChatMessage.system("rules"), ChatMessage.user("start")]
    fake.push(
        FakeReply(text="writing", tool_calls=[FakeToolCall.of("write_file", {"path": "a"})]),
        fault("server"),  # a retry in the recording does not change what is replayed
        text("done", cached_tokens=3),
    )
    live = ModelGateway(fake_settings(fake), store)
    answers = []
    for turn in (1, 2):
        ctx = CallContext(role="coder", run_id=run.id, task_id=task.id, task_key="k", turn=turn)
        response = await live.complete(ModelRequest(messages=conversation, tools=tools), ctx)
        answers.append(response)
        conversation = [*conversation, response.message()]
        for call in response.tool_calls:
            conversation.append(ChatMessage.tool(call, "ok"))
    await live.aclose()

    replay = ModelGateway(LlmSettings(default_model=f"replay:{run.id}"), recordings=store)
    conversation = [ChatMessage.system("rules"), ChatMessage.user("start")]
    for turn, expected in zip((1, 2), answers, strict=True):
        ctx = CallContext(role="coder", task_key="k", turn=turn)
        again = await replay.complete(ModelRequest(messages=conversation, tools=tools), ctx)
        assert again.model_dump(exclude={"model"}) == expected.model_dump(exclude={"model"})
        conversation = [*conversation, again.message()]
        for call in again.tool_calls:
            conversation.append(ChatMessage.tool(call, "ok"))
    assert len(fake.requests) == 3  # the replay sent nothing to the provider
