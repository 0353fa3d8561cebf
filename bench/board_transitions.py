"""Durable task transitions/s and latency with 64 concurrent writers, on SQLite
(synchronous=FULL) and on PostgreSQL (fsync, synchronous_commit on), side by side.

Issue 2's target: p99 ≤ 5 ms (submit → durable commit acknowledged) with 64 concurrent
writers at ≥ 2,000 transitions/s. Prints, in order:

- the disk's floor (bench/disk_floor.py): raw fsync and a bare SQLite commit;
- the cost of an aiosqlite thread hop, which is why the writer drains its queue inside
  the connection's thread;
- closed loop: the store's group commit against one transaction per transition (same
  durability: every transition is fsynced before its caller resumes);
- open loop at 2,000 transitions/s offered, `--repeat` runs: each run's p50/p99, rate,
  CPU µs per transition, batch size and COMMIT time (the fsync's share), then the
  best and the median, since the machine is shared and runs vary;
- the same two measurements on PostgreSQL (a temporary server of the bench's own, on
  the same machine, unless --postgres-url names one), then PostgreSQL / SQLite.

    .venv/bin/python -m bench.board_transitions [--seconds 4] [--writers 64] [--rounds 4]
        [--repeat 5] [--rate 2000] [--backend both|sqlite|postgresql] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
from bosun.board import Store, TaskSpec, TaskState
from bosun.board.location import BoardLocation
from bosun.board.sqlite_backend import in_thread

from bench import _postgres, disk_floor
from bench._board_results import Result, cpu_ticks, side_by_side, steal_percent, summary

S = TaskState
# A task's loop through the table: every step is a durable compare-and-swap.
CYCLE = [
    (S.READY, S.ACTIVE),
    (S.ACTIVE, S.AWAITING_QA),
    (S.AWAITING_QA, S.FAILED),
    (S.FAILED, S.READY),
]


async def _closed(store: Store, task_id: int, deadline: float, lat: list[float]) -> int:
    # Closed loop: each writer issues its next transition as soon as the last returns.
    done = 0
    while time.perf_counter() < deadline:
        for frm, to in CYCLE:
            start = time.perf_counter()
            await store.transition(task_id, expected=frm, to=to)
            lat.append(time.perf_counter() - start)
            done += 1
    return done


async def _paced(
    store: Store, task_id: int, deadline: float, lat: list[float], rate: float, phase: float
) -> int:
    # Open loop: each writer issues at its own steady rate, whatever the latency.
    interval = 1.0 / rate
    begin = time.perf_counter() + phase * interval
    done = 0
    while True:
        due = begin + done * interval
        if due > deadline:
            return done
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        frm, to = CYCLE[done % 4]
        start = time.perf_counter()
        await store.transition(task_id, expected=frm, to=to)
        lat.append(time.perf_counter() - start)
        done += 1


Boards = Callable[[], AbstractContextManager[BoardLocation]]


@contextlib.contextmanager
def sqlite_board() -> Iterator[BoardLocation]:
    """A fresh board file for one measurement."""
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        yield Path(tmp) / "bench.sqlite3"


async def measure(
    name: str,
    *,
    group_commit: bool,
    writers: int,
    seconds: float,
    rate: float | None = None,
    boards: Boards = sqlite_board,
) -> Result:
    """Run `writers` coroutines for `seconds`; open loop at `rate`/s in total when given."""
    with boards() as where:
        store = await Store.open(where, boot_id="bench", group_commit=group_commit)
        try:
            run = await store.create_run("bench")
            specs = [TaskSpec(key=f"t{i}", title="t") for i in range(writers)]
            tasks = await store.create_tasks(run.id, specs)
            for t in tasks:
                await store.transition(t.id, expected=S.PLANNED, to=S.READY)
            lat: list[float] = []
            commits: list[float] = []
            # The writer times each COMMIT when given a list (an older writer ignores it).
            store._writer.commit_seconds = commits
            before = store.transactions
            ticks = cpu_ticks()
            start = time.perf_counter()
            cpu = time.process_time()
            deadline = start + seconds
            if rate is None:
                jobs = [_closed(store, t.id, deadline, lat) for t in tasks]
            else:
                each = rate / writers
                jobs = [
                    _paced(store, t.id, deadline, lat, each, n / writers)
                    for n, t in enumerate(tasks)
                ]
            counts = await asyncio.gather(*jobs)
            elapsed = time.perf_counter() - start
            used = time.process_time() - cpu
            done = store.transactions - before
            load = os.getloadavg()[0]
            steal = steal_percent(ticks, cpu_ticks())
            return Result(name, sum(counts), elapsed, lat, done, used, commits, load, steal)
        finally:
            await store.close()


async def hop_cost(n: int = 2000) -> tuple[float, float]:
    """µs per statement: one aiosqlite hop per statement vs five statements per hop."""
    async with aiosqlite.connect(":memory:") as conn:
        start = time.perf_counter()
        for _ in range(n):
            await conn.execute("SELECT 1")
        per_hop = (time.perf_counter() - start) / n

        def five(raw: sqlite3.Connection) -> None:
            for _ in range(5):
                raw.execute("SELECT 1")

        start = time.perf_counter()
        for _ in range(n // 5):
            await in_thread(conn, five)
        batched = (time.perf_counter() - start) / n
    return per_hop * 1e6, batched * 1e6


@dataclass
class Config:
    """One way of running the store under one load."""

    name: str
    group_commit: bool
    rate: float | None


async def interleaved(
    configs: list[Config], writers: int, seconds: float, rounds: int, boards: Boards = sqlite_board
) -> list[Result]:
    """Run every config `rounds` times, alternating, and pool each one's samples.

    The machine is shared: alternating short rounds lets every config see the same
    mix of quiet and busy moments, so their ratio means something.
    """
    pooled = [Result(c.name, 0, 0.0, [], 0) for c in configs]
    for _ in range(rounds):
        for config, total in zip(configs, pooled, strict=True):
            res = await measure(
                config.name,
                group_commit=config.group_commit,
                writers=writers,
                seconds=seconds / rounds,
                rate=config.rate,
                boards=boards,
            )
            total.transitions += res.transitions
            total.seconds += res.seconds
            total.latencies += res.latencies
            total.transactions += res.transactions
            total.cpu += res.cpu
            total.commits += res.commits
            total.load = res.load
            total.steal = max(total.steal, res.steal)
    return pooled


async def repeated(
    writers: int, seconds: float, rate: float, repeat: int, boards: Boards = sqlite_board
) -> list[Result]:
    """The headline figure `repeat` times (group commit, open loop at `rate`/s)."""
    runs = []
    for n in range(repeat):
        res = await measure(
            f"run {n + 1}",
            group_commit=True,
            writers=writers,
            seconds=seconds,
            rate=rate,
            boards=boards,
        )
        print("  " + res.line(), flush=True)
        runs.append(res)
    return runs


async def backend(
    label: str, boards: Boards, writers: int, seconds: float, rounds: int, repeat: int, rate: float
) -> tuple[list[Result], list[Result]]:
    """Closed loop (group commit against one transaction each), then the open loop."""
    closed = await interleaved(
        [
            Config("group commit", True, None),
            Config("one transaction each", False, None),
        ],
        writers,
        seconds,
        rounds,
        boards,
    )
    print(f"{label}: {writers} concurrent writers, closed loop, {seconds:.0f} s each:")
    for res in closed:
        print("  " + res.line())
    print(
        f"  group commit / one transaction each: {closed[0].rate / closed[1].rate:.1f}x throughput"
    )
    print(
        f"{label}: open loop, {rate:,.0f} transitions/s offered by {writers} writers together, "
        f"group commit, {repeat} runs of {seconds:.0f} s:"
    )
    runs = await repeated(writers, seconds, rate, repeat, boards)
    print(summary(runs))
    return closed, runs


async def amain(
    seconds: float,
    writers: int,
    rounds: int,
    repeat: int,
    rate: float,
    which: str = "both",
    postgres_url: str | None = None,
) -> None:
    """Measure and print every figure."""
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    lite = pg = None
    if which in ("both", "sqlite"):
        for floor in disk_floor.measure(500):
            print(floor.line())
        hop, batched = await hop_cost()
        print(
            f"aiosqlite: {hop:.1f} µs/statement, one hop each; {batched:.1f} µs shipped 5 per hop"
        )
        lite = await backend(
            "sqlite (synchronous=FULL)", sqlite_board, writers, seconds, rounds, repeat, rate
        )
    if which in ("both", "postgresql"):
        with _postgres.database(postgres_url) as db:
            where = postgres_url or "a temporary server on this machine"
            label = f"postgresql ({where}, fsync and synchronous_commit on)"
            pg = await backend(label, db.board, writers, seconds, rounds, repeat, rate)
    if lite is not None and pg is not None:
        side_by_side(lite, pg)
    print(f"machine: load average {os.getloadavg()[0]:.1f} at end")


def main() -> None:
    """Entry point for `python -m bench.board_transitions` and `python -m bench`."""
    parser = argparse.ArgumentParser(description="board durable transitions benchmark")
    parser.add_argument("--seconds", type=float, default=4.0, help="per config, all rounds")
    parser.add_argument("--writers", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds per config")
    parser.add_argument("--repeat", type=int, default=5, help="open-loop runs")
    parser.add_argument("--rate", type=float, default=2000, help="open loop: offered total/s")
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--postgres-url", help="an existing server (default: start one)")
    args, _ = parser.parse_known_args()
    asyncio.run(
        amain(
            args.seconds,
            args.writers,
            args.rounds,
            args.repeat,
            args.rate,
            args.backend,
            args.postgres_url,
        )
    )


if __name__ == "__main__":
    main()
