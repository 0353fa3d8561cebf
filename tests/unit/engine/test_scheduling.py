"""Dispatch: dependency order, worker caps, critical path first, run completion."""

from __future__ import annotations

import asyncio

from bosun.agents.api import AttemptReport, AttemptRequest
from bosun.tools.context import SubtaskSpec
from bosun_protocol.entities import Profile, RunState, TaskState

from .scripted import EngineFactory, ScriptedRunner, finish, hang, plan

_S = TaskState


def sub(key: str, *deps: str) -> SubtaskSpec:
    return SubtaskSpec(key=key, title=f"task {key}", profile=Profile.CODER, depends_on=list(deps))


async def test_run_goes_from_director_to_completion_in_dependency_order(
    harness: EngineFactory,
) -> None:
    runner = ScriptedRunner(steps={"director": [plan(sub("a"), sub("b", "a"), sub("c", "b"))]})
    h = await harness(runner)
    run = await h.run()
    done = await h.wait_run(run.id, {RunState.COMPLETED})
    assert done.state is RunState.COMPLETED
    assert runner.order == ["director", "a", "b", "c"]
    tasks = await h.store.list_tasks(run.id)
    assert {t.state for t in tasks} == {_S.COMPLETE}
    # subtasks wait for their creator: they depend on the director
    director = next(t for t in tasks if t.key == "director")
    assert all(director.id in t.dependencies for t in tasks if t.key != "director")


async def test_worker_cap_is_never_exceeded(harness: EngineFactory) -> None:
    gate = asyncio.Event()

    async def slow(req: AttemptRequest) -> AttemptReport:
        await gate.wait()
        return await finish()(req)

    subs = [sub(f"t{i}") for i in range(8)]
    runner = ScriptedRunner(
        steps={"director": [plan(*subs)], **{f"t{i}": [slow] for i in range(8)}}
    )
    h = await harness(runner, workers=3)
    run = await h.run()
    await h.wait_task(run.id, "t0", {_S.ACTIVE, _S.READY})
    await runner.wait_running(3)
    assert len(await h.store.list_tasks(run.id, {_S.ACTIVE})) == 3
    gate.set()
    await h.wait_run(run.id, {RunState.COMPLETED})
    assert runner.peak == 3


async def test_per_run_worker_option_caps_that_run(harness: EngineFactory) -> None:
    gate = asyncio.Event()

    async def slow(req: AttemptRequest) -> AttemptReport:
        await gate.wait()
        return await finish()(req)

    runner = ScriptedRunner(
        steps={
            "director": [plan(*[sub(f"t{i}") for i in range(4)])],
            **{f"t{i}": [slow] for i in range(4)},
        }
    )
    h = await harness(runner, workers=8)
    run = await h.run(workers=1)
    await h.wait_task(run.id, "t0", {_S.READY, _S.ACTIVE})
    gate.set()
    await h.wait_run(run.id, {RunState.COMPLETED})
    assert runner.peak == 1


async def test_ready_tasks_on_the_longest_chain_start_first(harness: EngineFactory) -> None:
    # "short" has nothing behind it; "long" heads a chain of three.
    runner = ScriptedRunner(
        steps={"director": [plan(sub("short"), sub("long"), sub("l2", "long"), sub("l3", "l2"))]}
    )
    h = await harness(runner, workers=1)
    run = await h.run()
    await h.wait_run(run.id, {RunState.COMPLETED})
    assert runner.order.index("long") < runner.order.index("short")


async def test_pause_stops_dispatch_and_resume_restarts_it(harness: EngineFactory) -> None:
    gate = asyncio.Event()

    async def director(req: AttemptRequest) -> AttemptReport:
        await gate.wait()
        return await plan(sub("a"), sub("b"))(req)

    runner = ScriptedRunner(steps={"director": [director]})
    h = await harness(runner)
    run = await h.run()
    await h.wait_task(run.id, "director", {_S.ACTIVE})
    await h.engine.lifecycle.pause(run.id)
    gate.set()
    await h.wait_task(run.id, "a", {_S.READY})
    await h.wait_task(run.id, "director", {_S.COMPLETE})
    await h.engine.idle()
    assert (await h.store.get_task_by_key(run.id, "a")).state is _S.READY
    assert (await h.store.get_run(run.id)).state is RunState.PAUSED
    await h.engine.lifecycle.resume(run.id)
    await h.wait_run(run.id, {RunState.COMPLETED})


async def test_cancel_kills_running_attempts_and_abandons_the_rest(harness: EngineFactory) -> None:
    runner = ScriptedRunner(steps={"director": [plan(sub("a"), sub("b", "a"))], "a": [hang()]})
    h = await harness(runner)
    run = await h.run()
    await h.wait_task(run.id, "a", {_S.ACTIVE})
    cancelled = await h.engine.lifecycle.cancel(run.id, "changed my mind")
    assert cancelled.state is RunState.CANCELLED
    tasks = {t.key: t for t in await h.store.list_tasks(run.id)}
    assert tasks["a"].state is _S.ABANDONED and tasks["b"].state is _S.ABANDONED
    attempts = await h.store.list_attempts(tasks["a"].id)
    assert attempts[-1].outcome.value == "interrupted"


async def test_dependency_added_by_a_client_holds_a_ready_task_back(harness: EngineFactory) -> None:
    gate = asyncio.Event()
    started: list[str] = []

    async def slow(req: AttemptRequest) -> AttemptReport:
        started.append(req.task.key)
        await gate.wait()
        return await finish()(req)

    runner = ScriptedRunner(
        steps={"director": [plan(sub("a"), sub("b"))], "a": [slow], "b": [slow]}
    )
    h = await harness(runner, workers=1)
    run = await h.run()
    await h.wait_task(run.id, "director", {_S.COMPLETE})
    await runner.wait_running(1)  # the single slot goes to one of the two
    first = await h.store.get_task_by_key(run.id, started[0])
    other = await h.store.get_task_by_key(run.id, "b" if first.key == "a" else "a")
    assert other.state is _S.READY
    await h.store.edit_task(other.id, add_dependencies=[first.id])
    await h.wait_task(run.id, other.key, {_S.PLANNED})
    gate.set()
    await h.wait_run(run.id, {RunState.COMPLETED})
    assert runner.order.index(first.key) < runner.order.index(other.key)


async def test_attempts_and_qa_never_work_in_the_daemons_own_directory(
    harness: EngineFactory,
) -> None:
    """Even without a git plane, no attempt or QA check is pointed at the user's checkout."""
    import os

    runner = ScriptedRunner(steps={"director": [plan(sub("a"))]}, qa_fail={"a": 1})
    h = await harness(runner)
    run = await h.run()
    await h.wait_run(run.id, {RunState.COMPLETED})
    places = [r.worktree for reqs in runner.requests.values() for r in reqs]
    places += [q.worktree for q in runner.qa_requests]
    assert len(runner.qa_requests) >= 3  # director, a (failed), a again
    for place in places:
        assert place.is_absolute()
        assert str(place) != os.getcwd()
