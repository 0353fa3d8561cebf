"""Handlers of `bosun/taskDiff`, `bosun/reviewTask`, `bosun/landRun` and `bosun/gc`.

The git plane is `ctx.services["git"]` (a GitService). A review decision changes task
state, which is the engine's business: the handler prepares the git side (the hunk
selection) and hands the decision to `ctx.services["engine"].apply_review`.
"""

from __future__ import annotations

from typing import Protocol, cast

from bosun_protocol.entities import Task, TaskState
from bosun_protocol.review import (
    ApproveHunksDecision,
    GcParams,
    GcResult,
    LandRunParams,
    LandRunResult,
    ReviewDecision,
    ReviewTaskParams,
    ReviewTaskResult,
    TaskDiffParams,
    TaskDiffResult,
)

from bosun.errors import InvalidStateError, InvalidTransitionError
from bosun.git.service import GitService
from bosun.server.context import DaemonContext
from bosun.server.registry import handler


class Reviewer(Protocol):
    """What the engine offers for review decisions."""

    async def apply_review(self, task_id: int, decision: ReviewDecision) -> Task:
        """Move the task per the decision (merge, Phoenix with comments, abandon)."""
        ...


class Lander(Protocol):
    """What the engine offers for a person's request to land."""

    async def land_requested(self, run_id: int, by: str) -> LandRunResult:
        """Land, completing a run that waited in `landing`."""
        ...


def git_of(ctx: DaemonContext) -> GitService:
    """The git plane of this daemon."""
    service = ctx.services.get("git")
    if service is None:
        raise InvalidStateError("the git plane is not running in this daemon")
    return cast(GitService, service)


@handler("bosun/taskDiff")
async def task_diff(ctx: DaemonContext, params: TaskDiffParams) -> TaskDiffResult:
    """A task's files and hunks between its base and head."""
    return await git_of(ctx).task_diff(params.task_id, path=params.path, max_bytes=params.max_bytes)


@handler("bosun/reviewTask")
async def review_task(ctx: DaemonContext, params: ReviewTaskParams) -> ReviewTaskResult:
    """Record a reviewer's decision; approving some hunks selects exactly those for merge."""
    git = git_of(ctx)
    engine = ctx.services.get("engine")
    if engine is None:
        raise InvalidStateError("the engine is not running; review decisions need it")
    task = await ctx.store.get_task(params.task_id)
    if task.state is not TaskState.AWAITING_REVIEW:
        raise InvalidTransitionError(
            f"task {task.id} is {task.state.value}, not awaiting_review; only tasks waiting "
            "for review can be reviewed",
            data={"state": task.state.value},
        )
    approved: list[str] = []
    rejected: list[str] = []
    decision = params.decision
    if isinstance(decision, ApproveHunksDecision):
        selection = await git.select_hunks(task.id, decision.hunk_ids)
        approved, rejected = selection.approved, selection.rejected
    else:
        await git.clear_selection(task.id)
    updated = await cast(Reviewer, engine).apply_review(task.id, decision)
    return ReviewTaskResult(task=updated, approved_hunks=approved, rejected_hunks=rejected)


@handler("bosun/landRun")
async def land_run(ctx: DaemonContext, params: LandRunParams) -> LandRunResult:
    """Land a run on its base branch, or report why a human must. With the engine
    running, a run waiting in `landing` is completed and its landing prompt closed."""
    engine = ctx.services.get("engine")
    if not hasattr(engine, "land_requested"):  # no engine tracks the run: git alone
        return await git_of(ctx).land(params.run_id)
    return await cast(Lander, engine).land_requested(params.run_id, "a client")


@handler("bosun/gc")
async def gc(ctx: DaemonContext, params: GcParams) -> GcResult:
    """Recover interrupted merges, reconcile worktrees and branches, clean up."""
    return await git_of(ctx).gc(dry_run=params.dry_run)
