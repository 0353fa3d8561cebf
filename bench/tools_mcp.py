"""What an MCP server costs an attempt: start, a tool call through the pipeline, stop.

Starts the reference `mcp-server-time` over stdio in the attempt's sandbox (bwrap where
it works) `--rounds` times; each round times the server's start (spawn, initialize,
tools/list), `--calls` calls of `time__get_current_time` through the whole tool
pipeline (schema validation, policy, limit, bounding, redaction, event), and the stop.
The same number of `read_file` calls through the pipeline give the baseline a built-in
tool costs. Prints medians and p95s, and the MCP call's overhead over the built-in one.

    .venv/bin/python -m bench.tools_mcp [--rounds 5] [--calls 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bosun.tools import Policy, ToolContext, ToolExecutor, build_registry
from bosun.tools.errors import SandboxUnavailableError
from bosun.tools.mcp.attempt import attempt_mcp
from bosun.tools.mcp.settings import McpSettings
from bosun.tools.sandbox import Sandbox
from bosun.tools.settings import SandboxMode, ToolSettings
from bosun_protocol.entities import Profile


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _line(name: str, values: list[float], unit: str = "ms") -> str:
    scale = 1000 if unit == "ms" else 1
    return (f"{name:<34} median {statistics.median(values) * scale:8.1f} {unit}"
            f"   p95 {_p95(values) * scale:8.1f} {unit}")  # fmt: skip


async def bench(rounds: int, calls: int) -> None:
    """Run and print."""
    try:
        sandbox = Sandbox.detect(SandboxMode.AUTO)
    except SandboxUnavailableError:
        sandbox = Sandbox.detect(SandboxMode.NONE, allow_weak=True)
    settings = ToolSettings()
    executor = ToolExecutor(build_registry(settings), Policy.from_settings(settings))
    conf = McpSettings.model_validate(
        {"servers": {"time": {"command": sys.executable, "args": ["-m", "mcp_server_time"]}}}
    )
    starts, stops, mcp_calls, builtin = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        wt = Path(tmp)
        (wt / "a.txt").write_text("hello\n")
        ctx = ToolContext(run_id=1, task_id=1, attempt=1, worktree_path=wt, branch="b",
                          profile=Profile.CODER, settings=settings, sandbox=sandbox)  # fmt: skip
        for _ in range(rounds):
            began = time.perf_counter()
            scope = attempt_mcp(ctx, conf)
            await scope.__aenter__()
            starts.append(time.perf_counter() - began)
            for _ in range(calls):
                t = time.perf_counter()
                out = await executor.call(ctx, "time__get_current_time", {"timezone": "UTC"})
                mcp_calls.append(time.perf_counter() - t)
                assert out.outcome == "ok", out.content
                t = time.perf_counter()
                await executor.call(ctx, "read_file", {"path": "a.txt"})
                builtin.append(time.perf_counter() - t)
            began = time.perf_counter()
            await scope.__aexit__(None, None, None)
            stops.append(time.perf_counter() - began)
    print(f"sandbox: {sandbox.report.mode.value}; {rounds} rounds × {calls} calls")
    print(_line("server start (spawn+init+list)", starts, "s"))
    print(_line("server stop", stops, "s"))
    print(_line("MCP tool call (pipeline)", mcp_calls))
    print(_line("built-in read_file (pipeline)", builtin))
    added = statistics.median(mcp_calls) - statistics.median(builtin)
    print(f"MCP call over a built-in call: +{added * 1000:.1f} ms median")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(bench(args.rounds, args.calls))


if __name__ == "__main__":
    main()
