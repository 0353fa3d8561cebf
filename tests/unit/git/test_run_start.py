"""Starting a run: repository checks with actionable errors, the run branch, the base."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.errors import WorkspaceError
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace
from bosun_protocol.entities import RunOptions


def _service(repo: Path, store: Store) -> GitService:
    return GitService(Workspace(repo), GitSettings(warm_pool=0), store)


@pytest.mark.parametrize("branch", ["main", "master", "trunk"])
async def test_run_branch_starts_at_the_current_branch_whatever_its_name(
    tmp_path: Path, store: Store, gitrun: Callable[..., str], branch: str
) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    gitrun(repo, "init", "-q", "-b", branch)
    gitrun(
        repo,
        "-c",
        "user.name=u",
        "-c",
        "user.email=u@x",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "i",
    )
    run = await store.create_run("o")
    run = await _service(repo, store).start_run(run.id)
    head = gitrun(repo, "rev-parse", branch)
    assert (run.base_branch, run.base_commit, run.head_commit) == (branch, head, head)
    assert run.run_branch == f"bosun/run-{run.id}"
    assert gitrun(repo, "rev-parse", run.run_branch) == head
    assert gitrun(repo, "symbolic-ref", "HEAD") == f"refs/heads/{branch}"


async def test_start_run_is_idempotent(
    service: GitService, store: Store, gitrun: Callable[..., str], git_repo: Path
) -> None:
    run = await store.create_run("o")
    first = await service.start_run(run.id)
    (git_repo / "x").write_text("x")
    gitrun(git_repo, "add", "x")
    gitrun(git_repo, "commit", "-qm", "user moves on")
    again = await service.start_run(run.id)
    assert again.base_commit == first.base_commit
    assert gitrun(git_repo, "rev-parse", "bosun/run-1") == first.base_commit


async def test_empty_repository_is_refused_with_the_fix(
    tmp_path: Path, store: Store, gitrun: Callable[..., str]
) -> None:
    repo = tmp_path / "empty"
    repo.mkdir()
    gitrun(tmp_path, "init", "-q", str(repo))
    run = await store.create_run("o")
    with pytest.raises(WorkspaceError, match=r"no commits yet.*git commit --allow-empty"):
        await _service(repo, store).start_run(run.id)


async def test_detached_head_is_refused_unless_a_base_is_named(
    git_repo: Path, store: Store, gitrun: Callable[..., str]
) -> None:
    gitrun(git_repo, "checkout", "-q", "--detach")
    service = _service(git_repo, store)
    run = await store.create_run("o")
    with pytest.raises(WorkspaceError, match=r"HEAD is detached.*git switch"):
        await service.start_run(run.id)
    named = await store.create_run("o", RunOptions(base_branch="main"))
    assert (await service.start_run(named.id)).base_branch == "main"


async def test_missing_base_branch_lists_the_existing_ones(git_repo: Path, store: Store) -> None:
    run = await store.create_run("o", RunOptions(base_branch="develop"))
    with pytest.raises(WorkspaceError, match=r"'develop' does not exist.*Existing branches: main"):
        await _service(git_repo, store).start_run(run.id)


async def test_bosun_branches_cannot_be_a_base(git_repo: Path, store: Store) -> None:
    run = await store.create_run("o", RunOptions(base_branch="bosun/run-1"))
    with pytest.raises(WorkspaceError, match="cannot be a base branch"):
        await _service(git_repo, store).start_run(run.id)


async def test_bare_repository_is_refused(
    tmp_path: Path, git_repo: Path, store: Store, gitrun: Callable[..., str]
) -> None:
    bare = tmp_path / "bare.git"
    gitrun(tmp_path, "clone", "-q", "--bare", str(git_repo), str(bare))
    run = await store.create_run("o")
    with pytest.raises(WorkspaceError, match="bare repository"):
        await _service(bare, store).start_run(run.id)


async def test_starting_a_run_leaves_the_users_tree_and_index_alone(
    service: GitService,
    store: Store,
    git_repo: Path,
    user_snapshot: Callable[[Path], tuple[str, str, str]],
    gitrun: Callable[..., str],
) -> None:
    (git_repo / "README.md").write_text("edited, not staged\n")
    (git_repo / "staged.txt").write_text("s\n")
    gitrun(git_repo, "add", "staged.txt")
    before = user_snapshot(git_repo)
    run = await store.create_run("o")
    await service.start_run(run.id)
    assert user_snapshot(git_repo) == before
