"""Nothing Bosun writes for itself is committed or left behind (issue 20 items 1, 2).

A kill between write_file's temporary file and its rename left `.NAME.bosun-<id>.tmp` in
a kept worktree, and the next attempt's commit staged it; a kill during a command left
its scratch directory in $TMPDIR, which neither recovery nor `bosun gc` removed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from bosun import own_files
from bosun.board.store import Store
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace
from bosun_protocol.entities import Run, Task, TaskState

from .gitrepo import task_commit

NewTask = Callable[[int, str], Awaitable[Task]]
TEMP = ".slug.py.bosun-c697e7a8b34e.tmp"


def _tree(gitrun: Callable[..., str], path: Path, rev: str) -> list[str]:
    return gitrun(path, "ls-tree", "-r", "--name-only", rev).splitlines()


async def test_a_commit_never_takes_write_files_temporary_files(
    service: GitService, run: Run, new_task: NewTask, gitrun: Callable[..., str]
) -> None:
    task = await new_task(run.id, "a")
    # The shape of the junk that reached main: in the worktree top and a subdirectory.
    done = await task_commit(service, task.id, {"slug.py": "x = 1\n", TEMP: "half"}, "first")
    assert TEMP not in _tree(gitrun, Path(done.worktree or ""), done.head_commit or "")
    root = Path(done.worktree or "")
    (root / "wordkit").mkdir()
    (root / "wordkit" / TEMP).write_text("half")
    (root / TEMP).write_text("half")
    (root / "wordkit" / "real.py").write_text("y = 2\n")
    await service.commit(task.id, 2, "second")
    head = (await service.board.get_task(task.id)).head_commit or ""
    files = _tree(gitrun, root, head)
    assert "wordkit/real.py" in files and "slug.py" in files
    assert not [f for f in files if ".bosun-" in f], files


async def test_a_similar_user_file_is_still_committed(
    service: GitService, run: Run, new_task: NewTask, gitrun: Callable[..., str]
) -> None:
    # Only the exact shape (12 hex digits) is ours.
    task = await new_task(run.id, "a")
    names = {".notes.bosun-draft.tmp": "mine\n", "slug.bosun-c697e7a8b34e.tmp": "mine\n"}
    done = await task_commit(service, task.id, names, "user-like names")
    files = _tree(gitrun, Path(done.worktree or ""), done.head_commit or "")
    assert set(names) <= set(files)


async def test_recovery_removes_temporary_files_from_a_kept_worktree(
    git_repo: Path, store: Store, settings: GitSettings, run: Run, new_task: NewTask
) -> None:
    first = GitService(Workspace(git_repo), settings, store)
    task = await new_task(run.id, "a")
    acquired = await first.acquire_worktree(task.id)
    root = Path(acquired.worktree or "")
    (root / "deep" / "er").mkdir(parents=True)
    (root / "deep" / "er" / TEMP).write_text("half")
    (root / TEMP).write_text("half")
    await first.close()
    # The next daemon's start (its git plane's reconciliation) is the recovery.
    second = GitService(Workspace(git_repo), settings, store)
    result = await second.start()
    try:
        assert sorted(result.removed_own_files) == [
            f"task {task.id}: {TEMP}",
            f"task {task.id}: deep/er/{TEMP}",
        ]
        assert not (root / TEMP).exists() and not (root / "deep" / "er" / TEMP).exists()
    finally:
        await second.close()


def test_scratch_of_earlier_boots_is_swept_and_the_current_boots_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(own_files, "_boot_dir", None)
    ws = tmp_path / "repo"
    own_files.use_scratch(ws, "oldboot")
    left = own_files.make_scratch()
    (left / "junk").write_text("x")  # a command killed with the daemon
    current = own_files.use_scratch(ws, "newboot")
    mine = own_files.make_scratch()
    assert mine.parent == current and left.parent.name == "oldboot"
    assert own_files.sweep_scratch(ws) == [str(left.parent)]
    assert not left.exists() and mine.exists()


async def test_gc_dry_run_lists_the_own_files_the_real_gc_then_removes(
    git_repo: Path,
    store: Store,
    settings: GitSettings,
    run: Run,
    new_task: NewTask,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(own_files, "_boot_dir", None)
    own_files.use_scratch(git_repo, "oldboot")
    left = own_files.make_scratch()
    own_files.use_scratch(git_repo, "newboot")
    service = GitService(Workspace(git_repo), settings, store)
    try:
        task = await new_task(run.id, "a")
        root = Path((await service.acquire_worktree(task.id)).worktree or "")
        (root / TEMP).write_text("half")
        await store.transition(task.id, expected=task.state, to=TaskState.READY)
        planned = await service.gc(dry_run=True)
        assert planned.removed_own_files == [f"task {task.id}: {TEMP}", str(left.parent)]
        assert (root / TEMP).exists() and left.exists()  # a dry run changes nothing
        done = await service.gc()
        assert done.removed_own_files == planned.removed_own_files
        assert not (root / TEMP).exists() and not left.exists()
    finally:
        await service.close()
