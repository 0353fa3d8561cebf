"""The daemon's GitService as the engine's GitPlane, plus resetting a task's worktree."""

from __future__ import annotations

from pathlib import Path

from bosun_protocol.entities import Run, Task
from bosun_protocol.review import LandRunResult

from bosun.git.merges import MergeOutcome
from bosun.git.service import GitService


class ServiceGitPlane:
    """Delegates to GitService; adds `reset_worktree` for `worktree_between_attempts`."""

    def __init__(self, git: GitService) -> None:
        self.git = git

    async def start_run(self, run_id: int) -> Run:
        """Create the run branch (idempotent)."""
        return await self.git.start_run(run_id)

    async def run_head(self, run_id: int) -> str:
        """The run branch's head."""
        return await self.git.run_head(run_id)

    async def acquire_worktree(self, task_id: int) -> Task:
        """The task's worktree, created when missing."""
        return await self.git.acquire_worktree(task_id)

    async def commit(self, task_id: int, attempt: int, summary: str) -> str | None:
        """Commit the worktree's changes."""
        return await self.git.commit(task_id, attempt, summary)

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

    async def reset_worktree(self, task_id: int) -> None:
        """Put the task's worktree and branch on the run's current head, discarding work."""
        task = await self.git.acquire_worktree(task_id)
        head = await self.git.run_head(task.run_id)
        assert task.worktree is not None
        path = Path(task.worktree)
        await self.git.cli.arun(path, "reset", "-q", "--hard", head)
        await self.git.cli.arun(path, "clean", "-q", "-fdx")
        await self.git.board.update_task(
            task_id,
            event="task.worktree_reset",
            data={"head": head},
            base_commit=head,
            head_commit=head,
        )
