"""Starting the engine inside the daemon (`bosun.server.services` calls `start_engine`)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

from bosun_protocol import messages as m
from bosun_protocol.engine import HumanPrompt, TranscriptDelta
from bosun_protocol.entities import Run, Task
from bosun_protocol.messages import StorageStatus

from bosun.agents.api import AgentRunner
from bosun.engine.cluster_pause import ClusterPause
from bosun.engine.core import Engine
from bosun.engine.gitplane import ServiceGitPlane
from bosun.engine.ports import GitPlane, NullGitPlane
from bosun.engine.progress import Notifier, NullNotifier
from bosun.engine.storage_pause import StoragePause
from bosun.errors import BosunError
from bosun.executors.place import Executor, LocalExecutor
from bosun.server.context import DaemonContext
from bosun.server.framing import encode_body
from bosun.server.hub import wants_bosun_notifications
from bosun.server.presenter import HubNotifier

log = logging.getLogger(__name__)

DELTA_LIMIT = 16_384


class DeltaCounter:
    """Numbers each attempt's deltas 1, 2, 3… so a client can tell exactly when one is lost.

    One entry per task (its latest attempt): a new attempt starts again at 1, and the
    counts live only as long as the daemon does — after a restart attempts are new anyway.
    """

    def __init__(self) -> None:
        self._last: dict[int, tuple[int, int]] = {}  # task id -> (attempt, last seq)

    def next(self, task_id: int, attempt: int) -> int:
        """The seq of this attempt's next delta."""
        seen_attempt, seq = self._last.get(task_id, (attempt, 0))
        seq = seq + 1 if seen_attempt == attempt else 1
        self._last[task_id] = (attempt, seq)
        return seq


class _View:
    """The engine's live state as a late client's catch-up sees it (progress.EngineView)."""

    def __init__(self, engines: list[Engine]) -> None:
        self._engines = engines

    def open_prompts(self) -> list[HumanPrompt]:
        return self._engines[0].humans.queue() if self._engines else []

    def live_runs(self) -> list[tuple[Run, dict[str, int]]]:
        if not self._engines:
            return []
        engine = self._engines[0]
        return [(run, engine.graph.run_counts(run.id)) for run in list(engine.runs.values())]

    async def task(self, task_id: int) -> Task | None:
        if not self._engines:
            return None
        try:
            return await self._engines[0].store.get_task(task_id)
        except BosunError:
            return None


def _delta_sink(
    notifier: Notifier, engines: list[Engine] | None = None
) -> Callable[[int, int, Any], None]:
    counter = DeltaCounter()

    def on_delta(task_id: int, attempt: int, chunk: Any) -> None:
        for engine in engines or ():
            engine.touch(task_id)  # streaming text is a sign of life
        text = str(getattr(chunk, "text", chunk))[:DELTA_LIMIT]
        message_id = getattr(chunk, "message_id", None)
        # A chunk with a message id and no text is the "message stored" marker: the text
        # streamed since the last one is now that stored message. It goes out like any
        # delta (numbered, so the count stays gapless); only chunks with neither are news
        # to nobody.
        if text or message_id is not None:
            notifier.transcript_delta(
                TranscriptDelta(
                    task_id=task_id,
                    attempt=attempt,
                    seq=counter.next(task_id, attempt),
                    role=str(getattr(chunk, "role", "assistant")),
                    delta=text,
                    message_id=message_id,
                )
            )

    return on_delta


def build_runner(
    ctx: DaemonContext, notifier: Notifier, engines: list[Engine] | None = None
) -> AgentRunner:
    """The daemon's AgentRunner: a registered one, or `bosun.agents.runner.Agents`."""
    given = ctx.services.get("agents")
    if given is not None:
        return cast(AgentRunner, given)
    runner_mod = importlib.import_module("bosun.agents.runner")
    factory = getattr(runner_mod, "build_agents", None)
    if factory is not None:
        return cast(AgentRunner, factory(ctx, on_delta=_delta_sink(notifier, engines)))
    from bosun.agents.prepare import Preparer
    from bosun.llm.gateway import ModelGateway
    from bosun.tools import Policy, ToolExecutor, build_registry, current_sandbox

    settings = ctx.settings
    # Relative `scripted:` scenario paths resolve against the repository, not the cwd.
    gateway = ModelGateway(
        settings.llm, recorder=ctx.store, recordings=ctx.store, scenario_dir=ctx.workspace.root
    )
    ctx.services["gateway"] = gateway  # settings reloads and client keys reach it
    executor = ToolExecutor(build_registry(settings.tools), Policy.from_settings(settings.tools))
    sandbox = current_sandbox(settings.tools.sandbox, settings.tools.allow_weak_sandbox)
    private = ctx.workspace.private_paths()
    preparer = Preparer(
        settings, ctx.workspace.root, ctx.workspace.state_dir, sandbox=sandbox, hidden=private
    )
    agents = runner_mod.Agents(
        gateway,
        executor,
        ctx.store,
        settings,
        on_delta=_delta_sink(notifier, engines),
        sandbox=sandbox,
        hidden_paths=private,
        preparer=preparer,
        placement=build_placement(ctx),
    )
    return cast(AgentRunner, agents)


