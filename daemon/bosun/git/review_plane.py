"""Review of a task's work before merge: its diff within a byte budget, and hunk selection.

Part of GitService (service.py); kept apart because review reads git and writes only a
selection ref and an event, never a worktree or a branch.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bosun_protocol.entities import Task
from bosun_protocol.review import DIFF_BYTES_DEFAULT, TaskDiffResult

from bosun.errors import InvalidStateError, NotFoundError
from bosun.git.board import GitBoard
from bosun.git.budgeted_diff import read_within_budget
from bosun.git.command import GitCli
from bosun.git.hunks import Selection, build_selection
from bosun.git.repository import selected_ref, task_branch


class ReviewMixin:
    """GitService's review operations; the service provides these attributes."""

    cli: GitCli
    root: Path
    board: GitBoard

    async def _task_span(self, task_id: int) -> tuple[Task, str, str]:
        task = await self.board.get_task(task_id)
        tip = await asyncio.to_thread(self.cli.rev, self.root, "refs/heads/" + task_branch(task_id))
        head = tip or task.head_commit
        if task.base_commit is None or head is None:
            raise InvalidStateError(f"task {task_id} has no commits to show yet")
        return task, task.base_commit, head

    async def task_diff(
        self, task_id: int, *, path: str | None = None, max_bytes: int = DIFF_BYTES_DEFAULT
    ) -> TaskDiffResult:
        """Files and hunks between the task's base and head, within `max_bytes` of hunks
        (see diff_budget); with `path`, only that file. Git's patch is read only for the
        files that can fit (budgeted_diff), so a huge file costs what its listing does."""
        _, base, head = await self._task_span(task_id)
        files, truncated = await asyncio.to_thread(
            read_within_budget, self.cli, self.root, base, head, max_bytes, path
        )
        if path is not None and not files:
            raise NotFoundError(f"task {task_id} did not change {path!r}", data={"path": path})
        return TaskDiffResult(
            task_id=task_id, base_commit=base, head_commit=head, files=files, truncated=truncated
        )

    async def select_hunks(self, task_id: int, hunk_ids: list[str]) -> Selection:
        """Make only these hunks mergeable; the rest are recorded as rejected."""
        task, base, head = await self._task_span(task_id)
        message = (
            f"task {task.key}: approved hunks\n\nBosun-Run: {task.run_id}\n"
            f"Bosun-Task: {task.id}\nBosun-Attempt: {task.attempt}\n"
        )
        selection = await asyncio.to_thread(
            build_selection, self.cli, self.root, base, head, set(hunk_ids), message
        )
        await self.cli.arun(self.root, "update-ref", selected_ref(task_id), selection.commit)
        await self.board.update_task(
            task_id,
            event="task.hunks_selected",
            data={
                "commit": selection.commit,
                "approved": selection.approved,
                "rejected": selection.rejected,
                "head": head,
            },
        )
        return selection

    async def clear_selection(self, task_id: int) -> None:
        """Forget a hunk selection (e.g. when the task goes back for changes)."""
        await self.cli.arun(self.root, "update-ref", "-d", selected_ref(task_id), check=False)
