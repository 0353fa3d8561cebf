"""Events, transcripts, recorded calls, journal, attempts and cost totals."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from bosun.board import (
    AttemptOutcome,
    Cost,
    InvalidBoardInputError,
    NewMessage,
    Run,
    RunState,
    Store,
    TaskSpec,
    TaskState,
    Verdict,
)
from bosun.errors import ConflictError, NotFoundError
from bosun.secrets import clear_for_tests, register_secret

Specs = Callable[..., list[TaskSpec]]


async def test_events_since_pages_without_gaps_or_repeats(store: Store) -> None:
    for i in range(25):
        await store.append_event("tick", data={"i": i})
    seen, after, pages = [], 0, 0
    while True:
        page, more = await store.events_since(after, 10)
        seen += [e.data["i"] for e in page]
        pages += 1
        if not more:
            break
        after = page[-1].seq
    assert seen == list(range(25)) and pages == 3
    assert await store.events_since(store.last_seq, 10) == ([], False)


async def test_events_since_filters_by_run(store: Store) -> None:
    one = await store.create_run("one")
    two = await store.create_run("two")
    await store.append_event("x", run_id=two.id)
    await store.append_event("y", run_id=one.id)
    events, more = await store.events_since(0, 10, run_id=one.id)
    assert [e.kind for e in events] == ["run.created", "y"] and not more


async def test_transcript_pages_per_attempt(store: Store, run: Run, specs: Specs) -> None:
    (task,) = await store.create_tasks(run.id, specs("a"))
    first = await store.append_messages(
        task.id, 1, [NewMessage(role="user", content=f"m{i}") for i in range(5)]
    )
    await store.append_messages(task.id, 2, [NewMessage(role="assistant", content="later")])
    page, more = await store.transcript(task.id, 1, after_id=0, limit=3)
    assert [m.content for m in page] == ["m0", "m1", "m2"] and more
    page, more = await store.transcript(task.id, 1, after_id=page[-1].id, limit=3)
    assert [m.content for m in page] == ["m3", "m4"] and not more
    everything, _ = await store.transcript(task.id, None)
    assert [m.attempt for m in everything] == [1] * 5 + [2]
    assert [m.id for m in everything[:5]] == [m.id for m in first]


async def test_known_secrets_never_reach_transcripts_or_recordings(
    store: Store, run: Run, specs: Specs
) -> None:
    (task,) = await store.create_tasks(run.id, specs("a"))
    register_secret("sk-test-0123456789abcdef")
    try:
        msg = NewMessage(
            role="tool",
            content="key is sk-test-0123456789abcdef",
            tool_calls=[{"args": {"token": "sk-test-0123456789abcdef"}}],
        )
        (stored,) = await store.append_messages(task.id, 1, [msg])
        await store.record_call(
            run.id, task.id, 1, "coder", "a", 0, {"auth": "sk-test-0123456789abcdef"}, {}
        )
    finally:
        clear_for_tests()
    assert "sk-test" not in stored.content and "sk-test" not in str(stored.tool_calls)
    (call,) = await store.recorded_calls(run.id)
    assert call.request == {"auth": "[REDACTED]"}


async def test_recorded_calls_come_back_in_order(store: Store, run: Run) -> None:
    for turn in range(3):
        await store.record_call(run.id, None, None, "director", "plan", turn, {"t": turn}, {})
    assert [c.turn for c in await store.recorded_calls(run.id)] == [0, 1, 2]


async def test_journal_put_get_list_delete(store: Store) -> None:
    await store.journal_put("merge", "task-2", {"new": "abc"})
    await store.journal_put("merge", "task-1", {"new": "def"})
    await store.journal_put("merge", "task-1", {"new": "xyz"})
    assert await store.journal_get("merge", "task-1") == {"new": "xyz"}
    assert await store.journal_list("merge") == [
        ("task-1", {"new": "xyz"}),
        ("task-2", {"new": "abc"}),
    ]
    await store.journal_delete("merge", "task-1")
    await store.journal_delete("merge", "task-1")
    assert await store.journal_get("merge", "task-1") is None
    assert await store.journal_list("other") == []


async def test_attempts_open_and_close_once(store: Store, run: Run, specs: Specs) -> None:
    (task,) = await store.create_tasks(run.id, specs("a"))
    await store.start_attempt(task.id, 1)
    with pytest.raises(ConflictError):
        await store.start_attempt(task.id, 1)
    verdict = Verdict(criterion="works", passed=False, evidence="trace")
    done = await store.finish_attempt(
        task.id,
        1,
        AttemptOutcome.QA_FAILED,
        error="boom",
        files_changed=["a.py"],
        verdicts=[verdict],
    )
    assert (done.outcome, done.verdicts, done.files_changed) == (
        AttemptOutcome.QA_FAILED,
        [verdict],
        ["a.py"],
    )
    assert done.ended_at is not None
    with pytest.raises(ConflictError, match="already ended"):
        await store.finish_attempt(task.id, 1, AttemptOutcome.FINISHED)
    with pytest.raises(NotFoundError):
        await store.finish_attempt(task.id, 9, AttemptOutcome.FINISHED)
    assert [a.number for a in await store.list_attempts(task.id)] == [1]


async def test_cost_adds_to_attempt_task_and_run_together(
    store: Store, run: Run, specs: Specs
) -> None:
    (task,) = await store.create_tasks(run.id, specs("a"))
    await store.start_attempt(task.id, 1)
    seen = []
    store.subscribe(lambda e, r, t: seen.append((r, t)))
    call = Cost(input_tokens=100, output_tokens=10, usd=0.5, calls=1)
    await store.add_cost(run.id, task.id, 1, call)
    await store.add_cost(run.id, task.id, 1, call)
    await store.add_cost(run.id, None, None, Cost(input_tokens=1, usd=0.25, calls=1))
    (attempt,) = await store.list_attempts(task.id)
    assert attempt.cost == Cost(input_tokens=200, output_tokens=20, usd=1.0, calls=2)
    assert (await store.get_task(task.id)).cost.usd == 1.0
    assert (await store.get_run(run.id)).cost == Cost(
        input_tokens=201, output_tokens=20, usd=1.25, calls=3
    )
    assert seen[-1][0] is not None and seen[-1][0].cost.calls == 3


async def test_unknown_price_makes_totals_unknown_for_good(
    store: Store, run: Run, specs: Specs
) -> None:
    (task,) = await store.create_tasks(run.id, specs("a"))
    await store.add_cost(run.id, task.id, None, Cost(input_tokens=5, usd=0.5, calls=1))
    await store.add_cost(run.id, task.id, None, Cost(input_tokens=5, usd=None, calls=1))
    await store.add_cost(run.id, task.id, None, Cost(input_tokens=5, usd=0.5, calls=1))
    total = (await store.get_run(run.id)).cost
    assert (total.input_tokens, total.calls, total.usd) == (15, 3, None)


async def test_update_run_compares_state_and_sets_fields(store: Store, run: Run) -> None:
    moved = await store.update_run(
        run.id, event="run.started", expected_state=RunState.PENDING, state=RunState.RUNNING,
        run_branch="bosun/run-1",
    )  # fmt: skip
    assert (moved.state, moved.run_branch) == (RunState.RUNNING, "bosun/run-1")
    with pytest.raises(ConflictError, match="is running, not pending"):
        await store.update_run(
            run.id, event="run.started", expected_state=RunState.PENDING, state=RunState.RUNNING
        )
    with pytest.raises(InvalidBoardInputError, match="cannot set objective"):
        await store.update_run(run.id, event="x", objective="sneaky")
    assert [r.id for r in await store.list_runs()] == [run.id]


async def test_update_task_edits_fields_but_never_state(
    store: Store, run: Run, specs: Specs
) -> None:
    (task,) = await store.create_tasks(run.id, specs("a"))
    edited = await store.update_task(
        task.id, event="task.edited", description="new words", acceptance_criteria=["c1"]
    )
    assert (edited.description, edited.acceptance_criteria) == ("new words", ["c1"])
    with pytest.raises(InvalidBoardInputError, match="transition"):
        await store.update_task(task.id, event="x", state=TaskState.COMPLETE)
    with pytest.raises(InvalidBoardInputError, match="invalid max_retries"):
        await store.update_task(task.id, event="x", max_retries="lots")
    events, _ = await store.events_since(0, 100, run_id=run.id)
    assert events[-1].kind == "task.edited"
    assert events[-1].data["fields"] == ["acceptance_criteria", "description"]


async def test_transition_sets_fields_and_keeps_event_data(
    store: Store, run: Run, specs: Specs
) -> None:
    (task,) = await store.create_tasks(run.id, specs("a"))
    moved = await store.transition(
        task.id,
        expected=TaskState.PLANNED,
        to=TaskState.WAITING_HUMAN,
        reason="dependency #9 abandoned",
        event_data={"by": "scheduler"},
    )
    assert moved.reason == "dependency #9 abandoned"
    events, _ = await store.events_since(store.last_seq - 1, 10)
    assert events[0].data["by"] == "scheduler"
    assert events[0].data["reason"] == "dependency #9 abandoned"
    with pytest.raises(InvalidBoardInputError, match="cannot set title"):
        await store.transition(
            task.id, expected=TaskState.WAITING_HUMAN, to=TaskState.READY, title="x"
        )
