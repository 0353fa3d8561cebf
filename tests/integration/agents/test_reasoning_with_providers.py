"""Reasoning models through the real SDK adapters: Anthropic extended thinking kept,
signed, across tool turns as the API requires; OpenAI reasoning effort sent; reasoning
tokens counted and priced on the board."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from anthropic import AsyncAnthropic, BadRequestError
from bosun.agents.settings import AgentSettings
from bosun.llm.settings import Price, ReasoningSettings
from bosun_protocol.entities import AttemptOutcome

from tests.fakes.fake_anthropic import FakeAnthropic, signature_of
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.llm_settings import fake_settings
from tests.fakes.replies import FakeReply, FakeToolCall

PRICE = Price(input=3.0, output=15.0)


def _thinking_call(thought: str, name: str, **args: Any) -> FakeReply:
    return FakeReply(text="", thinking=thought, tool_calls=[FakeToolCall.of(name, args)],
                     output_tokens=200)  # fmt: skip


def _coder_thinks(tokens: int) -> ReasoningSettings:
    return ReasoningSettings.model_validate({"roles": {"coder": {"thinking_tokens": tokens}}})


async def test_thinking_blocks_survive_a_tool_turn(harness_factory: Callable[..., Any]) -> None:
    h = await harness_factory("")
    task = await h.task()
    first, second = "The README says what the project is; read it.", "It is read; done."
    async with FakeAnthropic() as fake:
        fake.push(
            _thinking_call(first, "read_file", path="README.md"),
            _thinking_call(second, "finish", summary="read it"),
        )
        settings = fake_settings(fake, prices={"anthropic:fake-model": PRICE},
                                 reasoning=_coder_thinks(2_048))  # fmt: skip
        report = await h.agents(settings).run_attempt(h.request(task))

    # The fake refuses, as the API does, a tool turn whose answer lost or changed its
    # signed thinking block: the attempt finishing is the proof it came back intact.
    assert report.outcome is AttemptOutcome.FINISHED, report.error
    bodies = fake.bodies()
    assert len(bodies) == 2
    assert bodies[0]["thinking"] == {"type": "enabled", "budget_tokens": 2_048}
    assert bodies[0]["max_tokens"] == 4_096 + 2_048  # thinking comes on top of the answer
    assert "temperature" not in bodies[0]
    answer = next(m for m in bodies[1]["messages"] if m["role"] == "assistant")
    assert answer["content"][0] == {
        "type": "thinking", "thinking": first, "signature": signature_of(first)
    }  # fmt: skip
    assert answer["content"][1]["type"] == "tool_use"
    cost = (await h.store.get_task(task.id)).cost
    assert 0 < cost.reasoning_tokens <= cost.output_tokens == 400
    assert cost.usd is not None
    assert abs(cost.usd - (cost.input_tokens * 3.0 + 400 * 15.0) / 1e6) < 1e-12


async def test_a_thinking_block_lost_on_a_tool_turn_is_refused_by_the_fake_as_by_the_api() -> None:
    async with FakeAnthropic() as fake:
        client = AsyncAnthropic(base_url=fake.base_url, api_key="sk-ant-x", max_retries=0)
        call = {"type": "tool_use", "id": "t1", "name": "read_file", "input": {}}
        result = {"type": "tool_result", "tool_use_id": "t1", "content": "text"}
        messages: list[Any] = [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [result]},
        ]
        thinking: Any = {"type": "enabled", "budget_tokens": 1_024}
        for content, said in (
            ([call], "must start with a thinking block"),  # dropped
            ([{"type": "thinking", "thinking": "changed", "signature": signature_of("x")}, call],
             "Invalid `signature`"),  # changed
        ):  # fmt: skip
            messages[1]["content"] = content
            with pytest.raises(BadRequestError, match=said):
                await client.messages.create(model="fake-model", max_tokens=2_048,
                                             messages=messages, thinking=thinking)  # fmt: skip
        await client.close()


async def test_compaction_drops_old_thinking_but_keeps_the_newest_turns(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory("")
    task = await h.task()
    worktree = Path(task.worktree or "")
    for i in range(8):
        (worktree / f"f{i}.py").write_text("x = 1\n" * 600)
    thought = "Keep reading, one file after the other. " * 40
    async with FakeAnthropic() as fake:
        fake.push(*(_thinking_call(thought, "read_file", path=f"f{i}.py") for i in range(8)))
        fake.push(_thinking_call(thought, "finish", summary="read them all"))
        settings = fake_settings(fake, reasoning=_coder_thinks(1_024))
        small = AgentSettings(context_chars=30_000, compact_at_chars=9_000, compact_to_chars=4_000)
        report = await h.agents(settings, small).run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.FINISHED, report.error
    last = fake.bodies()[-1]["messages"]
    answers = [m for m in last if m["role"] == "assistant"]
    kept = [m for m in answers if m["content"][0]["type"] == "thinking"]
    assert kept and len(kept) < len(answers)  # older answers' reasoning left the context


async def test_openai_reasoning_effort_is_sent_and_reasoning_tokens_priced(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory("")
    task = await h.task()
    price = Price(input=2.0, output=8.0)
    async with FakeOpenAI() as fake:
        reply = FakeReply(text="", tool_calls=[FakeToolCall.of("finish", {"summary": "ok"})],
                          input_tokens=1_000, output_tokens=700, reasoning_tokens=600)  # fmt: skip
        fake.push(reply)
        reasoning = ReasoningSettings.model_validate({"roles": {"coder": {"effort": "high"}}})
        settings = fake_settings(fake, prices={"openai:fake-model": price}, reasoning=reasoning)
        report = await h.agents(settings).run_attempt(h.request(task))

    assert report.outcome is AttemptOutcome.FINISHED, report.error
    body = fake.bodies()[0]
    assert body["reasoning_effort"] == "high"
    assert "thinking" not in body
    cost = (await h.store.get_task(task.id)).cost
    assert (cost.reasoning_tokens, cost.output_tokens) == (600, 700)
    assert cost.usd is not None
    assert abs(cost.usd - (1_000 * 2.0 + 700 * 8.0) / 1e6) < 1e-12  # reasoning is output


async def test_a_role_without_reasoning_settings_sends_none(
    harness_factory: Callable[..., Any],
) -> None:
    h = await harness_factory("")
    task = await h.task()
    async with FakeOpenAI() as fake:
        fake.push(FakeReply(text="", tool_calls=[FakeToolCall.of("finish", {"summary": "ok"})]))
        reasoning = ReasoningSettings.model_validate({"roles": {"strategist": {"effort": "low"}}})
        report = await h.agents(fake_settings(fake, reasoning=reasoning)).run_attempt(
            h.request(task)
        )
    assert report.outcome is AttemptOutcome.FINISHED, report.error
    assert "reasoning_effort" not in fake.bodies()[0]
