"""Token estimates from characters: conservative, and only where the provider said nothing."""

from __future__ import annotations

from bosun.llm.estimate import estimate_input, estimate_output, with_estimates
from bosun.llm.messages import ChatMessage, ModelRequest, ModelResponse, ToolCall, ToolSpec, Usage


def _request(text: str, calls: list[ToolCall] | None = None) -> ModelRequest:
    messages = [ChatMessage.user(text), ChatMessage.assistant("", calls or [])]
    return ModelRequest(messages=messages, tools=[ToolSpec(name="read_file")])


def test_estimates_count_more_tokens_than_four_characters_a_token() -> None:
    request = _request("y" * 40_000)
    assert estimate_input(request) > 40_000 // 4
    assert estimate_input(request) <= 40_000 // 3


def test_tool_call_arguments_count_toward_the_input() -> None:
    call = ToolCall.parse("c1", "write_file", '{"content": "' + "z" * 70_000 + '"}')
    assert estimate_input(_request("hi", [call])) >= 20_000


def test_missing_counts_are_filled_and_marked_reported_ones_kept() -> None:
    request = _request("a" * 700)
    answer = ModelResponse(text="b" * 350)
    none = with_estimates(Usage(), request, answer)
    assert none.estimated
    assert none.input_tokens == estimate_input(request)
    assert none.output_tokens == estimate_output(answer) == 100
    partial = with_estimates(Usage(input_tokens=7), request, answer)
    assert (partial.input_tokens, partial.output_tokens, partial.estimated) == (7, 100, True)
    full = Usage(input_tokens=7, output_tokens=3)
    assert with_estimates(full, request, answer) is full


def test_an_empty_answer_costs_no_output_tokens() -> None:
    usage = with_estimates(Usage(input_tokens=5), _request("a"), ModelResponse(text=""))
    assert (usage.output_tokens, usage.estimated) == (0, False)
