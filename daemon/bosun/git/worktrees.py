"""Task worktrees: creating them fast (a warm pool, parallel checkout), listing, removing.

Every git command that reads or changes the registry of worktrees (`.git/worktrees/`:
add, move, remove, prune, list) runs under one lock. `git worktree add` writes a new
admin directory file by file, and a concurrent `worktree list`, `move` or `prune` that
meets it half-written dies (`failed to read …/commondir`) or prunes it; the pool's refill
runs in the background, so without the lock it raced every acquisition. A pooled
worktree is registered under the lock without a checkout and populated after it, so an
acquisition waits for at most one registration, never for a checkout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bosun.errors import GitError
from bosun.git import points
from bosun.git.command import GitCli
from bosun.git.hardening import RESET_FLAGS
from bosun.observe import hooks

log = logging.getLogger(__name__)

POOL_PREFIX = "pool-"
TASK_DIR_PREFIX = "task-"


@dataclass(frozen=True)
class WorktreeEntry:
    """One line group of `git worktree list --porcelain`."""

    path: Path
    head: str | None
    branch: str | None  # short name, e.g. bosun/task-3; None when detached
    prunable: bool


def parse_worktree_list(text: str) -> list[WorktreeEntry]:
    """Parse `git worktree list --porcelain -z` output."""
    entries: list[WorktreeEntry] = []
    fields: dict[str, str] = {}
    for item in [*text.split("\0"), ""]:
        if item:
            key, _, value = item.partition(" ")
            fields[key] = value
            continue
        if "worktree" in fields:
            branch = fields.get("branch")
            if branch is not None and branch.startswith("refs/heads/"):
                branch = branch[len("refs/heads/") :]
            entries.append(
                WorktreeEntry(
                    path=Path(fields["worktree"]),
                    head=fields.get("HEAD"),
                    branch=branch,
                    prunable="prunable" in fields,
                )
            )
        fields = {}
    return entries


class Worktrees:
    """Creates and removes worktrees under `.bosun/worktrees/`, keeping a warm pool."""

    def __init__(self, cli: GitCli, root: Path, directory: Path, pool_size: int, workers: int):
        self.cli = cli
        self.root = root
        self.directory = directory
        self.pool_size = pool_size
        self.workers = workers or (os.cpu_count() or 2)
        self._pool: list[Path] = []
        self._made: set[Path] = set()  # every pool worktree this process created
        self._pool_lock = asyncio.Lock()
        self._refill: asyncio.Task[None] | None = None
        self._pool_commit: str | None = None
        self.registry_lock = threading.RLock()  # see the module's docstring

    def _checkout_config(self) -> tuple[str, ...]:
        return (
            "-c",
            f"checkout.workers={self.workers}",
            "-c",
            "checkout.thresholdForParallelism=100",
        )

    def task_path(self, task_id: int) -> Path:
        """Where a task's worktree lives."""
        return self.directory / f"{TASK_DIR_PREFIX}{task_id}"

    def entries(self) -> list[WorktreeEntry]:
        """Every worktree git knows of (the main one first)."""
        with self.registry_lock:
            out = self.cli.run(self.root, "worktree", "list", "--porcelain", "-z")
        return parse_worktree_list(out.stdout)

    def prune(self) -> None:
        """Forget registered worktrees whose directories are gone."""
        with self.registry_lock:
            self.cli.run(self.root, "worktree", "prune", check=False)

    def create(self, path: Path, branch: str, start: str, *, new_branch: bool) -> None:
        """A worktree at `path` on `branch` (created at `start` when `new_branch`)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.registry_lock:
            source = self._create(path, branch, start, new_branch=new_branch)
        hooks.worktree_acquired(time.monotonic() - started, source)

    def _create(self, path: Path, branch: str, start: str, *, new_branch: bool) -> str:
        """Make it; whether it came from the warm pool (`pool`) or was checked out (`new`)."""
        self._clear_stale_dir(path)
        pooled = self._take_pooled() if new_branch else None
        # -B: a pooled switch that failed after `checkout -b` leaves the new branch at
        # `start`, which the caller saw absent; taking it over is what it asked for.
        create_flag = "-b"
        if pooled is not None:
            try:
                self._switch_pooled(pooled, path, branch, start)
                return "pool"
            except GitError as exc:
                log.warning("pooled worktree %s unusable (%s); creating afresh", pooled, exc)
                self.remove(pooled)
                self._clear_stale_dir(path)
                create_flag = "-B"
        args = ["worktree", "add", "-q"]
        args += [create_flag, branch, str(path), start] if new_branch else [str(path), branch]
        self.cli.run(self.root, *self._checkout_config(), *args)
        points.failpoint(points.WORKTREE_ADDED)
        return "new"

    def _switch_pooled(self, pooled: Path, path: Path, branch: str, start: str) -> None:
        # A pooled worktree is already checked out; switching commits rewrites only the
        # files that differ, which is what makes acquisition cheap on large trees.
        self.cli.run(
            pooled, *self._checkout_config(), "checkout", "-q", *RESET_FLAGS, "-b", branch, start
        )
        points.failpoint(points.WORKTREE_SWITCHED)
        self.cli.run(self.root, "worktree", "move", str(pooled), str(path))
        points.failpoint(points.WORKTREE_ADDED)

    def _clear_stale_dir(self, path: Path) -> None:
        # A directory git does not know (left by a crash inside `worktree add`) blocks
        # the path; anything registered is left to reconciliation.
        if path.exists() and not (path / ".git").exists():
            shutil.rmtree(path, ignore_errors=True)
        self.prune()

    def remove(self, path: Path) -> None:
        """Remove a worktree (even with local changes) and forget it."""
        with self.registry_lock:
            if path.exists():
                out = self.cli.run(
                    self.root, "worktree", "remove", "--force", "--force", str(path), check=False
                )
                if not out.ok and path.exists():
                    shutil.rmtree(path, ignore_errors=True)
            self.prune()

    # --- warm pool ------------------------------------------------------------

    def pooled(self) -> int:
        """Warm worktrees ready to be handed out now."""
        return len(self._pool)

    def _take_pooled(self) -> Path | None:
        while self._pool and self.pool_size > 0:
            candidate = self._pool.pop()
            if (candidate / ".git").exists():
                return candidate
        return None

    def _add_pooled(self, commit: str) -> None:
        path = self.directory / f"{POOL_PREFIX}{uuid.uuid4().hex[:12]}"
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.registry_lock:
            self._made.add(path)  # from here on, gc leaves it to this process
            self.cli.run(
                self.root, "worktree", "add", "-q", "--no-checkout", "--detach", str(path), commit
            )
        # The checkout, the slow part, touches only this worktree's own files and index.
        self.cli.run(path, *self._checkout_config(), "reset", "-q", "--hard", *RESET_FLAGS)
        self._pool.append(path)

    def warm(self, commit: str) -> None:
        """Ask for the pool to be refilled in the background, checked out at `commit`."""
        self._pool_commit = commit
        if self.pool_size == 0 or (self._refill is not None and not self._refill.done()):
            return
        self._refill = asyncio.get_running_loop().create_task(self._fill())
        self._refill.add_done_callback(_log_failure)

    async def _fill(self) -> None:
        async with self._pool_lock:
            while len(self._pool) < self.pool_size and self._pool_commit:
                await asyncio.to_thread(self._add_pooled, self._pool_commit)

    async def wait_warm(self) -> None:
        """Wait until a pending refill has finished (tests and benchmarks)."""
        if self._refill is not None:
            await asyncio.shield(self._refill)

    async def close(self) -> None:
        """Stop refilling and remove pooled worktrees."""
        # The refill stops after the worktree it is adding (a thread cannot be cancelled;
        # one cancelled mid-add would leave that worktree behind, outside the pool).
        self._pool_commit = None
        if self._refill is not None:
            with contextlib.suppress(Exception):
                await self._refill
        async with self._pool_lock:
            pooled, self._pool = self._pool, []
            self._made.clear()
            for path in pooled:
                await asyncio.to_thread(self.remove, path)

    def owns(self, path: Path) -> bool:
        """Whether `path` is a pool worktree of this process (pooled, being added or
        being switched): reconciliation leaves those alone."""
        return path in self._made

    def drop_pool_dirs(self, *, dry_run: bool = False) -> list[Path]:
        """Remove pool worktrees this process did not make (left by an earlier daemon, or
        by a crash mid-switch); ours, pooled or being switched right now, stay. With
        `dry_run`, only say which would go."""
        removed = []
        with self.registry_lock:
            for entry in self.entries():
                if (
                    entry.path.parent == self.directory
                    and entry.path.name.startswith(POOL_PREFIX)
                    and entry.path not in self._made
                ):
                    if not dry_run:
                        self.remove(entry.path)
                    removed.append(entry.path)
        return removed


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("warming the worktree pool failed", exc_info=task.exception())
