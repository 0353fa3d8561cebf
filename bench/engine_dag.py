"""Engine scheduling and recovery: a 1,000-task DAG at N = 4, 16, 64 workers.

Scripted latencies (lognormal) through a fake AgentRunner and the null git plane, on a
real board (SQLite, fsynced). Prints makespan over the lower bound max(critical path,
total work / N), orchestration overhead per task (the same DAG with zero latency, one
worker slot per task in flight), the daemon's memory per 10,000 tasks, and recovery
time after SIGKILL with 10,000 tasks on the board.

    .venv/bin/python -m bench.engine_dag [--tasks 1000] [--target 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

from bosun.agents.api import AttemptReport, AttemptRequest, CheckResult, QAReport, QARequest
from bosun.board.models import TaskSpec
from bosun.board.store import Store
from bosun.engine.core import Engine
from bosun.engine.ports import NullGitPlane
from bosun.engine.settings import EngineSettings
from bosun_protocol.entities import AttemptOutcome, Run, RunOptions, RunState


def make_dag(n: int, seed: int, total_work_s: float) -> tuple[list[TaskSpec], dict[str, float]]:
    """A random layered DAG (each task waits for up to 3 of the previous 60)."""
    rng = random.Random(seed)
    raw = [rng.lognormvariate(0.0, 0.8) for _ in range(n)]
    scale = total_work_s / sum(raw)
    durations = {f"t{i}": raw[i] * scale for i in range(n)}
    specs = []
    for i in range(n):
        window = list(range(max(0, i - 60), i))
        deps = rng.sample(window, min(len(window), rng.randint(0, 3))) if window else []
        specs.append(
            TaskSpec(key=f"t{i}", title=f"t{i}", depends_on=[f"t{d}" for d in sorted(deps)])
        )
    return specs, durations


def critical_path(specs: list[TaskSpec], durations: dict[str, float]) -> float:
    """Longest path by duration (specs are in topological order)."""
    finish: dict[str, float] = {}
    for spec in specs:
        start = max((finish[d] for d in spec.depends_on), default=0.0)
        finish[spec.key] = start + durations[spec.key]
    return max(finish.values())


class LatencyRunner:
    """Sleeps each task's scripted latency, then finishes; QA passes at once."""

    def __init__(self, durations: dict[str, float]) -> None:
        self.durations = durations
        self.started = 0
        self.first = asyncio.Event()

    async def run_attempt(self, request: AttemptRequest) -> AttemptReport:
        self.started += 1
        self.first.set()
        delay = self.durations.get(request.task.key, 0.0)
        if delay:
            await asyncio.sleep(delay)
        return AttemptReport(outcome=AttemptOutcome.FINISHED, summary="ok")

    async def run_qa(self, request: QARequest) -> QAReport:
        return QAReport(passed=True)

    async def run_baseline(
        self, run: Run, worktree: Path, test_command: str | None
    ) -> CheckResult | None:
        return None  # the null git plane has no base to check out


async def seed_board(path: Path, specs: list[TaskSpec]) -> tuple[Store, int]:
    """A board with one running run holding `specs`."""
    store = await Store.open(path, boot_id="seed")
    run = await store.create_run("bench", RunOptions())
    await store.update_run(run.id, event="bench", state=RunState.RUNNING, run_branch="b")
    for i in range(0, len(specs), 2000):
        await store.create_tasks(run.id, specs[i : i + 2000])
    return store, run.id


async def makespan(specs: list[TaskSpec], durations: dict[str, float], workers: int) -> float:
    """Seconds from engine start to the run's completion."""
    with tempfile.TemporaryDirectory() as tmp:
        store, run_id = await seed_board(Path(tmp) / "b.db", specs)
        done = asyncio.Event()

        def on_event(event, run, task) -> None:  # type: ignore[no-untyped-def]
            if run is not None and run.id == run_id and run.state is RunState.COMPLETED:
                done.set()

        store.subscribe(on_event)
        settings = EngineSettings(workers=workers, land_on_completion=False)
        runner = LatencyRunner(durations)
        engine = Engine(store, NullGitPlane(store), runner, settings, "bench")
        started = time.perf_counter()
        await engine.start()
        await done.wait()
        took = time.perf_counter() - started
        await engine.stop()
        await store.close()
        return took


