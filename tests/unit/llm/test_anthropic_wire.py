"""Anthropic's wire form: where `cache_control` breakpoints land once neighbours merge."""

from __future__ import annotations

from typing import Any

from bosun.llm.anthropic_wire import convert, mark_cache_breakpoints
from bosun.llm.messages import ChatMessage, ToolCall


def _turn(i: int) -> list[ChatMessage]:
    call = ToolCall(id=f"c{i}", name="read_file", arguments={"path": f"f{i}"})
    return [ChatMessage.assistant(f"reading {i}", [call]), ChatMessage.tool(call, f"body {i}")]


MESSAGES = [
    ChatMessage.system("rules"),
    ChatMessage.user("the brief"),
    ChatMessage.user("[Earlier in this attempt: …]"),  # merges into the brief's user turn
    *_turn(1),
    *_turn(2),
    *_turn(3),
]


def _marked(messages: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [
        (m, b)
        for m, message in enumerate(messages)
        for b, block in enumerate(message["content"])
        if "cache_control" in block
    ]


def test_marks_land_on_the_last_block_of_each_marked_message_even_when_merged() -> None:
    wire = convert(MESSAGES)
    system, messages = mark_cache_breakpoints(wire, [1, 6])  # brief, archive end (tool 2)
    assert system[0]["cache_control"] == {"type": "ephemeral"}
    # brief = message 0 block 0 (the note after it merged into the same turn), the
    # archive's end = the result of call 2 (message 4 block 0), the last message's block.
    assert _marked(messages) == [(0, 0), (4, 0), (6, 0)]
    assert messages[4]["content"][0]["tool_use_id"] == "c2"


def test_no_marks_means_the_first_message_and_the_last() -> None:
    _system, messages = mark_cache_breakpoints(convert(MESSAGES), [])
    assert _marked(messages) == [(0, 0), (6, 0)]


def test_never_more_than_four_breakpoints_and_the_newest_marks_win() -> None:
    system, messages = mark_cache_breakpoints(convert(MESSAGES), [1, 2, 3, 4, 5, 6])
    assert len(system) + len(_marked(messages)) == 4
    assert _marked(messages) == [(3, 1), (4, 0), (6, 0)]  # the answer ends with its call


def test_a_mark_past_the_end_or_on_the_system_prompt_is_ignored() -> None:
    system, messages = mark_cache_breakpoints(convert(MESSAGES), [0, 99])
    assert len(system) == 1
    assert _marked(messages) == [(6, 0)]
