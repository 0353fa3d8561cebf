"""Reconciliation both ways: git things the board does not know, board things git lost."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

from bosun.board.store import Store
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace
from bosun_protocol.entities import Run, RunState, Task, TaskState

from .gitrepo import task_commit

NewTask = Callable[[int, str], Awaitable[Task]]
Finish = Callable[[int, TaskState], Awaitable[Task]]


async def _committed(service: GitService, task_id: int) -> Task:
    return await task_commit(service, task_id, {f"t{task_id}.txt": "work\n"}, "work")


def _branches(gitrun: Callable[..., str], repo: Path) -> set[str]:
    return set(gitrun(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split())


async def test_worktree_and_branch_unknown_to_the_board_are_pruned(
    service: GitService, run: Run, git_repo: Path, gitrun: Callable[..., str]
) -> None:
    orphan = git_repo / ".bosun" / "worktrees" / "task-99"
    gitrun(git_repo, "worktree", "add", "-q", "-b", "bosun/task-99", str(orphan), "main")
    stray = git_repo / ".bosun" / "worktrees" / "task-98"
    stray.mkdir()
    (stray / "half-written").write_text("x")
    result = await service.gc()
    assert str(orphan) in result.removed_worktrees
    assert str(stray) in result.removed_worktrees
    assert "bosun/task-99" in result.removed_branches
    assert not orphan.exists()
    assert not stray.exists()
    assert "bosun/task-99" not in _branches(gitrun, git_repo)


async def test_unknown_branch_with_unmerged_commits_is_kept(
    service: GitService, run: Run, git_repo: Path, gitrun: Callable[..., str]
) -> None:
    gitrun(git_repo, "branch", "bosun/task-77", "main")
    wt = git_repo / "elsewhere"
    gitrun(git_repo, "worktree", "add", "-q", str(wt), "bosun/task-77")
    (wt / "precious.txt").write_text("p\n")
    gitrun(wt, "add", ".")
    gitrun(wt, "commit", "-qm", "precious")
    gitrun(git_repo, "worktree", "remove", str(wt))
    result = await service.gc()
    assert any(k.startswith("bosun/task-77") for k in result.kept)
    assert "bosun/task-77" in _branches(gitrun, git_repo)


async def test_worktree_the_board_expects_is_reattached_with_its_commits(
    service: GitService, run: Run, new_task: NewTask, git_repo: Path, gitrun: Callable[..., str]
) -> None:
    task = await _committed(service, (await new_task(run.id, "a")).id)
    shutil.rmtree(task.worktree or "")
    result = await service.gc()
    assert result.reattached_worktrees == [task.worktree]
    path = Path(task.worktree or "")
    assert gitrun(path, "rev-parse", "HEAD") == task.head_commit
    assert (path / f"t{task.id}.txt").read_text() == "work\n"


async def test_finished_tasks_lose_worktree_and_branch_after_retention(
    git_repo: Path,
    store: Store,
    service: GitService,
    run: Run,
    new_task: NewTask,
    finish_task: Finish,
    gitrun: Callable[..., str],
) -> None:
    done = await _committed(service, (await new_task(run.id, "done")).id)
    await service.merge_task(done.id)
    await finish_task(done.id, TaskState.COMPLETE)
    dropped = await _committed(service, (await new_task(run.id, "dropped")).id)
    await finish_task(dropped.id, TaskState.ABANDONED)
    live = await _committed(service, (await new_task(run.id, "live")).id)
    keeper = GitService(Workspace(git_repo), GitSettings(warm_pool=0, retention_hours=24), store)
    kept = await keeper.gc()
    assert kept.removed_worktrees == []
    assert kept.removed_branches == []
    result = await service.gc()
    assert done.worktree is not None and dropped.worktree is not None
    assert done.branch is not None and dropped.branch is not None
    assert sorted(result.removed_worktrees) == sorted([done.worktree, dropped.worktree])
    assert sorted(result.removed_branches) == sorted([done.branch, dropped.branch])
    assert gitrun(Path(live.worktree or ""), "rev-parse", "HEAD") == live.head_commit
    assert live.branch in _branches(gitrun, git_repo)


async def test_board_is_repaired_when_git_moved_without_it(
    service: GitService, run: Run, new_task: NewTask, store: Store, gitrun: Callable[..., str]
) -> None:
    task = await _committed(service, (await new_task(run.id, "a")).id)
    path = Path(task.worktree or "")
    (path / "more.txt").write_text("m\n")
    gitrun(path, "add", ".")
    gitrun(path, "commit", "-qm", "made after the board's last record")
    gitrun(service.root, "update-ref", "refs/heads/bosun/run-1", task.head_commit or "")
    result = await service.gc()
    assert len(result.repaired) == 2
    assert (await store.get_task(task.id)).head_commit == gitrun(path, "rev-parse", "HEAD")
    assert (await store.get_run(run.id)).head_commit == task.head_commit


async def test_dry_run_reports_without_changing_anything(
    service: GitService, run: Run, git_repo: Path, gitrun: Callable[..., str]
) -> None:
    orphan = git_repo / ".bosun" / "worktrees" / "task-99"
    gitrun(git_repo, "worktree", "add", "-q", "-b", "bosun/task-99", str(orphan), "main")
    result = await service.gc(dry_run=True)
    assert str(orphan) in result.removed_worktrees
    assert orphan.exists()
    assert "bosun/task-99" in _branches(gitrun, git_repo)


async def test_run_branch_the_board_knows_is_recreated(
    service: GitService, run: Run, gitrun: Callable[..., str]
) -> None:
    gitrun(service.root, "update-ref", "-d", "refs/heads/bosun/run-1")
    result = await service.gc()
    assert result.repaired == ["run 1: branch bosun/run-1 recreated"]
    assert gitrun(service.root, "rev-parse", "bosun/run-1") == run.head_commit


async def test_run_branch_goes_once_the_run_is_over_and_landed(
    service: GitService,
    run: Run,
    new_task: NewTask,
    store: Store,
    git_repo: Path,
    gitrun: Callable[..., str],
) -> None:
    task = await _committed(service, (await new_task(run.id, "a")).id)
    await service.merge_task(task.id)
    cancelled = await service.start_run((await store.create_run("other")).id)
    other = await _committed(service, (await new_task(cancelled.id, "b")).id)
    await service.merge_task(other.id)
    await store.update_run(cancelled.id, event="run.cancelled", state=RunState.CANCELLED)
    assert (await service.land(run.id)).outcome == "landed"
    await store.update_run(run.id, event="run.completed", state=RunState.COMPLETED)
    result = await service.gc()
    assert "bosun/run-1" in result.removed_branches
    assert any(k.startswith("bosun/run-2: run cancelled") for k in result.kept)
    assert _branches(gitrun, git_repo) >= {"bosun/run-2", "main"}
    assert "bosun/run-1" not in _branches(gitrun, git_repo)
    assert (await service.gc()).repaired == []  # not recreated from the board's record


async def test_dry_run_lists_exactly_what_the_real_run_then_removes(
    git_repo: Path,
    store: Store,
    service: GitService,
    run: Run,
    new_task: NewTask,
    finish_task: Finish,
    gitrun: Callable[..., str],
) -> None:
    # Finished tasks' worktrees and branches, an orphan worktree with its branch, a
    # stray directory and a pool worktree an earlier daemon left: each listed once, and
    # the branches that removing the worktrees frees are listed too.
    finished = []
    for key in ("a", "b", "c", "d"):
        task = await _committed(service, (await new_task(run.id, key)).id)
        await service.merge_task(task.id)
        finished.append(await finish_task(task.id, TaskState.COMPLETE))
    worktrees = git_repo / ".bosun" / "worktrees"
    gitrun(git_repo, "worktree", "add", "-q", "-b", "bosun/task-99", str(worktrees / "task-99"))
    (worktrees / "task-98").mkdir()
    gitrun(git_repo, "worktree", "add", "-q", "--detach", str(worktrees / "pool-0123456789ab"))
    planned = await service.gc(dry_run=True)
    done = await service.gc()
    assert planned.model_dump() == done.model_dump()
    assert len(planned.removed_worktrees) == len(set(planned.removed_worktrees)) == 7
    assert sorted(planned.removed_branches) == sorted(
        [t.branch for t in finished if t.branch] + ["bosun/task-99"]
    )
    assert sorted(p.name for p in worktrees.iterdir()) == []
    again = await service.gc(dry_run=True)
    assert again.removed_worktrees == [] and again.removed_branches == []
