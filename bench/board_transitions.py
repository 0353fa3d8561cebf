"""Durable task transitions/s and latency with 64 concurrent writers (synchronous=FULL).

Compares the store's group commit with one transaction per transition (same
durability: every transition is fsynced before its caller resumes), and measures the
cost of an aiosqlite thread hop that made the writer ship whole batches to its thread.

    .venv/bin/python -m bench.board_transitions [--seconds 3] [--writers 64]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from bosun.board import Store, TaskSpec, TaskState
from bosun.board.writer import in_thread

S = TaskState
# A task's loop through the table: every step is a durable compare-and-swap.
CYCLE = [
    (S.READY, S.ACTIVE),
    (S.ACTIVE, S.AWAITING_QA),
    (S.AWAITING_QA, S.FAILED),
    (S.FAILED, S.READY),
]


@dataclass
class Result:
    """One measured configuration."""

    name: str
    transitions: int
    seconds: float
    latencies: list[float]
    transactions: int

    @property
    def rate(self) -> float:
        return self.transitions / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        per_tx = self.transitions / max(1, self.transactions)
        return (
            f"{self.name:<28} {self.rate:>9,.0f}/s  p50 {self.pct(0.5):6.2f} ms  "
            f"p99 {self.pct(0.99):6.2f} ms  ({per_tx:.1f} transitions per commit)"
        )


async def _writer(store: Store, task_id: int, deadline: float, lat: list[float]) -> int:
    done = 0
    while time.perf_counter() < deadline:
        for frm, to in CYCLE:
            start = time.perf_counter()
            await store.transition(task_id, expected=frm, to=to)
            lat.append(time.perf_counter() - start)
            done += 1
    return done


async def measure(
    name: str, *, group_commit: bool, writers: int, seconds: float, rate: float | None = None
) -> Result:
    """Run `writers` coroutines for `seconds`; open loop at `rate`/s in total when given."""
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        store = await Store.open(
            Path(tmp) / "bench.sqlite3", boot_id="bench", group_commit=group_commit
        )
        try:
            run = await store.create_run("bench")
            specs = [TaskSpec(key=f"t{i}", title="t") for i in range(writers)]
            tasks = await store.create_tasks(run.id, specs)
            for t in tasks:
                await store.transition(t.id, expected=S.PLANNED, to=S.READY)
            lat: list[float] = []
            before = store.transactions
            start = time.perf_counter()
            deadline = start + seconds
            if rate is None:
                counts = await asyncio.gather(*(_writer(store, t.id, deadline, lat) for t in tasks))
            else:
                counts = await asyncio.gather(
                    *(_paced(store, t.id, deadline, lat, rate / writers) for t in tasks)
                )
            elapsed = time.perf_counter() - start
            return Result(name, sum(counts), elapsed, lat, store.transactions - before)
        finally:
            await store.close()


async def _paced(store: Store, task_id: int, deadline: float, lat: list[float], rate: float) -> int:
    # Open loop: each writer issues at its own steady rate, whatever the latency.
    done, step = 0, 0
    interval = 1.0 / rate
    begin = time.perf_counter() + (task_id % 64) * interval / 64
    while True:
        due = begin + done * interval
        if due > deadline:
            return done
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        frm, to = CYCLE[step % 4]
        start = time.perf_counter()
        await store.transition(task_id, expected=frm, to=to)
        lat.append(time.perf_counter() - start)
        done += 1
        step += 1


async def hop_cost(n: int = 2000) -> tuple[float, float]:
    """µs per statement: one aiosqlite hop per statement vs five statements per hop."""
    async with aiosqlite.connect(":memory:") as conn:
        start = time.perf_counter()
        for _ in range(n):
            await conn.execute("SELECT 1")
        per_hop = (time.perf_counter() - start) / n

        def five(raw: object) -> None:
            for _ in range(5):
                raw.execute("SELECT 1")  # type: ignore[attr-defined]

        start = time.perf_counter()
        for _ in range(n // 5):
            await in_thread(conn, five)
        batched = (time.perf_counter() - start) / n
    return per_hop * 1e6, batched * 1e6


async def amain(seconds: float, writers: int) -> None:
    """Measure and print every figure."""
    hop, batched = await hop_cost()
    print(
        f"aiosqlite: {hop:.1f} µs/statement with a hop each, {batched:.1f} µs/statement shipped 5 per hop"
    )
    group = await measure("group commit", group_commit=True, writers=writers, seconds=seconds)
    single = await measure(
        "one transaction each", group_commit=False, writers=writers, seconds=seconds
    )
    paced = await measure(
        "group commit @2,000/s", group_commit=True, writers=writers, seconds=seconds, rate=2000
    )
    print(f"{writers} concurrent writers, synchronous=FULL, {seconds:.0f} s each, closed loop:")
    for res in (group, single):
        print("  " + res.line())
    print(f"  group commit / one transaction each: {group.rate / single.rate:.1f}x throughput")
    print("open loop, 2,000 transitions/s offered in total:")
    print("  " + paced.line())


def main() -> None:
    """Entry point for `python -m bench.board_transitions` and `python -m bench`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--writers", type=int, default=64)
    args, _ = parser.parse_known_args()
    asyncio.run(amain(args.seconds, args.writers))


if __name__ == "__main__":
    main()
