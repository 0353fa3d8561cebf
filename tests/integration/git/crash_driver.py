"""A scripted git-plane session for crash tests: run it with BOSUN_FAILPOINTS armed.

    python crash_driver.py REPO BOARD [session|conflict]

`session` walks every failpoint of the git plane in order: run start, worktree creation
(pooled and fresh), commits, merges, landing (with a merge commit) and cleanup.
`conflict` makes two tasks conflict and arms the failpoints named in CRASH_POINT only
when the merger's resolution is published. Either prints DONE when it got to the end,
which it must not when a failpoint is armed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from bosun import failpoints
from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


async def session(repo: Path, board_path: Path) -> None:
    """The scripted sequence."""
    store = await Store.open(board_path, boot_id="crash-driver")
    settings = GitSettings(warm_pool=1, land_mode="merge")
    git = GitService(Workspace(repo), settings, store)
    await git.start()
    run = await git.start_run((await store.create_run("crash test")).id)
    await git.worktrees.wait_warm()
    a, b = await store.create_tasks(
        run.id, [TaskSpec(key="a", title="a"), TaskSpec(key="b", title="b")]
    )
    a = await git.acquire_worktree(a.id)  # from the warm pool
    git.worktrees.pool_size = 0
    await git.worktrees.close()  # empty the pool: the next worktree is made afresh
    b = await git.acquire_worktree(b.id)  # fresh
    for task in (a, b):
        (Path(task.worktree or "") / f"{task.key}.txt").write_text(f"work of {task.key}\n")
        await git.commit(task.id, 1, f"work of {task.key}")
    for task in (a, b):
        outcome = await git.merge_task(task.id)
        assert outcome.status == "merged", outcome
    # The user commits on main meanwhile, so landing needs a merge commit.
    (repo / "user.txt").write_text("user\n")
    _git(repo, "add", "user.txt")
    _git(repo, "commit", "-qm", "user work")
    landed = await git.land(run.id)
    assert landed.outcome == "landed", landed
    await git.release_task(a.id)
    _git(repo, "branch", "bosun/task-999", "main")  # a stray, fully merged branch
    await git.gc()
    await git.close()
    await store.close()
    print("DONE", flush=True)


async def conflict(repo: Path, board_path: Path) -> None:
    """Two tasks edit the same line; a merger resolves it; publishing is where we die."""
    store = await Store.open(board_path, boot_id="crash-driver")
    git = GitService(Workspace(repo), GitSettings(warm_pool=0), store)
    await git.start()
    run = await git.start_run((await store.create_run("crash test")).id)
    a, b, m = await store.create_tasks(
        run.id, [TaskSpec(key=k, title=k) for k in ("a", "b", "merge")]
    )
    for task in (a, b):
        task = await git.acquire_worktree(task.id)
        (Path(task.worktree or "") / "README.md").write_text(f"{task.key}\n")
        await git.commit(task.id, 1, f"work of {task.key}")
    assert (await git.merge_task(a.id)).status == "merged"
    clash = await git.merge_task(b.id)
    assert clash.status == "conflict", clash
    m = await git.prepare_conflict_worktree(m.id, clash)
    (Path(m.worktree or "") / "README.md").write_text("a\nb\n")
    os.environ["BOSUN_FAILPOINTS"] = os.environ.get("CRASH_POINT", "")
    failpoints.reset_for_tests()
    outcome = await git.publish_resolution(m.id, 1)
    assert outcome.status == "merged", outcome
    await git.close()
    await store.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    scenario = sys.argv[3] if len(sys.argv) > 3 else "session"
    main = {"session": session, "conflict": conflict}[scenario]
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
