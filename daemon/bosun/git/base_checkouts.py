"""Detached checkouts of a run's base commit, where QA takes the base's test results.

They live in `.bosun/baselines/`, beside (not in) the task worktrees, so reconciliation
never takes one for a task's and removes it mid-run; each is removed when its test run
ends, and whatever a crash left there is cleared before the next one is made. Adding
and removing go through the worktree registry's lock (see worktrees.py).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from bosun.git.command import GitCli
from bosun.git.worktrees import Worktrees

BASELINES_DIR = "baselines"


class BaseCheckouts:
    """Makes and removes detached worktrees at a commit."""

    def __init__(self, cli: GitCli, root: Path, worktrees: Worktrees) -> None:
        self.cli = cli
        self.root = root
        self.worktrees = worktrees
        self.directory = worktrees.directory.parent / BASELINES_DIR
        self._live: set[Path] = set()

    def tree_of(self, commit: str) -> str | None:
        """The tree id of `commit` (what the base's results are cached by), or None."""
        out = self.cli.run(
            self.root, "rev-parse", "--verify", "-q", commit + "^{tree}", check=False
        )
        return out.stdout.strip() or None if out.ok else None

    def checkout(self, commit: str) -> Path:
        """A new detached worktree at `commit`."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._clear_leftovers()
        path = self.directory / f"base-{commit[:12]}-{uuid.uuid4().hex[:8]}"
        with self.worktrees.registry_lock:
            self.cli.run(self.root, "worktree", "add", "-q", "--detach", str(path), commit)
        self._live.add(path)
        return path

    def remove(self, path: Path) -> None:
        """Remove a checkout made here (and forget it in git)."""
        self._live.discard(path)
        if path.parent == self.directory:
            self.worktrees.remove(path)
            shutil.rmtree(path, ignore_errors=True)

    def _clear_leftovers(self) -> None:
        stale = [p for p in self.directory.iterdir() if p.is_dir() and p not in self._live]
        for path in stale:
            self.worktrees.remove(path)
            shutil.rmtree(path, ignore_errors=True)
