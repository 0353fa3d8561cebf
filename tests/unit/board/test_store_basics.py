"""Runs, tasks, transitions and events through the real store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from bosun.board import (
    BoardStorageError,
    Event,
    InvalidBoardInputError,
    Run,
    Store,
    Task,
    TaskSpec,
    TaskState,
)
from bosun.errors import ConflictError, InvalidTransitionError, NotFoundError

Specs = Callable[..., list[TaskSpec]]


async def test_created_run_reads_back_with_aware_utc_timestamps(store: Store) -> None:
    run = await store.create_run("objective")
    got = await store.get_run(run.id)
    assert got == run
    assert got.created_at.utcoffset() is not None
    assert got.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


async def test_create_tasks_resolves_dependencies_by_key(
    specs: Specs, store: Store, run: Run
) -> None:
    tasks = await store.create_tasks(run.id, specs("a", "b", "c", deps={"c": ["a", "b"]}))
    a, b, c = tasks
    assert c.dependencies == [a.id, b.id]
    assert [t.state for t in tasks] == [TaskState.PLANNED] * 3
    assert await store.get_task_by_key(run.id, "c") == c
    assert await store.list_tasks(run.id) == tasks


async def test_transition_moves_state_and_appends_event(
    specs: Specs, store: Store, run: Run
) -> None:
    (task,) = await store.create_tasks(run.id, specs("a"))
    before = store.last_seq
    moved = await store.transition(task.id, expected=TaskState.PLANNED, to=TaskState.READY)
    assert moved.state is TaskState.READY
    events, more = await store.events_since(before, 10)
    assert not more
    assert [(e.kind, e.task_id, e.data["from"], e.data["to"]) for e in events] == [
        ("task.transition", task.id, "planned", "ready")
    ]
    assert store.last_seq == events[-1].seq


async def test_transition_from_wrong_state_is_a_conflict(
    specs: Specs, store: Store, run: Run
) -> None:
    (task,) = await store.create_tasks(run.id, specs("a"))
    with pytest.raises(ConflictError, match="is planned, not ready"):
        await store.transition(task.id, expected=TaskState.READY, to=TaskState.ACTIVE)
    assert (await store.get_task(task.id)).state is TaskState.PLANNED


async def test_refused_transition_names_both_states(specs: Specs, store: Store, run: Run) -> None:
    (task,) = await store.create_tasks(run.id, specs("a"))
    with pytest.raises(InvalidTransitionError, match="from planned to complete"):
        await store.transition(task.id, expected=TaskState.PLANNED, to=TaskState.COMPLETE)


async def test_missing_task_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        await store.get_task(999)
    with pytest.raises(NotFoundError):
        await store.transition(999, expected=TaskState.PLANNED, to=TaskState.READY)


async def test_listeners_get_events_in_seq_order_before_write_returns(
    specs: Specs, store: Store, run: Run
) -> None:
    seen: list[tuple[int, str, Task | None]] = []
    store.subscribe(lambda e, r, t: seen.append((e.seq, e.kind, t)))
    tasks = await store.create_tasks(run.id, specs("a", "b"))
    assert [s[1] for s in seen] == ["task.created", "task.created"]
    assert [s[2] for s in seen] == tasks
    assert [s[0] for s in seen] == sorted(s[0] for s in seen)


async def test_failing_listener_does_not_break_store_or_others(store: Store) -> None:
    got: list[Event] = []

    def broken(event: Event, run: Run | None, task: Task | None) -> None:
        raise RuntimeError("listener bug")

    store.subscribe(broken)
    store.subscribe(lambda e, r, t: got.append(e))
    run = await store.create_run("x")
    assert [e.kind for e in got] == ["run.created"]
    assert (await store.get_run(run.id)).objective == "x"


async def test_reopen_keeps_rows_and_continues_sequence(specs: Specs, db_path: Path) -> None:
    first = await Store.open(db_path, boot_id="one")
    run = await first.create_run("persist me")
    await first.create_tasks(run.id, specs("a"))
    last = first.last_seq
    await first.close()
    second = await Store.open(db_path, boot_id="two")
    try:
        assert second.last_seq == last
        assert (await second.get_run(run.id)).objective == "persist me"
        event = await second.append_event("daemon.started")
        assert event.seq == last + 1
    finally:
        await second.close()


async def test_closed_store_refuses_reads_and_writes_clearly(db_path: Path) -> None:
    store = await Store.open(db_path, boot_id="b")
    run = await store.create_run("r")
    await store.close()
    await store.close()
    with pytest.raises(BoardStorageError, match="is closed"):
        await store.get_run(run.id)
    with pytest.raises(BoardStorageError, match="is closed"):
        await store.create_run("late")


async def test_data_that_is_not_json_is_refused_before_writing(store: Store) -> None:
    run = await store.create_run("r")
    seq = store.last_seq
    with pytest.raises(InvalidBoardInputError, match=r"^data is not JSON"):
        await store.update_run(run.id, event="x", data={"bad": object()})
    (task,) = await store.create_tasks(run.id, [TaskSpec(key="a", title="a")])
    seq = store.last_seq
    with pytest.raises(InvalidBoardInputError, match="event_data is not JSON"):
        await store.transition(
            task.id, expected=TaskState.PLANNED, to=TaskState.READY, event_data={"x": object()}
        )
    assert (await store.get_task(task.id)).state is TaskState.PLANNED
    with pytest.raises(InvalidBoardInputError, match="journal data is not JSON"):
        await store.journal_put("k", "v", {"bad": object()})
    assert store.last_seq == seq
    assert await store.journal_get("k", "v") is None


async def test_count_runs_counts_all_and_those_in_the_given_states(store: Store) -> None:
    from bosun_protocol.entities import RunOptions, RunState

    assert await store.count_runs({RunState.RUNNING}) == (0, 0)
    runs = [await store.create_run(f"o{i}", RunOptions()) for i in range(3)]
    await store.update_run(runs[0].id, event="run.started", state=RunState.RUNNING)
    assert await store.count_runs({RunState.RUNNING}) == (3, 1)
    assert await store.count_runs({RunState.RUNNING, RunState.PENDING}) == (3, 3)
    assert await store.count_runs(set()) == (3, 0)
