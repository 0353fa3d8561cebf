"""Worktree acquisition (bosun vs plain `git worktree add`) and merge publish latency.

    .venv/bin/python -m bench.git_worktrees [--sizes 1000,10000,50000]

Generated repositories are cached under bench/.out/ (50k files take a while to make).
"Warm" acquisition takes a worktree from the pool (refilled in the background between
tasks, as happens while agents work); "cold" has an empty pool and creates one with
parallel checkout. Merge publish is merge-tree + commit-tree + journal + CAS update-ref
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


def plain_adds(repo: Path, rounds: int) -> list[float]:
    """Seconds per `git worktree add -b` of the whole tree."""
    samples = []
    with tempfile.TemporaryDirectory(prefix="bench-plain-") as tmp:
        for i in range(rounds):
            path = Path(tmp) / f"wt{i}"
            start = time.perf_counter()
            _git(repo, "worktree", "add", "-q", "-b", f"bench-plain-{i}", str(path), "main")
            samples.append(time.perf_counter() - start)
            _git(repo, "worktree", "remove", "--force", str(path))
            _git(repo, "branch", "-D", f"bench-plain-{i}")
    return samples


async def bosun_acquisitions(repo: Path, rounds: int, pool: int) -> tuple[list[float], list[float]]:
    """Seconds per acquire_worktree (warm pool when `pool` > 0), and merge publish times."""
    acquire: list[float] = []
    merges: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-board-") as tmp:
        store = await Store.open(Path(tmp) / "board.sqlite3", boot_id="bench")
        git = GitService(Workspace(repo), GitSettings(warm_pool=pool), store)
        await git.start()
        try:
            run = await git.start_run((await store.create_run("bench")).id)
            for i in range(rounds):
                await git.worktrees.wait_warm()
                (task,) = await store.create_tasks(run.id, [TaskSpec(key=f"t{i}", title="t")])
                start = time.perf_counter()
                task = await git.acquire_worktree(task.id)
                acquire.append(time.perf_counter() - start)
                (Path(task.worktree or "") / f"bench-{i}.txt").write_text(f"{i}\n")
                await git.commit(task.id, 1, "bench change")
                start = time.perf_counter()
                outcome = await git.merge_task(task.id)
                merges.append(time.perf_counter() - start)
                assert outcome.status == "merged"
                await git.release_task(task.id)
        finally:
            await git.close()
            await store.close()
            _cleanup(repo)
    return acquire, merges


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
        f"{'warm/plain':>10} {'merge p50/p95 (ms)':>18}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        repo = generated_repo(size)
        rounds = ROUNDS.get(size, 5)
        plain = _stats(plain_adds(repo, rounds))
        cold_acq, _ = asyncio.run(bosun_acquisitions(repo, rounds, pool=0))
        warm_acq, merges = asyncio.run(bosun_acquisitions(repo, rounds, pool=2))
        cold, warm, merge = _stats(cold_acq), _stats(warm_acq), _stats(merges)
        print(
            f"{size:>6} {plain[0]:>8.3f}/{plain[1]:<8.3f} {cold[0]:>6.3f}/{cold[1]:<6.3f} "
            f"{warm[0]:>6.3f}/{warm[1]:<6.3f} {warm[0] / plain[0]:>10.2f} "
            f"{merge[0] * 1000:>8.1f}/{merge[1] * 1000:<8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
