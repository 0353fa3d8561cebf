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
from bosun.git.points import FAILPOINTS
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace

DRIVER = Path(__file__).with_name("crash_driver.py")


def _crash_at(point: str, repo: Path, board: Path, hit: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOSUN_FAILPOINTS": point, "BOSUN_FAILPOINTS_HIT": str(hit)}
    return subprocess.run(
        [sys.executable, str(DRIVER), str(repo), str(board)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


@pytest.mark.parametrize("point", FAILPOINTS)
async def test_restart_after_sigkill_leaves_git_and_board_consistent(
    point: str, git_repo: Path, tmp_path: Path, gitrun: Callable[..., str]
) -> None:
    board_path, hit = tmp_path / "board.sqlite3", tmp_path / "hit"
    main_before = gitrun(git_repo, "rev-parse", "main")
    died = _crash_at(point, git_repo, board_path, hit)
    assert died.returncode == -signal.SIGKILL, died.stderr[-2000:]
    assert hit.read_text().split() == [point]

    store = await Store.open(board_path, boot_id="after-crash")
    git = GitService(Workspace(git_repo), GitSettings(warm_pool=0), store)
    try:
        await git.start()
        # The user's branch: as the user left it (the driver commits "user work" on it),
        # or fully landed — a clean tree containing the whole run branch.
        assert gitrun(git_repo, "status", "--porcelain", "--untracked-files=no") == ""
        assert gitrun(git_repo, "symbolic-ref", "HEAD") == "refs/heads/main"
        assert gitrun(git_repo, "merge-base", "--is-ancestor", main_before, "main") == ""
        runs = await store.list_runs()
        subject = gitrun(git_repo, "log", "-1", "--format=%s", "main")
        if subject.startswith("bosun: land"):
            run_head = gitrun(git_repo, "rev-parse", runs[0].run_branch or "")
            assert gitrun(git_repo, "merge-base", "--is-ancestor", run_head, "main") == ""
        else:
            assert subject in ("init", "user work")
        # The journal is settled and the board's run heads are git's.
        assert await store.journal_list(JOURNAL_KIND) == []
        for run in runs:
            if run.run_branch is not None:
                assert gitrun(git_repo, "rev-parse", run.run_branch) == run.head_commit
        # No orphans: every bosun worktree and branch belongs to a task on the board.
        tasks = {t.id: t for run in runs for t in await store.list_tasks(run.id)}
        for entry in git.worktrees.entries()[1:]:
            owner = [t for t in tasks.values() if t.worktree == str(entry.path)]
            assert owner, f"orphan worktree {entry.path}"
            assert entry.branch == owner[0].branch
        branches = gitrun(
            git_repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/bosun/"
        )
        known = {t.branch for t in tasks.values()} | {r.run_branch for r in runs}
        assert set(branches.split()) <= known
        # No committed work lost: every task's recorded head is its branch tip, and all of
        # it can still be merged into the run.
        for task in tasks.values():
            if task.branch and task.branch in branches.split():
                assert gitrun(git_repo, "rev-parse", task.branch) == task.head_commit
                if task.head_commit != task.base_commit:
                    outcome = await git.merge_task(task.id)
                    assert outcome.status in ("merged", "already_merged")
        # And a second pass finds nothing left to do.
        again = await git.gc()
        assert again.removed_worktrees == again.reattached_worktrees == again.repaired == []
    finally:
        await git.close()
        await store.close()


async def test_driver_without_failpoints_runs_to_the_end(git_repo: Path, tmp_path: Path) -> None:
    done = _crash_at("", git_repo, tmp_path / "board.sqlite3", tmp_path / "hit")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "DONE"
