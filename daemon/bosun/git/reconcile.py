"""Making git and the board agree, both ways: prune what the board does not know,
re-attach what it expects, remove what finished tasks left behind (after retention).

Branches are only deleted when no committed work can be lost: a task branch is deleted
when its task is finished (complete or abandoned) and past retention, or when its task is
unknown to the board and its tip is contained in another branch; a run branch when its
run is over (completed, cancelled, failed) past retention, or unknown, and its tip is
contained in another branch (e.g. landed). Anything else is kept and reported.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bosun_protocol.entities import Run, RunState, Task, TaskState
from bosun_protocol.review import GcResult

from bosun.git import points
from bosun.git.board import GitBoard, all_runs
from bosun.git.command import GitCli, refs_matching
from bosun.git.repository import (
    ATTEMPTS_PREFIX,
    MERGED_PREFIX,
    RUN_PREFIX,
    SELECTED_PREFIX,
    TASK_PREFIX,
    ZERO_OID,
    id_after,
    run_branch,
    task_branch,
)
from bosun.git.resolutions import CONFLICT_JOURNAL
from bosun.git.settings import GitSettings
from bosun.git.worktrees import TASK_DIR_PREFIX, WorktreeEntry, Worktrees
from bosun.own_files import sweep_scratch, sweep_temp_files

FINISHED = {TaskState.COMPLETE, TaskState.ABANDONED}
FINISHED_RUNS = {RunState.COMPLETED, RunState.CANCELLED, RunState.FAILED}


class Reconciler:
    """Compares `git worktree list --porcelain` and bosun's refs with the board."""

    def __init__(
        self, cli: GitCli, root: Path, board: GitBoard, worktrees: Worktrees, settings: GitSettings
    ) -> None:
        self.cli = cli
        self.root = root
        self.board = board
        self.worktrees = worktrees
        self.settings = settings

    def _expired(self, task: Task, now: datetime) -> bool:
        return task.state in FINISHED and (
            task.updated_at + timedelta(hours=self.settings.retention_hours) <= now
        )

    async def _board(self) -> tuple[dict[int, Run], dict[int, Task]]:
        runs: dict[int, Run] = {}
        tasks: dict[int, Task] = {}
        async for run in all_runs(self.board):
            runs[run.id] = run
            for task in await self.board.list_tasks(run.id):
                tasks[task.id] = task
        return runs, tasks

    async def reconcile(self, *, dry_run: bool = False, at_start: bool = False) -> GcResult:
        """One pass in both directions; with `dry_run`, report without changing anything.

        `at_start`: no attempt is live, so active tasks' worktrees are swept too."""
        result = GcResult()
        runs, tasks = await self._board()
        now = datetime.now(UTC)
        # Pool worktrees are disposable; dropping them frees any branch a crash left
        # checked out in one.
        stale = await asyncio.to_thread(self.worktrees.drop_pool_dirs, dry_run=dry_run)
        result.removed_worktrees += [str(p) for p in stale]
        entries = await asyncio.to_thread(self.worktrees.entries)
        checked_out = await self._worktrees(entries, set(stale), tasks, now, result, dry_run)
        await self._own_files(tasks, result, at_start, dry_run)
        await self._task_refs(tasks, checked_out, now, result, dry_run)
        await self._run_refs(runs, now, result, dry_run)
        for key, _ in await self.board.journal_list(CONFLICT_JOURNAL):
            owner = tasks.get(int(key)) if key.isdigit() else None
            if owner is None or owner.state in FINISHED:
                result.repaired.append(f"conflict record of task {key} dropped")
                if not dry_run:
                    await self.board.journal_delete(CONFLICT_JOURNAL, key)
        return result

    async def _worktrees(
        self,
        entries: list[WorktreeEntry],
        stale: set[Path],
        tasks: dict[int, Task],
        now: datetime,
        result: GcResult,
        dry_run: bool,
    ) -> set[str]:
        """Remove, repair and re-attach worktrees; the branches checked out after.

        The dry run and the real one make the same decisions from the same listing:
        what is removed is no longer registered nor checked out, what is re-attached
        is, whether or not it was done. `stale`: pool worktrees already dealt with.
        """
        directory = self.worktrees.directory
        registered = {e.path for e in entries} | stale
        removed: set[Path] = set(stale)
        for entry in entries:
            if entry.path.parent != directory or entry.path in removed:
                continue
            if self.worktrees.owns(entry.path):
                continue
            task_id = id_after(entry.path.name, TASK_DIR_PREFIX)
            task = tasks.get(task_id) if task_id is not None else None
            if task is None or self._expired(task, now) or entry.prunable:
                await self._remove(entry.path, result, dry_run)
                removed.add(entry.path)
            elif entry.branch != task_branch(task.id):
                # Half-made (a crash between creating and switching): rebuild it below.
                await self._remove(entry.path, result, dry_run)
                removed.add(entry.path)
            elif task.worktree != str(entry.path):
                result.repaired.append(f"task {task.id}: worktree recorded as {entry.path}")
                if not dry_run:
                    await self.board.update_task(
                        task.id,
                        event="task.worktree",
                        worktree=str(entry.path),
                        branch=entry.branch,
                    )
        if directory.exists():
            for child in sorted(directory.iterdir()):
                # Listed once: a worktree removed above is not a stray directory too;
                # nor is one the pool is registering right now.
                if child in registered or self.worktrees.owns(child) or not child.is_dir():
                    continue
                result.removed_worktrees.append(str(child))
                if not dry_run:
                    await asyncio.to_thread(shutil.rmtree, child, True)
        registered -= removed
        checked_out = {e.branch for e in entries if e.branch and e.path in registered}
        for task in tasks.values():
            if not task.worktree or self._expired(task, now) or task.state in FINISHED:
                continue
            path = Path(task.worktree)
            if path in registered:
                continue
            result.reattached_worktrees.append(str(path))
            checked_out.add(task_branch(task.id))
            if not dry_run:
                await self._reattach(task, path)
        return checked_out

    async def _own_files(
        self, tasks: dict[int, Task], result: GcResult, at_start: bool, dry_run: bool
    ) -> None:
        """Remove what a killed daemon left of its own: temp files in kept worktrees
        (a kill between write_file's write and rename) and earlier boots' scratch dirs.

        A live attempt may be between a write and its rename: its worktree is swept at
        the next start, and its commits exclude the pattern meanwhile."""
        for task in tasks.values():
            if not task.worktree or task.state in FINISHED:
                continue
            if task.state is TaskState.ACTIVE and not at_start:
                continue
            # A missing worktree is walked as empty.
            found = await asyncio.to_thread(sweep_temp_files, Path(task.worktree), dry_run=dry_run)
            result.removed_own_files += [f"task {task.id}: {rel}" for rel in found]
        result.removed_own_files += await asyncio.to_thread(
            sweep_scratch, self.root, dry_run=dry_run
        )

    async def _remove(self, path: Path, result: GcResult, dry_run: bool) -> None:
        result.removed_worktrees.append(str(path))
        if not dry_run:
            await asyncio.to_thread(self.worktrees.remove, path)
            points.failpoint(points.CLEANUP_WORKTREE_REMOVED)

    async def _reattach(self, task: Task, path: Path) -> None:
        branch = task_branch(task.id)
        tip = await asyncio.to_thread(self.cli.rev, self.root, "refs/heads/" + branch)
        start = tip or task.base_commit
        if start is None:
            head = await asyncio.to_thread(
                self.cli.rev, self.root, "refs/heads/" + run_branch(task.run_id)
            )
            start = head
        if start is None:
            return
        await asyncio.to_thread(self.worktrees.create, path, branch, start, new_branch=tip is None)

    async def _task_refs(
        self,
        tasks: dict[int, Task],
        checked_out: set[str],
        now: datetime,
        result: GcResult,
        dry_run: bool,
    ) -> None:
        branches = await asyncio.to_thread(
            refs_matching, self.cli, self.root, "refs/heads/" + TASK_PREFIX
        )
        for ref, tip in branches.items():
            name = ref[len("refs/heads/") :]
            task_id = id_after(name, TASK_PREFIX)
            task = tasks.get(task_id) if task_id is not None else None
            if task is not None and not self._expired(task, now):
                if task.state not in FINISHED and task.head_commit != tip and name in checked_out:
                    result.repaired.append(f"task {task.id}: head recorded as {tip[:12]}")
                    if not dry_run:
                        await self.board.update_task(
                            task.id, event="task.head_repaired", head_commit=tip
                        )
                continue
            if name in checked_out:
                continue
            if task is None and not await self._contained_elsewhere(ref, tip):
                result.kept.append(f"{name}: unknown to the board and holds unmerged commits")
                continue
            result.removed_branches.append(name)
            if not dry_run:
                await self.cli.arun(self.root, "update-ref", "-d", ref, tip)
                points.failpoint(points.CLEANUP_BRANCH_DELETED)
        # Side refs of tasks (approved-hunk selections, earlier attempts) go with the task.
        side = await asyncio.to_thread(refs_matching, self.cli, self.root, SELECTED_PREFIX)
        side.update(await asyncio.to_thread(refs_matching, self.cli, self.root, ATTEMPTS_PREFIX))
        side.update(await asyncio.to_thread(refs_matching, self.cli, self.root, MERGED_PREFIX))
        for ref, tip in side.items():
            owner = ref.split("/")[3]  # refs/bosun/<kind>/task-<id>[/<attempt>]
            task_id = id_after(owner, "task-")
            task = tasks.get(task_id) if task_id is not None else None
            if ref.startswith((ATTEMPTS_PREFIX, MERGED_PREFIX)):
                # A task's attempts (with squashed merges, the only record of how it got
                # there, which replays and `bosun log` look back on) stay as long as the
                # board knows the task; they are hidden refs, never branches.
                gone = task is None
            else:
                gone = task is None or self._expired(task, now)
            if gone:
                result.removed_branches.append(ref)
                if not dry_run:
                    await self.cli.arun(self.root, "update-ref", "-d", ref, tip)

    async def _contained_elsewhere(self, ref: str, tip: str, *, users_only: bool = False) -> bool:
        """Whether another branch (with `users_only`, one outside bosun/) holds `tip`."""
        out = await self.cli.arun(
            self.root, "for-each-ref", "--contains", tip, "--format=%(refname)", "refs/heads/"
        )
        others = [line for line in out.stdout.splitlines() if line and line != ref]
        if users_only:
            others = [line for line in others if not line.startswith("refs/heads/bosun/")]
        return bool(others)

    def _run_over(self, run: Run, now: datetime) -> bool:
        return run.state in FINISHED_RUNS and (
            run.updated_at + timedelta(hours=self.settings.retention_hours) <= now
        )

    async def _run_refs(
        self, runs: dict[int, Run], now: datetime, result: GcResult, dry_run: bool
    ) -> None:
        branches = await asyncio.to_thread(
            refs_matching, self.cli, self.root, "refs/heads/" + RUN_PREFIX
        )
        for ref, tip in branches.items():
            name = ref[len("refs/heads/") :]
            run_id = id_after(name, RUN_PREFIX)
            run = runs.get(run_id) if run_id is not None else None
            if run is None or self._run_over(run, now):
                # Task branches go when their tasks end: only a user's branch keeps it safe.
                if await self._contained_elsewhere(ref, tip, users_only=True):
                    result.removed_branches.append(name)
                    if not dry_run:
                        await self.cli.arun(self.root, "update-ref", "-d", ref, tip)
                else:
                    why = "unknown to the board" if run is None else f"run {run.state.value}"
                    result.kept.append(f"{name}: {why}, holds commits on no other branch")
                continue
            if run.run_branch is None or run.head_commit != tip:
                # A crash after git moved but before the board heard: git is the truth.
                result.repaired.append(f"run {run.id}: head recorded as {tip[:12]}")
                if not dry_run:
                    await self.board.update_run(
                        run.id,
                        event="run.head_repaired",
                        run_branch=name,
                        head_commit=tip,
                        base_commit=run.base_commit or tip,
                    )
        for run in runs.values():
            recorded = run.run_branch
            if (
                recorded
                and not self._run_over(run, now)
                and "refs/heads/" + recorded not in branches
                and run.head_commit
            ):
                result.repaired.append(f"run {run.id}: branch {recorded} recreated")
                if not dry_run:
                    await self.cli.arun(
                        self.root,
                        "update-ref",
                        "refs/heads/" + recorded,
                        run.head_commit,
                        ZERO_OID,
                        check=False,
                    )
