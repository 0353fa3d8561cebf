"""Runs: start (branch + director task), planning and running, completion and landing,
cancel, pause, resume, replan.

A run is `planning` from its start while only its director and planners have work: they
decompose the objective. It becomes `running` when the first worker task (any profile
but director and planner) is dispatched, the moment the plan turns into work. A replan
does not take a running run back to `planning`: work has been done and goes on beside
the new planner (the state would flicker for every replan otherwise). Pausing a planning
run and resuming it returns it to `planning` or `running`, by the same rule.

A replay run (model `replay:N`) is a check, not work to deliver: it completes without
landing; its work stays on its branch for comparison.

A run is done when every task is complete or abandoned: then it lands (the git plane
fast-forwards the base branch when that is safe) and completes; when landing needs a
person the run stays `landing` with a landing prompt behind it. A run whose every task
was abandoned fails. No run is left `running` with nothing behind it: either a task can
still move, or a human prompt is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from bosun_protocol.engine import HumanPrompt, PromptKind
from bosun_protocol.engine import ResolveAction as A
from bosun_protocol.entities import Profile, Run, RunState, Task, TaskState
from bosun_protocol.review import LandRunResult

from bosun.board.models import TaskSpec
from bosun.engine import points
from bosun.engine.end_causes import RUN_CANCELLED_DATA
from bosun.engine.graph import TERMINAL
from bosun.engine.phoenix import clip
from bosun.errors import (
    BosunError,
    ConflictError,
    InvalidStateError,
    InvalidTransitionError,
    NotFoundError,
)

if TYPE_CHECKING:
    from bosun.engine.core import ActiveAttempt, Engine

log = logging.getLogger(__name__)
_R = RunState
ENDED = frozenset({_R.COMPLETED, _R.FAILED, _R.CANCELLED})
# Tasks dispatch in these run states; a paused or landing run starts no new attempt.
DISPATCHING = frozenset({_R.PLANNING, _R.RUNNING})
LIVE = frozenset({_R.PLANNING, _R.RUNNING, _R.PAUSED})
# The profiles that decompose the objective: the run is planning while only they work.
PLANNING_PROFILES = frozenset({Profile.DIRECTOR, Profile.PLANNER})
DIRECTOR_CRITERIA = [
    "A design document states the objective, assumptions, constraints, expected outputs "
    "and the plan, and is written in the repository",
    "Planner tasks covering the plan are created with create_subtasks",
]


def is_replay(run: Run) -> bool:
    """Whether the run replays a recorded run (its model is `replay:N`)."""
    return (run.options.model or "").startswith("replay:")


class Lifecycle:
    """Run-level control."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._settling: set[int] = set()

    async def start_run(self, run_id: int) -> Run:
        """pending → planning: run branch, the director task, then the state.

        The director exists before the run leaves `pending`, so no planning run is ever
        without it (a crash in between restarts a pending run, and creating the director
        is idempotent)."""
        e = self.engine
        run = await e.store.get_run(run_id)
        if run.state is not _R.PENDING:
            raise InvalidStateError(f"run {run_id} is {run.state.value}, not pending")
        e.runs[run_id] = run  # tasks of the run are tracked from the first one
        try:
            started = await e.git.start_run(run_id)
        except BosunError as exc:
            e.runs.pop(run_id, None)
            await e.store.update_run(
                run_id, event="run.failed", state=_R.FAILED, reason=exc.message
            )
            raise
        e.baselines.begin(started)  # the base's test results, alongside the director
        await self.create_director(run)
        run = await e.store.update_run(
            run_id, event="run.started", expected_state=_R.PENDING, state=_R.PLANNING
        )
        e.runs[run_id] = run
        points.failpoint(points.RUN_STARTED)
        return await e.store.get_run(run_id)

    async def create_director(self, run: Run) -> None:
        """The run's first task: design document and plan (idempotent)."""
        e = self.engine
        try:
            await e.store.get_task_by_key(run.id, "director")
            return
        except NotFoundError:
            pass
        spec = TaskSpec(
            key="director",
            title=f"Design and plan: {clip(run.objective, 120)}",
            description=run.objective,
            profile=Profile.DIRECTOR,
            phase="design",
            acceptance_criteria=DIRECTOR_CRITERIA,
            max_retries=e.max_retries_for(run),
        )
        await e.store.create_tasks(run.id, [spec])

    def touch(self, run_id: int, task: Task | None = None) -> None:
        """A task of the run changed state: report progress (coalesced by the notifier);
        a worker task dispatched in a planning run makes it running."""
        e = self.engine
        run = e.runs.get(run_id)
        if run is None:
            return
        e.notifier.run_progress(run, e.graph.run_counts(run_id))
        if (
            run.state is _R.PLANNING
            and task is not None
            and task.state is TaskState.ACTIVE
            and task.profile not in PLANNING_PROFILES
        ):
            e.spawn(self.planned(run_id, task.key), f"run-{run_id}-running")

    async def planned(self, run_id: int, key: str | None = None) -> None:
        """planning → running: worker tasks are being dispatched (a no-op otherwise)."""
        # Paused, cancelled or already running: a conflict; resume decides again later.
        with contextlib.suppress(ConflictError):
            await self.engine.store.update_run(
                run_id,
                event="run.running",
                expected_state=_R.PLANNING,
                state=_R.RUNNING,
                data={"firstWorker": key} if key else None,
            )

    async def _state_after_planning(self, run_id: int) -> RunState:
        """`running` once a worker task was ever dispatched, else `planning`."""
        for task in await self.engine.store.list_tasks(run_id):
            if task.profile not in PLANNING_PROFILES and task.attempt > 0:
                return _R.RUNNING
        return _R.PLANNING

    async def settle(self, run_id: int) -> None:
        """Finish the run if every task is complete or abandoned."""
        e = self.engine
        run = e.runs.get(run_id)
        if run is None or run.state not in LIVE or run_id in self._settling:
            return
        if run.state is _R.PLANNING and await self._state_after_planning(run_id) is _R.RUNNING:
            # A worker was dispatched but the daemon stopped before the run said so.
            await self.planned(run_id)
        counts = e.graph.counts.get(run_id)
        if not counts or any(n for s, n in counts.items() if s not in TERMINAL):
            return
        self._settling.add(run_id)
        try:
            if counts[TaskState.COMPLETE] == 0:
                await self.end(run_id, _R.FAILED, "every task of the run was abandoned")
            else:
                await self.land(run_id)
        finally:
            self._settling.discard(run_id)

    async def land(self, run_id: int) -> Run:
        """Land the run's branch on its base, or put a landing prompt to a human."""
        e = self.engine
        run = await e.store.update_run(run_id, event="run.landing", state=_R.LANDING)
        points.failpoint(points.RUN_LANDING)
        if is_replay(run):
            return await self.end(
                run_id, _R.COMPLETED, f"a replay is not landed; the work is on {run.run_branch}"
            )
        if not e.settings.land_on_completion:
            return await self.end(
                run_id, _R.COMPLETED, f"not landed (engine.land_on_completion is off); the "
                f"work is on {run.run_branch}",
            )  # fmt: skip
        try:
            result = await e.git.land(run_id)
        except BosunError as exc:
            result = LandRunResult(
                run_id=run_id, outcome="needs_human", branch=run.base_branch or "?",
                reason=exc.message,
            )  # fmt: skip
        if result.outcome != "needs_human":
            return await self._landed(run_id, "engine")
        if not any(p.kind is PromptKind.LANDING for p in e.humans.queue(run_id)):
            prompt = await e.humans.open(
                run_id, None, PromptKind.LANDING,
                f"landing run {run_id} on {result.branch} needs you: {result.reason}",
                [A.RETRY, A.ABANDON],
            )  # fmt: skip
            await e.humans.announce(prompt, None)
        return await e.store.get_run(run_id)

    async def land_requested(self, run_id: int, by: str) -> LandRunResult:
        """A person asked to land (`bosun land`): land, and when the run was waiting in
        `landing` for exactly that, close its landing prompt and complete it."""
        e = self.engine
        result = await e.git.land(run_id)
        run = await e.store.get_run(run_id)
        if result.outcome != "needs_human" and run.state is _R.LANDING:
            await self._landed(run_id, by)
        return result

    async def _landed(self, run_id: int, by: str) -> Run:
        for prompt in landing_prompts(self.engine, run_id):
            await self.engine.humans.close(prompt, by, A.RETRY)
        return await self.end(run_id, _R.COMPLETED, None)

    async def landing_answer(self, run_id: int, action: A, by: str) -> Run:
        """retry: land again; abandon: complete without landing (the branch stays)."""
        if action is A.RETRY:
            return await self.land(run_id)
        run = await self.engine.store.get_run(run_id)
        return await self.end(
            run_id, _R.COMPLETED, f"not landed ({by} declined); the work is on {run.run_branch}"
        )

    async def end(self, run_id: int, state: RunState, reason: str | None) -> Run:
        """The run is over: record it and stop tracking its tasks."""
        e = self.engine
        run = await e.store.update_run(
            run_id, event=f"run.{state.value}", state=state, reason=reason
        )
        points.failpoint(points.RUN_FINISHED)
        e.notifier.run_progress(run, e.graph.run_counts(run_id))
        e.runs.pop(run_id, None)
        e.graph.forget_run(run_id)
        e.baselines.drop(run_id)
        return run

    # -- control ---------------------------------------------------------------------------

    async def cancel(self, run_id: int, reason: str) -> Run:
        """Abandon every unfinished task (killing running attempts); the run is cancelled."""
        e = self.engine
        run = await e.store.get_run(run_id)
        if run.state in ENDED:
            raise InvalidStateError(f"run {run_id} is already {run.state.value}")
        why = reason or "the run was cancelled"
        await e.store.update_run(run_id, event="run.cancelled", state=_R.CANCELLED, reason=why)
        await e.humans.close_run(run_id)
        handles = []
        for task in await e.store.list_tasks(run_id):
            if task.state not in TERMINAL or task.id in e.active:
                handle = await self._abandon_quietly(task, why)
                if handle is not None:
                    handles.append(handle)
        for handle in handles:
            await handle.finished.wait()
        e.runs.pop(run_id, None)
        e.graph.forget_run(run_id)
        return await e.store.get_run(run_id)

    async def _abandon_quietly(self, task: Task, reason: str) -> ActiveAttempt | None:
        """Abandon a task, or stop its attempt (whose driver abandons it); no cascade."""
        e = self.engine
        for _ in range(5):
            handle = e.active.get(task.id)
            if handle is not None:
                handle.stop("cancel", reason)
                e.humans.withdraw_approvals(task.id)
                return handle
            if task.state in TERMINAL:
                return None
            if task.state is TaskState.ACTIVE and task.lease and task.lease.boot_id == e.boot_id:
                # Our driver holds the lease and registers its handle as soon as it runs.
                await asyncio.sleep(0)
                task = await e.store.get_task(task.id)
                continue
            try:
                await e.store.transition(
                    task.id, expected=task.state, to=TaskState.ABANDONED, reason=reason,
                    event_data=RUN_CANCELLED_DATA,
                )  # fmt: skip
                return None
            except (ConflictError, InvalidTransitionError):
                task = await e.store.get_task(task.id)  # a driver took it: look again
        return None

    async def pause(self, run_id: int) -> Run:
        """Start no new attempts (running ones finish); from planning or running."""
        run = await self.engine.store.get_run(run_id)
        if run.state not in DISPATCHING:
            raise InvalidStateError(f"run {run_id} is {run.state.value}, not planning or running")
        return await self.engine.store.update_run(
            run_id, event="run.paused", expected_state=run.state, state=_R.PAUSED
        )

    async def resume(self, run_id: int) -> Run:
        """Dispatch again: back to planning, or running once workers were dispatched."""
        run = await self.engine.store.get_run(run_id)
        if run.state is not _R.PAUSED:
            raise InvalidStateError(f"run {run_id} is {run.state.value}, not paused")
        to = await self._state_after_planning(run_id)
        run = await self.engine.store.update_run(
            run_id, event="run.resumed", expected_state=_R.PAUSED, state=to
        )
        await self.settle(run_id)
        self.engine.dispatcher.pump()
        return run

    async def replan(self, run_id: int, guidance: str) -> Task:
        """A planner task that sees the run as it is and the human's guidance."""
        e = self.engine
        run = await e.store.get_run(run_id)
        if run.state not in LIVE:
            raise InvalidStateError(f"run {run_id} is {run.state.value}; only live runs replan")
        tasks = await e.store.list_tasks(run_id)
        number = 1 + sum(1 for t in tasks if t.key.startswith("replan-"))
        listing = "\n".join(f"- {t.key} [{t.state.value}] {t.title}" for t in tasks[-200:])
        spec = TaskSpec(
            key=f"replan-{number}",
            title=f"Replan: {clip(guidance, 100)}",
            description=(
                f"Objective: {run.objective}\n\nA human asks for a new plan:\n{guidance}\n\n"
                f"The run's tasks so far:\n{listing}\n\nCreate the tasks still needed with "
                "create_subtasks (new keys; depend on existing keys where needed)."
            ),
            profile=Profile.PLANNER,
            phase="replan",
            max_retries=e.max_retries_for(run),
        )
        [task] = await e.store.create_tasks(run_id, [spec])
        return task


def landing_prompts(engine: Engine, run_id: int) -> list[HumanPrompt]:
    """The run's open landing prompts."""
    return [p for p in engine.humans.queue(run_id) if p.kind is PromptKind.LANDING]
