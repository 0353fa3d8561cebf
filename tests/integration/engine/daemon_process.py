"""A real daemon subprocess on the demo's sample repository, clients for it, and the
`bosun` command line, for the engine tests that drive whole runs over the protocol."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bosun.client import Client, RpcError
from bosun.server.launcher import start_daemon_process
from bosun.workspace import Workspace

RUN_TIMEOUT = 120.0
ENDED = ("completed", "failed", "cancelled")

# prompt -> resolveTask params (without the prompt id)
Answer = Callable[[dict[str, Any]], dict[str, Any]]


class Daemon:
    """A daemon subprocess the test owns (stopped by the test, by pid)."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.ws = Workspace(repo)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc, _ = start_daemon_process(self.ws, [], detach=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=60)


@contextlib.asynccontextmanager
async def client(d: Daemon, **options: Any) -> AsyncIterator[Client]:
    """A rich client (draws prompts itself) unless options say otherwise."""
    c = await Client.connect(d.ws.socket_path, options={"richPrompts": True, **options})
    try:
        yield c
    finally:
        await c.close()


def demo_answer(prompt: dict[str, Any]) -> dict[str, Any]:
    """The answers the demo scenario expects: its one question, and approvals."""
    # Anything else means the run went off its script: fail with the prompt, do not loop.
    assert prompt["kind"] in ("ask_human", "tool_approval"), prompt
    if prompt["kind"] == "tool_approval":
        return {"action": "approve"}
    return {"action": "retry", "guidance": "plain code"}


async def run_to_end(c: Client, run_id: int, answer: Answer | None = demo_answer) -> dict[str, Any]:
    """Answer the run's prompts with `answer` (None: leave them to another client) until
    the run ends; the run at its end."""
    answered: set[str] = set()
    while True:
        run = (await c.request("bosun/getRun", {"runId": run_id}))["run"]
        if run["state"] in ENDED:
            return dict(run)
        if answer is not None:
            await _answer_new_prompts(c, run_id, answer, answered)
        await asyncio.wait_for(c.notifications.get(), RUN_TIMEOUT)  # something moved


async def _answer_new_prompts(c: Client, run_id: int, answer: Answer, answered: set[str]) -> None:
    """Resolve each queued prompt of the run not answered before (each at most once)."""
    queue = (await c.request("bosun/humanQueue", {"runId": run_id}))["prompts"]
    for prompt in queue:
        if prompt["promptId"] in answered:
            continue
        answered.add(prompt["promptId"])
        with contextlib.suppress(RpcError):
            await c.request("bosun/resolveTask", {"promptId": prompt["promptId"], **answer(prompt)})


async def next_notification(
    c: Client, wanted: Callable[[str, dict[str, Any]], bool]
) -> dict[str, Any]:
    """The params of the next notification `wanted` accepts (others are skipped)."""
    while True:
        method, params = await asyncio.wait_for(c.notifications.get(), RUN_TIMEOUT)
        if wanted(method, params):
            return params


def bosun_cli(repo: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """The `bosun` command line on `repo` (no provider keys in its environment)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run(
        [sys.executable, "-m", "bosun", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def git(repo: Path, *args: str) -> str:
    """Run git in `repo`; its output without the trailing newline."""
    out = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, timeout=60
    )
    return out.stdout.rstrip()
