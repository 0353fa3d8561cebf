"""The `ray` executor: each attempt's worktree, tools and QA test run in a Ray actor.

The daemon joins the cluster as a Ray driver (`executor.address`) the first time an
attempt needs it. Per attempt it starts an actor (bosun.executors.ray_node) with the
resources `[executor]` gives the task's profile, so Ray places it on a node that has
them; it sends the repository state as git bundles through Ray's object store (the
history up to the run's base once per base, shared by every node that lacks it; then
the task branch's few commits), runs the worktree tools there, and at the end takes the
work back as a bundle that bosun.executors.bundles verifies and imports.

The actors belong to the daemon's Ray job: when the daemon dies, Ray ends them, and the
daemon's recovery closes their attempts as it closes local ones. A node that dies under
an attempt surfaces as `WorkerLostError` (the attempt is `crashed`, not counted).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from bosun.agents.api import AttemptRequest, CheckResult, QARequest
from bosun.errors import ClusterUnavailableError, WorkerLostError
from bosun.executors import bundles
from bosun.executors.settings import ExecutorSettings
from bosun.tools.settings import ToolSettings

if TYPE_CHECKING:
    from bosun.tools.context import ToolContext
    from bosun.tools.results import ToolResult

log = logging.getLogger(__name__)
T = TypeVar("T")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _keep_loopback(address: str) -> bool:
    """Ray turns a loopback node address into the machine's outward one (so that other
    machines could join); a cluster on 127.0.0.1 (one machine, the tests) must stay on it."""
    host = urlsplit(f"//{address.removeprefix('ray://')}").hostname or ""
    if host not in _LOOPBACK:
        return False
    import ray._private.services as services

    services.resolve_ip_for_localhost = lambda host: host
    return True


def _lost(exc: BaseException) -> bool:
    """Whether `exc` says the actor or its node is gone (not the tool's own failure)."""
    import ray.exceptions as rx

    return isinstance(exc, rx.RayActorError | rx.NodeDiedError | rx.ObjectLostError)


class RayExecutor:
    """Places attempts on a Ray cluster."""

    name = "ray"

    def __init__(self, settings: ExecutorSettings, tools: ToolSettings, repo: Path) -> None:
        self.settings = settings
        self.tools = tools
        self.repo = repo
        # The node's cache repository is per workspace: two daemons never share refs.
        self.workspace = hashlib.sha256(str(repo.resolve()).encode()).hexdigest()[:16]
        self._connected = False
        self._connecting = asyncio.Lock()
        self._bases: dict[str, Any] = {}  # run base -> ObjectRef of its bundle

    async def probe(self) -> None:
        """Join the cluster if not joined yet (the dispatch pause calls this to resume)."""
        await self.connect()

    async def connect(self) -> None:
        """Join the cluster once; ClusterUnavailableError when it cannot be reached."""
        async with self._connecting:
            if self._connected:
                return
            await self._reachable()
            try:
                await asyncio.wait_for(
                    asyncio.to_thread(self._init), self.settings.connect_timeout_s
                )
            except (TimeoutError, ConnectionError, RuntimeError, ValueError) as exc:
                raise ClusterUnavailableError(
                    f"the Ray cluster at {self.settings.address} cannot be reached: "
                    f"{str(exc) or type(exc).__name__}"
                ) from exc
            self._connected = True

    async def _reachable(self) -> None:
        """A head given as HOST:PORT must accept a connection first: Ray's own join waits
        minutes for a head that is not there, in a thread that cannot be stopped."""
        address = self.settings.address
        if address == "auto" or address.startswith("ray://"):
            return
        parts = urlsplit(f"//{address}")
        if parts.hostname is None or parts.port is None:
            raise ClusterUnavailableError(f"executor.address {address!r} is not HOST:PORT")
        limit = min(5.0, self.settings.connect_timeout_s)
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname, parts.port), limit
            )
        except (OSError, TimeoutError) as exc:
            raise ClusterUnavailableError(
                f"the Ray cluster at {address} cannot be reached: {str(exc) or type(exc).__name__}"
            ) from exc
        writer.close()

    def _init(self) -> None:
        import ray

        loopback = _keep_loopback(self.settings.address)
        ray.init(
            address=self.settings.address,
            _node_ip_address="127.0.0.1" if loopback else None,
            namespace=self.settings.namespace,
            ignore_reinit_error=True,
            log_to_driver=False,
            logging_level=logging.WARNING,
            include_dashboard=False,
        )

    async def open_attempt(self, request: AttemptRequest) -> RayPlace:
        """An actor for the attempt, its worktree made from the task branch's head."""
        branch = request.branch or f"bosun/task-{request.task.id}"
        return await self._open(request.run.id, request.task, request.attempt, branch)

    async def open_check(self, request: QARequest) -> RayPlace:
        """An actor for QA's test run of the task branch's committed work."""
        branch = request.task.branch or f"bosun/task-{request.task.id}"
        return await self._open(request.run.id, request.task, request.attempt, branch)

    async def _open(self, run_id: int, task: Any, attempt: int, branch: str) -> RayPlace:
        await self.connect()
        import ray

        from bosun.executors.ray_node import AttemptWorker

        placement = self.settings.placement_for(task.profile.value)
        options: dict[str, Any] = {
            "num_cpus": placement.num_cpus,
            "resources": dict(placement.resources),
            "max_restarts": 0,  # a node lost is the engine's to retry (Phoenix), not Ray's
            "max_concurrency": 4,  # a tool call and a cancel may overlap
        }
        if placement.memory_mb is not None:
            options["memory"] = placement.memory_mb * 1024 * 1024
        actor_class = ray.remote(AttemptWorker).options(**options)
        actor = actor_class.remote(
            self.workspace, run_id, task.id, attempt, branch, task.profile.value,
            self.tools.model_dump(mode="json"),
        )  # fmt: skip
        place = RayPlace(self, actor, branch)
        try:
            await place.start(task.base_commit)
        except BaseException:
            await place.close()
            raise
        return place

    async def base_ref(self, base: str) -> Any:
        """The run base's bundle in the object store (made once per base)."""
        if base not in self._bases:
            import ray

            data = await asyncio.to_thread(bundles.base_bundle, self.repo, base)
            self._bases[base] = ray.put(data)
        return self._bases[base]

    async def aclose(self) -> None:
        """Leave the cluster (the job's remaining actors end with it)."""
        if self._connected:
            import ray

            await asyncio.to_thread(ray.shutdown)
            self._connected = False


