"""Each provider fault, through both real SDKs against a fake server, handled as specified."""

from __future__ import annotations

import asyncio

import pytest
from bosun.errors import BosunError
from bosun.llm.clock import ManualClock
from bosun.llm.errors import (
    AuthenticationError,
    BadRequestError,
    ContextTooLongError,
    QuotaExceededError,
    TransientError,
)
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage, Delta, ModelRequest, ToolSpec
from bosun.llm.model import CallContext
from bosun.llm.retry import CONTINUE_AFTER_CUT
from bosun.secrets import redact

from tests.fakes.llm_settings import FAKE_KEYS, provider_of
from tests.fakes.replies import FakeProvider, FakeReply, FakeToolCall, fault, text, tool_call

CTX = CallContext(role="coder", task_key="t1")


def ask(content: str = "hello") -> ModelRequest:
    return ModelRequest(
        messages=[ChatMessage.system("be brief"), ChatMessage.user(content)],
        tools=[ToolSpec(name="read_file", parameters={"type": "object"})],
        max_tokens=64,
    )


async def test_streamed_text_reaches_the_listener_piece_by_piece(
    fake: FakeProvider, gateway: ModelGateway
) -> None:
    fake.push(text("hello there, world", input_tokens=12, output_tokens=7, cached_tokens=2))
    seen: list[Delta] = []
    response = await gateway.complete(ask(), CTX, on_delta=seen.append)
    assert response.text == "hello there, world"
    assert [d.text for d in seen if d.kind == "text"] == ["hell", "o th", "ere,", " wor", "ld"]
    assert response.usage.input_tokens == 12
    assert response.usage.output_tokens == 7
    assert response.usage.cached_tokens == 2
    assert response.stop_reason == "end"


async def test_tool_calls_come_back_parsed_and_the_tools_were_sent(
    fake: FakeProvider, gateway: ModelGateway
) -> None:
    fake.push(tool_call("read_file", {"path": "src/a.py"}))
    response = await gateway.complete(ask(), CTX)
    assert response.stop_reason == "tool_calls"
    [call] = response.tool_calls
    assert (call.name, call.arguments, call.error) == ("read_file", {"path": "src/a.py"}, None)
    body = fake.bodies()[0]
    assert [t.get("name") or t["function"]["name"] for t in body["tools"]] == ["read_file"]


async def test_malformed_tool_arguments_are_kept_and_named_not_raised(
    fake: FakeProvider, gateway: ModelGateway
) -> None:
    fake.push(FakeReply(text="", tool_calls=[FakeToolCall("write_file", '{"path": "a.py", ')]))
    response = await gateway.complete(ask(), CTX)
    [call] = response.tool_calls
    assert call.error is not None
    assert "not JSON" in call.error
    assert call.raw_arguments == '{"path": "a.py", '
    # Sent back in the next turn, the malformed call is accepted by the provider as is.
    follow = ask()
    follow.messages += [response.message(), ChatMessage.tool(call, "bad arguments", is_error=True)]
    fake.push(text("sorry"))
    assert (await gateway.complete(follow, CTX)).text == "sorry"


async def test_rate_limit_waits_exactly_what_retry_after_says(
    fake: FakeProvider, gateway: ModelGateway, clock: ManualClock
) -> None:
    fake.push(fault("rate_limit", retry_after=7), text("after the wait"))
    response = await gateway.complete(ask(), CTX)
    assert response.text == "after the wait"
    assert len(fake.requests) == 2
    assert clock.sleeps == [7.0]


@pytest.mark.parametrize(
    ("kind", "status"), [("server", 500), ("overloaded", 529), ("server", 502)]
)
async def test_server_errors_and_overload_are_retried_with_backoff(
    fake: FakeProvider, gateway: ModelGateway, clock: ManualClock, kind: str, status: int
) -> None:
    fake.push(fault(kind, status=status), fault(kind, status=status), text("third time"))
    response = await gateway.complete(ask(), CTX)
    assert response.text == "third time"
    assert len(fake.requests) == 3
    assert len(clock.sleeps) == 2
    assert clock.sleeps[1] > clock.sleeps[0]  # exponential


async def test_every_retry_is_ours_the_sdk_sends_each_request_once(
    fake: FakeProvider, gateway: ModelGateway
) -> None:
    fake.push(*(fault("server") for _ in range(10)))
    with pytest.raises(TransientError, match="gave up after 4 tries"):
        await gateway.complete(ask(), CTX)
    assert len(fake.requests) == 4  # max_attempts; the SDK added none of its own
    assert all(r.headers.get("x-stainless-retry-count", "0") == "0" for r in fake.requests)


