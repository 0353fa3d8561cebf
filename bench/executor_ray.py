"""The `ray` executor against `local`: per-tool-call overhead, attempt start, bundles.

Starts a Ray cluster on 127.0.0.1 (a head and two worker nodes, as the executor tests
do), makes a repository of `--files` files of 8 KiB over five commits, and measures:

- per tool call, through the whole tool pipeline (validation, policy, events-free):
  `read_file` and `run_command true` in the daemon (`local`) and on a worker node
  (`ray`), median and p95, and the added latency of `ray` over `local`;
- attempt start on `ray`: an actor placed, the repository state shipped, its worktree
  made — cold (the node has never seen the run's base: the whole history travels) and
  warm (a later attempt on the same base: only the task branch's commits);
- the bundle of the base (size, time to make it) and the return trip of an attempt's
  work (`--change-kib` written on the node, collected, verified, imported).

    .venv/bin/python -m bench.executor_ray [--runs 200] [--files 400]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace

from bosun.executors import bundles
from bosun.executors.ray_executor import RayExecutor, RayPlace
from bosun.executors.settings import ExecutorSettings, Placement
from bosun.tools import Policy, ToolContext, ToolExecutor, build_registry
from bosun.tools.sandbox import current_sandbox
from bosun.tools.sandbox_session import attempt_sandbox
from bosun.tools.settings import ToolSettings
from bosun_protocol.entities import Profile

from tests.integration.executors.ray_cluster import Cluster

BRANCH = "bosun/task-1"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _make_repo(root: Path, files: int) -> tuple[Path, str]:
    """A repository of `files` 8-KiB files over five commits; (path, base commit)."""
    repo = root / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    for batch in range(5):
        for i in range(batch, files, 5):
            # Random text: a repository's history compresses far less than repeated lines.
            (repo / f"f{i:05d}.txt").write_text(os.urandom(4096).hex())
        _git(repo, "add", "-A")
        _git(
            repo, "-c", "user.name=b", "-c", "user.email=b@b.invalid", "commit", "-qm", f"c{batch}"
        )
    base = _git(repo, "rev-parse", "HEAD")
    _git(repo, "branch", BRANCH, base)
    _git(repo, "worktree", "add", "-q", str(root / "wt"), BRANCH)
    return repo, base


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(int(len(ordered) * 0.95) - 1, 0)]


async def _timed(runs: int, once: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(5):
        await once()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        await once()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def _open(ex: RayExecutor, attempt: int, base: str) -> tuple[RayPlace, float]:
    task = SimpleNamespace(id=1, profile=Profile.CODER, base_commit=base)
    start = time.perf_counter()
    place = await ex._open(1, task, attempt, BRANCH)
    return place, (time.perf_counter() - start) * 1000


async def _bench(runs: int, files: int, change_kib: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bosun-bench-ray-") as tmp:
        root = Path(tmp)
        repo, base = _make_repo(root, files)
        started = time.perf_counter()
        cluster = Cluster(root / "ray")
        cluster.base.mkdir()
        cluster.start()
        print(f"cluster of 3 nodes up in {time.perf_counter() - started:.1f} s")
        try:
            await _measure(root, repo, base, cluster, runs, change_kib)
        finally:
            cluster.stop()


async def _measure(
    root: Path, repo: Path, base: str, cluster: Cluster, runs: int, change_kib: int
) -> None:
    tools = ToolSettings()
    settings = ExecutorSettings(
        kind="ray", address=cluster.address, connect_timeout_s=120,
        placement=Placement(num_cpus=1, resources={"bosun": 1}),
    )  # fmt: skip
    ex = RayExecutor(settings, tools, repo)
    started = time.perf_counter()
    await ex.connect()
    print(f"daemon joined the cluster in {(time.perf_counter() - started) * 1000:.0f} ms")
    made = time.perf_counter()
    data = await asyncio.to_thread(bundles.base_bundle, repo, base)
    made_ms = (time.perf_counter() - made) * 1000
    print(f"base bundle: {len(data) / 1024:.0f} KiB, made in {made_ms:.0f} ms")

    starts = []
    for attempt in (1, 2, 3):
        place, took = await _open(ex, attempt, base)
        starts.append(f"{took:.0f} ms on {place.where.split(':')[-1].rsplit('/', 1)[-1]}")
        if attempt < 3:
            await place.close()
    print(
        "attempt start (placed, state shipped, worktree made): "
        + ", ".join(starts)
        + " (the first ships the whole history; later ones find the base cached)"
    )

    executor = ToolExecutor(build_registry(tools), Policy.from_settings(tools))
    sandbox = current_sandbox(tools.sandbox, tools.allow_weak_sandbox)

    def ctx(where: RayPlace | None) -> ToolContext:
        return ToolContext(run_id=1, task_id=1, attempt=2, worktree_path=root / "wt",
                           branch=BRANCH, profile=Profile.CODER, settings=tools,
                           sandbox=sandbox, place=where)  # fmt: skip

    local, remote = ctx(None), ctx(place)
    async with contextlib.AsyncExitStack() as stack:
        # The local attempt's long-lived sandbox, as the node's actor has its own.
        await stack.enter_async_context(attempt_sandbox(local))
        await _compare(executor, local, remote, runs)
    blob = "x" * 1023 + "\n"
    content = {"path": "changed.txt", "content": blob * change_kib}
    await executor.call(remote, "write_file", content)
    back = time.perf_counter()
    await place.settle(root / "wt")
    back_ms = (time.perf_counter() - back) * 1000
    print(f"work returned: {change_kib} KiB written on the node, collected, verified and "
          f"imported in {back_ms:.0f} ms")  # fmt: skip
    await place.close()
    await ex.aclose()


async def _compare(executor: ToolExecutor, local: ToolContext, remote: ToolContext,
                   runs: int) -> None:  # fmt: skip
    read = {"path": "f00001.txt"}
    command = {"command": "true"}
    figures = {
        "read_file local": await _timed(runs, lambda: executor.call(local, "read_file", read)),
        "read_file ray": await _timed(runs, lambda: executor.call(remote, "read_file", read)),
        "run_command local": await _timed(
            runs // 4, lambda: executor.call(local, "run_command", command)
        ),
        "run_command ray": await _timed(
            runs // 4, lambda: executor.call(remote, "run_command", command)
        ),
    }
    for name, samples in figures.items():
        median, p95 = _stats(samples)
        print(f"{name:>18}: median {median:7.2f} ms  p95 {p95:7.2f} ms  ({len(samples)} calls)")
    for tool in ("read_file", "run_command"):
        added = _stats(figures[f"{tool} ray"])[0] - _stats(figures[f"{tool} local"])[0]
        ratio = _stats(figures[f"{tool} ray"])[0] / _stats(figures[f"{tool} local"])[0]
        print(f"{tool}: ray adds {added:.2f} ms per call (x{ratio:.1f})")


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--change-kib", type=int, default=256)
    args = parser.parse_args()
    asyncio.run(_bench(args.runs, args.files, args.change_kib))


if __name__ == "__main__":
    main()
