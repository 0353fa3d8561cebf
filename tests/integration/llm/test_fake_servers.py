"""The fake providers also answer non-streamed requests, for tests that use the SDKs directly."""

from __future__ import annotations

import anthropic
import openai
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from tests.fakes.fake_anthropic import FakeAnthropic
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.replies import FakeReply, FakeToolCall


async def test_openai_fake_answers_whole_completions_with_tool_calls() -> None:
    async with FakeOpenAI() as fake:
        fake.push(FakeReply(text="hi", tool_calls=[FakeToolCall.of("ls", {"dir": "."})]))
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key="sk-x-12345678", max_retries=0)
        done = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hello"}]
        )
        await client.close()
    message = done.choices[0].message
    assert message.content == "hi"
    assert message.tool_calls is not None
    call = message.tool_calls[0]
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert call.function.arguments == '{"dir": "."}'
    assert done.usage is not None
    assert done.usage.prompt_tokens == 10
    assert fake.bodies()[0]["messages"][0]["content"] == "hello"


async def test_anthropic_fake_answers_whole_messages_with_tool_use() -> None:
    async with FakeAnthropic() as fake:
        fake.push(FakeReply(text="hi", tool_calls=[FakeToolCall.of("ls", {"dir": "."})]))
        client = anthropic.AsyncAnthropic(
            base_url=fake.base_url, api_key="sk-x-12345678", max_retries=0
        )
        done = await client.messages.create(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "hello"}]
        )
        await client.close()
    assert [b.type for b in done.content] == ["text", "tool_use"]
    assert done.stop_reason == "tool_use"
    assert done.usage.input_tokens == 10
