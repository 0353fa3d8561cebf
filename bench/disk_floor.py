"""The disk's floor under a durable write: what no board code can get below.

A durable transition ends with at least one fsync of the WAL, so its latency can never
beat this disk's fsync, and under group commit a write that arrives during a commit
waits for that one and then its own. Measured here on a file in the current directory
(the same disk as the benchmarks' boards):

- a raw 4 KiB `write` + `fsync`, and
- a bare one-row SQLite commit (WAL, synchronous=FULL, BEGIN IMMEDIATE), no Python
  layers around it: the board's lowest possible per-commit cost.

    .venv/bin/python -m bench.disk_floor [--commits 1000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Floor:
    """Latency percentiles of one kind of durable write, in ms."""

    name: str
    samples: list[float]

    def pct(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<44} p50 {self.pct(0.5):5.2f} ms  p90 {self.pct(0.9):5.2f} ms  "
            f"p99 {self.pct(0.99):5.2f} ms  max {self.pct(1.0):6.2f} ms"
        )


def raw_fsync(directory: Path, n: int) -> Floor:
    """`n` appends of 4 KiB, each followed by fsync."""
    lat: list[float] = []
    path = directory / "fsync.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        block = b"x" * 4096
        for _ in range(n):
            start = time.perf_counter()
            os.write(fd, block)
            os.fsync(fd)
            lat.append(time.perf_counter() - start)
    finally:
        os.close(fd)
    return Floor("raw 4 KiB write + fsync", lat)


def sqlite_commit(directory: Path, n: int) -> Floor:
    """`n` one-row transactions, WAL and synchronous=FULL like the board's writer."""
    conn = sqlite3.connect(directory / "floor.sqlite3", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
        lat: list[float] = []
        for i in range(n):
            start = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (v) VALUES (?)", (i,))
            conn.execute("COMMIT")
            lat.append(time.perf_counter() - start)
    finally:
        conn.close()
    return Floor("bare SQLite commit (WAL, synchronous=FULL)", lat)


def measure(n: int = 1000) -> list[Floor]:
    """Both floors, on a scratch directory in the current directory's file system."""
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        return [raw_fsync(Path(tmp), n), sqlite_commit(Path(tmp), n)]


def main() -> None:
    """Entry point for `python -m bench.disk_floor`."""
    parser = argparse.ArgumentParser(description="fsync and bare SQLite commit latency")
    parser.add_argument("--commits", type=int, default=1000)
    args, _ = parser.parse_known_args()
    print(f"load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    for floor in measure(args.commits):
        print(floor.line())


if __name__ == "__main__":
    main()
