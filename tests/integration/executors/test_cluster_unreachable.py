"""A cluster that cannot be reached pauses dispatch with the reason shown to clients,
and loses nothing: the attempt it stopped spent no retry, and the run completes once
attempts can run again (here: the owner switches back to the local executor)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from bosun.client import Client

from tests.integration.engine.daemon_process import RUN_TIMEOUT, Daemon, client, git, run_to_end
from tests.integration.executors.scripted_runs import make_repo, task_ids


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _shown(c: Client, words: str) -> str:
    """The next `window/showMessage` text containing `words`."""
    while True:
        method, params = await asyncio.wait_for(c.notifications.get(), RUN_TIMEOUT)
        if method == "window/showMessage" and words in params["message"]:
            return str(params["message"])


async def _when_ready(c: Client, task_id: int) -> dict[str, Any]:
    """The task (with its attempts) once it is ready again (its attempt closed)."""
    while True:
        got: dict[str, Any] = await c.request("bosun/getTask", {"taskId": task_id})
        if got["task"]["state"] == "ready":
            return got
        await asyncio.wait_for(c.notifications.get(), RUN_TIMEOUT)  # something moved


def _no_prompt(prompt: dict[str, Any]) -> dict[str, Any]:
    raise AssertionError(f"unexpected prompt (a retry was spent?): {prompt}")


async def test_an_unreachable_cluster_pauses_dispatch_and_loses_nothing(tmp_path: Path) -> None:
    address = f"127.0.0.1:{_closed_port()}"
    repo = make_repo(tmp_path, address, ["a"], {}, retries=0, probe_s=0.2)
    daemon = Daemon(repo)
    daemon.start()
    try:
        async with client(daemon) as c:
            run = (await c.request("bosun/createRun", {"objective": "wait for a cluster"}))["run"]
            shown = await _shown(c, "paused dispatch")
            assert address in shown and "cannot be reached" in shown
            director = (await task_ids(c, run["id"]))["director"]
            got = await _when_ready(c, director)
            assert {a["outcome"] for a in got["attempts"]} == {"interrupted"}, got["attempts"]
            assert (await c.request("bosun/getRun", {"runId": run["id"]}))["run"]["state"] in (
                "planning", "running",
            )  # fmt: skip
    finally:
        daemon.stop()
    config = repo / ".bosun" / "config.toml"
    config.write_text(config.read_text().replace('kind = "ray"', 'kind = "local"'))
    daemon.start()
    try:
        async with client(daemon) as c:
            ended = await run_to_end(c, run["id"], _no_prompt)
        assert ended["state"] == "completed", ended
    finally:
        daemon.stop()
    assert git(repo, "show", "main:where-a.txt").startswith(str(repo))  # ran here this time
