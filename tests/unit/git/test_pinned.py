"""Pinned git: a worktree's git dir comes from the daemon's records, tampering is named,
a tampered worktree is rebuilt, nested repositories are never committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from bosun.errors import GitError
from bosun.git.hardening import daemon_git_env
from bosun.git.nested import parse_scan
from bosun.git.pinned import Pins, WorktreeTamperedError
from bosun.git.service import NESTED_EVENT, GitService
from bosun_protocol.entities import Run, Task

from .gitrepo import git


@pytest.fixture
def pinned(git_repo: Path, tmp_path: Path) -> tuple[Pins, Path]:
    """Pins over `git_repo` with one worktree at tmp_path/wts/task-1."""
    wt = tmp_path / "wts" / "task-1"
    git(git_repo, "worktree", "add", "-q", "-b", "bosun/task-1", str(wt))
    return Pins(git_repo, tmp_path / "wts"), wt


def test_a_worktree_as_git_made_it_is_pinned_to_its_admin_dir(
    pinned: tuple[Pins, Path], git_repo: Path
) -> None:
    pins, wt = pinned
    dirs = pins.dirs_for(wt)
    assert dirs.git_dir == git_repo / ".git" / "worktrees" / "task-1"
    assert dirs.common_dir == git_repo / ".git"
    assert dirs.env()["GIT_WORK_TREE"] == str(wt)
    assert pins.dirs_for(git_repo).git_dir == git_repo / ".git"


def _rewrite_gitfile(wt: Path, admin: Path) -> None:
    (wt / ".git").write_text("gitdir: .evil\n")


def _gitfile_to_dir(wt: Path, admin: Path) -> None:
    (wt / ".git").unlink()
    (wt / ".git").mkdir()


def _gitfile_gone(wt: Path, admin: Path) -> None:
    (wt / ".git").unlink()


def _gitfile_link(wt: Path, admin: Path) -> None:
    (wt / ".git").unlink()
    (wt / ".git").symlink_to(admin)


def _commondir(wt: Path, admin: Path) -> None:
    (admin / "commondir").write_text(str(wt / ".evil") + "\n")


def _worktree_config(wt: Path, admin: Path) -> None:
    (admin / "config.worktree").write_text("[core]\n\tfsmonitor = /bin/evil\n")


def _swapped(wt: Path, admin: Path) -> None:
    wt.rename(wt.with_name("moved"))
    wt.symlink_to(wt.with_name("moved"))


@pytest.mark.parametrize(
    ("tamper", "said"),
    [
        (_rewrite_gitfile, ".git was rewritten (it now says 'gitdir: .evil')"),
        (_gitfile_to_dir, ".git is not a plain file any more"),
        (_gitfile_gone, ".git is missing"),
        (_gitfile_link, ".git is not a plain file any more"),
        (_commondir, "no longer names"),
        (_worktree_config, "config.worktree sets core.fsmonitor"),
        (_swapped, "its directory was replaced by a link"),
    ],
)
def test_each_kind_of_tampering_is_named_and_no_dirs_are_given(
    pinned: tuple[Pins, Path], tamper: Callable[[Path, Path], None], said: str
) -> None:
    pins, wt = pinned
    admin = pins.dirs_for(wt).git_dir
    tamper(wt, admin)
    with pytest.raises(WorktreeTamperedError, match="was tampered with") as err:
        pins.dirs_for(wt)
    assert said in err.value.what


def test_an_admin_record_pointing_elsewhere_makes_the_worktree_unknown(
    git_repo: Path, tmp_path: Path
) -> None:
    wt = tmp_path / "wts" / "task-2"
    git(git_repo, "worktree", "add", "-q", "-b", "bosun/task-2", str(wt))
    (git_repo / ".git" / "worktrees" / "task-2" / "gitdir").write_text("/nowhere/.git\n")
    with pytest.raises(WorktreeTamperedError, match="no worktree registered"):
        Pins(git_repo, tmp_path / "wts").dirs_for(wt)


def test_git_is_refused_anywhere_but_the_checkout_and_its_worktrees(
    pinned: tuple[Pins, Path], tmp_path: Path
) -> None:
    pins, _ = pinned
    with pytest.raises(GitError, match="runs git only in the repository"):
        pins.dirs_for(tmp_path)


def test_inherited_git_and_program_variables_never_reach_the_daemons_git(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("GIT_CONFIG_PARAMETERS", "GIT_EXEC_PATH", "GIT_SSH_COMMAND", "EDITOR"):
        monkeypatch.setenv(name, "/bin/evil")
    env = daemon_git_env({"GIT_DIR": "/pinned"})
    assert not {"GIT_CONFIG_PARAMETERS", "GIT_EXEC_PATH", "GIT_SSH_COMMAND", "EDITOR"} & set(env)
    assert env["GIT_DIR"] == "/pinned" and env["GIT_EDITOR"] == ":"


def test_porcelain_v2_scan_finds_nested_repositories_and_changed_gitlinks() -> None:
    out = (
        "1 .M SC.. 160000 160000 160000 aa aa vendor/lib\0"
        "1 .M N... 100644 100644 100644 bb bb src/a file.py\0"
        "? sub/\0? notes.txt\0"
    )
    nested = parse_scan(out)
    assert nested.repositories == ["sub/"] and nested.gitlinks == ["vendor/lib"]
    assert nested.excluded() == ["sub", "vendor/lib"]


async def test_a_commit_of_a_tampered_worktree_runs_no_git_there_and_rebuilds_it(
    service: GitService, run: Run, new_task: Callable[[int, str], Awaitable[Task]], tmp_path: Path
) -> None:
    task = await service.acquire_worktree((await new_task(run.id, "t")).id)
    wt = Path(task.worktree or "")
    marker = tmp_path / "ran"
    evil = wt / ".evil"
    git(wt, "init", "-q", "--bare", str(evil))
    (evil / "config").write_text(f"[core]\n\tbare = false\n\tfsmonitor = touch {marker}\n")
    (wt / "work.txt").write_text("uncommitted\n")
    (wt / ".git").write_text("gitdir: .evil\n")
    with pytest.raises(WorktreeTamperedError):
        await service.commit(task.id, 1, "attack")
    assert not marker.exists()
    assert (wt / ".git").read_text().startswith("gitdir: /")  # git's own again
    assert not (wt / "work.txt").exists() and not evil.exists()
    assert git(wt, "symbolic-ref", "HEAD") == "refs/heads/" + (task.branch or "")


async def test_a_nested_repository_is_left_out_of_the_commit_and_said_why(
    service: GitService, run: Run, new_task: Callable[[int, str], Awaitable[Task]]
) -> None:
    task = await service.acquire_worktree((await new_task(run.id, "t")).id)
    wt = Path(task.worktree or "")
    git(wt, "init", "-q", "sub")
    (wt / "sub" / "f.txt").write_text("nested\n")
    (wt / "top.txt").write_text("kept\n")
    sha = await service.commit(task.id, 1, "with a nested repository")
    assert sha is not None
    assert git(wt, "ls-tree", "-r", "--name-only", "HEAD").splitlines() == ["README.md", "top.txt"]
    note = service.left_out(task.id) or ""
    assert "not committed: sub/" in note and "rm -rf <dir>/.git" in note
    events, _ = await service.board.events_since(0)  # type: ignore[attr-defined]
    assert any(e.kind == NESTED_EVENT and e.data["repositories"] == ["sub/"] for e in events)
    assert (wt / "sub" / ".git").is_dir()  # left where it is, only not committed
