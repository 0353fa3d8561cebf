"""Neutral messages and their translation to each provider's form."""

from __future__ import annotations

from bosun.llm.anthropic_wire import to_anthropic
from bosun.llm.classify import retry_after_seconds
from bosun.llm.messages import ChatMessage, ToolCall
from bosun.llm.openai_model import to_openai_messages


def test_tool_call_arguments_parse_or_carry_their_error() -> None:
    good = ToolCall.parse("c1", "read_file", '{"path": "a"}')
    assert (good.arguments, good.error) == ({"path": "a"}, None)
    assert ToolCall.parse("c2", "x", "").arguments == {}
    bad = ToolCall.parse("c3", "x", '{"path": ')
    assert bad.error is not None
    assert bad.wire_arguments() == '{"path": '
    listy = ToolCall.parse("c4", "x", "[1, 2]")
    assert listy.error == "arguments are not a JSON object"


CONVERSATION = [
    ChatMessage.system("rules"),
    ChatMessage.user("do it"),
    ChatMessage.assistant(
        "calling", [ToolCall.parse("c1", "ls", "{}"), ToolCall.parse("c2", "cat", '{"p": 1}')]
    ),
    ChatMessage.tool(ToolCall.parse("c1", "ls", "{}"), "a b"),
    ChatMessage.tool(ToolCall.parse("c2", "cat", "{}"), "no such file", is_error=True),
    ChatMessage.user("and then?"),
]


def test_openai_form_keeps_each_tool_result_as_its_own_message() -> None:
    out = to_openai_messages(CONVERSATION)
    assert [m["role"] for m in out] == ["system", "user", "assistant", "tool", "tool", "user"]
    assert out[2]["tool_calls"][1]["function"] == {"name": "cat", "arguments": '{"p": 1}'}
    assert out[4] == {"role": "tool", "tool_call_id": "c2", "content": "no such file"}


def test_anthropic_form_lifts_system_and_merges_tool_results_into_one_user_turn() -> None:
    system, out = to_anthropic(CONVERSATION)
    assert system == "rules"
    assert [m["role"] for m in out] == ["user", "assistant", "user"]
    results = out[2]["content"]
    assert [b["type"] for b in results] == ["tool_result", "tool_result", "text"]
    assert results[1]["is_error"] is True
    assert out[1]["content"][1] == {"type": "tool_use", "id": "c1", "name": "ls", "input": {}}


def test_retry_after_reads_milliseconds_seconds_and_dates() -> None:
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
