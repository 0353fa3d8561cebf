"""The conversation window: bounded, cache-friendly (append-only between rare compactions),
the task and its criteria never cut, tool-call arguments bounded like everything else."""

from __future__ import annotations

import json
from itertools import pairwise

from bosun.agents.context import ConversationWindow
from bosun.llm.messages import ChatMessage, ToolCall

BRIEF = "# Your task\n## Acceptance criteria\n1. " + "criterion text " * 2000
SYSTEM = "system prompt " * 500


def _window(budget: int = 120_000, **kw: int) -> ConversationWindow:
    window = ConversationWindow(
        system=ChatMessage.system(SYSTEM), brief=ChatMessage.user(BRIEF), budget_chars=budget
    )
    for name, value in kw.items():  # compact_at, compact_to, argument_chars …
        setattr(window, name, value)
    return window


def _turn(window: ConversationWindow, i: int, size: int) -> None:
    call = ToolCall(id=f"c{i}", name="read_file", arguments={"path": f"f{i}.py"})
    window.add(ChatMessage.assistant(f"reading f{i}", [call]))
    window.add(ChatMessage.tool(call, f"content of f{i} " + "x" * size))


def _exchange(window: ConversationWindow, turns: int, size: int) -> None:
    for i in range(turns):
        _turn(window, i, size)


def _paired(window: ConversationWindow) -> list[str]:
    calls = [c.id for m in window.exchange for c in m.tool_calls]
    answers = [m.tool_call_id or "" for m in window.exchange if m.role == "tool"]
    assert calls == answers
    return calls


def test_the_exchange_stays_under_the_compaction_threshold_and_the_newest_output_is_whole() -> None:
    window = _window(compact_at=40_000, compact_to=12_000)
    _exchange(window, turns=30, size=5_000)

    assert window.size() <= 40_000
    assert window.compactions > 0
    assert window.exchange[-1].content.endswith("x" * 5_000)


def test_task_and_criteria_are_never_trimmed() -> None:
    window = _window(budget=2_000, compact_at=1_500, compact_to=500)
    _exchange(window, turns=20, size=3_000)
    window.compact()

    messages = window.messages()
    assert messages[1].content == BRIEF
    assert messages[0].content == SYSTEM


def test_every_tool_call_keeps_its_result_after_compaction() -> None:
    window = _window(budget=2_000, compact_at=1_500, compact_to=500)
    _exchange(window, turns=10, size=3_000)
    window.compact()

    calls = _paired(window)
    assert calls == [f"c{i}" for i in range(10 - len(calls), 10)]  # whole turns, newest kept


def test_compact_shrinks_to_about_a_quarter_and_says_when_it_cannot() -> None:
    window = _window()
    _exchange(window, turns=6, size=4_000)
    before = window.size()

    assert window.compact()
    assert window.size() <= before // 4 + 2 * 4_100
    empty = _window()
    assert not empty.compact()  # nothing to cut: the caller must not resend the same


def test_compact_cuts_even_the_newest_huge_arguments() -> None:
    window = _window(argument_chars=1_000_000)  # a window that keeps big arguments
    call = ToolCall.parse("w", "write_file", json.dumps({"path": "a", "content": "z" * 900_000}))
    window.add(ChatMessage.assistant("", [call]))
    window.add(ChatMessage.tool(call, "refused: too large", is_error=True))
    before = window.size()

    assert window.compact()
    assert window.size() < before // 100


def test_small_conversations_are_left_alone() -> None:
    window = _window()
    _exchange(window, turns=3, size=1_000)

    assert window.trimmed == 0
    assert window.compactions == 0
    assert all("trimmed" not in m.content for m in window.exchange)


def test_very_long_attempts_fold_old_turns_into_one_note_after_the_untouched_brief() -> None:
    window = _window(compact_at=20_000, compact_to=6_000)
    _exchange(window, turns=500, size=4_000)

    assert window.size() <= 20_000
    assert window.dropped_turns > 400
    assert window.dropped["read_file"] == window.dropped_turns
    messages = window.messages()
    assert messages[1].content == BRIEF  # the brief is never rewritten (its cache holds)
    note = messages[2].content
    assert note.startswith("[Earlier in this attempt:") and "read_file f498.py (ok)" not in note
    assert "read_file f4" in note and "more before these" in note
    assert sum("[Earlier in this attempt" in m.content for m in messages) == 1
    assert messages[3].role == "assistant"  # the exchange goes on with a whole turn
    assert _paired(window)[-1] == "c499"


