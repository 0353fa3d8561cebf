"""Context bounding: old tool output is trimmed, the task and its criteria never are."""

from __future__ import annotations

from bosun.agents.context import ConversationWindow
from bosun.llm.messages import ChatMessage, ToolCall

BRIEF = "# Your task\n## Acceptance criteria\n1. " + "criterion text " * 2000


def _window(budget: int) -> ConversationWindow:
    return ConversationWindow(
        system=ChatMessage.system("system prompt " * 500),
        brief=ChatMessage.user(BRIEF),
        budget_chars=budget,
    )


def _exchange(window: ConversationWindow, turns: int, size: int) -> None:
    for i in range(turns):
        call = ToolCall(id=f"c{i}", name="read_file", arguments={"path": f"f{i}.py"})
        window.add(ChatMessage.assistant(f"reading f{i}", [call]))
        window.add(ChatMessage.tool(call, f"content of f{i} " + "x" * size))


def test_old_tool_output_is_trimmed_to_stay_within_budget() -> None:
    window = _window(budget=40_000)
    _exchange(window, turns=30, size=5_000)

    assert window.size() <= 40_000
    assert window.dropped_turns == 0  # stubs were enough
    assert window.trimmed > 0
    first_output = window.exchange[1].content
    assert first_output.startswith("content of f0")
    assert "trimmed to keep the context bounded" in first_output
    assert window.exchange[-1].content.endswith("x" * 100)  # the newest output is whole


def test_task_and_criteria_are_never_trimmed() -> None:
    window = _window(budget=1_000)
    _exchange(window, turns=20, size=3_000)
    window.compact()

    messages = window.messages()
    assert messages[1].content.startswith(BRIEF)
    assert messages[0].content == "system prompt " * 500


def test_every_tool_call_keeps_its_result_after_trimming() -> None:
    window = _window(budget=1_000)
    _exchange(window, turns=10, size=3_000)
    window.compact()

    calls = [c.id for m in window.exchange for c in m.tool_calls]
    answers = [m.tool_call_id for m in window.exchange if m.role == "tool"]
    assert calls == answers
    assert calls == [f"c{i}" for i in range(10 - len(calls), 10)]  # whole turns, newest kept


def test_compact_shrinks_below_a_quarter_of_the_budget_when_it_can() -> None:
    window = _window(budget=40_000)
    _exchange(window, turns=8, size=4_000)
    before = window.size()
    window.compact()

    assert window.size() < before
    assert window.size() <= 10_000 + 2 * 4_100


def test_small_conversations_are_left_alone() -> None:
    window = _window(budget=100_000)
    _exchange(window, turns=3, size=1_000)

    assert window.trimmed == 0
    assert all("trimmed" not in m.content for m in window.exchange)


def test_very_long_attempts_drop_whole_old_turns_and_name_them_under_the_brief() -> None:
    window = _window(budget=20_000)
    _exchange(window, turns=500, size=4_000)

    assert window.size() <= 20_000 + 6 * 4_100
    assert window.dropped_turns > 0
    assert window.dropped["read_file"] == window.dropped_turns
    messages = window.messages()
    assert messages[1].content.startswith(BRIEF)  # the task and criteria are still whole
    assert "earlier turn(s) of this attempt were dropped" in messages[1].content
    assert messages[2].role == "assistant"  # the exchange starts on a whole turn
    calls = [c.id for m in window.exchange for c in m.tool_calls]
    answers = [m.tool_call_id for m in window.exchange if m.role == "tool"]
    assert calls == answers
    assert calls[-1] == "c499"
