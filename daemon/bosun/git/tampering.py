"""Rebuilding a tampered worktree: removed without running git in it, checked out again.

A worktree whose `.git` (or admin record) no longer matches what the daemon made has
been written by something inside the task, so nothing in it is trusted: its
uncommitted changes are dropped, the directory and its admin dir are deleted by the
daemon itself (never through a link), and the worktree is added again on the task's
branch, whose tip is the last commit the daemon's own git recorded there (refs live in
the repository's common dir, which no sandbox can write).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path

from bosun_protocol.entities import Task

from bosun.errors import GitError
from bosun.git.board import GitBoard
from bosun.git.command import GitCli
from bosun.git.pinned import Pins, WorktreeTamperedError
from bosun.git.repository import task_branch
from bosun.git.worktrees import Worktrees

log = logging.getLogger(__name__)
TAMPERED_EVENT = "task.worktree_tampered"


def _remove(path: Path) -> None:
    """Delete `path` without following a link anywhere (rmtree works from descriptors)."""
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def _discard(pins: Pins, path: Path) -> None:
    admin = pins.forget(path) or pins.admin_dir(path)
    _remove(path)
    if admin is not None and admin.parent == pins.common / "worktrees":
        _remove(admin)


async def rebuild(
    cli: GitCli,
    pins: Pins,
    worktrees: Worktrees,
    board: GitBoard,
    task: Task,
    error: WorktreeTamperedError,
) -> Task:
    """Replace the task's tampered worktree with a fresh one on its branch; record why."""
    path = Path(task.worktree or "")
    if path.parent != pins.worktrees_dir or ".." in path.parts:
        raise GitError(f"task {task.id}'s worktree {path} is not one bosun made; not removing it")
    log.warning("task %d: %s", task.id, error.message)

    def discard() -> None:
        with worktrees.registry_lock:  # its admin directory goes too
            _discard(pins, path)

    await asyncio.to_thread(discard)
    root = pins.checkout
    await asyncio.to_thread(worktrees.prune)
    branch = task_branch(task.id)
    tip = await asyncio.to_thread(cli.rev, root, "refs/heads/" + branch)
    start = tip or task.head_commit or task.base_commit
    if start is None:
        raise GitError(f"task {task.id} has no commit to rebuild its worktree from")
    await asyncio.to_thread(worktrees.create, path, branch, start, new_branch=tip is None)
    return await board.update_task(
        task.id,
        event=TAMPERED_EVENT,
        data={"reason": error.what, "worktree": str(path), "rebuilt_at": start},
        head_commit=start,
    )
