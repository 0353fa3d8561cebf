"""The git plane as the engine sees it, and a null plane for scheduling benchmarks.

`GitService` satisfies `GitPlane`; `NullGitPlane` does no git at all, so the scheduler
can be measured (and unit-tested) without worktrees.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Protocol

from bosun_protocol.entities import Run, Task
from bosun_protocol.review import LandRunResult

from bosun.board.store import Store
from bosun.git.merges import MergeOutcome


class GitPlane(Protocol):
    """What the engine asks of git: runs, worktrees, commits, merges, landing."""

    async def start_run(self, run_id: int) -> Run: ...

    async def run_head(self, run_id: int) -> str: ...

    async def restore_run_branch(self, run_id: int) -> Run: ...

    async def acquire_worktree(self, task_id: int) -> Task: ...

    async def commit(self, task_id: int, attempt: int, summary: str) -> str | None: ...

    def left_out(self, task_id: int) -> str | None: ...

    async def release_task(self, task_id: int) -> None: ...

    async def merge_task(self, task_id: int) -> MergeOutcome: ...

    async def prepare_conflict_worktree(
        self, merger_task_id: int, conflict: MergeOutcome
    ) -> Task: ...

    async def publish_resolution(self, merger_task_id: int, attempt: int) -> MergeOutcome: ...

    async def land(self, run_id: int) -> LandRunResult: ...

    async def reset_worktree(self, task_id: int) -> None: ...

    async def tree_of(self, commit: str) -> str | None: ...

    def base_checkout(self, commit: str) -> AbstractAsyncContextManager[Path]: ...


_SCRATCH: str | None = None


class NullGitPlane:
    """A git plane that records nothing in git: every merge is clean, landing succeeds."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def start_run(self, run_id: int) -> Run:
        """Mark the run's (pretend) branch."""
        return await self.store.update_run(
            run_id, event="run.git_ready", run_branch=f"bosun/run-{run_id}", base_branch="main"
        )

    async def run_head(self, run_id: int) -> str:
        """A constant head."""
        return "0" * 40

    async def restore_run_branch(self, run_id: int) -> Run:
        """Nothing to restore: the run as it is."""
        return await self.store.get_run(run_id)

    async def acquire_worktree(self, task_id: int) -> Task:
        """The task with an empty scratch directory as its worktree (there is no git here).

        Never the daemon's own directory: that is the user's checkout.
        """
        global _SCRATCH
        if _SCRATCH is None:
            _SCRATCH = tempfile.mkdtemp(prefix="bosun-null-plane-")
            atexit.register(shutil.rmtree, _SCRATCH, True)
        task = await self.store.get_task(task_id)
        return task.model_copy(update={"worktree": _SCRATCH})

    async def commit(self, task_id: int, attempt: int, summary: str) -> str | None:
        """Nothing to commit."""
        return None

    def left_out(self, task_id: int) -> str | None:
        """Nothing is ever left out."""
        return None

    async def release_task(self, task_id: int) -> None:
        """Nothing to release."""

    async def merge_task(self, task_id: int) -> MergeOutcome:
        """Always an (empty) clean merge."""
        return MergeOutcome("already_merged", run_head="0" * 40, source="0" * 40)

    async def prepare_conflict_worktree(self, merger_task_id: int, conflict: MergeOutcome) -> Task:
        """Never called: merges never conflict here."""
        return await self.store.get_task(merger_task_id)

    async def publish_resolution(self, merger_task_id: int, attempt: int) -> MergeOutcome:
        """Never called: merges never conflict here."""
        return await self.merge_task(merger_task_id)

    async def land(self, run_id: int) -> LandRunResult:
        """Landing always succeeds."""
        return LandRunResult(run_id=run_id, outcome="already_landed", branch="main")

    async def reset_worktree(self, task_id: int) -> None:
        """Nothing to reset."""

    async def tree_of(self, commit: str) -> str | None:
        """No trees here: the base's test results are never taken."""
        return None

    @asynccontextmanager
    async def base_checkout(self, commit: str) -> AsyncIterator[Path]:
        """Never used (tree_of is None); a scratch directory if it were."""
        yield Path(tempfile.gettempdir())
