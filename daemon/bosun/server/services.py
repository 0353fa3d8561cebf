"""Starting and stopping the daemon's services: git plane, workspace watcher, engine.

Each service is registered in `ctx.services` under its name so handlers can reach it;
they stop in reverse order of starting.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Awaitable, Callable

from bosun.config import Settings
from bosun.own_files import use_scratch
from bosun.server.client_settings import client_overrides
from bosun.server.context import DaemonContext

log = logging.getLogger(__name__)

Stopper = Callable[[], Awaitable[None]]


async def check_sandbox(ctx: DaemonContext) -> None:
    """Probe command confinement once; a mode configured but unavailable raises."""
    from bosun.tools.sandbox import sandbox_report

    tools = ctx.settings.tools
    report = await asyncio.to_thread(sandbox_report, tools.sandbox, tools.allow_weak_sandbox)
    ctx.services["sandbox_mode"] = f"{report.mode.value} ({report.reason})"
    ctx.services["sandbox"] = report.as_dict()


async def start_services(ctx: DaemonContext, stoppers: list[Stopper]) -> None:
    """Start everything the daemon runs besides its listeners.

    Each started service's stopper is appended at once, so a failure half-way still
    stops what did start.
    """
    from bosun.git.service import GitService
    from bosun.watch import WorkspaceWatcher

    server = ctx.settings.server
    if server.metrics_port is not None:
        from bosun.observe.metrics_server import start_metrics

        stop_metrics, _ = await start_metrics(ctx, server.metrics_port, server.metrics_host)
        stoppers.append(stop_metrics)
    if ctx.settings.observe.tracing.endpoint is not None:
        from bosun.observe.trace_service import start_tracing

        stoppers.append(start_tracing(ctx))
    if any(h.enabled for h in ctx.settings.observe.webhooks.values()):
        from bosun.observe.webhooks import Webhooks
        from bosun.secrets import provider_environ

        webhooks = Webhooks(ctx.store, ctx.settings.observe.webhooks, ctx.workspace.root.name,
                            provider_environ())  # fmt: skip
        await webhooks.start()
        ctx.services["webhooks"] = webhooks
        stoppers.append(webhooks.stop)
    # Before the git plane's reconciliation, which removes earlier boots' scratch dirs.
    await asyncio.to_thread(use_scratch, ctx.workspace.root, ctx.boot_id)
    git = GitService(ctx.workspace, ctx.settings.git, ctx.store)
    gc = await git.start()
    log.info("git plane ready; reconciliation: %s", gc.model_dump(exclude_defaults=True))
    ctx.services["git"] = git
    stoppers.append(git.close)

    def apply_settings(settings: Settings) -> None:
        ctx.settings = settings
        git.update_settings(settings.git)
        gateway = ctx.services.get("gateway")
        if gateway is not None:
            gateway.update_settings(settings.llm)
        engine = ctx.services.get("engine")
        if engine is not None and hasattr(engine, "update_settings"):
            engine.update_settings(settings)

    ctx.services["apply_settings"] = apply_settings
    watcher = WorkspaceWatcher(
        ctx.workspace, ctx.store, apply_settings, overrides=lambda: client_overrides(ctx)
    )
    # The watcher proves its watch exists before start() returns (a few hundred ms);
    # the daemon need not wait for that to answer clients.
    watching = asyncio.create_task(watcher.start(), name="watcher-start")

    async def stop_watcher() -> None:
        with contextlib.suppress(Exception):
            await watching
        await watcher.stop()

    stoppers.append(stop_watcher)

    # The engine plugs in here when it is built: `bosun.engine.service.start_engine(ctx)`
    # returns its stopper after registering itself as ctx.services["engine"].
    try:
        engine_mod = importlib.import_module("bosun.engine.service")
    except ModuleNotFoundError as exc:
        if exc.name != "bosun.engine.service":
            raise
        log.info("engine not installed: runs are recorded but not executed")
    else:
        stoppers.append(await engine_mod.start_engine(ctx))


async def stop_services(stoppers: list[Stopper]) -> None:
    """Stop services in reverse order; one failing does not stop the others."""
    for stop in reversed(stoppers):
        try:
            await stop()
        except Exception:
            log.exception("stopping a service failed")
