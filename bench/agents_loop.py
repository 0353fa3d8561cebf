"""The worker loop's own cost per turn, context bounding's cost, and `bosun demo`'s wall time.

A scripted model answers instantly, so what is measured is everything around the model:
the gateway (budget check, rate limiter, recording the call and its cost on the board),
the tool pipeline (validation, policy, bounding, redaction, the `tool_call` event), the
transcript (two durable message writes per turn) and the context window.

    .venv/bin/python -m bench.agents_loop [--turns 200] [--demo]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bosun.agents.api import AttemptRequest
from bosun.agents.context import ConversationWindow
from bosun.agents.runner import Agents
from bosun.board import Store, TaskSpec
from bosun.config import Settings
from bosun.llm.gateway import ModelGateway
from bosun.llm.messages import ChatMessage, ToolCall
from bosun.llm.settings import LlmSettings
from bosun.tools import Policy, ToolExecutor, build_registry

SCENARIO = """
[[reply]]
role = "coder"
[[reply.tool_calls]]
name = "{tool}"
arguments = {arguments}
"""


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


async def loop_ms_per_turn(root: Path, tool: str, arguments: str, turns: int) -> float:
    """Median-free figure: wall ms per turn of one attempt that runs `turns` turns."""
    repo = root / f"repo-{tool}"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# bench\n" + "line\n" * 200)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=b", "-c", "user.email=b@b.invalid", "commit", "-q", "-m", "i")
    scenario = root / f"{tool}.toml"
    scenario.write_text(SCENARIO.format(tool=tool, arguments=arguments))
    settings = Settings(llm=LlmSettings(default_model=f"scripted:{scenario}"))
    settings.agents.repeat_limit = 0  # the same call 200 times on purpose: no watchdog
    store = await Store.open(root / f"{tool}.db", boot_id="bench")
    try:
        run = await store.create_run("bench")
        (task,) = await store.create_tasks(run.id, [TaskSpec(key="t", title="t")])
        await store.start_attempt(task.id, 1)
        agents = Agents(
            ModelGateway(settings.llm, recorder=store),
            ToolExecutor(build_registry(settings.tools), Policy.from_settings(settings.tools)),
            store,
            settings,
        )
        request = AttemptRequest(
            run=run, task=task, attempt=1, worktree=repo, branch="main", max_turns=turns
        )
        started = time.perf_counter()
        report = await agents.run_attempt(request)
        took = time.perf_counter() - started
        assert report.turns == turns, report
        return took * 1000 / turns
    finally:
        await store.close()


def window_us_per_message(messages: int, size: int, budget: int) -> tuple[float, int]:
    """Microseconds to add one tool exchange to a bounded window, and the final size."""
    window = ConversationWindow(
        system=ChatMessage.system("s"), brief=ChatMessage.user("b"), budget_chars=budget
    )
    started = time.perf_counter()
    for i in range(messages):
        call = ToolCall(id=f"c{i}", name="read_file", arguments={"path": "f"})
        window.add(ChatMessage.assistant("", [call]))
        window.add(ChatMessage.tool(call, "x" * size))
    took = time.perf_counter() - started
    return took * 1e6 / (2 * messages), window.size()


def demo_seconds() -> float:
    """Wall time of `bosun demo` as a user runs it."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bosun", "demo", "--json"], check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    return time.perf_counter() - started


async def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--demo", action="store_true", help="also time `bosun demo` (3 runs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        read = await loop_ms_per_turn(root, "read_file", '{ path = "README.md" }', args.turns)
        write = await loop_ms_per_turn(
            root, "write_file", '{ path = "out.txt", content = "x" }', args.turns
        )
        listing = await loop_ms_per_turn(root, "list_directory", '{ path = "." }', args.turns)
    print(f"worker loop, {args.turns} turns each (scripted model, real board and tools):")
    print(f"  read_file       {read:7.2f} ms/turn")
    print(f"  write_file      {write:7.2f} ms/turn")
    print(f"  list_directory  {listing:7.2f} ms/turn")
    print("context window (tool exchanges of 4,000 chars, budget 120,000):")
    for n in (100, 1000, 5000):
        us, size = window_us_per_message(n, 4000, 120_000)
        print(f"  {n:5d} exchanges: {us:8.1f} µs/message, exchange kept at {size:,} chars")
    if args.demo:
        times = [demo_seconds() for _ in range(3)]
        print(f"bosun demo: median {statistics.median(times):.1f} s (runs: "
              + ", ".join(f"{t:.1f}" for t in times) + "; target < 60 s)")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