async def test_no_first_token_within_the_deadline_is_retried(
    fake: FakeProvider, gateway: ModelGateway
) -> None:
    fake.push(text("too late", first_token_delay=30), text("in time"))
    response = await gateway.complete(ask(), CTX)
    assert response.text == "in time"
    assert len(fake.requests) == 2


async def test_a_stream_cut_midway_keeps_its_partial_output_for_the_next_try(
    fake: FakeProvider, gateway: ModelGateway
) -> None:
    # Events before the cut: OpenAI role + 3 text chunks; Anthropic start, ping, block, 2 deltas.
    cut = 4 if provider_of(fake) == "openai" else 5
    fake.push(text("abcdefghijklmnopqrstuvwxyz", cut_after=cut), text("mnop… done"))
    seen: list[Delta] = []
    response = await gateway.complete(ask(), CTX, on_delta=seen.append)
    expected = "abcdefghijkl" if provider_of(fake) == "openai" else "abcdefgh"
    assert response.partials == [expected]
    assert response.text == "mnop… done"
    assert any(d.kind == "retry" for d in seen)
    retried = fake.bodies()[1]["messages"]
    contents = [
        m["content"] if isinstance(m["content"], str) else m["content"][0]["text"] for m in retried
    ]
    assert contents[-2:] == [expected, CONTINUE_AFTER_CUT]


async def test_an_error_event_inside_the_stream_is_transient_and_keeps_the_partial(
    fake: FakeProvider, gateway: ModelGateway
) -> None:
    cut = 4 if provider_of(fake) == "openai" else 5
    broken = text("abcdefghijklmnopqrstuvwxyz", cut_after=cut, stream_fault="overloaded")
    fake.push(broken, text("recovered"))
    response = await gateway.complete(ask(), CTX)
    assert response.text == "recovered"
    assert len(response.partials) == 1
    assert response.partials[0].startswith("abcdefgh")
    assert len(fake.requests) == 2


async def test_garbage_in_the_stream_is_retried_not_crashed_on(
    fake: FakeProvider, gateway: ModelGateway
) -> None:
    fake.push(text("abcdefgh", cut_after=2, garbage=True), text("clean"))
    response = await gateway.complete(ask(), CTX)
    assert response.text == "clean"
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("kind", "error", "words"),
    [
        ("auth", AuthenticationError, "llm.providers.{p}.api_key or {env}"),
        ("quota", QuotaExceededError, "quota or spend limit reached"),
        ("context", ContextTooLongError, "too long for the model"),
        ("bad_request", BadRequestError, "refused the request with HTTP 400"),
    ],
)
async def test_permanent_failures_are_not_retried_and_say_what_to_fix(
    fake: FakeProvider,
    gateway: ModelGateway,
    kind: str,
    error: type[BosunError],
    words: str,
) -> None:
    provider = provider_of(fake)
    fake.push(fault(kind), text("never reached"))
    with pytest.raises(error) as caught:
        await gateway.complete(ask(), CTX)
    env = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}[provider]
    assert words.format(p=provider, env=env) in caught.value.message
    assert provider in caught.value.message
    assert len(fake.requests) == 1


async def test_the_api_key_is_sent_and_known_as_a_secret(
    fake: FakeProvider, gateway: ModelGateway
) -> None:
    await gateway.complete(ask(), CTX)
    key = FAKE_KEYS[provider_of(fake)]
    headers = fake.requests[0].headers
    assert key in (headers.get("authorization", "") + headers.get("x-api-key", ""))
    assert redact(f"key={key}") == "key=[REDACTED]"


async def test_cancelling_a_call_midway_releases_its_slot_and_connection(
    fake: FakeProvider, gateway: ModelGateway
) -> None:
    gateway.retrying.settings = gateway.settings.retry.model_copy(
        update={"first_token_timeout": 60.0}
    )
    fake.push(text("never seen", first_token_delay=60))
    call = asyncio.create_task(gateway.complete(ask(), CTX))
    await fake.received.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    limiter = gateway.limiter(provider_of(fake))
    assert (limiter.in_flight, limiter.waiting) == (0, 0)
    fake.release.set()
    fake.push(text("next one fine"))
    assert (await gateway.complete(ask(), CTX)).text == "next one fine"
