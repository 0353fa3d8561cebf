"""The user's working tree and index are never modified: checked after every operation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from bosun.board.store import Store
from bosun.git.service import GitService
from bosun_protocol.entities import Task

NewTask = Callable[[int, str], Awaitable[Task]]
Snapshot = Callable[[Path], tuple[str, str, str]]
T = TypeVar("T")


def _files(repo: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in repo.iterdir() if p.is_file()}


async def test_no_operation_touches_the_users_tree_or_index(
    service: GitService,
    store: Store,
    new_task: NewTask,
    git_repo: Path,
    gitrun: Callable[..., str],
    user_snapshot: Snapshot,
) -> None:
    (git_repo / "staged.txt").write_text("staged\n")
    gitrun(git_repo, "add", "staged.txt")
    (git_repo / "README.md").write_text("unstaged edit\n")
    (git_repo / "untracked.txt").write_text("untracked\n")
    before = user_snapshot(git_repo)
    files_before = _files(git_repo)

    async def step(what: str, action: Awaitable[T]) -> T:
        result = await action
        assert user_snapshot(git_repo) == before, f"{what} changed the user's tree or index"
        return result

    run = await step("start_run", service.start_run((await store.create_run("o")).id))
    a = await step("acquire", service.acquire_worktree((await new_task(run.id, "a")).id))
    b = await step("acquire", service.acquire_worktree((await new_task(run.id, "b")).id))
    (Path(a.worktree or "") / "README.md").write_text("A\n")
    (Path(b.worktree or "") / "README.md").write_text("B\n")
    (Path(b.worktree or "") / "b.txt").write_text("b\n")
    await step("commit", service.commit(a.id, 1, "a"))
    await step("commit", service.commit(b.id, 1, "b"))
    diff = await step("task_diff", service.task_diff(b.id))
    await step("select_hunks", service.select_hunks(b.id, [diff.files[1].hunks[0].id]))
    await step("clear_selection", service.clear_selection(b.id))
    await step("merge", service.merge_task(a.id))
    conflict = await service.merge_task(b.id)
    merger = await new_task(run.id, "m")
    m = await step("prepare_conflict", service.prepare_conflict_worktree(merger.id, conflict))
    (Path(m.worktree or "") / "README.md").write_text("A\nB\n")
    await step("publish_resolution", service.publish_resolution(merger.id, 1))
    await step("reset_worktree", service.reset_worktree(a.id))
    await step("land (refused: dirty)", service.land(run.id))
    await step("release", service.release_task(b.id))
    await step("gc", service.gc())
    await step("recover", service.recover())
    assert _files(git_repo) == files_before
