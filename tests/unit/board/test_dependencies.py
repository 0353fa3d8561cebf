"""Dependencies: cycles refused and named, cross-run and missing ids refused."""

from __future__ import annotations

import asyncio
import itertools
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from bosun.board import InvalidBoardInputError, Run, Store, TaskSpec
from bosun.board.graph import find_cycle
from bosun.errors import DependencyCycleError, NotFoundError
from hypothesis import given, settings
from hypothesis import strategies as st

Specs = Callable[..., list[TaskSpec]]


async def test_edge_closing_a_cycle_is_refused_and_named(
    store: Store, run: Run, specs: Specs
) -> None:
    a, b, c = await store.create_tasks(
        run.id, specs("design", "build-api", "test-api", deps={"build-api": ["design"]})
    )
    await store.add_dependency(c.id, b.id)
    before = store.last_seq
    with pytest.raises(DependencyCycleError) as caught:
        await store.add_dependency(a.id, c.id)
    assert caught.value.cycle == [a.id, c.id, b.id, a.id]
    assert caught.value.message == (
        f"dependency cycle: #{a.id} design → #{c.id} test-api → #{b.id} build-api → #{a.id} design"
    )
    assert (await store.get_task(a.id)).dependencies == []
    assert store.last_seq == before


async def test_self_dependency_is_a_cycle_of_one(store: Store, run: Run, specs: Specs) -> None:
    (a,) = await store.create_tasks(run.id, specs("solo"))
    with pytest.raises(DependencyCycleError) as caught:
        await store.add_dependency(a.id, a.id)
    assert caught.value.cycle == [a.id, a.id]


async def test_cross_run_dependency_is_refused(store: Store, run: Run, specs: Specs) -> None:
    other = await store.create_run("other")
    (a,) = await store.create_tasks(run.id, specs("a"))
    (b,) = await store.create_tasks(other.id, specs("b"))
    with pytest.raises(InvalidBoardInputError, match="another run"):
        await store.add_dependency(a.id, b.id)


async def test_dependency_on_missing_task_is_not_found(
    store: Store, run: Run, specs: Specs
) -> None:
    (a,) = await store.create_tasks(run.id, specs("a"))
    with pytest.raises(NotFoundError, match="#4242"):
        await store.add_dependency(a.id, 4242)
    with pytest.raises(NotFoundError, match="#4242"):
        await store.add_dependency(4242, a.id)


async def test_add_and_remove_dependency_record_events(
    store: Store, run: Run, specs: Specs
) -> None:
    a, b = await store.create_tasks(run.id, specs("a", "b"))
    seen: list[tuple[str, list[int]]] = []
    store.subscribe(lambda e, r, t: seen.append((e.kind, t.dependencies if t else [])))
    assert (await store.add_dependency(b.id, a.id)).dependencies == [a.id]
    assert (await store.add_dependency(b.id, a.id)).dependencies == [a.id]  # idempotent
    assert (await store.remove_dependency(b.id, a.id)).dependencies == []
    assert seen == [("task.dependency_added", [a.id]), ("task.dependency_removed", [])]
    with pytest.raises(NotFoundError, match="does not depend"):
        await store.remove_dependency(b.id, a.id)


async def test_batch_with_a_cycle_creates_nothing(store: Store, run: Run, specs: Specs) -> None:
    before = store.last_seq
    batch = specs("x", "y", "z", deps={"x": ["z"], "y": ["x"], "z": ["y"]})
    with pytest.raises(DependencyCycleError) as caught:
        await store.create_tasks(run.id, batch)
    assert len(caught.value.cycle) == 4 and caught.value.cycle[0] == caught.value.cycle[-1]
    assert re.fullmatch(r"dependency cycle: (#\d+ [xyz] → ){3}#\d+ [xyz]", caught.value.message)
    assert await store.list_tasks(run.id) == []
    assert store.last_seq == before


async def test_batch_may_depend_on_existing_tasks_by_key(
    store: Store, run: Run, specs: Specs
) -> None:
    (base,) = await store.create_tasks(run.id, specs("base"))
    (top,) = await store.create_tasks(run.id, specs("top", deps={"top": ["base"]}))
    assert top.dependencies == [base.id]


