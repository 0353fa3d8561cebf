"""Concurrent writers: compare-and-swap races, group commit, savepoint isolation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bosun.board import Lease, Run, Store, TaskSpec, TaskState
from bosun.errors import ConflictError

S = TaskState


def _lease(holder: str) -> Lease:
    return Lease(boot_id="boot-test", holder=holder, acquired_at=datetime.now(UTC))


async def _ready_tasks(store: Store, run: Run, n: int) -> list[int]:
    specs = [TaskSpec(key=f"t{i}", title="t") for i in range(n)]
    tasks = await store.create_tasks(run.id, specs)
    for t in tasks:
        await store.transition(t.id, expected=S.PLANNED, to=S.READY)
    return [t.id for t in tasks]


async def test_cas_race_has_exactly_one_winner(store: Store, run: Run) -> None:
    (task_id,) = await _ready_tasks(store, run, 1)
    before = store.last_seq
    results = await asyncio.gather(
        *(
            store.transition(task_id, expected=S.READY, to=S.ACTIVE, lease=_lease(f"w{i}"))
            for i in range(40)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert len(losers) == 39 and all(isinstance(e, ConflictError) for e in losers)
    task = await store.get_task(task_id)
    assert task.state is S.ACTIVE and task.lease == winners[0].lease
    events, _ = await store.events_since(before, 100)
    assert [e.kind for e in events] == ["task.transition"]


async def test_only_the_lease_holder_may_move_an_active_task(store: Store, run: Run) -> None:
    (task_id,) = await _ready_tasks(store, run, 1)
    await store.transition(task_id, expected=S.READY, to=S.ACTIVE, lease=_lease("w1"))
    with pytest.raises(ConflictError, match="held by w1, not active held by w2"):
        await store.transition(task_id, expected=S.ACTIVE, to=S.FAILED, holder="w2")
    done = await store.transition(task_id, expected=S.ACTIVE, to=S.AWAITING_QA, holder="w1")
    assert done.lease is None  # leaving active ends the lease


async def test_concurrent_writes_share_transactions(store: Store, run: Run) -> None:
    ids = await _ready_tasks(store, run, 64)
    before = store.transactions
    await asyncio.gather(*(store.transition(i, expected=S.READY, to=S.ACTIVE) for i in ids))
    used = store.transactions - before
    # The first write may go alone while the rest queue up behind its commit.
    assert 1 <= used <= 3
    assert all(t.state is S.ACTIVE for t in await store.list_tasks(run.id))


async def test_without_group_commit_each_write_is_its_own_transaction(db_path: Path) -> None:
    store = await Store.open(db_path, boot_id="b", group_commit=False)
    try:
        run = await store.create_run("r")
        ids = await _ready_tasks(store, run, 16)
        before = store.transactions
        await asyncio.gather(*(store.transition(i, expected=S.READY, to=S.ACTIVE) for i in ids))
        assert store.transactions - before == 16
    finally:
        await store.close()


async def test_lost_cas_in_a_batch_leaves_the_others_committed(store: Store, run: Run) -> None:
    ids = await _ready_tasks(store, run, 10)
    before = store.last_seq
    # Even-numbered requests use a stale expected state and must fail alone.
    results = await asyncio.gather(
        *(
            store.transition(i, expected=S.READY if n % 2 else S.FAILED, to=S.ABANDONED)
            for n, i in enumerate(ids)
        ),
        return_exceptions=True,
    )
    assert [isinstance(r, ConflictError) for r in results] == [n % 2 == 0 for n in range(10)]
    states = [t.state for t in await store.list_tasks(run.id)]
    assert states == [S.READY if n % 2 == 0 else S.ABANDONED for n in range(10)]
    events, _ = await store.events_since(before, 100)
    # Rolled-back requests leave no gap: seq stays continuous.
    assert [e.seq for e in events] == list(range(before + 1, before + 6))
    assert [e.task_id for e in events] == ids[1::2]


async def test_listeners_see_one_batch_in_seq_order(store: Store, run: Run) -> None:
    ids = await _ready_tasks(store, run, 20)
    seen: list[int] = []
    store.subscribe(lambda e, r, t: seen.append(e.seq))
    await asyncio.gather(*(store.transition(i, expected=S.READY, to=S.ACTIVE) for i in ids))
    assert len(seen) == 20
    assert seen == sorted(seen) == list(range(seen[0], seen[0] + 20))


async def test_unsubscribed_listener_hears_nothing_more(store: Store) -> None:
    seen: list[str] = []
    unsubscribe = store.subscribe(lambda e, r, t: seen.append(e.kind))
    await store.append_event("one")
    unsubscribe()
    await store.append_event("two")
    assert seen == ["one"]


async def test_close_finishes_queued_writes(db_path: Path) -> None:
    store = await Store.open(db_path, boot_id="b")
    # The inner gather starts the writes first (each queues its request), then close().
    writes = asyncio.gather(*(store.append_event(f"e{i}") for i in range(30)))
    events, _ = await asyncio.gather(writes, store.close())
    assert [e.seq for e in events] == list(range(1, 31))
