"""The writer drains its queue in the connection's thread: alone when idle, batched when busy."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

from bosun.board import Event, Run, Store, Task, TaskSpec, TaskState
from bosun.board.writer import WriteTx

S = TaskState


class Gate:
    """A write op that holds the writer's transaction open until the test releases it."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def op(self, tx: WriteTx) -> str:
        self.started.set()
        self.release.wait(30)
        return "gate"

    async def wait_started(self) -> None:
        assert await asyncio.to_thread(self.started.wait, 30)


async def _queued(store: Store, n: int) -> None:
    """Returns once the tasks created so far have run their first step, then checks that
    their `n` writes wait in the writer's queue (submit queues before its first await)."""

    async def step() -> None:
        return None

    # Tasks run first steps in creation order: this one runs after all of theirs.
    await asyncio.ensure_future(step())
    assert len(store._writer._pending) == n


async def _ready(store: Store, run: Run, n: int) -> list[int]:
    tasks = await store.create_tasks(run.id, [TaskSpec(key=f"t{i}", title="t") for i in range(n)])
    for t in tasks:
        await store.transition(t.id, expected=S.PLANNED, to=S.READY)
    return [t.id for t in tasks]


async def test_an_idle_writer_commits_each_lone_write_in_its_own_transaction(
    store: Store, run: Run
) -> None:
    (task_id,) = await _ready(store, run, 1)
    before = store.transactions
    for frm, to in [(S.READY, S.ACTIVE), (S.ACTIVE, S.FAILED), (S.FAILED, S.READY)]:
        await store.transition(task_id, expected=frm, to=to)
    assert store.transactions - before == 3


async def test_writes_queued_while_a_batch_commits_share_the_next_transaction(
    store: Store, run: Run
) -> None:
    ids = await _ready(store, run, 10)
    gate = Gate()
    before = store.transactions
    held = asyncio.ensure_future(store._writer.submit(gate.op))
    await gate.wait_started()
    # The drain is inside the first batch now: everything submitted meanwhile queues.
    moves = [asyncio.ensure_future(store.transition(i, expected=S.READY, to=S.ACTIVE)) for i in ids]
    await _queued(store, len(ids))
    gate.release.set()
    assert await held == "gate"
    moved = await asyncio.gather(*moves)
    assert all(t.state is S.ACTIVE for t in moved)
    assert store.transactions - before == 2


async def test_close_finishes_writes_queued_behind_a_running_batch(store: Store, run: Run) -> None:
    ids = await _ready(store, run, 5)
    gate = Gate()
    held = asyncio.ensure_future(store._writer.submit(gate.op))
    await gate.wait_started()
    moves = [asyncio.ensure_future(store.transition(i, expected=S.READY, to=S.ACTIVE)) for i in ids]
    await _queued(store, len(ids))
    closing = asyncio.ensure_future(store.close())
    gate.release.set()
    await closing
    assert await held == "gate"
    assert all(t.state is S.ACTIVE for t in await asyncio.gather(*moves))


async def test_listeners_hear_each_batch_in_seq_order_before_its_writers_resume(
    store: Store, run: Run
) -> None:
    ids = await _ready(store, run, 32)
    heard: list[int] = []
    store.subscribe(lambda event, _run, _task: heard.append(event.seq))
    before = store.last_seq

    async def move(task_id: int) -> None:
        task = await store.transition(task_id, expected=S.READY, to=S.ACTIVE)
        # This write's event was announced before its await returned.
        assert store.last_seq in heard and task.state is S.ACTIVE

    await asyncio.gather(*(move(i) for i in ids))
    assert heard == list(range(before + 1, before + 1 + len(ids)))


async def test_transition_event_reaches_listeners_exactly_as_it_reads_back(
    store: Store, run: Run
) -> None:
    (task_id,) = await _ready(store, run, 1)
    heard: list[tuple[Event, Task | None]] = []
    store.subscribe(lambda event, _run, task: heard.append((event, task)))
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    data = {"at": when, "state": S.FAILED, "nested": {"n": [1, 2.5, None, True]}}
    task = await store.transition(task_id, expected=S.READY, to=S.ACTIVE, event_data=data)
    ((event, announced_task),) = heard
    stored, _ = await store.events_since(event.seq - 1, 1)
    assert stored == [event]
    assert event.data == {
        "at": "2026-01-02T03:04:05Z",
        "state": "failed",
        "nested": {"n": [1, 2.5, None, True]},
        "from": "ready",
        "to": "active",
        "attempt": 0,
    }
    assert announced_task == task == await store.get_task(task_id)


async def test_a_write_failing_after_it_wrote_is_undone_alone_in_its_batch(
    store: Store, run: Run
) -> None:
    first, second = await _ready(store, run, 2)
    heard: list[int] = []
    store.subscribe(lambda event, _run, _task: heard.append(event.seq))
    before_seq, before_tx = store.last_seq, store.transactions

    def half_done(tx: WriteTx) -> None:
        tx.emit("half.done", run_id=run.id)
        tx.conn.execute("UPDATE runs SET objective = 'changed' WHERE id = ?", (run.id,))
        raise ValueError("refused after writing")

    gate = Gate()
    held = asyncio.ensure_future(store._writer.submit(gate.op))
    await gate.wait_started()
    writes = [
        asyncio.ensure_future(store.transition(first, expected=S.READY, to=S.ACTIVE)),
        asyncio.ensure_future(store._writer.submit(half_done)),
        asyncio.ensure_future(store.transition(second, expected=S.READY, to=S.ACTIVE)),
    ]
    await _queued(store, 3)
    gate.release.set()
    await held
    moved_first, failed, moved_second = await asyncio.gather(*writes, return_exceptions=True)

    assert isinstance(failed, ValueError)
    assert isinstance(moved_first, Task) and isinstance(moved_second, Task)
    assert (await store.get_run(run.id)).objective == "build the thing"
    events, _ = await store.events_since(before_seq, 10)
    assert [e.kind for e in events] == ["task.transition", "task.transition"]
    assert [e.seq for e in events] == heard == [before_seq + 1, before_seq + 2]
    assert [e.task_id for e in events] == [first, second]
    assert store.transactions - before_tx == 2  # the gate's batch, then these three
