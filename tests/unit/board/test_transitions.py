"""The transition table, checked pure and through the store, exhaustively and fuzzed."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections import deque
from pathlib import Path

import pytest
from bosun.board import Store, TaskSpec, TaskState, check_transition
from bosun.board.transitions import TERMINAL, TRANSITIONS
from bosun.errors import ConflictError, InvalidTransitionError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

S = TaskState

# Written out independently of transitions.py: the test is the spec, not a copy of it.
ALLOWED = {
    (S.PLANNED, S.READY), (S.PLANNED, S.WAITING_HUMAN), (S.PLANNED, S.ABANDONED),
    (S.READY, S.ACTIVE), (S.READY, S.PLANNED), (S.READY, S.WAITING_HUMAN),
    (S.READY, S.ABANDONED),
    (S.ACTIVE, S.AWAITING_QA), (S.ACTIVE, S.FAILED), (S.ACTIVE, S.WAITING_HUMAN),
    (S.ACTIVE, S.READY), (S.ACTIVE, S.ABANDONED),
    (S.AWAITING_QA, S.COMPLETE), (S.AWAITING_QA, S.AWAITING_REVIEW), (S.AWAITING_QA, S.FAILED),
    (S.AWAITING_QA, S.WAITING_HUMAN), (S.AWAITING_QA, S.ABANDONED),
    (S.AWAITING_REVIEW, S.COMPLETE), (S.AWAITING_REVIEW, S.FAILED),
    (S.AWAITING_REVIEW, S.WAITING_HUMAN), (S.AWAITING_REVIEW, S.ABANDONED),
    (S.FAILED, S.READY), (S.FAILED, S.WAITING_HUMAN), (S.FAILED, S.ABANDONED),
    (S.WAITING_HUMAN, S.READY), (S.WAITING_HUMAN, S.PLANNED), (S.WAITING_HUMAN, S.ABANDONED),
}  # fmt: skip
PAIRS = list(itertools.product(S, S))


def _path_to(state: TaskState) -> list[TaskState]:
    """Shortest walk from planned to `state` through allowed moves."""
    prev: dict[TaskState, TaskState] = {}
    queue = deque([S.PLANNED])
    while queue:
        here = queue.popleft()
        for nxt in sorted(TRANSITIONS[here]):
            if nxt not in prev and nxt is not S.PLANNED:
                prev[nxt] = here
                queue.append(nxt)
    walk = [state]
    while walk[-1] is not S.PLANNED:
        walk.append(prev[walk[-1]])
    return walk[::-1]


@pytest.mark.parametrize(("frm", "to"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_table_allows_exactly_the_specified_moves(frm: TaskState, to: TaskState) -> None:
    if (frm, to) in ALLOWED:
        check_transition(frm, to)
    else:
        with pytest.raises(InvalidTransitionError) as caught:
            check_transition(frm, to)
        assert f"from {frm.value} to {to.value}" in caught.value.message
        assert caught.value.data["allowed"] == sorted(t.value for t in TRANSITIONS[frm])


def test_terminal_states_are_complete_and_abandoned_only() -> None:
    assert frozenset({S.COMPLETE, S.ABANDONED}) == TERMINAL
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize("frm", list(S), ids=[s.value for s in S])
async def test_store_enforces_every_move_out_of(store: Store, frm: TaskState) -> None:
    run = await store.create_run("table")
    walk = _path_to(frm)
    for to in S:
        (task,) = await store.create_tasks(run.id, [TaskSpec(key=f"{to.value}", title="t")])
        for a, b in itertools.pairwise(walk):
            await store.transition(task.id, expected=a, to=b)
        seq = store.last_seq
        if (frm, to) in ALLOWED:
            moved = await store.transition(task.id, expected=frm, to=to)
            assert moved.state is to
            assert store.last_seq == seq + 1
        else:
            with pytest.raises(InvalidTransitionError):
                await store.transition(task.id, expected=frm, to=to)
            assert (await store.get_task(task.id)).state is frm
            assert store.last_seq == seq


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(list(S)), st.sampled_from(list(S)), st.booleans()),
        max_size=25,
    )
)
def test_random_move_sequences_follow_the_table(
    steps: list[tuple[TaskState, TaskState, bool]],
) -> None:
    asyncio.run(_replay(steps))


async def _replay(steps: list[tuple[TaskState, TaskState, bool]]) -> None:
    """Apply moves (sometimes with a stale `expected`) and compare with the table."""
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "b.sqlite3", boot_id="fuzz")
        try:
            run = await store.create_run("fuzz")
            (task,) = await store.create_tasks(run.id, [TaskSpec(key="k", title="t")])
            state = S.PLANNED
            for stale, to, use_stale in steps:
                expected = stale if use_stale else state
                seq = store.last_seq
                if (expected, to) not in ALLOWED:
                    with pytest.raises(InvalidTransitionError):
                        await store.transition(task.id, expected=expected, to=to)
                elif expected is not state:
                    with pytest.raises(ConflictError):
                        await store.transition(task.id, expected=expected, to=to)
                else:
                    await store.transition(task.id, expected=expected, to=to)
                    state = to
                    assert store.last_seq == seq + 1
                assert (await store.get_task(task.id)).state is state
            events, _ = await store.events_since(0, 1000, run_id=run.id)
            moves = [(e.data["from"], e.data["to"]) for e in events if e.kind == "task.transition"]
            assert all((S(a), S(b)) in ALLOWED for a, b in moves)
        finally:
            await store.close()
