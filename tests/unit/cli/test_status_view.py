"""The status table's plan order, indentation and escaping (pure rendering)."""

from __future__ import annotations

from typing import Any

from bosun.cli.status_view import plan_order, prompt_lines, task_table


def task(
    task_id: int, key: str, *deps: int, title: str = "", state: str = "planned"
) -> dict[str, Any]:
    return {
        "id": task_id, "key": key, "title": title or f"do {key}", "profile": "coder",
        "state": state, "attempt": 0, "maxRetries": 4, "dependencies": list(deps),
        "cost": {"inputTokens": 10, "outputTokens": 5, "usd": None},
    }  # fmt: skip


def test_each_task_follows_its_last_dependency_one_level_deeper() -> None:
    # a → b → d, a → c → d (a diamond), e alone, f after e and an unknown task 99
    tasks = [task(1, "a"), task(2, "b", 1), task(3, "c", 1), task(4, "d", 2, 3), task(5, "e"),
             task(6, "f", 5, 99)]  # fmt: skip
    order = [(depth, t["key"]) for depth, t in plan_order(tasks)]
    assert order == [(0, "a"), (1, "b"), (1, "c"), (2, "d"), (0, "e"), (1, "f")]


def test_tasks_in_a_cycle_are_still_listed() -> None:
    order = [(d, t["key"]) for d, t in plan_order([task(1, "x", 2), task(2, "y", 1), task(3, "z")])]
    assert order == [(0, "z"), (0, "x"), (0, "y")]


def test_the_table_indents_keys_names_dependencies_and_shows_unpriced_cost_in_tokens() -> None:
    lines = task_table([task(1, "a", state="complete"), task(2, "b", 1)])
    assert lines[0].split() == ["id", "task", "profile", "state", "try", "cost", "after", "title"]
    assert lines[1].split() == ["1", "a", "coder", "complete", "0/5", "15", "tok", "-", "do", "a"]
    assert lines[2].index("b") == lines[1].index("a") + 2
    assert lines[2].split()[7] == "a"  # after "15 tok"


def test_task_written_text_is_escaped_before_the_columns_are_measured() -> None:
    hostile = task(1, "k\x1b[2J", title="title\r\u202eevil\nsecond line")
    (_, row) = task_table([hostile])
    assert "\x1b" not in row and "\r" not in row and "\u202e" not in row and "\n" not in row
    assert "k\\x1b[2J" in row and "<U+202E>evil second line" in row


def test_prompts_say_their_id_what_they_ask_and_how_to_answer() -> None:
    tasks = [task(7, "stubborn")]
    prompts = [
        {"promptId": "abc123", "runId": 4, "taskId": 7, "kind": "ask_human", "reason": "Which?",
         "options": ["retry", "abandon"], "choices": ["this", "that"]},
        {"promptId": "def456", "runId": 4, "taskId": None, "kind": "landing",
         "reason": "your tree is dirty", "options": ["retry", "abandon"]},
    ]  # fmt: skip
    assert prompt_lines(prompts, tasks) == [
        "  open prompts (2):",
        "    abc123  task 7 (stubborn) ask_human: Which?",
        "      1) this",
        "      2) that",
        "      answer: bosun resolve 4/stubborn retry/abandon",
        "    def456  the run landing: your tree is dirty",
        "      answer: bosun answer def456 retry/abandon",
    ]
