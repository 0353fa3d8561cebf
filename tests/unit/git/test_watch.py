"""The workspace watcher: base branches moving under a run, config reloads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.config import Settings
from bosun.git.service import GitService
from bosun.watch import WorkspaceWatcher
from bosun_protocol.entities import Event, Run

Waiter = Callable[[str], asyncio.Future[Event]]


@pytest.fixture
def next_event(store: Store) -> Waiter:
    """`await next_event(kind)`: the next event of that kind the board commits."""

    def wait(kind: str) -> asyncio.Future[Event]:
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()

        def listener(event: Event, *_: object) -> None:
            if event.kind == kind and not future.done():
                future.set_result(event)
                unsubscribe()

        unsubscribe = store.subscribe(listener)
        return future

    return wait


@pytest.fixture
async def watcher(service: GitService, store: Store) -> AsyncIterator[WorkspaceWatcher]:
    applied: list[Settings] = []
    watch = WorkspaceWatcher(service.workspace, store, applied.append, debounce_ms=50)
    watch.applied = applied  # type: ignore[attr-defined]
    await watch.start()
    yield watch
    await watch.stop()


async def test_user_commit_on_the_base_is_reported_once(
    run: Run,
    watcher: WorkspaceWatcher,
    next_event: Waiter,
    git_repo: Path,
    gitrun: Callable[..., str],
) -> None:
    moved = next_event("run.base_moved")
    (git_repo / "user.txt").write_text("u\n")
    gitrun(git_repo, "add", "user.txt")
    gitrun(git_repo, "commit", "-qm", "user commit during the run")
    event = await asyncio.wait_for(moved, 20)
    assert event.run_id == run.id
    assert event.data["from"] == run.base_commit
    assert event.data["to"] == gitrun(git_repo, "rev-parse", "main")
    assert await watcher.check_base_branches() == []  # already reported


async def test_invalid_config_is_reported_and_valid_one_applied(
    watcher: WorkspaceWatcher, next_event: Waiter, git_repo: Path
) -> None:
    config = git_repo / ".bosun" / "config.toml"
    invalid = next_event("settings.invalid")
    config.write_text("[git]\nwarm_pool = -3\n")
    event = await asyncio.wait_for(invalid, 20)
    assert "git.warm_pool" in event.data["error"]
    assert watcher.applied == []  # type: ignore[attr-defined]
    reloaded = next_event("settings.reloaded")
    config.write_text("[git]\nwarm_pool = 7\n")
    await asyncio.wait_for(reloaded, 20)
    assert [s.git.warm_pool for s in watcher.applied] == [7]  # type: ignore[attr-defined]


async def test_stop_is_prompt_and_idempotent(watcher: WorkspaceWatcher) -> None:
    await asyncio.wait_for(watcher.stop(), 5)
    await watcher.stop()


async def test_base_branch_with_a_slash_is_watched_too(
    service: GitService,
    store: Store,
    next_event: Waiter,
    git_repo: Path,
    gitrun: Callable[..., str],
) -> None:
    gitrun(git_repo, "switch", "-q", "-c", "feature/x")
    run = await service.start_run((await store.create_run("o")).id)
    assert run.base_branch == "feature/x"
    watch = WorkspaceWatcher(service.workspace, store, lambda _: None, debounce_ms=50)
    await watch.start()
    try:
        moved = next_event("run.base_moved")
        # Only refs/heads/feature/x changes: nothing in the watched .git directory itself.
        sha = gitrun(git_repo, "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", "feature")
        gitrun(git_repo, "update-ref", "refs/heads/feature/x", sha)
        event = await asyncio.wait_for(moved, 20)
        assert (event.data["branch"], event.data["to"]) == ("feature/x", sha)
    finally:
        await watch.stop()
