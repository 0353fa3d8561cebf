"""Handlers of the engine's requests: answers to prompts, interrupts, run control."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bosun_protocol import engine as en
from bosun_protocol import messages as m
from bosun_protocol.entities import RunState

from bosun.errors import InvalidStateError
from bosun.server.context import DaemonContext
from bosun.server.registry import handler

if TYPE_CHECKING:
    from bosun.engine.core import Engine


def engine_of(ctx: DaemonContext) -> Engine:
    """This daemon's engine."""
    engine = ctx.services.get("engine")
    if engine is None:
        raise InvalidStateError("the engine is not running in this daemon")
    return cast("Engine", engine)


@handler("bosun/resolveTask")
async def resolve_task(ctx: DaemonContext, params: en.ResolveTaskParams) -> en.ResolveTaskResult:
    """Answer a prompt; the first answer wins."""
    return await engine_of(ctx).humans.resolve(params)


@handler("bosun/interruptTask")
async def interrupt_task(ctx: DaemonContext, params: en.InterruptTaskParams) -> m.TaskResult:
    """Stop a task (its processes killed, the attempt recorded) and ask a human."""
    return m.TaskResult(
        task=await engine_of(ctx).decisions.interrupt(params.task_id, params.reason)
    )


@handler("bosun/cancelRun")
async def cancel_run(ctx: DaemonContext, params: en.RunControlParams) -> m.RunResult:
    """Abandon a run's unfinished work."""
    return m.RunResult(run=await engine_of(ctx).lifecycle.cancel(params.run_id, params.reason))


@handler("bosun/pauseRun")
async def pause_run(ctx: DaemonContext, params: en.RunControlParams) -> m.RunResult:
    """Start no new attempts in the run."""
    return m.RunResult(run=await engine_of(ctx).lifecycle.pause(params.run_id))


@handler("bosun/resumeRun")
async def resume_run(ctx: DaemonContext, params: en.RunControlParams) -> m.RunResult:
    """Dispatch the run's tasks again; during a storage pause, try the board at once."""
    storage = ctx.services.get("storage")
    if storage is not None and await storage.resume_now():
        # Every run was paused in memory only (the board could not record it): a run
        # the board shows as paused is still resumed below; any other is returned as is.
        run = await ctx.store.get_run(params.run_id)
        if run.state is not RunState.PAUSED:
            return m.RunResult(run=run)
    return m.RunResult(run=await engine_of(ctx).lifecycle.resume(params.run_id))


@handler("bosun/replan")
async def replan(ctx: DaemonContext, params: en.ReplanParams) -> m.TaskResult:
    """A planning task with the human's guidance."""
    return m.TaskResult(task=await engine_of(ctx).lifecycle.replan(params.run_id, params.guidance))


@handler("bosun/restartRun")
async def restart_run(ctx: DaemonContext, params: en.RestartRunParams) -> en.RestartRunResult:
    """Reopen a cancelled or failed run's unfinished work."""
    from bosun.engine.restart import restart

    run, reopened = await restart(engine_of(ctx), params.run_id, params.from_tasks)
    return en.RestartRunResult(run=run, reopened=reopened)


@handler("bosun/dropTask")
async def drop_task(ctx: DaemonContext, params: en.DropTaskParams) -> en.DropTaskResult:
    """Drop a task that has not started; its dependents are rewired or dropped too."""
    return await engine_of(ctx).plan.drop(params, "a client")


@handler("bosun/humanQueue")
async def human_queue(ctx: DaemonContext, params: en.HumanQueueParams) -> en.HumanQueueResult:
    """Open prompts, oldest first."""
    return en.HumanQueueResult(prompts=engine_of(ctx).humans.queue(params.run_id))