class RayPlace:
    """One attempt's actor, as the daemon's tools and QA reach it."""

    def __init__(self, executor: RayExecutor, actor: Any, branch: str) -> None:
        self.executor = executor
        self.actor = actor
        self.branch = branch
        self.where = "ray:(starting)"
        self.node: dict[str, Any] = {}
        self.start_head = ""

    async def _remote(self, call: Awaitable[T]) -> T:
        """Await an actor call; a dead actor or node is WorkerLostError, and a cancelled
        wait cancels the call there too (a command's process tree is killed)."""
        try:
            return await call
        except asyncio.CancelledError:
            import ray

            try:
                ray.cancel(call)
            except Exception as exc:  # already finished or gone: nothing left to stop
                log.debug("cancel of a remote call failed: %s", exc)
            raise
        except Exception as exc:
            if _lost(exc):
                raise WorkerLostError(
                    f"the worker node running this attempt was lost ({self.where}): "
                    f"{type(exc).__name__}"
                ) from exc
            raise

    async def start(self, base: str | None) -> None:
        """Ship what the node lacks of the task branch and make the worktree there."""
        repo = self.executor.repo
        self.node = await self._remote(self.actor.where.remote())
        self.where = (
            f"ray:{self.node['node_id'][:12]}:pid{self.node['pid']}:{self.node['node_dir']}"
        )
        head = await asyncio.to_thread(bundles.head_of, repo, self.branch)
        wanted = [head, *([base] if base else [])]
        have = set(await self._remote(self.actor.has.remote(wanted)))
        history: Any = None  # the base's bundle: an object-store ref, resolved by Ray there
        data: bytes | None = None
        if head not in have:
            if base and base not in have:
                history = await self.executor.base_ref(base)
            data = await asyncio.to_thread(bundles.branch_bundle, repo, self.branch, base)
        await self._remote(self.actor.receive.remote(history, data, head))
        self.start_head = head

    async def run_tool(self, ctx: ToolContext, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run one worktree tool on the node."""
        result: ToolResult = await self._remote(self.actor.call.remote(name, arguments))
        return result

    async def run_check(self, command: str, *, per_test: bool) -> CheckResult:
        """QA's test command on the node."""
        result: CheckResult = await self._remote(self.actor.check.remote(command, per_test))
        return result

    async def settle(self, worktree: Path) -> None:
        """Take the node's work back, verified, into the daemon's worktree (uncommitted)."""
        data = await self._remote(self.actor.collect.remote("bosun: work from a worker node"))
        if data is None:
            return
        limit = self.executor.settings.bundle_limit_mb * 1024 * 1024
        await bundles.import_work(
            self.executor.repo, worktree, data, branch=self.branch, start=self.start_head,
            limit_bytes=limit,
        )  # fmt: skip

    async def close(self) -> None:
        """Remove the worktree there and end the actor (whatever state it is in)."""
        import ray

        try:
            await asyncio.wait_for(self.actor.close.remote(), 60)
        except Exception as exc:  # gone with its node, or stuck: it is killed below
            log.info("closing the attempt's actor (%s) failed: %s", self.where, exc)
        try:
            ray.kill(self.actor, no_restart=True)
        except Exception as exc:
            log.debug("killing the actor failed: %s", exc)
