"""`bosun demo`: the whole pipeline, offline, on a generated sample repository.

A small Python package with a test suite is written to a temporary directory, a daemon
is started for it, and a scripted objective runs through the real pipeline: worktrees,
tool calls, test runs in QA, a Phoenix retry, a question to a human, merges, landing.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from bosun.cli.common import EXIT_ERROR, EXIT_OK, guarded, print_json, run_async
from bosun.cli.live_view import Answerer, LiveView, cost_text, terminal_answerer

OBJECTIVE = "Add slugify() and top_words() to wordkit, with tests, and document both in the README."
HUMAN_ANSWER = "Plain code blocks, in the style of the existing Usage section."
RUN_TIMEOUT_S = 300.0


def add_parsers(sub: Any) -> None:
    """Register `bosun demo`."""
    demo = sub.add_parser("demo", help="run a scripted objective end to end, offline")
    demo.add_argument(
        "--interactive", action="store_true", help="answer the agent's question yourself"
    )
    demo.add_argument("--keep", action="store_true", help="keep the sample repository")
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    demo.set_defaults(func=guarded(cmd_demo))


def scenario_path() -> Path:
    """The demo's scripted scenario shipped with bosun.agents."""
    return Path(str(resources.files("bosun.llm") / "scenarios" / "demo.toml"))


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, timeout=60
    )
    return out.stdout.rstrip()


def test_command() -> str:
    """QA's test command for the sample: pytest when this Python has it, else unittest."""
    if importlib.util.find_spec("pytest") is not None:
        # Plugin autoload off: a development environment's plugins cost seconds per run.
        return f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"
    return f"{sys.executable} -m unittest discover -s tests -q"


def make_sample_repo(repo: Path) -> None:
    """Write the sample package, commit it on `main`, and configure bosun for the demo."""
    data = tomllib.loads(
        (resources.files("bosun.agents") / "scenarios" / "demo_repo.toml").read_text("utf-8")
    )
    for name, text in data["files"].items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.name", "Bosun Demo")
    _git(repo, "config", "user.email", "demo@bosun.invalid")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "wordkit: word counting")
    state = repo / ".bosun"
    state.mkdir(mode=0o700)
    config: dict[str, dict[str, Any]] = {
        "llm": {"default_model": f"scripted:{scenario_path()}"},
        "engine": {"test_command": test_command(), "workers": 3},
    }
    (state / "config.toml").write_text(_toml(config))


def _toml(tables: dict[str, dict[str, Any]]) -> str:
    lines = []
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
        lines.append("")
    return "\n".join(lines)


async def _auto_answer(prompt: dict[str, Any]) -> dict[str, Any] | None:
    if prompt["kind"] == "ask_human":
        return {"action": "retry", "guidance": HUMAN_ANSWER, "by": "demo"}
    if prompt["kind"] == "tool_approval":
        return {"action": "approve", "by": "demo"}
    # Anything else means the scripted run went off its script: stop it visibly.
    return {"action": "abandon", "by": "demo"}


def _ask_then_auto(ask: Answerer) -> Answerer:
    """The person at the terminal answers; once its input is closed, the demo does."""

    async def answer(prompt: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return await ask(prompt)
        except EOFError:
            return await _auto_answer(prompt)

    return answer


async def _summary(client: Any, run: dict[str, Any], repo: Path) -> dict[str, Any]:
    detail = await client.request("bosun/getRun", {"runId": run["id"]})
    tasks = []
    for task in detail["tasks"]:
        attempts = (await client.request("bosun/getTask", {"taskId": task["id"]}))["attempts"]
        tasks.append(
            {
                "id": task["id"],
                "key": task["key"],
                "profile": task["profile"],
                "state": task["state"],
                "attempts": [a["outcome"] for a in attempts],
            }
        )
    run = detail["run"]
    log = ""
    if run.get("baseCommit") and run.get("runBranch"):
        log = _git(repo, "log", "--oneline", f"{run['baseCommit']}..{run['runBranch']}")
    landed = _git(repo, "log", "--oneline", "-1", "main")
    landed_files = _git(repo, "diff", "--stat", run.get("baseCommit") or "HEAD", "main")
    return {"run": run, "tasks": tasks, "runBranchLog": log, "landed": landed,
            "landedFiles": landed_files}  # fmt: skip


def _print_summary(summary: dict[str, Any], seconds: float, repo: Path, keep: bool) -> None:
    run = summary["run"]
    print(f"\n=== bosun demo: run {run['id']} {run['state']} in {seconds:.1f} s ===")
    if run.get("reason"):
        print(f"reason: {run['reason']}")
    print(f"{'task':<12} {'profile':<10} {'state':<10} attempts")
    for t in summary["tasks"]:
        tries = ", ".join(f"{i}: {o}" for i, o in enumerate(t["attempts"], 1))
        print(f"{t['key']:<12} {t['profile']:<10} {t['state']:<10} {tries}")
    print(f"cost: {cost_text(run['cost'])}")
    print(f"\nrun branch {run.get('runBranch')}:\n{summary['runBranchLog'] or '(no commits)'}")
    print(f"\nlanded on main: {summary['landed']}\n{summary['landedFiles']}")
    kept = f"kept at {repo}" if keep else "removed (keep it with --keep)"
    print(f"\nsample repository {kept}")


async def _demo(args: argparse.Namespace) -> int:
    from bosun.client import Client
    from bosun.server.launcher import start_daemon_process
    from bosun.workspace import find_workspace

    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="bosun-demo-"))
    repo = root / "wordkit"
    repo.mkdir()
    await asyncio.to_thread(make_sample_repo, repo)
    ws = find_workspace(repo)
    out = sys.stderr if args.json else sys.stdout
    print(f"sample repository: {repo}\nobjective: {OBJECTIVE}", file=out, flush=True)
    proc, _ = await asyncio.to_thread(start_daemon_process, ws, None, detach=False)
    code = EXIT_ERROR
    try:
        async with await Client.connect(ws.socket_path) as client:
            answer = _ask_then_auto(terminal_answerer()) if args.interactive else _auto_answer
            view = LiveView(client, answer, out=out)
            created = await client.request("bosun/createRun", {"objective": OBJECTIVE})
            view.follow(created["run"]["id"])
            try:
                run = await view.wait(RUN_TIMEOUT_S)
            finally:
                await view.close()
            summary = await _summary(client, run, repo)
            if args.json:
                print_json({**summary, "seconds": round(time.monotonic() - started, 2)})
            else:
                _print_summary(summary, time.monotonic() - started, repo, args.keep)
            done = all(t["state"] == "complete" for t in summary["tasks"])
            code = EXIT_OK if run["state"] == "completed" and done else EXIT_ERROR
            await client.request("bosun/shutdown", {"reason": "demo finished"})
    finally:
        try:
            await asyncio.wait_for(asyncio.to_thread(proc.wait), 20)
        except TimeoutError:
            proc.kill()
            await asyncio.to_thread(proc.wait)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return code


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo."""
    return run_async(_demo(args))
