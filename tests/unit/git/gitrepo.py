"""The helpers the git plane's tests share: plain git in a test repository, and a
task's work committed through the service."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from bosun.git.service import GitService
from bosun_protocol.entities import Task


def git(cwd: Path, *args: str) -> str:
    """Run git in a test repository and return its stripped output."""
    out = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=120
    )
    return out.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    """Commit everything in the working tree (even nothing); the new commit's id."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


async def task_commit(
    service: GitService, task_id: int, files: Mapping[str, str | bytes | None], message: str
) -> Task:
    """Give the task its worktree, write `files` there (text, bytes, or None to delete)
    and commit them as its attempt 1; the task as the board then has it."""
    task = await service.acquire_worktree(task_id)
    root = Path(task.worktree or "")
    for name, content in files.items():
        if content is None:
            (root / name).unlink()
        elif isinstance(content, bytes):
            (root / name).write_bytes(content)
        else:
            (root / name).write_text(content)
    await service.commit(task_id, 1, message)
    return await service.board.get_task(task_id)
