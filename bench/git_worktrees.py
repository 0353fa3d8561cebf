"""Worktree acquisition (bosun vs plain `git worktree add`) and merge publish latency.

    .venv/bin/python -m bench.git_worktrees [--sizes 1000,10000,50000]

Generated repositories are cached under bench/.out/ (50k files take a while to make).
"Warm" acquisition takes a worktree from the pool (refilled in the background between
tasks, as happens while agents work); "cold" bypasses the pool and creates one with
parallel checkout. Rounds interleave plain, warm and cold so drifting load on a shared
machine affects all three alike. Merge publish is merge-tree + commit-tree + journal + CAS update-ref
+ board record, for a one-file task onto a run branch.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.workspace import Workspace

OUT = Path(__file__).parent / ".out" / "git-repos"
ROUNDS = {1000: 10, 10000: 7, 50000: 3}


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=600
    ).stdout.strip()


def generated_repo(files: int) -> Path:
    """A repository with `files` small files in directories of 100 (cached)."""
    repo = OUT / f"files-{files}"
    if (repo / ".git" / "bench-ready").exists():
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    for i in range(files):
        folder = repo / f"pkg{i // 100:04d}"
        folder.mkdir(exist_ok=True)
        (folder / f"mod{i % 100:02d}.py").write_text(
            f"# module {i}\nVALUE = {i}\n" + "x = 1\n" * 20
        )
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m", "generated")
    (repo / ".git" / "bench-ready").write_text("ok")
    return repo


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def plain_add(repo: Path, directory: Path, i: int) -> float:
    """Seconds for one plain `git worktree add -b` of the whole tree (then removed)."""
    path = directory / f"plain-{i}"
    start = time.perf_counter()
    _git(repo, "worktree", "add", "-q", "-b", f"bench-plain-{i}", str(path), "main")
    took = time.perf_counter() - start
    _git(repo, "worktree", "remove", "--force", str(path))
    _git(repo, "branch", "-D", f"bench-plain-{i}")
    return took


async def measure(repo: Path, rounds: int) -> dict[str, list[float]]:
    """Interleaved rounds (the machine is shared, so load drifts): a plain add, a warm
    acquisition (pool of 1, refilled between rounds), a cold one (pool bypassed), and the
    merge publish of a one-file task."""
    times: dict[str, list[float]] = {"plain": [], "warm": [], "cold": [], "merge": []}
    with tempfile.TemporaryDirectory(prefix="bench-board-") as tmp:
        store = await Store.open(Path(tmp) / "board.sqlite3", boot_id="bench")
        git = GitService(Workspace(repo), GitSettings(warm_pool=1), store)
        await git.start()
        try:
            run = await git.start_run((await store.create_run("bench")).id)
            for i in range(rounds):
                times["plain"].append(await asyncio.to_thread(plain_add, repo, OUT, i))
                for kind in ("warm", "cold"):
                    await git.worktrees.wait_warm()
                    git.worktrees.pool_size = 1 if kind == "warm" else 0
                    (task,) = await store.create_tasks(
                        run.id, [TaskSpec(key=f"{kind}{i}", title="t")]
                    )
                    start = time.perf_counter()
                    task = await git.acquire_worktree(task.id)
                    times[kind].append(time.perf_counter() - start)
                    git.worktrees.pool_size = 1
                    (Path(task.worktree or "") / f"{kind}-{i}.txt").write_text(f"{i}\n")
                    await git.commit(task.id, 1, "bench change")
                    start = time.perf_counter()
                    outcome = await git.merge_task(task.id)
                    times["merge"].append(time.perf_counter() - start)
                    assert outcome.status == "merged"
                    await git.release_task(task.id)
        finally:
            await git.close()
            await store.close()
            _cleanup(repo)
    return times


def _cleanup(repo: Path) -> None:
    _git(repo, "worktree", "prune")
    refs = _git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/bosun/", "refs/bosun/")
    for ref in refs.split():
        _git(repo, "update-ref", "-d", ref)
    shutil.rmtree(repo / ".bosun", ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """Print p50/p95 per repository size and the ratio to plain `git worktree add`."""
    parser = argparse.ArgumentParser(prog="bench.git_worktrees")
    parser.add_argument("--sizes", default="1000,10000,50000")
    args = parser.parse_args(argv)
    print(
        f"{'files':>6} {'plain p50/p95 (s)':>18} {'cold p50/p95':>14} {'warm p50/p95':>14} "
        f"{'cold/plain':>10} {'warm/plain':>10} {'merge p50/p95 (ms)':>18}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        repo = generated_repo(size)
        times = asyncio.run(measure(repo, ROUNDS.get(size, 5)))
        plain, cold = _stats(times["plain"]), _stats(times["cold"])
        warm, merge = _stats(times["warm"]), _stats(times["merge"])
        print(
            f"{size:>6} {plain[0]:>8.3f}/{plain[1]:<8.3f} {cold[0]:>6.3f}/{cold[1]:<6.3f} "
            f"{warm[0]:>6.3f}/{warm[1]:<6.3f} {cold[0] / plain[0]:>10.2f} "
            f"{warm[0] / plain[0]:>10.2f} {merge[0] * 1000:>8.1f}/{merge[1] * 1000:<8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
