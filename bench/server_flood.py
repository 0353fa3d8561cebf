"""One client floods the daemon; how long does an honest client's `bosun/status` wait?

    .venv/bin/python -m bench.server_flood [--flooders 4] [--requests 5000] [--probes 200]
        [--in-flight N]

Flooders each write `--requests` `bosun/status` requests over the Unix socket as fast as
they can and never read an answer; meanwhile an honest client sends `--probes` requests
one after another and times each. Printed: the honest client's p50/p99/max wait. Issue 20
item 10 measured p99 1.5 s and stalls of 2-4 s under 4 x 5,000; with the per-client cap
on requests in flight (`server.max_requests_in_flight`) the honest client waits behind
at most that many requests per flooder. `--in-flight 1000000` shows the uncapped daemon.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import tempfile
import time
from pathlib import Path

from bosun.client import Client
from bosun.server.framing import encode_frame
from bosun.server.launcher import start_daemon_process
from bosun.workspace import Workspace

from bench.server_latency import _line, _repo


async def _flood(socket: Path, n: int, started: asyncio.Event) -> asyncio.StreamWriter:
    _reader, writer = await asyncio.open_unix_connection(str(socket))
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"capabilities": {}, "initializationOptions": {"protocolVersion": "0.1.0"}},
    }
    writer.write(encode_frame(init))
    frames = b"".join(
        encode_frame({"jsonrpc": "2.0", "id": i, "method": "bosun/status"}) for i in range(1, n)
    )
    started.set()
    writer.write(frames)  # never read: the daemon's answers pile up for this client
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    return writer


async def _probe(socket: Path, n: int, started: asyncio.Event) -> list[float]:
    client = await Client.connect(socket)
    await started.wait()
    out: list[float] = []
    try:
        for _ in range(n):
            t = time.perf_counter()
            await client.request("bosun/status")
            out.append((time.perf_counter() - t) * 1000)
    finally:
        await client.close()
    return out


async def _measure(flooders: int, requests: int, probes: int, in_flight: int | None) -> None:
    with tempfile.TemporaryDirectory(prefix="bosun-bench-flood-") as tmp:
        ws = Workspace(_repo(Path(tmp)))
        ws.ensure_state_dir()
        if in_flight is not None:
            ws.config_path.write_text(f"[server]\nmax_requests_in_flight = {in_flight}\n")
        proc, _ = start_daemon_process(ws, [], detach=True)
        writers: list[asyncio.StreamWriter] = []
        try:
            started = asyncio.Event()
            probing = asyncio.ensure_future(_probe(ws.socket_path, probes, started))
            floods = [
                asyncio.ensure_future(_flood(ws.socket_path, requests, started))
                for _ in range(flooders)
            ]
            ms = await probing
            for f in floods:
                if f.done() and not f.exception():
                    writers.append(f.result())
                else:
                    f.cancel()
            label = "uncapped" if in_flight and in_flight > 100_000 else "capped"
            cap = f"in flight <= {in_flight}" if in_flight else "default cap"
            _line(f"honest status, {label} ({cap})", ms)
        finally:
            for w in writers:
                w.close()
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)


def main() -> None:
    """Run the flood with the daemon's default cap, then (for comparison) uncapped."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flooders", type=int, default=4)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--probes", type=int, default=200)
    ap.add_argument("--in-flight", type=int, default=None)
    args = ap.parse_args()
    print(f"{args.flooders} flooders x {args.requests} unread bosun/status; honest client:")
    if args.in_flight is not None:
        asyncio.run(_measure(args.flooders, args.requests, args.probes, args.in_flight))
        return
    asyncio.run(_measure(args.flooders, args.requests, args.probes, None))
    asyncio.run(_measure(args.flooders, args.requests, args.probes, 1_000_000))


if __name__ == "__main__":
    main()
