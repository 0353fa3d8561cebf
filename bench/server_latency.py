"""Daemon latency: cold start, `bosun lsp` attach, and `bosun/status` round trips.

    .venv/bin/python -m bench.server_latency [--requests N] [--starts N]

Targets (issue 2): cold start to first answer ≤ 1 s; `bosun lsp` attaching to a running
daemon ≤ 300 ms; status round trip through `bosun lsp` p99 ≤ 2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bosun.client import Client
from bosun.server.framing import encode_frame, read_frame
from bosun.server.launcher import start_daemon_process
from bosun.workspace import Workspace


def _repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        [
            "-c",
            "user.email=b@e.invalid",
            "-c",
            "user.name=B",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "init",
        ],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    return repo


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _line(name: str, ms: list[float], target: str = "") -> None:
    print(
        f"  {name:<34} p50 {_pct(ms, 50):7.3f} ms  p99 {_pct(ms, 99):7.3f} ms  "
        f"max {max(ms):7.3f} ms  (n={len(ms)}) {target}"
    )


async def _status_roundtrips(client: Client, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        await client.request("bosun/status")
        out.append((time.perf_counter() - t) * 1000)
    return out


async def _lsp_session(repo: Path, n: int) -> tuple[float, list[float]]:
    """Spawn `bosun lsp`; time to initialize answer, then n status round trips."""
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bosun",
        "--workspace",
        str(repo),
        "lsp",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 20,
    )
    assert proc.stdin is not None and proc.stdout is not None

    async def call(msg_id: int, method: str, params: dict[str, object]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(
            encode_frame({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        )
        while True:
            body = await read_frame(proc.stdout, 1 << 26)
            assert body is not None
            if b'"id":%d' % msg_id in body or b'"id": %d' % msg_id in body:
                return

    await call(0, "initialize", {"capabilities": {}})
    attach = (time.perf_counter() - t0) * 1000
    rtts = []
    for i in range(1, n + 1):
        t = time.perf_counter()
        await call(i, "bosun/status", {})
        rtts.append((time.perf_counter() - t) * 1000)
    proc.stdin.close()
    await proc.wait()
    return attach, rtts


def _cold_starts(repo: Path, n: int) -> list[float]:
    ws = Workspace(repo)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        proc, _ = start_daemon_process(ws, detach=True)

        async def first_answer() -> None:
            async with await Client.connect(ws.socket_path) as c:
                await c.request("bosun/status")

        asyncio.run(first_answer())
        out.append((time.perf_counter() - t) * 1000)
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--starts", type=int, default=8)
    args = ap.parse_args(argv if argv is not None else [])
    with tempfile.TemporaryDirectory(prefix="bosun-bench-") as tmp:
        repo = _repo(Path(tmp))
        cold = _cold_starts(repo, args.starts)
        ws = Workspace(repo)
        proc, _ = start_daemon_process(ws, detach=True)
        try:

            async def direct() -> list[float]:
                async with await Client.connect(ws.socket_path) as c:
                    await _status_roundtrips(c, 200)  # warm up
                    return await _status_roundtrips(c, args.requests)

            unix = asyncio.run(direct())
            attaches, relayed = [], []
            for i in range(args.starts):
                attach, rtts = asyncio.run(_lsp_session(repo, args.requests if i == 0 else 10))
                attaches.append(attach)
                if i == 0:
                    relayed = rtts[200:]
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    print("Daemon latency (bench.server_latency)")
    _line("cold start → first answer", cold, "(target ≤ 1000 ms)")
    _line("bosun lsp attach → initialized", attaches, "(target ≤ 300 ms)")
    _line("status via Unix socket", unix)
    _line("status via bosun lsp", relayed, "(target p99 ≤ 2 ms)")
    print(
        f"  relay cost at the median: {statistics.median(relayed) / statistics.median(unix):.2f}×"
        " the direct socket"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
