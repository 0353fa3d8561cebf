"""Event-driven dispatch: board notices in, promotions and attempt drivers out.

There is no polling loop. Every committed board change reaches `on_event`; it updates
the in-memory graph and, when something can move, (1) promotes planned tasks whose
dependencies are complete, in one concurrent batch the board's group commit turns into
few transactions, and (2) `pump()` starts drivers for the ready tasks with the longest
chain behind them while worker slots are free (global cap and each run's cap).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import TYPE_CHECKING

from bosun_protocol.entities import Event, Run, RunState, Task, TaskState

from bosun.engine import points
from bosun.engine.graph import TERMINAL
from bosun.errors import ConflictError, InvalidTransitionError, NotFoundError
from bosun.observe import hooks

if TYPE_CHECKING:
    from bosun.engine.core import Engine

log = logging.getLogger(__name__)
_S = TaskState
_DISPATCHING = (RunState.PLANNING, RunState.RUNNING)  # see lifecycle.py


class Dispatcher:
    """Keeps the graph current and the worker slots full."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.running = 0
        self.running_by_run: Counter[int] = Counter()
        self._promote: set[int] = set()
        self._demote: set[int] = set()
        self._flushing = False
        self._settle: set[int] = set()
        self._pump_scheduled = False

    # -- board notices -------------------------------------------------------------------

    def on_event(self, event: Event, run: Run | None, task: Task | None) -> None:
        """Store listener: runs after each commit, in seq order."""
        engine = self.engine
        if run is not None and run.id in engine.runs:
            engine.runs[run.id] = run
            if run.state in _DISPATCHING:
                self.pump()
        if event.task_id is not None and (handle := engine.active.get(event.task_id)):
            handle.last_activity = engine.loop_time()
        if task is None or task.run_id not in engine.runs:
            return
        old, deps_changed = engine.graph.apply(task)
        if task.state is _S.COMPLETE and old is not _S.COMPLETE:
            self._promote.update(engine.graph.dependents.get(task.id, ()))
        if old is None or deps_changed:
            self._promote.add(task.id)
            if engine.graph.demotable(task.id):
                self._demote.add(task.id)
        if old is not task.state:
            engine.lifecycle.touch(task.run_id, task)
            if task.state in TERMINAL or old in TERMINAL:
                self._settle.add(task.run_id)
        if self._promote or self._demote or self._settle:
            self._schedule_flush()
        if task.state is _S.READY:
            if engine.graph.demotable(task.id):  # made ready while a dependency was added
                self._demote.add(task.id)
                self._schedule_flush()
            elif not self._flushing:
                self._pump_soon()

    def _pump_soon(self) -> None:
        # After the current burst of notices (one group commit's worth, delivered in one
        # go): the task with the longest chain wins the slot, not the first one committed.
        if not self._pump_scheduled:
            self._pump_scheduled = True
            asyncio.get_running_loop().call_soon(self._scheduled_pump)

    def _scheduled_pump(self) -> None:
        self._pump_scheduled = False
        self.pump()

    def _schedule_flush(self) -> None:
        if not self._flushing and not self.engine.stopping:
            self._flushing = True
            self.engine.spawn(self._flush(), "engine-promote")

    async def _flush(self) -> None:
        try:
            while self._promote or self._demote or self._settle:
                # Yield once so a burst of notices (a batch of created tasks) is one batch.
                await asyncio.sleep(0)
                promote = self.engine.graph.promotable(self._promote)
                demote = [t for t in self._demote if self.engine.graph.demotable(t)]
                settle = list(self._settle)
                self._promote.clear()
                self._demote.clear()
                self._settle.clear()
                moves = [self._move(t, _S.PLANNED, _S.READY) for t in promote]
                moves += [self._move(t, _S.READY, _S.PLANNED) for t in demote]
                if moves:
                    await asyncio.gather(*moves)
                for run_id in settle:
                    await self.engine.lifecycle.settle(run_id)
        finally:
            self._flushing = False
        self.pump()

    async def _move(self, task_id: int, frm: TaskState, to: TaskState) -> None:
        node = self.engine.graph.nodes.get(task_id)
        if node is not None and node.held:
            return
        try:
            await self.engine.store.transition(
                task_id, expected=frm, to=to, event_data={"by": "scheduler"}
            )
        except (ConflictError, InvalidTransitionError, NotFoundError) as exc:
            log.debug("task %d not moved %s → %s: %s", task_id, frm, to, exc)
            return
        if to is _S.READY:
            points.failpoint(points.TASK_PROMOTED)

    def promote_later(self, task_ids: list[int]) -> None:
        """Check these tasks for promotion (after a hold is lifted, or on recovery)."""
        self._promote.update(task_ids)
        self._schedule_flush()

    # -- slots ---------------------------------------------------------------------------

    def pump(self) -> None:
        """Start drivers for the best ready tasks while slots are free."""
        engine = self.engine
        if engine.stopping or self.running >= engine.settings.workers:
            return
        if not engine.graph.has_ready():
            return
        admissible = {
            run_id: run.state in _DISPATCHING
            and self.running_by_run[run_id] < engine.workers_for(run)
            for run_id, run in engine.runs.items()
        }
        while self.running < engine.settings.workers:
            node = engine.graph.pop_ready(admissible)
            if node is None:
                return
            node.claimed = True
            hooks.task_dispatched(time.monotonic() - node.ready_at)
            self.running += 1
            self.running_by_run[node.run_id] += 1
            run = engine.runs[node.run_id]
            admissible[node.run_id] = self.running_by_run[node.run_id] < engine.workers_for(run)
            engine.spawn(self._drive(node.id, node.run_id), f"attempt-{node.id}")

    async def _drive(self, task_id: int, run_id: int) -> None:
        freed = False

        def free_slot() -> None:
            nonlocal freed
            if freed:
                return
            freed = True
            self.running -= 1
            self.running_by_run[run_id] -= 1
            self.engine.graph.release(task_id)
            self.pump()

        try:
            await self.engine.drivers.drive(task_id, free_slot)
        finally:
            free_slot()
