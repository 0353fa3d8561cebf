"""`restart` of a failed run: what the run's end abandoned reopens, a replaced task does not
(the cause each abandonment recorded decides, bosun.engine.end_causes)."""

from __future__ import annotations

from bosun.engine.restart import restart
from bosun_protocol.engine import ResolveAction, ResolveTaskParams
from bosun_protocol.entities import RunState, TaskState

from .scripted import EngineFactory, ScriptedRunner, ask

_S = TaskState


async def test_a_failed_run_reopens_its_last_abandoned_task_not_the_one_a_human_replaced(
    harness: EngineFactory,
) -> None:
    steps = {
        "director": [ask("which way?")],
        "director-r2": [ask("again?")],
        "director-r3": [ask("?")],
    }
    runner = ScriptedRunner(steps=steps)
    h = await harness(runner, max_retries=0)
    run = await h.run()
    first = await h.wait_task(run.id, "director", {_S.WAITING_HUMAN})
    spawned = await h.engine.humans.resolve(
        ResolveTaskParams(task_id=first.id, action=ResolveAction.SPAWN)
    )
    assert spawned.spawned is not None and spawned.spawned.key == "director-r2"
    second = await h.wait_task(run.id, "director-r2", {_S.WAITING_HUMAN})
    await h.engine.humans.resolve(
        ResolveTaskParams(task_id=second.id, action=ResolveAction.ABANDON)
    )
    failed = await h.wait_run(run.id, {RunState.FAILED})
    assert failed.reason == "every task of the run was abandoned"

    again, reopened = await restart(h.engine, run.id, [])
    assert [t.key for t in reopened] == ["director-r3"]  # not the replaced director
    assert again.state is RunState.PLANNING
    third = await h.wait_task(run.id, "director-r3", {_S.WAITING_HUMAN})
    await h.engine.humans.resolve(ResolveTaskParams(task_id=third.id, action=ResolveAction.ABANDON))
    await h.wait_run(run.id, {RunState.FAILED})
    # director-r2 was reopened once already: only its replacement's work is reopened now.
    _, reopened = await restart(h.engine, run.id, [])
    assert [t.key for t in reopened] == ["director-r4"]
    await h.wait_run(run.id, {RunState.COMPLETED})
    assert (await h.store.get_task(reopened[0].id)).state is _S.COMPLETE