def test_between_compactions_each_request_extends_the_previous_one_unchanged() -> None:
    window = _window(compact_at=40_000, compact_to=12_000)
    sent: list[list[ChatMessage]] = []
    for i in range(50):
        _turn(window, i, 3_000)
        sent.append(window.messages())
    rewrites = sum(1 for before, after in pairwise(sent) if after[: len(before)] != before)
    assert rewrites == window.compactions  # only a compaction step changes what was sent
    assert window.compactions <= 6  # rare, large steps: not one per turn


def test_context_at_turn_50_is_at_most_twice_turn_5() -> None:
    window = _window()  # the defaults
    sizes = {}
    for i in range(1, 51):
        _turn(window, i, 2_000 + (i * 1_237) % 6_000)  # reads of 2-8 KB
        sizes[i] = window.size() + window.pinned_size()
    assert sizes[50] <= 2 * sizes[5], sizes
    assert max(sizes.values()) <= 2.2 * sizes[5]


def test_a_huge_tool_call_argument_is_cut_on_arrival_and_stays_valid_json() -> None:
    window = _window()
    content = "y" * 5_000_000
    call = ToolCall.parse("w1", "write_file", json.dumps({"path": "big.txt", "content": content}))
    window.add(ChatMessage.assistant("writing it", [call]))
    window.add(ChatMessage.tool(call, "file too large: 5000000 bytes", is_error=True))

    kept = window.exchange[0].tool_calls[0]
    assert window.size() < 10_000
    assert kept.arguments["path"] == "big.txt"
    assert "more characters not kept in context" in kept.arguments["content"]
    assert json.loads(kept.wire_arguments())["path"] == "big.txt"
    assert call.arguments["content"] == content  # the call the tool ran is untouched


def test_unparsed_huge_arguments_are_cut_too() -> None:
    window = _window()
    call = ToolCall.parse("w2", "write_file", '{"content": "' + "q" * 1_000_000)
    assert call.error is not None
    window.add(ChatMessage.assistant("", [call]))
    assert window.size() < 10_000


def test_agent_settings_refuse_thresholds_out_of_order() -> None:
    import pytest
    from bosun.agents.settings import AgentSettings
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="compact_to_chars < compact_at_chars"):
        AgentSettings(compact_at_chars=10_000, compact_to_chars=20_000)
    assert AgentSettings().compact_at_chars == 58_000


def test_a_huge_newest_output_does_not_make_every_later_turn_a_compaction() -> None:
    window = _window(compact_at=40_000, compact_to=12_000)
    _exchange(window, turns=6, size=5_000)
    _turn(window, 99, 29_000)  # past compact_at: one step, which must keep this turn
    steps = window.compactions
    for i in range(100, 103):
        _turn(window, i, 2_000)
    assert steps >= 1
    assert window.compactions == steps  # the next step waits until the exchange grew again


def test_a_compaction_step_leaves_the_archived_prefix_byte_for_byte_alone() -> None:
    window = _window(compact_at=30_000, compact_to=20_000)
    steps_seen = []
    for i in range(40):
        before = window.messages()
        archived = window.cache_marks()[-1]
        steps = window.compactions
        _turn(window, i, 3_000)
        if window.compactions > steps and window.dropped_turns == 0:  # a step, not a fold
            steps_seen.append(i)
            after = window.messages()
            assert after[: archived + 1] == before[: archived + 1]  # the cached prefix holds
            assert window.cache_marks()[-1] > archived  # and grows by the new stubs
    assert len(steps_seen) >= 2


def test_the_archive_folds_into_one_note_only_when_it_passes_compact_to() -> None:
    window = _window(compact_at=30_000, compact_to=6_000)
    _exchange(window, turns=60, size=3_000)

    assert 0 < window.folds <= window.compactions // 2  # most steps only add stubs
    marks = window.cache_marks()
    assert marks[0] == 1  # the brief
    note = window.messages()[2]
    assert note.content.startswith("[Earlier in this attempt:")
    archive = window.messages()[2 : marks[-1] + 1]
    assert sum(len(m.content) for m in archive) <= 6_000 + 3_500
    _paired(window)


def test_a_new_window_marks_only_the_brief_for_the_cache() -> None:
    window = _window()
    _exchange(window, turns=2, size=1_000)
    assert window.cache_marks() == [1]
