"""SIGKILL at every failpoint of the git plane, then restart: git and the board agree.

For each failpoint the scripted session (crash_driver.py) runs in a subprocess with the
point armed and dies there. The test then starts the git plane again (recover +
reconcile) and checks: the user's branch is never half-merged, the run branch is at a
head the board knows (old or new, never in between), no worktree or branch is orphaned,
no committed work is lost, and the merge journal is empty and agrees with git.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.git.merges import JOURNAL_KIND
from bosun.git.points import COMMIT_WRITTEN, FAILPOINTS
from bosun.git.service import CONFLICT_JOURNAL, GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace
from bosun_protocol.entities import Task

DRIVER = Path(__file__).with_name("crash_driver.py")


def _crash_at(
    point: str, repo: Path, board: Path, hit: Path, scenario: str = "session"
) -> subprocess.CompletedProcess[str]:
    # The conflict scenario arms CRASH_POINT itself, only around publishing.
    armed = "CRASH_POINT" if scenario == "conflict" else "BOSUN_FAILPOINTS"
    env = {**os.environ, armed: point, "BOSUN_FAILPOINTS_HIT": str(hit)}
    if scenario == "conflict":
        env.pop("BOSUN_FAILPOINTS", None)
    return subprocess.run(
        [sys.executable, str(DRIVER), str(repo), str(board), scenario],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


async def _assert_consistent(
    git: GitService, store: Store, repo: Path, main_before: str, gitrun: Callable[..., str]
) -> dict[int, Task]:
    """The invariants after recovery; returns the board's tasks."""
    # The user's branch: as the user left it (the driver commits "user work" on it),
    # or fully landed — a clean tree containing the whole run branch.
    assert gitrun(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert gitrun(repo, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert gitrun(repo, "merge-base", "--is-ancestor", main_before, "main") == ""
    runs = await store.list_runs()
    subject = gitrun(repo, "log", "-1", "--format=%s", "main")
    if subject.startswith("bosun: land"):
        run_head = gitrun(repo, "rev-parse", runs[0].run_branch or "")
        assert gitrun(repo, "merge-base", "--is-ancestor", run_head, "main") == ""
    else:
        assert subject in ("init", "user work")
    # The journal is settled and the board's run heads are git's.
    assert await store.journal_list(JOURNAL_KIND) == []
    for run in runs:
        if run.run_branch is not None:
            assert gitrun(repo, "rev-parse", run.run_branch) == run.head_commit
    # No orphans: every bosun worktree and branch belongs to a task on the board.
    tasks = {t.id: t for run in runs for t in await store.list_tasks(run.id)}
    for entry in git.worktrees.entries()[1:]:
        owner = [t for t in tasks.values() if t.worktree == str(entry.path)]
        assert owner, f"orphan worktree {entry.path}"
        assert entry.branch == owner[0].branch
    branches = gitrun(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/bosun/")
    known = {t.branch for t in tasks.values()} | {r.run_branch for r in runs}
    assert set(branches.split()) <= known
    # No committed work lost: every task's recorded head is its branch tip.
    for task in tasks.values():
        if task.branch and task.branch in branches.split():
            assert gitrun(repo, "rev-parse", task.branch) == task.head_commit
    return tasks


async def _restarted(repo: Path, board: Path) -> tuple[Store, GitService]:
    store = await Store.open(board, boot_id="after-crash")
    git = GitService(Workspace(repo), GitSettings(warm_pool=0), store)
    await git.start()
    return store, git


@pytest.mark.parametrize("point", FAILPOINTS)
async def test_restart_after_sigkill_leaves_git_and_board_consistent(
    point: str, git_repo: Path, tmp_path: Path, gitrun: Callable[..., str]
) -> None:
    board_path, hit = tmp_path / "board.sqlite3", tmp_path / "hit"
    main_before = gitrun(git_repo, "rev-parse", "main")
    died = _crash_at(point, git_repo, board_path, hit)
    assert died.returncode == -signal.SIGKILL, died.stderr[-2000:]
    assert hit.read_text().split() == [point]
    store, git = await _restarted(git_repo, board_path)
    try:
        tasks = await _assert_consistent(git, store, git_repo, main_before, gitrun)
        # All committed work can still be merged into the run.
        for task in tasks.values():
            if task.head_commit and task.head_commit != task.base_commit:
                outcome = await git.merge_task(task.id)
                assert outcome.status in ("merged", "already_merged")
        # And a second pass finds nothing left to do.
        again = await git.gc()
        assert again.removed_worktrees == again.reattached_worktrees == again.repaired == []
    finally:
        await git.close()
        await store.close()


PUBLISH_POINTS = [p for p in FAILPOINTS if p == COMMIT_WRITTEN or p.startswith("git.merge.")]


@pytest.mark.parametrize("point", PUBLISH_POINTS)
async def test_sigkill_while_publishing_a_resolution_never_merges_it_twice(
    point: str, git_repo: Path, tmp_path: Path, gitrun: Callable[..., str]
) -> None:
    board_path, hit = tmp_path / "board.sqlite3", tmp_path / "hit"
    main_before = gitrun(git_repo, "rev-parse", "main")
    died = _crash_at(point, git_repo, board_path, hit, scenario="conflict")
    assert died.returncode == -signal.SIGKILL, died.stderr[-2000:]
    assert hit.read_text().split() == [point]
    store, git = await _restarted(git_repo, board_path)
    try:
        tasks = await _assert_consistent(git, store, git_repo, main_before, gitrun)
        merger = next(t for t in tasks.values() if t.key == "merge")
        outcome = await git.publish_resolution(merger.id, 1)  # the engine publishes again
        assert outcome.status in ("merged", "already_merged")
        head = gitrun(git_repo, "rev-parse", "bosun/run-1")
        assert gitrun(git_repo, "show", f"{head}:README.md") == "a\nb"
        # Squashed: the resolution is one commit on the run branch, there once.
        subjects = gitrun(git_repo, "log", "--format=%s", head).splitlines()
        assert len([s for s in subjects if s.startswith("resolve merge conflict")]) == 1
        assert gitrun(git_repo, "rev-list", "--count", "--merges", head) == "0"
        for task in tasks.values():  # every side is recorded as merged
            if task.head_commit and task.head_commit != task.base_commit:
                assert (await git.merge_task(task.id)).status == "already_merged", task.key
        assert await store.journal_get(CONFLICT_JOURNAL, str(merger.id)) is None
    finally:
        await git.close()
        await store.close()


@pytest.mark.parametrize("scenario", ["session", "conflict"])
async def test_driver_without_failpoints_runs_to_the_end(
    git_repo: Path, tmp_path: Path, scenario: str
) -> None:
    done = _crash_at("", git_repo, tmp_path / "board.sqlite3", tmp_path / "hit", scenario)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "DONE"