def rss_mb() -> float:
    """Resident memory of this process in MB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


async def memory_per_10k(tmp: Path) -> float:
    """RSS growth of an engine that loads a board of 10,000 tasks."""
    specs, _ = make_dag(10_000, 7, 1.0)
    store, _ = await seed_board(tmp / "mem.db", specs)
    await store.close()
    store = await Store.open(tmp / "mem.db", boot_id="mem")
    before = rss_mb()
    runner = LatencyRunner({})
    gate = asyncio.Event()

    async def hang(request: AttemptRequest) -> AttemptReport:
        await gate.wait()
        return AttemptReport(outcome=AttemptOutcome.FINISHED)

    runner.run_attempt = hang  # type: ignore[method-assign]
    engine = Engine(store, NullGitPlane(store), runner, EngineSettings(workers=64), "mem")
    await engine.start()
    await engine.dispatcher._flush()
    after = rss_mb()
    gate.set()
    await engine.stop()
    await store.close()
    return after - before


def recovery_child(db: str) -> None:
    """Fill a board with 10,000 tasks, get 64 attempts running, then die by SIGKILL."""

    async def go() -> None:
        specs, _ = make_dag(10_000, 11, 1.0)
        store, _ = await seed_board(Path(db), specs)
        runner = LatencyRunner({})
        gate = asyncio.Event()

        async def hang(request: AttemptRequest) -> AttemptReport:
            runner.started += 1
            if runner.started >= 64:
                os.kill(os.getpid(), signal.SIGKILL)
            await gate.wait()
            return AttemptReport(outcome=AttemptOutcome.FINISHED)

        runner.run_attempt = hang  # type: ignore[method-assign]
        engine = Engine(store, NullGitPlane(store), runner, EngineSettings(workers=64), "dead")
        await engine.start()
        await asyncio.Event().wait()

    asyncio.run(go())


async def recovery_time(tmp: Path) -> tuple[float, float, int]:
    """(seconds to engine.start() returning, seconds to the first new attempt, crashed)."""
    db = tmp / "crash.db"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.engine_dag", "--child", str(db)
    )
    code = await child.wait()
    assert code == -signal.SIGKILL, code
    runner = LatencyRunner({})
    gate = asyncio.Event()
    full = asyncio.Event()

    async def hang(request: AttemptRequest) -> AttemptReport:
        runner.first.set()
        runner.started += 1
        if runner.started >= 64:
            full.set()
        await gate.wait()
        return AttemptReport(outcome=AttemptOutcome.FINISHED)

    runner.run_attempt = hang  # type: ignore[method-assign]
    started = time.perf_counter()
    store = await Store.open(db, boot_id="new")
    engine = Engine(store, NullGitPlane(store), runner, EngineSettings(workers=64), "new")
    await engine.start()
    ready_s = time.perf_counter() - started
    await runner.first.wait()
    first_s = time.perf_counter() - started
    await full.wait()  # every slot is busy again
    [run] = await store.list_runs(limit=1)
    crashed = 0
    for t in await store.list_tasks(run.id):
        if t.attempt:
            attempts = await store.list_attempts(t.id)
            crashed += sum(1 for a in attempts if a.outcome is AttemptOutcome.CRASHED)
    gate.set()
    await engine.stop()
    await store.close()
    return ready_s, first_s, crashed


async def run(tasks: int, target: float) -> None:
    specs, base = make_dag(tasks, 1, 1.0)
    cp1 = critical_path(specs, base)
    print(f"DAG: {tasks} tasks; latencies lognormal(0, 0.8), scaled per N so that the lower")
    print(f"bound is {target:.0f} s; critical path / total work = {cp1:.3f}")
    print("| N | mean task s | makespan s | lower bound s | ratio |")
    print("|---|---|---|---|---|")
    for n in (4, 16, 64):
        scale = target / max(cp1, 1.0 / n)
        durations = {k: v * scale for k, v in base.items()}
        total = sum(durations.values())
        bound = max(critical_path(specs, durations), total / n)
        took = await makespan(specs, durations, n)
        print(
            f"| {n} | {total / tasks:.3f} | {took:.2f} | {bound:.2f} | {took / bound:.3f} |",
            flush=True,
        )
    zero = dict.fromkeys(base, 0.0)
    took = await makespan(specs, zero, 16)
    print(f"orchestration overhead: {1000 * took / tasks:.2f} ms per task (zero-latency run)")
    with tempfile.TemporaryDirectory() as tmp:
        print(f"memory: {await memory_per_10k(Path(tmp)):.1f} MB per 10,000 tasks (RSS growth)")
        ready_s, first_s, crashed = await recovery_time(Path(tmp))
        print(
            f"recovery after SIGKILL, 10,000 tasks: engine ready in {ready_s:.2f} s, first "
            f"attempt dispatched after {first_s:.2f} s, {crashed} crashed attempts re-queued"
        )


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--target", type=float, default=40.0, help="lower bound, seconds")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    if args.child:
        recovery_child(args.child)
        return
    asyncio.run(run(args.tasks, args.target))


if __name__ == "__main__":
    main()
