"""Handlers of the core `bosun/*` requests: status, runs, tasks, events, shutdown."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from bosun_protocol import messages as m
from bosun_protocol.entities import RunState
from bosun_protocol.version import PROTOCOL_VERSION

from bosun import __version__
from bosun.board.errors import BoardUnwritableError
from bosun.server.context import DaemonContext
from bosun.server.registry import handler

_ACTIVE_RUN_STATES = {RunState.PENDING, RunState.PLANNING, RunState.RUNNING, RunState.LANDING}


@handler("bosun/status")
async def status(ctx: DaemonContext, _: m.Empty) -> m.StatusResult:
    """Daemon identity and health."""
    storage = ctx.services.get("storage")
    try:
        runs, active = await ctx.store.count_runs(_ACTIVE_RUN_STATES)
        ctx.services["run_counts"] = (runs, active)
    except BoardUnwritableError as exc:
        if storage is None:
            raise
        # The board's database itself is away (a PostgreSQL server restarting): status
        # is how a client learns why runs are paused, so it answers with the last counts.
        storage.failed(exc)
        runs, active = ctx.services.get("run_counts", (0, 0))
    sandbox = ctx.services.get("sandbox_mode", "unknown")
    return m.StatusResult(
        version=__version__,
        protocol_version=PROTOCOL_VERSION,
        pid=os.getpid(),
        workspace=str(ctx.workspace.root),
        socket=str(ctx.workspace.socket_path),
        started_at=ctx.started_at,
        uptime_s=(datetime.now(UTC) - ctx.started_at).total_seconds(),
        clients=ctx.client_count(),
        runs=runs,
        active_runs=active,
        last_seq=ctx.store.last_seq,
        boot_id=ctx.boot_id,
        sandbox=str(sandbox),
        listeners=list(ctx.listeners),
        storage=storage.status if storage is not None else m.StorageStatus(),
    )


@handler("bosun/createRun")
async def create_run(ctx: DaemonContext, params: m.CreateRunParams) -> m.RunResult:
    """Record a run; the engine, when present, starts it."""
    run = await ctx.store.create_run(params.objective, params.options)
    engine: Any = ctx.services.get("engine")
    if engine is not None:
        run = await engine.start_run(run.id)
    return m.RunResult(run=run)


@handler("bosun/listRuns")
async def list_runs(ctx: DaemonContext, params: m.ListRunsParams) -> m.ListRunsResult:
    """Runs, newest first."""
    runs = await ctx.store.list_runs(limit=params.limit, before_id=params.before_id)
    return m.ListRunsResult(runs=runs)


@handler("bosun/getRun")
async def get_run(ctx: DaemonContext, params: m.RunIdParams) -> m.GetRunResult:
    """A run and its tasks."""
    run = await ctx.store.get_run(params.run_id)
    tasks = await ctx.store.list_tasks(params.run_id)
    return m.GetRunResult(run=run, tasks=tasks)


@handler("bosun/getTask")
async def get_task(ctx: DaemonContext, params: m.TaskIdParams) -> m.GetTaskResult:
    """A task and its attempts."""
    task = await ctx.store.get_task(params.task_id)
    attempts = await ctx.store.list_attempts(params.task_id)
    return m.GetTaskResult(task=task, attempts=attempts)


@handler("bosun/updateTask")
async def update_task(ctx: DaemonContext, params: m.UpdateTaskParams) -> m.TaskResult:
    """Edit dependencies, description, criteria, title or (before it starts) profile in
    one atomic change."""
    fields: dict[str, Any] = {}
    if params.description is not None:
        fields["description"] = params.description
    if params.acceptance_criteria is not None:
        fields["acceptance_criteria"] = params.acceptance_criteria
    if params.title is not None:
        fields["title"] = params.title
    if params.profile is not None:
        fields["profile"] = params.profile
    task = await ctx.store.edit_task(
        params.task_id,
        add_dependencies=params.add_dependencies,
        remove_dependencies=params.remove_dependencies,
        **fields,
    )
    return m.TaskResult(task=task)


@handler("bosun/transcript")
async def transcript(ctx: DaemonContext, params: m.TranscriptParams) -> m.TranscriptResult:
    """A page of an attempt's transcript."""
    await ctx.store.get_task(params.task_id)
    messages, more = await ctx.store.transcript(
        params.task_id, params.attempt, after_id=params.after_id, limit=params.limit
    )
    return m.TranscriptResult(messages=messages, more=more)


@handler("bosun/eventsSince")
async def events_since(ctx: DaemonContext, params: m.EventsSinceParams) -> m.EventsSinceResult:
    """Events after a seq, for a client's resync."""
    events, more = await ctx.store.events_since(params.after, params.limit, run_id=params.run_id)
    # A committed event is readable a moment before the store's counter moves (that
    # happens once its listeners ran): never report a newest seq below what we return.
    newest = max(ctx.store.last_seq, events[-1].seq if events else 0)
    return m.EventsSinceResult(events=events, more=more, last_seq=newest)


@handler("bosun/shutdown")
async def shutdown(ctx: DaemonContext, params: m.ShutdownParams) -> m.ShutdownResult:
    """Stop the daemon after this answer is sent."""
    ctx.request_shutdown(params.reason)
    return m.ShutdownResult()
