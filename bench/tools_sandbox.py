"""Added latency per command of each sandbox mode against a plain subprocess.

Runs `true` many times (a) as a plain asyncio subprocess, (b) through the command
runner alone (own session, pipe reader, reaping scan) with each mode's wrapping, and
(c) as a whole `run_command` tool call through the executor (private tmp dir, env,
policy, bounding, redaction) with a sandbox built for the call, and (d) the same tool
call in the attempt's long-lived sandbox (tools/sandbox_session.py: a supervisor inside
forks each command). Prints median and p95 per mode and the added latency of each over
the plain subprocess (target: ≤ 10 ms added per command). `bwrap (runner, counting)` is
the runner with the wrapper that counts a lone command's leftovers inside its pid
namespace (tools/ns_leftovers.py), as `run_command` outside an attempt runs it.

    .venv/bin/python -m bench.tools_sandbox [--runs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bosun.tools import Policy, ToolContext, ToolExecutor, build_registry
from bosun.tools.errors import SandboxUnavailableError
from bosun.tools.process import run_process
from bosun.tools.sandbox import Sandbox
from bosun.tools.sandbox_session import attempt_sandbox
from bosun.tools.settings import SandboxMode, ToolSettings
from bosun_protocol.entities import Profile


async def _interleaved(
    runs: int, configs: dict[str, Callable[[], Awaitable[object]]]
) -> dict[str, list[float]]:
    """Time every config once per round, so load from elsewhere hits all of them alike."""
    for once in configs.values():
        for _ in range(5):  # warm up caches and the child watcher
            await once()
    samples: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(runs):
        for name, once in configs.items():
            start = time.perf_counter()
            await once()
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


async def _plain() -> None:
    proc = await asyncio.create_subprocess_exec("true")
    await proc.wait()


def _runner(
    sandbox: Sandbox, wt: Path, tmp: Path, counting: bool = False
) -> Callable[[], Awaitable[object]]:
    async def once() -> object:
        prepared = sandbox.prepare(
            ["true"], worktree=wt, tmp=tmp, hidden=[], count_leftovers=counting
        )
        try:
            return await run_process(
                prepared.argv, cwd=wt, env={"PATH": "/usr/bin:/bin", "M": "1"}, limit_s=10,
                grace=0.5, output_limit=30_000, marker=b"M=1", restrict=prepared.restrict,
            )  # fmt: skip
        finally:
            prepared.cleanup()

    return once


def _tool_ctx(sandbox: Sandbox, wt: Path) -> tuple[ToolExecutor, ToolContext]:
    settings = ToolSettings(sandbox=sandbox.report.mode, allow_weak_sandbox=True)
    executor = ToolExecutor(build_registry(settings), Policy.from_settings(settings))
    ctx = ToolContext(
        run_id=1, task_id=1, attempt=1, worktree_path=wt, branch="b", profile=Profile.CODER,
        settings=settings, sandbox=sandbox,
    )  # fmt: skip
    return executor, ctx


def _tool(executor: ToolExecutor, ctx: ToolContext) -> Callable[[], Awaitable[object]]:
    async def once() -> object:
        return await executor.call(ctx, "run_command", {"command": "true"})

    return once


async def _main(runs: int) -> None:
    async with contextlib.AsyncExitStack() as stack:
        await _measure(runs, stack)


async def _measure(runs: int, stack: contextlib.AsyncExitStack) -> None:
    with tempfile.TemporaryDirectory() as base:
        wt, tmp = Path(base) / "wt", Path(base) / "tmp"
        wt.mkdir()
        tmp.mkdir()
        configs: dict[str, Callable[[], Awaitable[object]]] = {"plain asyncio subprocess": _plain}
        for mode in (SandboxMode.NONE, SandboxMode.LANDLOCK, SandboxMode.BWRAP):
            try:
                sandbox = Sandbox.detect(mode, allow_weak=True)  # the mechanism, as root too
            except SandboxUnavailableError as exc:
                print(f"{mode.value}: unavailable: {exc.message}")
                continue
            configs[f"{mode.value} (runner)"] = _runner(sandbox, wt, tmp)
            if mode is SandboxMode.BWRAP:  # a lone command's leftovers, counted in its namespace
                configs["bwrap (runner, counting)"] = _runner(sandbox, wt, tmp, counting=True)
            configs[f"{mode.value} (tool call)"] = _tool(*_tool_ctx(sandbox, wt))
            executor, ctx = _tool_ctx(sandbox, wt)
            await stack.enter_async_context(attempt_sandbox(ctx))  # built at the first call
            configs[f"{mode.value} (attempt)"] = _tool(executor, ctx)
        samples = await _interleaved(runs, configs)
        base_med, _ = _stats(samples["plain asyncio subprocess"])
        print(
            f"runs per config: {runs}, interleaved; command: true; load: {os.getloadavg()[0]:.2f}"
        )
        print(f"{'what':<28}{'median ms':>10}{'p95 ms':>10}{'added ms':>10}")
        for name, values in samples.items():
            med, p95 = _stats(values)
            added = "—" if name.startswith("plain") else f"{med - base_med:+.2f}"
            print(f"{name:<28}{med:>10.2f}{p95:>10.2f}{added:>10}")
        for confined in ("landlock", "bwrap"):
            if f"{confined} (runner)" in samples:
                extra = (
                    _stats(samples[f"{confined} (runner)"])[0] - _stats(samples["none (runner)"])[0]
                )
                print(
                    f"sandbox cost of {confined} over the unsandboxed runner: {extra:+.2f} ms (target ≤ 10)"
                )
        if "bwrap (runner, counting)" in samples:
            counted = _stats(samples["bwrap (runner, counting)"])[0]
            print(
                "counting a lone bwrap command's leftovers in its namespace: "
                f"{counted - _stats(samples['bwrap (runner)'])[0]:+.2f} ms"
            )
        for name in ("none", "landlock", "bwrap"):
            if f"{name} (attempt)" in samples:
                per_call = _stats(samples[f"{name} (tool call)"])[0]
                per_attempt = _stats(samples[f"{name} (attempt)"])[0]
                print(
                    f"{name}: a tool call in the attempt's sandbox {per_attempt - base_med:+.2f} ms "
                    f"over plain, against {per_call - base_med:+.2f} ms with a sandbox per call"
                )


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    asyncio.run(_main(args.runs))


if __name__ == "__main__":
    main()
