"""The engine: one object per daemon that turns runs into scheduled, supervised attempts.

It owns the in-memory task graph (graph.py), the dispatcher (scheduler.py), the attempt
drivers (attempts.py), Phoenix (phoenix.py), humans (humans.py), merging and landing
(merging.py), run control (lifecycle.py) and recovery (recovery.py). Everything it
decides is written to the board first; its memory is only a cache of the board plus the
live coroutines of running attempts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bosun_protocol.entities import Run, RunState, Task
from bosun_protocol.review import LandRunResult, ReviewDecision

from bosun.agents.api import AgentRunner
from bosun.board.store import Store
from bosun.engine.graph import TaskGraph
from bosun.engine.ports import GitPlane
from bosun.engine.progress import Notifier, NullNotifier
from bosun.engine.settings import EngineSettings

log = logging.getLogger(__name__)

LIVE_RUN_STATES = frozenset(
    {RunState.PENDING, RunState.PLANNING, RunState.RUNNING, RunState.PAUSED, RunState.LANDING}
)


@dataclass
class ActiveAttempt:
    """A running attempt's handle: how to stop it and how alive it looks."""

    task_id: int
    run_id: int
    number: int
    holder: str
    started: float
    last_activity: float
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    stop_reason: str | None = None  # interrupt | cancel | shutdown | timeout | stalled
    stop_note: str = ""
    human_wait: float = 0.0  # seconds spent waiting for a human's approval
    waiting_since: float | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)  # the driver is done
    # Where this attempt works; QA checks the same directory.
    worktree: Path | None = None
    # Frees the worker slot (idempotent): merging after QA needs no worker.
    free_slot: Callable[[], None] = lambda: None
    # Why dispatch must pause once this attempt is closed (the cluster is unreachable).
    pause_for: BaseException | None = None

    def stop(self, reason: str, note: str = "") -> None:
        """Ask the attempt to stop (first reason wins)."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stop_note = note
        self.cancel.set()

    def human_wait_total(self, now: float) -> float:
        """Time spent waiting for humans, including a wait in progress."""
        extra = now - self.waiting_since if self.waiting_since is not None else 0.0
        return self.human_wait + extra


class Engine:
    """Schedules every live run's tasks onto at most N concurrent attempts."""

    def __init__(
        self,
        store: Store,
        git: GitPlane,
        runner: AgentRunner,
        settings: EngineSettings,
        boot_id: str,
        *,
        notifier: Notifier | None = None,
    ) -> None:
        from bosun.engine.attempts import AttemptDriver
        from bosun.engine.baselines import Baselines
        from bosun.engine.decisions import Decisions
        from bosun.engine.humans import Humans
        from bosun.engine.lifecycle import Lifecycle
        from bosun.engine.merging import Merging
        from bosun.engine.phoenix import Phoenix
        from bosun.engine.plan_edits import PlanEdits
        from bosun.engine.scheduler import Dispatcher

        self.store = store
        self.git = git
        self.runner = runner
        self.settings = settings
        self.boot_id = boot_id
        self.notifier: Notifier = notifier or NullNotifier()
        self.graph = TaskGraph()
        self.runs: dict[int, Run] = {}
        self.active: dict[int, ActiveAttempt] = {}
        self.stopping = False
        self.settings_generation = 0  # counts settings reloads (config.toml, client options)
        self.loop_time: Callable[[], float] = asyncio.get_running_loop().time
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        # Told of every engine coroutine that failed (the storage pause listens here).
        self.on_task_failure: Callable[[BaseException], None] = lambda _exc: None
        self.dispatcher = Dispatcher(self)
        self.drivers = AttemptDriver(self)
        self.phoenix = Phoenix(self)
        self.humans = Humans(self)
        self.decisions = Decisions(self)
        self.merging = Merging(self)
        self.baselines = Baselines(self)
        self.lifecycle = Lifecycle(self)
        self.plan = PlanEdits(self)

    # -- life ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover what a previous daemon left, then dispatch (by events from now on)."""
        from bosun.engine.recovery import recover

        self._unsubscribe = self.store.subscribe(self.dispatcher.on_event)
        await recover(self)
        self.dispatcher.pump()

    async def stop(self) -> None:
        """Stop dispatching; running attempts are interrupted and re-queued (not counted)."""
        self.stopping = True
        for handle in list(self.active.values()):
            handle.stop("shutdown", "the daemon is stopping")
        if self._tasks:
            _done, pending = await asyncio.wait(
                set(self._tasks), timeout=self.settings.cancel_grace_s + 5
            )
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
        if self._unsubscribe is not None:
            self._unsubscribe()

    def update_settings(self, settings: Any) -> None:
        """Apply reloaded settings (`Settings` or `EngineSettings`)."""
        self.settings = getattr(settings, "engine", settings)
        self.settings_generation += 1  # a fix_first prompt may be retried now
        self.dispatcher.pump()

    def touch(self, task_id: int) -> None:
        """A sign of life from a task's attempt (e.g. streamed model text): not stalled."""
        handle = self.active.get(task_id)
        if handle is not None:
            handle.last_activity = self.loop_time()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run a coroutine the engine owns; its failure is logged, never lost."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._reap)
        return task

    def _reap(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        from bosun.engine.storage_pause import unwritable_in

        if unwritable_in(exc) is not None:
            # Not a bug: the disk refused a write. The storage pause takes it from here.
            log.warning("engine task %s stopped: %s", task.get_name(), exc)
        else:
            log.error("engine task %s failed", task.get_name(), exc_info=exc)
        if not self.stopping:
            self.on_task_failure(exc)

    async def idle(self) -> None:
        """Wait until no engine coroutine is running (tests, benchmarks)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    # -- settings per run ----------------------------------------------------------------

    def workers_for(self, run: Run) -> int:
        """The run's concurrency cap."""
        return run.options.workers or self.settings.workers

    def max_retries_for(self, run: Run) -> int:
        """Retries a new task of this run gets."""
        if run.options.max_retries is not None:
            return run.options.max_retries
        return self.settings.max_retries

    def review_gate_for(self, run: Run) -> bool:
        """Whether tasks of this run wait for a reviewer after QA."""
        if run.options.review_gate is not None:
            return run.options.review_gate
        return self.settings.review_gate

    # -- the API handlers call ----------------------------------------------------------------

    async def start_run(self, run_id: int) -> Run:
        """Give a recorded run its branch and director task, and start scheduling it."""
        return await self.lifecycle.start_run(run_id)

    async def land_requested(self, run_id: int, by: str) -> LandRunResult:
        """A person's `bosun land`: land, completing the run if it waited in `landing`."""
        return await self.lifecycle.land_requested(run_id, by)

    async def apply_review(self, task_id: int, decision: ReviewDecision) -> Task:
        """A reviewer's decision on a task awaiting review."""
        return await self.merging.apply_review(task_id, decision)
