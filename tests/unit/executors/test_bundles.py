"""The work a worker node returns is verified before any of it reaches the daemon's
repository or worktree: one ref, the task's branch, descending from the given commit,
nothing under `.bosun/`, within the size limit; good work lands as uncommitted changes."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bosun.errors import GitError
from bosun.executors import bundles
from bosun.git import pinned
from bosun.git.pinned import Pins, WorktreeTamperedError

BRANCH = "bosun/task-1"
LIMIT = 1 << 20


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip()


def base_repo(repo: Path) -> str:
    """A repository at `repo` with one commit (a.txt); that commit."""
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def daemon_repo(tmp_path: Path) -> Iterator[tuple[Path, Path, str]]:
    """The daemon's repository with the task's worktree (registered, as the git
    service registers its worktrees), and the commit it started at."""
    repo = tmp_path / "repo"
    start = base_repo(repo)
    git(repo, "worktree", "add", "-q", "-b", BRANCH, str(tmp_path / "wt"), start)
    pins = Pins(repo, tmp_path)
    pinned.register(pins)
    yield repo, tmp_path / "wt", start
    pinned.unregister(pins)


def node_clone(tmp_path: Path, repo: Path, branch: str = BRANCH) -> Path:
    """A node's copy of the task branch, from a bundle as a node gets it."""
    node = tmp_path / "node"
    head = git(repo, "rev-parse", BRANCH)
    (tmp_path / "in.bundle").write_bytes(bundles.base_bundle(repo, head))
    node.mkdir()
    git(node, "init", "-q")
    git(node, "fetch", "-q", str(tmp_path / "in.bundle"), "+refs/*:refs/in/*")  # as a node does
    git(node, "checkout", "-q", "-B", branch, head)
    return node


def work_bundle(node: Path, start: str | None, *refs: str) -> bytes:
    since = [f"^{start}"] if start else []
    return subprocess.run(
        ["git", "bundle", "create", "-q", "-", *(refs or (f"refs/heads/{BRANCH}",)), *since],
        cwd=node, check=True, capture_output=True,
    ).stdout  # fmt: skip


def _import(repo: Path, wt: Path, data: bytes, **kwargs: Any) -> str:
    return asyncio.run(bundles.import_work(repo, wt, data, **kwargs))


def commit_file(node: Path, path: str, text: str) -> None:
    (node / path).parent.mkdir(parents=True, exist_ok=True)
    (node / path).write_text(text)
    git(node, "add", "-A")
    git(node, "commit", "-qm", f"write {path}")


@pytest.fixture
def node(tmp_path: Path, daemon_repo: tuple[Path, Path, str]) -> Path:
    """The node's copy of the task branch at the attempt's start."""
    return node_clone(tmp_path, daemon_repo[0])


def test_good_work_lands_in_the_worktree_uncommitted(
    node: Path, daemon_repo: tuple[Path, Path, str]
) -> None:
    repo, wt, start = daemon_repo
    commit_file(node, "b.txt", "b\n")
    (node / "a.txt").unlink()
    git(node, "commit", "-qam", "drop a")
    data = work_bundle(node, start)
    commit = _import(repo, wt, data, branch=BRANCH, start=start, limit_bytes=LIMIT)
    assert commit == git(node, "rev-parse", "HEAD")
    assert (wt / "b.txt").read_text() == "b\n" and not (wt / "a.txt").exists()
    assert git(wt, "rev-parse", "HEAD") == start  # the daemon commits it, with its checks
    assert "refs/bosun/incoming" not in git(repo, "for-each-ref")  # quarantine ref gone


def test_a_bundle_with_another_ref_is_refused(
    tmp_path: Path, daemon_repo: tuple[Path, Path, str]
) -> None:
    repo, wt, start = daemon_repo
    node = node_clone(tmp_path, repo, branch="main-evil")
    commit_file(node, "b.txt", "b\n")
    data = work_bundle(node, start, "refs/heads/main-evil")
    with pytest.raises(GitError, match="must hold refs/heads/bosun/task-1 only"):
        _import(repo, wt, data, branch=BRANCH, start=start, limit_bytes=LIMIT)
    assert "main-evil" not in git(repo, "for-each-ref")
    assert not (wt / "b.txt").exists()


def test_work_that_does_not_descend_from_the_start_is_refused(
    tmp_path: Path, daemon_repo: tuple[Path, Path, str]
) -> None:
    repo, wt, start = daemon_repo
    node = tmp_path / "node"
    node.mkdir()
    git(node, "init", "-q", "-b", BRANCH)
    commit_file(node, "other.txt", "unrelated history\n")
    data = work_bundle(node, None)
    with pytest.raises(GitError, match="does not descend from"):
        _import(repo, wt, data, branch=BRANCH, start=start, limit_bytes=LIMIT)
    assert not (wt / "other.txt").exists()


def test_a_change_under_bosun_is_refused(node: Path, daemon_repo: tuple[Path, Path, str]) -> None:
    repo, wt, start = daemon_repo
    commit_file(node, ".bosun/config.toml", '[executor]\nkind = "local"\n')
    with pytest.raises(GitError, match="Bosun's own state"):
        _import(repo, wt, work_bundle(node, start), branch=BRANCH, start=start, limit_bytes=LIMIT)
    assert not (wt / ".bosun").exists()


def test_an_oversized_or_garbage_bundle_is_refused(
    tmp_path: Path, daemon_repo: tuple[Path, Path, str]
) -> None:
    repo, wt, start = daemon_repo
    with pytest.raises(GitError, match="over the limit"):
        _import(repo, wt, b"x" * 100, branch=BRANCH, start=start, limit_bytes=10)
    with pytest.raises(GitError, match="bundle failed"):
        _import(repo, wt, b"not a bundle", branch=BRANCH, start=start, limit_bytes=LIMIT)


def plant_git_redirect(worktree: Path, marker: Path) -> None:
    """What an attempt's command could leave: the worktree's `.git` naming a git dir of
    its own whose config and hooks run a program (here: one that writes `marker`)."""
    evil = worktree.parent / "evil-git"
    subprocess.run(["git", "init", "-q", "--bare", str(evil)], check=True, capture_output=True)
    script = worktree.parent / "payload.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    with (evil / "config").open("a") as fh:
        fh.write(f"[core]\n\tfsmonitor = {script}\n\thooksPath = {evil / 'hooks'}\n")
    for hook in ("post-commit", "post-checkout", "reference-transaction"):
        (evil / "hooks" / hook).write_text(script.read_text())
        (evil / "hooks" / hook).chmod(0o755)
    (worktree / ".git").unlink()
    (worktree / ".git").write_text(f"gitdir: {evil}\n")


def test_a_tampered_daemon_worktree_gets_no_git_and_nothing_runs(
    tmp_path: Path, node: Path, daemon_repo: tuple[Path, Path, str]
) -> None:
    repo, wt, start = daemon_repo
    commit_file(node, "b.txt", "b\n")
    marker = tmp_path / "ran"
    plant_git_redirect(wt, marker)
    with pytest.raises(WorktreeTamperedError):
        _import(repo, wt, work_bundle(node, start), branch=BRANCH, start=start, limit_bytes=LIMIT)
    assert not marker.exists()
    assert not (wt / "b.txt").exists()
