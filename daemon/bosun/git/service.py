"""The git plane's one entry point for the engine and the server (`ctx.services["git"]`).

Every operation records what it is about to do on the board before doing it in git, so
after a crash `recover()` and `reconcile()` can finish or undo it: the board and git
always agree again on start. Git work runs in worker threads with time limits.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from bosun_protocol.entities import Run, Task
from bosun_protocol.review import GcResult, LandRunResult

from bosun.errors import GitError, InvalidStateError, NotFoundError
from bosun.git import pinned, points, tampering
from bosun.git.base_checkouts import BaseCheckouts
from bosun.git.board import GitBoard
from bosun.git.command import GitCli
from bosun.git.conflicts import ResolutionRefusedError
from bosun.git.hardening import COMMIT_FLAGS, RESET_FLAGS
from bosun.git.landing import land_run
from bosun.git.merges import MergeOutcome, Merger
from bosun.git.nested import stage_all
from bosun.git.pinned import Pins, WorktreeTamperedError
from bosun.git.reconcile import Reconciler
from bosun.git.repository import (
    ZERO_OID,
    attempt_ref,
    commit_message,
    inspect_base,
    merged_ref,
    run_branch,
    selected_ref,
    task_branch,
    task_commit_message,
)
from bosun.git.resolutions import CONFLICT_JOURNAL, Resolutions
from bosun.git.review_plane import ReviewMixin
from bosun.git.settings import GitSettings
from bosun.git.worktrees import Worktrees
from bosun.workspace import Workspace

P = ParamSpec("P")
NESTED_EVENT = "task.nested_repos_left_out"
R = TypeVar("R")


def _structural(
    fn: Callable[Concatenate[GitService, P], Awaitable[R]],
) -> Callable[Concatenate[GitService, P], Coroutine[Any, Any, R]]:
    """Serialise operations that add or remove worktrees, so an on-demand gc never sees
    a worktree half-made by a concurrent acquisition (and never "re-attaches" it)."""

    async def run(service: GitService, /, *args: P.args, **kwargs: P.kwargs) -> R:
        async with service._structure:
            return await fn(service, *args, **kwargs)

    return functools.update_wrapper(run, fn)


class GitService(ReviewMixin):
    """Runs, task worktrees, commits, review (review_plane.py), merges, landing and cleanup."""

    def __init__(self, workspace: Workspace, settings: GitSettings, board: GitBoard) -> None:
        self.root = workspace.root.resolve()
        self.workspace = workspace
        self.board = board
        self.settings = settings
        worktrees_dir = self.root / workspace.worktrees_dir.relative_to(workspace.root)
        # Every git this service runs names its git dir and work tree from these records.
        self.pins = Pins(self.root, worktrees_dir)
        self.cli = GitCli(
            settings.command_timeout_s, (settings.author_name, settings.author_email), self.pins
        )
        self.worktrees = Worktrees(
            self.cli, self.root, worktrees_dir, settings.warm_pool, settings.checkout_workers
        )
        self.merger = Merger(self.cli, self.root, board, settings.merge_retries)
        self.base_checkouts = BaseCheckouts(self.cli, self.root, self.worktrees)
        self.resolutions = Resolutions(self.cli, self.root, board, self.worktrees, self.merger)
        self.resolutions.squash = settings.task_commits == "squash"
        self._structure = asyncio.Lock()
        self.reconciler = Reconciler(self.cli, self.root, board, self.worktrees, settings)
        self._left_out: dict[int, str] = {}  # task → what its last commit left out, and why

    async def start(self) -> GcResult:
        """On daemon start: finish journaled merges, then reconcile git with the board."""
        await asyncio.to_thread(self.workspace.ensure_state_dir)
        pinned.register(self.pins)
        return await self.gc(at_start=True)

    async def close(self) -> None:
        """Stop background work and remove the warm pool."""
        await self.worktrees.close()
        pinned.unregister(self.pins)

    def update_settings(self, settings: GitSettings) -> None:
        """Apply reloaded settings to later operations."""
        self.settings = settings
        self.cli.timeout_s = settings.command_timeout_s
        self.cli.set_identity(settings.author_name, settings.author_email)
        self.worktrees.pool_size = settings.warm_pool
        self.worktrees.workers = settings.checkout_workers or (os.cpu_count() or 2)
        self.merger.retries = settings.merge_retries
        self.resolutions.squash = settings.task_commits == "squash"
        self.reconciler.settings = settings

    # --- runs -------------------------------------------------------------------

    async def start_run(self, run_id: int) -> Run:
        """Validate the repository, record the base, create `bosun/run-<id>` (idempotent)."""
        run = await self.board.get_run(run_id)
        branch = run_branch(run_id)
        existing = await asyncio.to_thread(self.cli.rev, self.root, "refs/heads/" + branch)
        if existing is not None and run.run_branch == branch and run.base_branch:
            return run
        base = await asyncio.to_thread(
            inspect_base, self.root, run.base_branch or run.options.base_branch
        )
        commit = base.commit
        if run.options.base_commit:  # pinned (a replay starts where its recording did)
            pinned = await asyncio.to_thread(self.cli.rev, self.root, run.options.base_commit)
            if pinned is None:
                raise NotFoundError(
                    f"commit {run.options.base_commit} is not in this repository; "
                    "a run can start only from a commit the repository has"
                )
            commit = pinned
        start = existing or commit
        if existing is None:
            await self.cli.arun(
                self.root,
                "update-ref",
                "-m",
                "bosun: run start",
                "refs/heads/" + branch,
                commit,
                ZERO_OID,
            )
        points.failpoint(points.RUN_BRANCH_CREATED)
        run = await self.board.update_run(
            run_id,
            event="run.git_ready",
            data={"base_branch": base.branch, "base_commit": start},
            base_branch=base.branch,
            base_commit=start,
            run_branch=branch,
            head_commit=start,
        )
        self.worktrees.warm(start)
        return run

    async def run_head(self, run_id: int) -> str:
        """The current head of a run's branch."""
        head = await asyncio.to_thread(self.cli.rev, self.root, "refs/heads/" + run_branch(run_id))
        if head is None:
            raise InvalidStateError(f"run {run_id} has no branch yet; start the run first")
        return head

    # --- worktrees and commits ----------------------------------------------------

    @_structural
    async def acquire_worktree(self, task_id: int) -> Task:
        """The task's worktree on `bosun/task-<id>`, created from the run's head if needed."""
        return await self._acquire(task_id)

    @_structural
    async def reset_worktree(self, task_id: int, attempt: int | None = None) -> Task:
        """Start the task over on the run's current head (for a fresh attempt): local
        changes are discarded; earlier commits stay at refs/bosun/attempts/task-<id>/<n>,
        n being `attempt` (the attempt whose work this was; default the task's current)."""
        task = await self._acquire(task_id)
        head = await self.run_head(task.run_id)
        path = Path(task.worktree or "")
        try:
            kept = await self._put_aside(task, attempt)
        except WorktreeTamperedError as exc:
            task = await self._rebuild(task, exc)
            kept = await self._put_aside(task, attempt)
        # Pinned to the recorded worktree, so neither can touch a file outside it.
        await self.cli.arun(path, "reset", "-q", "--hard", *RESET_FLAGS, head)
        await self.cli.arun(path, "clean", "-q", "-ffdx")
        await self.clear_selection(task_id)
        return await self.board.update_task(
            task_id,
            event="task.worktree_reset",
            data={"head": head, "kept": kept},
            base_commit=head,
            head_commit=head,
        )

    async def _put_aside(self, task: Task, attempt: int | None) -> str | None:
        """Keep the worktree's commits at an attempt ref before a reset; the ref."""
        head = await self.run_head(task.run_id)
        tip = await asyncio.to_thread(self.cli.rev, Path(task.worktree or ""), "HEAD")
        if tip is None or tip == task.base_commit or tip == head:
            return None
        kept = attempt_ref(task.id, task.attempt if attempt is None else attempt)
        await self.cli.arun(self.root, "update-ref", kept, tip)
        return kept

    async def _rebuild(self, task: Task, error: WorktreeTamperedError) -> Task:
        return await tampering.rebuild(self.cli, self.pins, self.worktrees, self.board, task, error)

    async def _untampered(self, task: Task) -> Task:
        """The task with a worktree that matches the daemon's records (rebuilt if not)."""
        try:
            await asyncio.to_thread(self.pins.worktree, Path(task.worktree or ""))
        except WorktreeTamperedError as exc:
            return await self._rebuild(task, exc)
        return task

    async def _acquire(self, task_id: int) -> Task:
        task = await self.board.get_task(task_id)
        path = self.worktrees.task_path(task_id)
        branch = task_branch(task_id)
        entries = await asyncio.to_thread(self.worktrees.entries)
        if any(e.path == path and e.branch == branch for e in entries):
            if task.worktree != str(path):
                task = await self.board.update_task(
                    task_id, event="task.worktree", worktree=str(path), branch=branch
                )
            return await self._untampered(task)
        start = await self.run_head(task.run_id)
        tip = await asyncio.to_thread(self.cli.rev, self.root, "refs/heads/" + branch)
        base = task.base_commit if tip is not None and task.base_commit else start
        # Board first: a crash from here on leaves a record reconcile() can complete.
        task = await self.board.update_task(
            task_id,
            event="task.worktree",
            data={"path": str(path), "branch": branch, "base": base},
            worktree=str(path),
            branch=branch,
            base_commit=base,
            head_commit=tip or base,
        )
        points.failpoint(points.WORKTREE_RECORDED)
        await asyncio.to_thread(self.worktrees.create, path, branch, start, new_branch=tip is None)
        self.worktrees.warm(start)
        return task

    async def commit(self, task_id: int, attempt: int, summary: str) -> str | None:
        """Commit everything in the task's worktree durably; None when nothing changed."""
        task = await self.board.get_task(task_id)
        if not task.worktree:
            raise InvalidStateError(f"task {task_id} has no worktree")
        try:
            return await self._commit(task, attempt, summary)
        except WorktreeTamperedError as exc:
            async with self._structure:  # as any other change of worktrees
                await self._rebuild(task, exc)
            raise

    def left_out(self, task_id: int) -> str | None:
        """What the task's last commit left out (nested repositories), and why."""
        return self._left_out.pop(task_id, None)

    async def _commit(self, task: Task, attempt: int, summary: str) -> str | None:
        path = Path(task.worktree or "")
        task_id = task.id
        on = await self.cli.arun(path, "symbolic-ref", "-q", "HEAD", check=False)
        if on.stdout.strip() != "refs/heads/" + task_branch(task_id):
            where = on.stdout.strip().removeprefix("refs/heads/") or "a detached HEAD"
            raise GitError(
                f"task {task_id}'s worktree is on {where}, not {task_branch(task_id)}; "
                "nothing was committed (work must stay on the task branch)"
            )
        nested = await asyncio.to_thread(stage_all, self.cli, path)
        if nested:
            self._left_out[task_id] = nested.explain()
            await self.board.append_event(
                NESTED_EVENT,
                run_id=task.run_id,
                task_id=task_id,
                data={"repositories": nested.repositories, "gitlinks": nested.gitlinks},
            )
        staged = await self.cli.arun(path, "diff", "--cached", "--quiet", check=False)
        if staged.returncode == 0:
            return None
        points.failpoint(points.COMMIT_STAGED)
        await self.cli.arun(
            path,
            "commit",
            "-q",
            *COMMIT_FLAGS,
            "-F",
            "-",
            input=commit_message(summary, task, attempt),
        )
        sha = await asyncio.to_thread(self.cli.rev, path, "HEAD")
        points.failpoint(points.COMMIT_WRITTEN)
        await self.board.update_task(
            task_id,
            event="task.committed",
            data={"commit": sha, "attempt": attempt},
            head_commit=sha,
        )
        return sha

    @_structural
    async def release_task(self, task_id: int) -> None:
        """Remove the task's worktree now (its branch goes at the next gc, per retention)."""
        task = await self.board.get_task(task_id)
        if task.worktree:
            await asyncio.to_thread(self.worktrees.remove, Path(task.worktree))
            points.failpoint(points.CLEANUP_WORKTREE_REMOVED)
            await self.board.update_task(task_id, event="task.worktree_removed", worktree=None)

    # --- merging ------------------------------------------------------------------------

    async def merge_task(self, task_id: int) -> MergeOutcome:
        """Merge the task's work (or its approved hunks) into its run branch."""
        task = await self.board.get_task(task_id)
        source = await asyncio.to_thread(self.cli.rev, self.root, selected_ref(task_id))
        if source is None:
            _, _, source = await self._task_span(task_id)
        squash = self.settings.task_commits == "squash"
        if squash:
            # The final attempt's commits leave with the task branch; keep them beside
            # the earlier attempts' (refs/bosun/attempts/task-<id>/<n>).
            await self.cli.arun(self.root, "update-ref", attempt_ref(task.id, task.attempt), source)
            subject = await self._subject(source)
            message = task_commit_message(task, subject)
        else:
            message = (
                f"bosun: merge task {task.key} (#{task.id}) into run {task.run_id}\n\n"
                f"Bosun-Run: {task.run_id}\nBosun-Task: {task.id}\n"
                f"Bosun-Attempt: {task.attempt}\n"
            )
        marks = {merged_ref(task.id, "source"): source} if squash else None
        return await self.merger.merge(
            task.run_id, source, message=message, task_id=task_id, squash=squash, marks=marks
        )

    async def _subject(self, commit: str) -> str | None:
        """The first line of a commit's message (a task commit's: its attempt's summary)."""
        out = await self.cli.arun(self.root, "log", "-1", "--format=%s", commit, check=False)
        return (out.stdout.strip() or None) if out.ok else None

    @_structural
    async def prepare_conflict_worktree(self, merger_task_id: int, conflict: MergeOutcome) -> Task:
        """A worktree for the merger task on the run head with the task's side merged in,
        conflict markers left for the merger to resolve."""
        return await self.resolutions.prepare(merger_task_id, conflict)

    async def publish_resolution(self, merger_task_id: int, attempt: int) -> MergeOutcome:
        """Check the merger's resolution, commit it with both parents, merge it (CAS)."""
        return await self.resolutions.publish(merger_task_id, attempt)

    # --- landing and cleanup ---------------------------------------------------------------

    async def land(self, run_id: int) -> LandRunResult:
        """Land the run on its base branch, or report why a human must."""
        run = await self.board.get_run(run_id)
        if run.base_branch is None or run.run_branch is None:
            raise InvalidStateError(f"run {run_id} has no branch yet; nothing to land")
        result = await asyncio.to_thread(
            land_run,
            self.cli,
            self.root,
            run_id,
            "refs/heads/" + run.run_branch,
            run.base_branch,
            self.settings.land_mode,
        )
        data: dict[str, Any] = result.model_dump(mode="json", exclude_none=True)
        kind = "run.landed" if result.outcome != "needs_human" else "run.land_needs_human"
        await self.board.append_event(kind, run_id=run_id, data=data)
        return result

    async def recover(self) -> list[dict[str, Any]]:
        """Finish or drop merges a crash interrupted."""
        return await self.merger.recover()

    @_structural
    async def gc(self, *, dry_run: bool = False, at_start: bool = False) -> GcResult:
        """Recover merges, then reconcile worktrees and branches with the board."""
        recovered = [] if dry_run else await self.recover()
        result = await self.reconciler.reconcile(dry_run=dry_run, at_start=at_start)
        result.recovered_merges = [f"{a['key']}: {a['outcome']}" for a in recovered]
        return result


__all__ = ["CONFLICT_JOURNAL", "GitError", "GitService", "ResolutionRefusedError", "commit_message"]