def build_placement(ctx: DaemonContext) -> Executor:
    """Where attempts run (`[executor]`); Ray is imported only when it is asked for."""
    given = ctx.services.get("executor")
    if given is not None:
        return cast(Executor, given)
    settings = ctx.settings.executor
    placement: Executor = LocalExecutor()
    if settings.kind == "ray":
        from bosun.executors.ray_executor import RayExecutor

        placement = RayExecutor(settings, ctx.settings.tools, ctx.workspace.root)
    ctx.services["executor"] = placement
    return placement


def storage_pause(
    ctx: DaemonContext,
    stop: Callable[[], Awaitable[None]],
    restart: Callable[[], Awaitable[None]],
) -> StoragePause:
    """The daemon's storage pause (ctx.services["storage"]), telling every client."""
    hub = ctx.services.get("hub")

    def announce(status: StorageStatus) -> None:
        if hub is None:
            return
        params = m.StorageChanged(**status.model_dump()).model_dump(mode="json", by_alias=True)
        body = encode_body({"jsonrpc": "2.0", "method": "bosun/storageChanged", "params": params})
        text = (
            f"Bosun paused every run: {status.reason} It resumes by itself once the board "
            "can be written again (or run `bosun resume RUN`)."
            if status.state == "paused"
            else "Bosun can write its board again; paused runs resumed."
        )
        for conn in list(hub.connections):
            if conn.initialized and not conn.closed.is_set():
                if wants_bosun_notifications(conn):
                    conn.send_body(body)
                conn.show_message(2 if status.state == "paused" else 3, text)

    pause = StoragePause(
        stop=stop,
        restart=restart,
        probe=ctx.store.check_writable,
        announce=announce,
        interval=lambda: ctx.settings.engine.storage_probe_s,
    )
    ctx.services["storage"] = pause
    return pause


def cluster_pause(
    ctx: DaemonContext,
    stop: Callable[[], Awaitable[None]],
    restart: Callable[[], Awaitable[None]],
) -> ClusterPause:
    """The dispatch pause while the executor's cluster is unreachable, told to every client."""
    hub = ctx.services.get("hub")
    placement = build_placement(ctx)

    def announce(status: StorageStatus) -> None:
        text = (
            f"Bosun paused dispatch: {status.reason}. Nothing is lost; it resumes by itself "
            f"once the cluster answers (tried every {ctx.settings.executor.probe_s:g} s)."
            if status.state == "paused"
            else "Bosun reaches its cluster again; dispatch resumed."
        )
        for conn in list(hub.connections) if hub is not None else []:
            if conn.initialized and not conn.closed.is_set():
                conn.show_message(2 if status.state == "paused" else 3, text)

    pause = ClusterPause(
        stop=stop,
        restart=restart,
        probe=placement.probe,
        announce=announce,
        interval=lambda: ctx.settings.executor.probe_s,
    )
    ctx.services["cluster"] = pause
    return pause


async def start_engine(ctx: DaemonContext) -> Callable[[], Awaitable[None]]:
    """Build the engine, recover, register it as ctx.services["engine"]; return its stopper."""
    hub = ctx.services.get("hub")
    engine_box: list[Engine] = []

    async def resolve(params: Any) -> object:
        return await engine_box[0].humans.resolve(params)

    notifier: Notifier = (
        HubNotifier(hub, resolve, _View(engine_box)) if hub is not None else NullNotifier()
    )
    git_service = ctx.services.get("git")
    git: GitPlane = (
        ServiceGitPlane(git_service) if git_service is not None else NullGitPlane(ctx.store)
    )
    runner = build_runner(ctx, notifier, engine_box)

    def make_engine() -> Engine:
        engine = Engine(ctx.store, git, runner, ctx.settings.engine, ctx.boot_id, notifier=notifier)
        engine.on_task_failure = on_failure
        return engine

    async def restart() -> None:
        # A new engine recovers every run from the board, as a new daemon would.
        engine = make_engine()
        engine_box[0] = engine
        ctx.services["engine"] = engine
        try:
            await engine.start()
        except BaseException:
            await engine.stop()
            raise

    storage = storage_pause(ctx, lambda: engine_box[0].stop(), restart)
    cluster = cluster_pause(ctx, lambda: engine_box[0].stop(), restart)

    def on_failure(exc: BaseException) -> None:  # a refused write, or no cluster: pause
        storage.failed(exc)
        cluster.failed(exc)

    engine = make_engine()
    engine_box.append(engine)
    await engine.start()
    ctx.services["engine"] = engine
    ctx.services["notifier"] = notifier
    log.info("engine started: %d live run(s) recovered", len(engine.runs))

    async def stop() -> None:
        await storage.close()
        await cluster.close()
        await engine_box[0].stop()
        gateway = ctx.services.pop("gateway", None)
        if gateway is not None:
            await gateway.aclose()
        placement = ctx.services.pop("executor", None)
        if placement is not None:
            await placement.aclose()

    return stop
