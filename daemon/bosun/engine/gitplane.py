"""The daemon's GitService as the engine's GitPlane."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bosun_protocol.entities import Run, Task
from bosun_protocol.review import LandRunResult

from bosun.git.merges import MergeOutcome
from bosun.git.run_restore import restore_run_branch
from bosun.git.service import GitService


class ServiceGitPlane:
    """Delegates every git operation the engine needs to GitService."""

    def __init__(self, git: GitService) -> None:
        self.git = git

    async def start_run(self, run_id: int) -> Run:
        """Create the run branch (idempotent)."""
        return await self.git.start_run(run_id)

    async def run_head(self, run_id: int) -> str:
        """The run branch's head."""
        return await self.git.run_head(run_id)

    async def restore_run_branch(self, run_id: int) -> Run:
        """A finished run's branch, recreated at its recorded head if gc removed it."""
        git = self.git
        return await restore_run_branch(git.cli, git.root, git.board, run_id)

    async def acquire_worktree(self, task_id: int) -> Task:
        """The task's worktree, created when missing."""
        return await self.git.acquire_worktree(task_id)

    async def commit(self, task_id: int, attempt: int, summary: str) -> str | None:
        """Commit the worktree's changes."""
        return await self.git.commit(task_id, attempt, summary)

    def left_out(self, task_id: int) -> str | None:
        """What the last commit left out (nested repositories) and why."""
        return self.git.left_out(task_id)

    async def release_task(self, task_id: int) -> None:
        """Remove the worktree."""
        await self.git.release_task(task_id)

    async def merge_task(self, task_id: int) -> MergeOutcome:
        """Merge the task into its run branch."""
        return await self.git.merge_task(task_id)

    async def prepare_conflict_worktree(self, merger_task_id: int, conflict: MergeOutcome) -> Task:
        """A worktree with conflict markers for a merger task."""
        return await self.git.prepare_conflict_worktree(merger_task_id, conflict)

    async def publish_resolution(self, merger_task_id: int, attempt: int) -> MergeOutcome:
        """Commit and merge a merger's resolution."""
        return await self.git.publish_resolution(merger_task_id, attempt)

    async def land(self, run_id: int) -> LandRunResult:
        """Land the run on its base branch (or say why a human must)."""
        return await self.git.land(run_id)

    async def tree_of(self, commit: str) -> str | None:
        """The tree id of `commit` (None when git does not know it)."""
        return await asyncio.to_thread(self.git.base_checkouts.tree_of, commit)

    @asynccontextmanager
    async def base_checkout(self, commit: str) -> AsyncIterator[Path]:
        """A detached worktree at `commit`, removed afterwards."""
        checkouts = self.git.base_checkouts
        path = await asyncio.to_thread(checkouts.checkout, commit)
        try:
            yield path
        finally:
            await asyncio.to_thread(checkouts.remove, path)

    async def reset_worktree(self, task_id: int) -> None:
        """Put the task's worktree and branch on the run's current head for a fresh
        attempt. GitService does it, so the earlier attempts' commits stay reachable at
        refs/bosun/attempts/task-<id>/<n> (a bare `reset --hard` here would drop them)."""
        task = await self.git.board.get_task(task_id)
        # Called as attempt n starts (the task already counts n): the work being put
        # aside is attempt n-1's, and its ref is named after it.
        await self.git.reset_worktree(task_id, attempt=max(task.attempt - 1, 0))
