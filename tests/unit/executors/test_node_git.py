"""A worker node's git in an attempt's worktree uses the directories recorded when the
worktree was made, hardened as the daemon's own: whatever the attempt's commands wrote
into the worktree (a `.git` naming a git dir of their own, with hooks and an fsmonitor)
runs nothing outside the sandbox, and the work still comes back whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from bosun.executors import bundles
from bosun.executors.ray_node import NODE_DIR_ENV, AttemptWorker

from tests.unit.executors.test_bundles import BRANCH, base_repo, git, plant_git_redirect


@pytest.fixture
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AttemptWorker:
    """An attempt's worker with its worktree made from a bundle, as a node makes it."""
    repo = tmp_path / "daemon"
    head = base_repo(repo)
    git(repo, "branch", BRANCH)
    monkeypatch.setenv(NODE_DIR_ENV, str(tmp_path / "node"))
    worker = AttemptWorker(
        "ws", 1, 1, 1, BRANCH, "coder", {"sandbox": "none", "allow_weak_sandbox": True}
    )
    worker._receive([bundles.base_bundle(repo, head)], head)
    return worker


def test_the_node_commits_the_attempts_work_through_the_recorded_git_dir(
    tmp_path: Path, worker: AttemptWorker
) -> None:
    marker = tmp_path / "ran"
    (worker.worktree / "b.txt").write_text("b\n")
    plant_git_redirect(worker.worktree, marker)

    data = worker._collect("work")

    assert data is not None
    assert not marker.exists()  # no hook, no fsmonitor of the planted git dir ran
    check = tmp_path / "daemon"  # has the commit the bundle builds on
    (tmp_path / "w.bundle").write_bytes(data)
    git(check, "fetch", "-q", str(tmp_path / "w.bundle"), f"+refs/heads/{BRANCH}:refs/w")
    assert git(check, "show", "refs/w:b.txt") == "b"
    names = git(check, "ls-tree", "-r", "--name-only", "refs/w").split("\n")
    assert names == ["a.txt", "b.txt"]  # the planted `.git` is never part of the work


def test_unchanged_work_returns_no_bundle(worker: AttemptWorker) -> None:
    assert worker._collect("nothing") is None


def test_a_git_injected_through_the_environment_is_not_obeyed(
    tmp_path: Path, worker: AttemptWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    script = tmp_path / "payload.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    # What a node's own environment could carry into every git it runs.
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.fsmonitor")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(script))
    (worker.worktree / "c.txt").write_text("c\n")
    assert worker._collect("work") is not None
    assert not marker.exists()
