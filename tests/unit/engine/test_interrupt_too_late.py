"""An interrupt that arrives once QA's verdict is in and the merge has begun cannot stop
the task: it is refused with the reason, never reported as a success (issue 15, item 4)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest
from bosun.errors import InvalidTransitionError
from bosun.tools.context import SubtaskSpec
from bosun_protocol.entities import Profile, RunState, Task, TaskState

from .scripted import EngineFactory, ScriptedRunner, finish, plan


async def test_an_interrupt_during_the_merge_is_refused_with_the_reason(
    harness: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = SubtaskSpec(key="x", title="task x", profile=Profile.CODER)
    h = await harness(ScriptedRunner(steps={"director": [plan(sub)], "x": [finish()]}))
    merging, go_on = asyncio.Event(), asyncio.Event()
    real_merge = h.engine.merging.merge

    async def held_merge(task_id: int, closing: Awaitable[None] | None = None) -> Any:
        task = await h.store.get_task(task_id)
        if task.key == "x":
            merging.set()
            await go_on.wait()
        return await real_merge(task_id, closing)

    monkeypatch.setattr(h.engine.merging, "merge", held_merge)
    run = await h.run()
    await merging.wait()
    x = await h.store.get_task_by_key(run.id, "x")
    handle, stopped = h.engine.active[x.id], asyncio.Event()
    real_stop = handle.stop

    def stop(reason: str, note: str = "") -> None:
        real_stop(reason, note)
        stopped.set()

    monkeypatch.setattr(handle, "stop", stop)
    interrupting = asyncio.ensure_future(h.engine.decisions.interrupt(x.id, "stop it"))
    await stopped.wait()  # the interrupt reached the attempt while it merges
    go_on.set()
    with pytest.raises(InvalidTransitionError) as refused:
        await interrupting
    assert "nothing was interrupted" in refused.value.message
    assert refused.value.data == {"state": "complete"}
    done: Task = await h.store.get_task(x.id)
    assert done.state is TaskState.COMPLETE
    await h.wait_run(run.id, {RunState.COMPLETED})
