"""The warm pool under load: many parallel acquisitions, releases and refills (real git)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from bosun.board.store import Store
from bosun.errors import GitError
from bosun.git.command import GitCli
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace
from bosun_protocol.entities import Task

NewTask = Callable[[int, str], Awaitable[Task]]


async def test_parallel_acquire_release_and_refill_leave_every_worktree_usable(
    git_repo: Path,
    store: Store,
    new_task: NewTask,
    gitrun: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = GitService(Workspace(git_repo), GitSettings(warm_pool=3), store)
    await service.start()
    try:
        run = await service.start_run((await store.create_run("o")).id)
        tasks = [await new_task(run.id, f"t{i}") for i in range(20)]

        async def cycle(task: Task) -> str:
            got = await service.acquire_worktree(task.id)
            (Path(got.worktree or "") / f"{task.key}.txt").write_text(task.key)
            assert await service.commit(task.id, 1, f"work of {task.key}") is not None
            # A fresh attempt and a release race the refills other acquisitions start.
            await service.reset_worktree(task.id)
            await service.release_task(task.id)
            again = await service.acquire_worktree(task.id)
            return gitrun(Path(again.worktree or ""), "symbolic-ref", "HEAD")

        with caplog.at_level(logging.WARNING, logger="bosun.git.worktrees"):
            heads = await asyncio.gather(*(cycle(t) for t in tasks))
            await service.worktrees.wait_warm()
        assert heads == [f"refs/heads/bosun/task-{t.id}" for t in tasks]
        assert not [r.message for r in caplog.records]  # no pooled worktree was unusable
        entries = service.worktrees.entries()
        assert not [e.path for e in entries if e.prunable]
        names = {e.path.name for e in entries}
        assert {f"task-{t.id}" for t in tasks} <= names
        assert len([n for n in names if n.startswith("pool-")]) == 3
    finally:
        await service.close()
    left = [p.name for p in (git_repo / ".bosun" / "worktrees").iterdir()]
    assert not [n for n in left if n.startswith("pool-")]


async def test_a_pooled_worktree_that_fails_to_move_gives_way_to_a_fresh_one(
    git_repo: Path,
    store: Store,
    new_task: NewTask,
    gitrun: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = GitService(Workspace(git_repo), GitSettings(warm_pool=1), store)
    await service.start()
    try:
        run = await service.start_run((await store.create_run("o")).id)
        await service.worktrees.wait_warm()
        real = GitCli.run

        def failing_move(cli: GitCli, cwd: Path, *args: str, **kw: Any) -> Any:
            if "move" in args:
                raise GitError("git worktree move failed: injected")
            return real(cli, cwd, *args, **kw)

        monkeypatch.setattr(GitCli, "run", failing_move)
        # The switch made the task branch before the move failed: the fresh worktree
        # takes that branch over instead of failing on "already exists".
        task = await service.acquire_worktree((await new_task(run.id, "a")).id)
        monkeypatch.setattr(GitCli, "run", real)
        path = Path(task.worktree or "")
        assert gitrun(path, "symbolic-ref", "HEAD") == f"refs/heads/bosun/task-{task.id}"
        assert gitrun(path, "rev-parse", "HEAD") == run.head_commit
    finally:
        await service.close()
