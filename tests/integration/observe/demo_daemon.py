"""A daemon on the demo repository (scripted model), with extra config, and the demo run driven to its end."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bosun.cli.demo_command import HUMAN_ANSWER, OBJECTIVE, make_sample_repo
from bosun.client import Client
from bosun.workspace import find_workspace

BOSUN = [sys.executable, "-m", "bosun"]
_ENDED = ("completed", "failed", "cancelled")


def env() -> dict[str, str]:
    """The environment without provider keys."""
    return {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")}


def bosun(repo: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The command line on `repo`."""
    return subprocess.run([*BOSUN, "-C", str(repo), *args], capture_output=True, text=True,
                          timeout=timeout, env=env(), stdin=subprocess.DEVNULL)  # fmt: skip


def sample_repo(path: Path, extra_config: str = "") -> Path:
    """The demo's repository, its config extended with `extra_config` (TOML)."""
    path.mkdir()
    make_sample_repo(path)
    config = path / ".bosun" / "config.toml"
    config.write_text(config.read_text() + "\n" + extra_config)
    return path


def start_daemon(repo: Path) -> None:
    """Start the workspace's daemon (it goes to the background)."""
    started = bosun(repo, "daemon", "start")
    assert started.returncode == 0, started.stderr


def stop_daemon(repo: Path) -> None:
    """Stop it (no error when none runs)."""
    bosun(repo, "daemon", "stop")


async def connect(repo: Path) -> Client:
    """A protocol client of the workspace's daemon."""
    return await Client.connect(find_workspace(repo).socket_path)


OnPrompt = Callable[[dict[str, Any]], Awaitable[None]]


async def run_demo(client: Client, on_prompt: OnPrompt | None = None) -> dict[str, Any]:
    """Start the demo objective, answer its question, wait (on notifications) for its end.

    `on_prompt` is given the run (as `bosun/getRun` answers) while a prompt waits, before
    it is answered."""
    run = (await client.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
    while True:
        got = await client.request("bosun/getRun", {"runId": run["id"]})
        if got["run"]["state"] in _ENDED:
            return got  # type: ignore[no-any-return]
        queue = await client.request("bosun/humanQueue", {"runId": run["id"]})
        if queue["prompts"] and on_prompt is not None:
            # Read again: the prompt may be newer than the run read above.
            await on_prompt(await client.request("bosun/getRun", {"runId": run["id"]}))
        for prompt in queue["prompts"]:
            answer = {"promptId": prompt["promptId"], "action": "retry", "guidance": HUMAN_ANSWER}
            if prompt["kind"] == "tool_approval":
                answer = {"promptId": prompt["promptId"], "action": "approve"}
            await client.request("bosun/resolveTask", answer)
        await client.notifications.get()


async def all_events(client: Client) -> list[dict[str, Any]]:
    """Every event on the board, paged."""
    out: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await client.request("bosun/eventsSince", {"after": after, "limit": 1000})
        out += page["events"]
        if not page["more"]:
            return out
        after = out[-1]["seq"]


def listener(status: dict[str, Any], prefix: str) -> str:
    """The address of one of the daemon's listeners (`metrics:` …)."""
    found: str = next(x for x in status["listeners"] if x.startswith(prefix))
    return found.removeprefix(prefix)
