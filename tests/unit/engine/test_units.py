"""Pure parts: the Phoenix history bound, the graph's levels and ready order, progress."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bosun.engine.graph import TaskGraph
from bosun.engine.phoenix import Review, bounded_history, describe_attempt
from bosun.server.plain_text import progress_message
from bosun_protocol.engine import ResolveAction, ResolveTaskParams
from bosun_protocol.entities import Attempt, AttemptOutcome, Task, TaskState, Verdict
from pydantic import ValidationError

NOW = datetime.now(UTC)


def task(tid: int, state: TaskState = TaskState.PLANNED, deps: tuple[int, ...] = ()) -> Task:
    return Task(
        id=tid, run_id=1, key=f"t{tid}", title="t", state=state,
        dependencies=list(deps), created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def test_history_keeps_newest_attempts_whole_and_stays_within_its_bound() -> None:
    blocks = [f"Attempt {n} ended: error\n  error: " + "x" * 900 for n in range(1, 30)]
    text = bounded_history(blocks, 3000)
    assert len(text) <= 3000
    assert "Attempt 29 ended" in text and "x" * 900 in text  # the newest, in full
    assert "earlier attempt(s) omitted" in text


def test_attempt_description_names_verdicts_reviews_and_files() -> None:
    attempt = Attempt(
        task_id=1, number=2, outcome=AttemptOutcome.QA_FAILED, error="tests failed",
        summary="tried X", files_changed=["a.py"], started_at=NOW,
        verdicts=[Verdict(criterion="ties sort alphabetically", passed=False, evidence="got b,a")],
    )  # fmt: skip
    text = describe_attempt(
        attempt, [Review(attempt=2, text="rename it"), Review(attempt=1, text="old")]
    )
    assert "QA FAIL: ties sort alphabetically — got b,a" in text
    assert "reviewer: rename it" in text and "old" not in text
    assert "files: a.py" in text and "tried: tried X" in text


def test_each_reviewer_comment_keeps_its_own_indented_line_however_long() -> None:
    attempt = Attempt(task_id=1, number=1, outcome=AttemptOutcome.CHANGES_REQUESTED, started_at=NOW)
    comments = [f"src/m{i}.py:{i + 1}: " + "please change this " * 30 for i in range(25)]
    text = describe_attempt(attempt, [Review(attempt=1, text="\n".join(comments))])
    lines = text.splitlines()[1:]
    assert [ln.split(":")[0] for ln in lines] == ["  reviewer"] * 21
    assert lines[0].startswith("  reviewer: src/m0.py:1: please change this")
    assert all(len(ln) <= len("  reviewer: ") + 400 for ln in lines)
    assert lines[-1] == "  reviewer: (+5 more comments)"


def test_ready_order_prefers_the_longest_chain_then_the_oldest() -> None:
    graph = TaskGraph()
    for t in (task(1, TaskState.READY), task(2, TaskState.READY), task(3, deps=(2,)),
              task(4, deps=(3,)), task(5, TaskState.READY)):  # fmt: skip
        graph.apply(t)
    admissible = {1: True}
    order = []
    while (node := graph.pop_ready(admissible)) is not None:
        node.claimed = True
        order.append(node.id)
    assert order == [2, 1, 5]


def test_ready_tasks_of_a_paused_run_are_kept_for_later() -> None:
    graph = TaskGraph()
    graph.apply(task(1, TaskState.READY))
    assert graph.pop_ready({1: False}) is None
    node = graph.pop_ready({1: True})
    assert node is not None and node.id == 1


def test_promotion_waits_for_every_dependency_to_complete() -> None:
    graph = TaskGraph()
    graph.apply(task(1, TaskState.COMPLETE))
    graph.apply(task(2, TaskState.ACTIVE))
    graph.apply(task(3, deps=(1, 2)))
    assert graph.promotable([3]) == []
    graph.apply(task(2, TaskState.COMPLETE))
    assert graph.promotable([3]) == [3]
    assert graph.run_counts(1) == {"complete": 2, "planned": 1}


def test_progress_message_counts_abandoned_tasks_apart_from_done_ones() -> None:
    text, percent = progress_message({"complete": 3, "abandoned": 1, "active": 2, "planned": 4})
    assert text == "3/10 tasks done, 1 abandoned, 2 working" and percent == 40
    text, _ = progress_message({"complete": 2, "abandoned": 3})
    assert text == "2/5 tasks done, 3 abandoned"  # a cancelled run is not "5/5 done"


def test_an_answer_must_name_a_task_or_a_prompt() -> None:
    with pytest.raises(ValidationError, match="taskId or promptId"):
        ResolveTaskParams(action=ResolveAction.RETRY)
    assert ResolveTaskParams.model_validate({"promptId": "p", "action": "retry"}).prompt_id == "p"
