"""Git tools on a real repository and worktree: own branch only, no hooks, tagged commits."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bosun.git.pinned import Pins, register, unregister
from bosun.tools import ToolContext, ToolExecutor


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60
    ).stdout


@pytest.fixture
def task_tree(git_repo: Path, tmp_path: Path) -> Iterator[Path]:
    """A worktree of `git_repo` on the task's branch bosun/task-7, registered as the
    daemon's (its worktrees live in tmp_path)."""
    wt = tmp_path / "task-7"
    _git(git_repo, "worktree", "add", "-q", "-b", "bosun/task-7", str(wt))
    pins = Pins(git_repo, tmp_path)
    register(pins)
    yield wt
    unregister(pins)


@pytest.fixture
def call(
    task_tree: Path, make_ctx: Callable[..., ToolContext], executor: ToolExecutor
) -> Callable[..., Any]:
    """Call a tool in the task worktree."""
    ctx = make_ctx(task_tree, attempt=2)

    async def run(tool: str, **args: Any) -> Any:
        return await executor.call(ctx, tool, args)

    return run


async def test_status_diff_and_commit_with_task_and_attempt(call: Any, task_tree: Path) -> None:
    (task_tree / "README.md").write_text("# changed\n")
    (task_tree / "new.py").write_text("x = 1\n")
    status = await call("git_status")
    assert "## bosun/task-7" in status.content
    assert " M README.md" in status.content
    assert "?? new.py" in status.content
    diff = await call("git_diff")
    assert "+# changed" in diff.content
    committed = await call("git_commit", message="Change the readme")
    assert "on bosun/task-7" in committed.content, committed.content
    body = _git(task_tree, "log", "-1", "--format=%B")
    assert "Change the readme" in body
    assert "Bosun-Task: 7" in body
    assert "Bosun-Attempt: 2" in body
    assert _git(task_tree, "status", "--porcelain") == ""
    log = await call("git_log", max_count=5)
    assert "Change the readme" in log.content


async def test_nothing_to_commit_is_said_plainly(call: Any) -> None:
    result = await call("git_commit", message="empty")
    assert "nothing to commit" in result.content


async def test_commit_refuses_when_the_worktree_is_on_another_branch(
    call: Any, task_tree: Path
) -> None:
    _git(task_tree, "switch", "-q", "-c", "elsewhere")
    (task_tree / "f.txt").write_text("x")
    result = await call("git_commit", message="sneaky")
    assert result.is_error
    assert "not the task's branch" in result.content
    assert "sneaky" not in _git(task_tree, "log", "--all", "--format=%s")


async def test_repository_hooks_are_not_run(
    call: Any, git_repo: Path, task_tree: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "hook-ran"
    hook = git_repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    (task_tree / "f.txt").write_text("x")
    result = await call("git_commit", message="with hook present")
    assert not result.is_error, result.content
    assert not marker.exists()


async def test_diff_of_a_path_and_stat(call: Any, task_tree: Path) -> None:
    (task_tree / "README.md").write_text("# one\n")
    (task_tree / "other.txt").write_text("o\n")
    _git(task_tree, "add", "other.txt")
    only = await call("git_diff", path="README.md")
    assert "README.md" in only.content
    assert "other.txt" not in only.content
    staged = await call("git_diff", staged=True, stat=True)
    assert "other.txt" in staged.content