async def test_unknown_dependency_key_and_duplicate_key_are_refused(
    store: Store, run: Run, specs: Specs
) -> None:
    with pytest.raises(NotFoundError, match="'ghost'"):
        await store.create_tasks(run.id, specs("a", deps={"a": ["ghost"]}))
    with pytest.raises(InvalidBoardInputError, match="'a'"):
        await store.create_tasks(run.id, specs("a", "a"))
    assert await store.list_tasks(run.id) == []


async def test_tasks_of_missing_run_are_refused(store: Store, specs: Specs) -> None:
    with pytest.raises(NotFoundError, match="run #77"):
        await store.create_tasks(77, specs("a"))


def test_find_cycle_handles_deep_chains_without_recursion() -> None:
    chain = {i: [i + 1] for i in range(20_000)}
    assert find_cycle(chain) is None
    chain[20_000] = [0]
    cycle = find_cycle(chain)
    assert cycle is not None and cycle[0] == cycle[-1] and len(cycle) == 20_002


async def test_edit_task_swaps_dependencies_and_fields_in_one_write(
    store: Store, run: Run, specs: Specs
) -> None:
    a, b, c = await store.create_tasks(run.id, specs("a", "b", "c", deps={"c": ["b"]}))
    before = store.transactions
    edited = await store.edit_task(
        c.id, remove_dependencies=[b.id], add_dependencies=[a.id], title="renamed"
    )
    assert (edited.dependencies, edited.title) == ([a.id], "renamed")
    assert store.transactions == before + 1


async def test_edit_task_refused_by_a_cycle_changes_nothing(
    store: Store, run: Run, specs: Specs
) -> None:
    a, b, c = await store.create_tasks(run.id, specs("a", "b", "c", deps={"b": ["a"], "c": ["b"]}))
    seq = store.last_seq
    with pytest.raises(DependencyCycleError) as caught:
        await store.edit_task(
            a.id, remove_dependencies=[], add_dependencies=[c.id], description="lost"
        )
    assert caught.value.cycle == [a.id, c.id, b.id, a.id]
    with pytest.raises(NotFoundError):
        await store.edit_task(c.id, remove_dependencies=[b.id], add_dependencies=[999])
    after = await store.get_task(c.id)
    assert after.dependencies == [b.id]
    assert (await store.get_task(a.id)).description == ""
    assert store.last_seq == seq


def _reaches(edges: dict[int, set[int]], start: int, goal: int) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, ()))
    return False


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=30))
def test_random_edges_keep_the_graph_acyclic(edges: list[tuple[int, int]]) -> None:
    asyncio.run(_add_edges(edges))


async def _add_edges(edges: list[tuple[int, int]]) -> None:
    """Each edge is accepted exactly when it closes no cycle; a refusal shows a real one."""
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "b.sqlite3", boot_id="fuzz")
        try:
            run = await store.create_run("graph")
            tasks = await store.create_tasks(
                run.id, [TaskSpec(key=f"k{i}", title="t") for i in range(6)]
            )
            ids = [t.id for t in tasks]
            model: dict[int, set[int]] = {}
            for a, b in edges:
                src, dst = ids[a], ids[b]
                if src == dst or _reaches(model, dst, src):
                    with pytest.raises(DependencyCycleError) as caught:
                        await store.add_dependency(src, dst)
                    cycle = caught.value.cycle
                    assert cycle[0] == cycle[-1] == src and cycle[1] == dst
                    for x, y in itertools.pairwise(cycle[1:]):
                        assert y in model.get(x, set())
                else:
                    await store.add_dependency(src, dst)
                    model.setdefault(src, set()).add(dst)
            for task in await store.list_tasks(run.id):
                assert set(task.dependencies) == model.get(task.id, set())
        finally:
            await store.close()


async def test_hostile_keys_and_titles_are_plain_data(store: Store, run: Run) -> None:
    key = "x'); DROP TABLE tasks; --"
    title = '☃ \x00 "quoted" \\ back'
    (task,) = await store.create_tasks(run.id, [TaskSpec(key=key, title=title)])
    again = await store.get_task_by_key(run.id, key)
    if store.dialect == "postgresql":
        # PostgreSQL's text cannot hold NUL: it is kept as U+FFFD (docs/postgresql.md).
        title = title.replace("\x00", "\ufffd")
    assert (again.key, again.title) == (key, title) and again == task
