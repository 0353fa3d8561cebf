"""Merger tasks: a worktree holding both sides of a conflict, and publishing its resolution.

The two sides are journaled on the board (kind "conflict", keyed by the merger task) when
the worktree is prepared, so publishing does not depend on what the merger did to the
worktree's git state. See bosun.git.conflicts for what makes a resolution acceptable.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bosun_protocol.entities import Task

from bosun.errors import InvalidStateError
from bosun.git import points
from bosun.git.board import GitBoard
from bosun.git.command import GitCli
from bosun.git.conflicts import ConflictSides, ResolutionRefusedError, check_resolution
from bosun.git.merges import MergeOutcome, Merger
from bosun.git.nested import stage_all
from bosun.git.repository import commit_message, merged_ref, task_branch
from bosun.git.worktrees import Worktrees

CONFLICT_JOURNAL = "conflict"


class Resolutions:
    """Prepares merger worktrees and publishes checked resolutions."""

    def __init__(
        self, cli: GitCli, root: Path, board: GitBoard, worktrees: Worktrees, merger: Merger
    ) -> None:
        self.cli = cli
        self.root = root
        self.board = board
        self.worktrees = worktrees
        self.merger = merger
        self.squash = True  # git.task_commits = "squash": a resolution lands as one commit

    async def prepare(self, merger_task_id: int, conflict: MergeOutcome) -> Task:
        """A worktree for the merger task on the run head with the task's side merged in,
        conflict markers left for the merger to resolve."""
        merger = await self.board.get_task(merger_task_id)
        sides = ConflictSides(
            ours=conflict.run_head,
            theirs=conflict.source,
            files=[c.path for c in conflict.conflicts],
        )
        await self.board.journal_put(
            CONFLICT_JOURNAL,
            str(merger_task_id),
            {
                "ours": sides.ours,
                "theirs": sides.theirs,
                "files": sides.files,
                "run_id": merger.run_id,
            },
        )
        path = self.worktrees.task_path(merger_task_id)
        branch = task_branch(merger_task_id)
        task = await self.board.update_task(
            merger_task_id,
            event="task.worktree",
            worktree=str(path),
            branch=branch,
            base_commit=sides.ours,
            head_commit=sides.ours,
            data={"conflict": sides.files, "theirs": sides.theirs},
        )
        points.failpoint(points.WORKTREE_RECORDED)
        await asyncio.to_thread(self.worktrees.create, path, branch, sides.ours, new_branch=True)
        await self.cli.arun(
            path,
            "-c",
            "merge.conflictStyle=diff3",
            "merge",
            "--no-ff",
            "--no-commit",
            "-q",
            sides.theirs,
            check=False,
        )
        return task

    async def publish(self, merger_task_id: int, attempt: int) -> MergeOutcome:
        """Check the merger's resolution, commit it with both parents, merge it (CAS)."""
        record = await self.board.journal_get(CONFLICT_JOURNAL, str(merger_task_id))
        task = await self.board.get_task(merger_task_id)
        if record is None or not task.worktree:
            raise InvalidStateError(f"task {merger_task_id} is not resolving a merge conflict")
        sides = ConflictSides(str(record["ours"]), str(record["theirs"]), list(record["files"]))
        path = Path(task.worktree)
        await asyncio.to_thread(stage_all, self.cli, path)
        tree = (await self.cli.arun(path, "write-tree")).stdout.strip()
        problems = await asyncio.to_thread(check_resolution, self.cli, self.root, sides, tree)
        if problems:
            raise ResolutionRefusedError(
                "the merge resolution was refused: " + "; ".join(problems),
                data={"problems": problems},
            )
        message = commit_message(
            f"resolve merge conflict ({', '.join(sides.files[:5])})", task, attempt
        )
        commit = await self._committed_before(path, sides, tree)
        if commit is None:
            commit = (
                await self.cli.arun(
                    self.root,
                    "commit-tree",
                    tree,
                    "-p",
                    sides.ours,
                    "-p",
                    sides.theirs,
                    "-F",
                    "-",
                    input=message,
                )
            ).stdout.strip()
        # The worktree's index already holds `tree`: moving its branch leaves it clean.
        await self.cli.arun(path, "update-ref", "refs/heads/" + task_branch(merger_task_id), commit)
        await self.cli.arun(path, "merge", "--quit", check=False)
        points.failpoint(points.COMMIT_WRITTEN)
        await self.board.update_task(
            merger_task_id,
            event="task.committed",
            data={"commit": commit, "attempt": attempt},
            head_commit=commit,
        )
        # Squashed, the resolution and the conflicting side it took in are recorded as
        # merged, so merging that side's task again finds nothing to do.
        marks = {
            merged_ref(merger_task_id, "resolution"): commit,
            merged_ref(merger_task_id, "theirs"): sides.theirs,
        }
        outcome = await self.merger.merge(
            task.run_id,
            commit,
            message=message,
            task_id=merger_task_id,
            squash=self.squash,
            marks=marks if self.squash else None,
        )
        if outcome.status != "conflict":
            await self.board.journal_delete(CONFLICT_JOURNAL, str(merger_task_id))
        return outcome

    async def _committed_before(self, path: Path, sides: ConflictSides, tree: str) -> str | None:
        """The resolution commit an interrupted publish already made for this very tree
        (so publishing again merges it, rather than a second, identical resolution)."""
        tip = await asyncio.to_thread(self.cli.rev, path, "HEAD")
        if tip is None or tip == sides.ours:
            return None
        out = await self.cli.arun(self.root, "rev-list", "--parents", "-n", "1", tip)
        same_tree = await asyncio.to_thread(self.cli.tree_of, self.root, tip) == tree
        return tip if out.stdout.split()[1:] == [sides.ours, sides.theirs] and same_tree else None
