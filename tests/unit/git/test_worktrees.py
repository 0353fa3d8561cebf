"""Task worktrees: where they come from, the warm pool, durable commits, the user's tree."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.errors import GitError
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.git.worktrees import parse_worktree_list
from bosun.workspace import Workspace
from bosun_protocol.entities import Run, RunState, Task, TaskState

NewTask = Callable[[int, str], Awaitable[Task]]


async def test_worktree_is_on_the_task_branch_at_the_run_head(
    service: GitService, run: Run, new_task: NewTask, gitrun: Callable[..., str], git_repo: Path
) -> None:
    task = await service.acquire_worktree((await new_task(run.id, "a")).id)
    assert task.worktree == str(git_repo / ".bosun" / "worktrees" / f"task-{task.id}")
    assert task.branch == f"bosun/task-{task.id}"
    assert task.base_commit == run.head_commit
    path = Path(task.worktree)
    assert gitrun(path, "symbolic-ref", "HEAD") == f"refs/heads/bosun/task-{task.id}"
    assert gitrun(path, "rev-parse", "HEAD") == run.head_commit
    assert (path / "README.md").read_text() == "# sample\n"


async def test_acquiring_twice_returns_the_same_worktree(
    service: GitService, run: Run, new_task: NewTask
) -> None:
    task = await new_task(run.id, "a")
    first = await service.acquire_worktree(task.id)
    (Path(first.worktree or "") / "marker").write_text("kept")
    second = await service.acquire_worktree(task.id)
    assert second.worktree == first.worktree
    assert (Path(second.worktree or "") / "marker").read_text() == "kept"


async def test_warm_pool_worktree_is_switched_to_the_run_head(
    git_repo: Path, store: Store, new_task: NewTask, gitrun: Callable[..., str]
) -> None:
    service = GitService(Workspace(git_repo), GitSettings(warm_pool=1), store)
    await service.start()
    try:
        run = await service.start_run((await store.create_run("o")).id)
        await service.worktrees.wait_warm()
        pooled = [
            e.path.name for e in service.worktrees.entries() if e.path.name.startswith("pool-")
        ]
        assert len(pooled) == 1
        # The run moves on after the pool was filled: the task must still start at its head.
        (git_repo / "new.txt").write_text("n\n")
        gitrun(git_repo, "add", "new.txt")
        gitrun(git_repo, "commit", "-qm", "more")
        gitrun(git_repo, "update-ref", "refs/heads/bosun/run-1", "main")
        task = await service.acquire_worktree((await new_task(run.id, "a")).id)
        path = Path(task.worktree or "")
        assert gitrun(path, "rev-parse", "HEAD") == gitrun(git_repo, "rev-parse", "main")
        assert (path / "new.txt").exists()
        names = {e.path.name for e in service.worktrees.entries()}
        assert f"task-{task.id}" in names
        assert not any(n in names for n in pooled)  # the pooled one became the task's
    finally:
        await service.close()
    assert not any(e.path.name.startswith("pool-") for e in service.worktrees.entries())


async def test_commit_carries_task_and_attempt_and_updates_the_board(
    service: GitService, run: Run, new_task: NewTask, store: Store, gitrun: Callable[..., str]
) -> None:
    task = await service.acquire_worktree((await new_task(run.id, "a")).id)
    path = Path(task.worktree or "")
    (path / "f.txt").write_text("work\n")
    sha = await service.commit(task.id, 2, "add f")
    assert sha == gitrun(path, "rev-parse", "HEAD")
    message = gitrun(path, "log", "-1", "--format=%B")
    assert message.startswith("add f")
    assert f"Bosun-Task: {task.id}" in message
    assert "Bosun-Attempt: 2" in message
    assert (await store.get_task(task.id)).head_commit == sha
    assert await service.commit(task.id, 2, "nothing new") is None


async def test_worktrees_never_touch_the_users_tree_or_index(
    service: GitService,
    run: Run,
    new_task: NewTask,
    git_repo: Path,
    user_snapshot: Callable[[Path], tuple[str, str, str]],
) -> None:
    (git_repo / "README.md").write_text("user edit\n")
    before = user_snapshot(git_repo)
    task = await service.acquire_worktree((await new_task(run.id, "a")).id)
    (Path(task.worktree or "") / "g.txt").write_text("g\n")
    await service.commit(task.id, 1, "g")
    await service.merge_task(task.id)
    await service.release_task(task.id)
    await service.gc()
    assert user_snapshot(git_repo) == before


def test_worktree_list_porcelain_is_parsed() -> None:
    text = (
        "worktree /r\0HEAD abc\0branch refs/heads/main\0\0"
        "worktree /r/.bosun/worktrees/task-3\0HEAD def\0detached\0prunable gitdir file points"
        " to non-existent location\0\0"
    )
    main, task = parse_worktree_list(text)
    assert (main.path, main.branch, main.prunable) == (Path("/r"), "main", False)
    assert (task.head, task.branch, task.prunable) == ("def", None, True)


async def test_reset_starts_over_at_the_run_head_and_keeps_earlier_commits(
    service: GitService,
    run: Run,
    new_task: NewTask,
    store: Store,
    gitrun: Callable[..., str],
    finish_task: Callable[[int, TaskState], Awaitable[Task]],
) -> None:
    task = await service.acquire_worktree((await new_task(run.id, "a")).id)
    path = Path(task.worktree or "")
    (path / "attempt1.txt").write_text("first try\n")
    first = await service.commit(task.id, 0, "first try")
    (path / "scratch.txt").write_text("uncommitted\n")
    other = await service.acquire_worktree((await new_task(run.id, "b")).id)
    (Path(other.worktree or "") / "b.txt").write_text("b\n")
    await service.commit(other.id, 1, "b")
    moved = await service.merge_task(other.id)
    reset = await service.reset_worktree(task.id)
    assert reset.base_commit == reset.head_commit == moved.run_head
    assert gitrun(path, "rev-parse", "HEAD") == moved.run_head
    assert gitrun(path, "status", "--porcelain", "--ignored") == ""
    assert gitrun(service.root, "rev-parse", "refs/bosun/attempts/task-1/0") == first
    assert (await service.gc()).removed_branches == []
    await finish_task(task.id, TaskState.ABANDONED)
    # Attempts stay as long as the board knows the task (with squashed merges they are
    # the only record of how it got there), even once its run is over.
    await store.update_run(run.id, event="run.cancelled", state=RunState.CANCELLED)
    assert "refs/bosun/attempts/task-1/0" not in (await service.gc()).removed_branches
    assert gitrun(service.root, "rev-parse", "refs/bosun/attempts/task-1/0") == first


async def test_commit_refuses_a_worktree_that_left_its_branch(
    service: GitService, run: Run, new_task: NewTask, gitrun: Callable[..., str]
) -> None:
    task = await service.acquire_worktree((await new_task(run.id, "a")).id)
    path = Path(task.worktree or "")
    gitrun(path, "switch", "-q", "-c", "elsewhere")
    (path / "f.txt").write_text("work\n")
    with pytest.raises(GitError, match="is on elsewhere, not bosun/task-1"):
        await service.commit(task.id, 1, "lost?")
    assert gitrun(path, "status", "--porcelain") == "?? f.txt"


async def test_reloaded_settings_apply_to_later_commits(
    service: GitService, run: Run, new_task: NewTask, gitrun: Callable[..., str]
) -> None:
    service.update_settings(GitSettings(warm_pool=0, author_name="Reloaded", author_email="r@x"))
    task = await service.acquire_worktree((await new_task(run.id, "a")).id)
    (Path(task.worktree or "") / "f.txt").write_text("f\n")
    sha = await service.commit(task.id, 1, "after reload")
    assert gitrun(service.root, "log", "-1", "--format=%an <%ae>", sha or "") == "Reloaded <r@x>"
