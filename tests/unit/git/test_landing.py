"""Landing: fast-forward or merge only when the user's tree is clean and on the branch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace
from bosun_protocol.entities import Run, Task

NewTask = Callable[[int, str], Awaitable[Task]]
Snapshot = Callable[[Path], tuple[str, str, str]]


@pytest.fixture
async def merged_run(service: GitService, run: Run, new_task: NewTask) -> Run:
    """A run whose branch has one merged task adding feature.txt."""
    task = await service.acquire_worktree((await new_task(run.id, "a")).id)
    (Path(task.worktree or "") / "feature.txt").write_text("feature\n")
    await service.commit(task.id, 1, "feature")
    await service.merge_task(task.id)
    return run


async def test_clean_tree_on_the_base_is_fast_forwarded(
    service: GitService, merged_run: Run, git_repo: Path, gitrun: Callable[..., str]
) -> None:
    result = await service.land(merged_run.id)
    assert (result.outcome, result.mode) == ("landed", "ff")
    assert gitrun(git_repo, "rev-parse", "main") == gitrun(git_repo, "rev-parse", "bosun/run-1")
    assert (git_repo / "feature.txt").read_text() == "feature\n"
    assert gitrun(git_repo, "status", "--porcelain") == ""
    assert (await service.land(merged_run.id)).outcome == "already_landed"


@pytest.mark.parametrize("dirt", ["worktree", "index"])
async def test_dirty_tree_or_index_is_refused_and_left_byte_identical(
    service: GitService,
    merged_run: Run,
    git_repo: Path,
    gitrun: Callable[..., str],
    user_snapshot: Snapshot,
    dirt: str,
) -> None:
    (git_repo / "README.md").write_text("my unsaved work\n")
    if dirt == "index":
        gitrun(git_repo, "add", "README.md")
    main_before = gitrun(git_repo, "rev-parse", "main")
    before = user_snapshot(git_repo)
    result = await service.land(merged_run.id)
    assert result.outcome == "needs_human"
    assert "uncommitted changes (README.md)" in (result.reason or "")
    assert user_snapshot(git_repo) == before
    assert (git_repo / "README.md").read_text() == "my unsaved work\n"
    assert gitrun(git_repo, "rev-parse", "main") == main_before


async def test_head_on_another_branch_needs_a_human(
    service: GitService, merged_run: Run, git_repo: Path, gitrun: Callable[..., str]
) -> None:
    gitrun(git_repo, "switch", "-q", "-c", "elsewhere")
    result = await service.land(merged_run.id)
    assert result.outcome == "needs_human"
    assert "on elsewhere, not main" in (result.reason or "")


async def test_merge_in_progress_needs_a_human(
    service: GitService, merged_run: Run, git_repo: Path, gitrun: Callable[..., str]
) -> None:
    (git_repo / ".git" / "MERGE_HEAD").write_text(gitrun(git_repo, "rev-parse", "HEAD") + "\n")
    result = await service.land(merged_run.id)
    assert result.outcome == "needs_human"
    assert "a merge is in progress" in (result.reason or "")


async def _move_base(git_repo: Path, gitrun: Callable[..., str]) -> None:
    (git_repo / "user.txt").write_text("user\n")
    gitrun(git_repo, "add", "user.txt")
    gitrun(git_repo, "commit", "-qm", "user work during the run")


async def test_moved_base_is_not_fast_forwardable_in_ff_mode(
    service: GitService, merged_run: Run, git_repo: Path, gitrun: Callable[..., str]
) -> None:
    await _move_base(git_repo, gitrun)
    result = await service.land(merged_run.id)
    assert result.outcome == "needs_human"
    assert "cannot be fast-forwarded" in (result.reason or "")


async def test_moved_base_gets_a_merge_commit_in_merge_mode(
    git_repo: Path, store: Store, merged_run: Run, gitrun: Callable[..., str]
) -> None:
    await _move_base(git_repo, gitrun)
    user_head = gitrun(git_repo, "rev-parse", "main")
    service = GitService(Workspace(git_repo), GitSettings(warm_pool=0, land_mode="merge"), store)
    result = await service.land(merged_run.id)
    assert (result.outcome, result.mode) == ("landed", "merge")
    assert gitrun(git_repo, "log", "-1", "--format=%P", "main").split() == [
        user_head,
        gitrun(git_repo, "rev-parse", "bosun/run-1"),
    ]
    assert (git_repo / "feature.txt").exists()
    assert (git_repo / "user.txt").exists()


async def test_never_mode_always_asks(
    git_repo: Path, store: Store, merged_run: Run, gitrun: Callable[..., str]
) -> None:
    service = GitService(Workspace(git_repo), GitSettings(warm_pool=0, land_mode="never"), store)
    before = gitrun(git_repo, "rev-parse", "main")
    result = await service.land(merged_run.id)
    assert result.outcome == "needs_human"
    assert gitrun(git_repo, "rev-parse", "main") == before
    events = [e.kind for e in (await store.events_since(0, 1000))[0]]
    assert "run.land_needs_human" in events


async def test_colliding_untracked_file_makes_git_refuse_and_nothing_changes(
    service: GitService, merged_run: Run, git_repo: Path, gitrun: Callable[..., str]
) -> None:
    (git_repo / "feature.txt").write_text("mine, untracked\n")
    result = await service.land(merged_run.id)
    assert result.outcome == "needs_human"
    assert "refused" in (result.reason or "")
    assert (git_repo / "feature.txt").read_text() == "mine, untracked\n"
