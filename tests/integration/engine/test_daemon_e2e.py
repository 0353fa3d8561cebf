"""The engine in a real daemon, driven over the protocol with the real agents and the
scripted model (the demo scenario): the whole lifecycle with a human answering from two
clients, pause/resume/cancel, plain LSP clients and tool approvals. (SIGKILL at every
engine failpoint followed by a restart is in test_crash_recovery.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any, cast

import pytest
from bosun.cli.demo_command import OBJECTIVE
from bosun.client import Client, RpcError

from tests.integration.engine.daemon_process import Daemon, client

RUN_TIMEOUT = 120


async def answer_prompts_until_done(c: Client, run_id: int) -> dict[str, Any]:
    """Answer the scenario's prompts the way the demo does, until the run ends."""
    while True:
        run = (await c.request("bosun/getRun", {"runId": run_id}))["run"]
        if run["state"] in ("completed", "failed", "cancelled"):
            return cast(dict[str, Any], run)
        queue = (await c.request("bosun/humanQueue", {"runId": run_id}))["prompts"]
        for prompt in queue:
            # The scenario asks one question and (with a policy) one approval; anything
            # else means the run went off its script: fail with the reason, do not loop.
            assert prompt["kind"] in ("ask_human", "tool_approval"), prompt
            action = "approve" if prompt["kind"] == "tool_approval" else "retry"
            with contextlib.suppress(RpcError):
                await c.request(
                    "bosun/resolveTask",
                    {"promptId": prompt["promptId"], "action": action, "guidance": "plain code"},
                )
        method, _ = await asyncio.wait_for(c.notifications.get(), RUN_TIMEOUT)
        del method  # any notification means something moved: look again


async def test_lifecycle_over_the_protocol_first_answer_wins(daemon: Daemon) -> None:
    daemon.start()
    async with client(daemon) as alice, client(daemon) as bob:
        seen: set[str] = set()
        # From the start: the rest of the run may finish while this test reads bob.
        alice.on_notification(lambda method, _: seen.add(method))
        run = (await alice.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        assert run["state"] == "planning"  # the director decomposes the objective first
        prompt = None
        while prompt is None:
            method, params = await asyncio.wait_for(alice.notifications.get(), RUN_TIMEOUT)
            if method == "bosun/humanPrompt":
                prompt = params["prompt"]
        assert prompt["kind"] == "ask_human" and "README" in prompt["reason"]
        queue = (await bob.request("bosun/humanQueue", {}))["prompts"]
        assert [p["promptId"] for p in queue] == [prompt["promptId"]]
        answered = await alice.request(
            "bosun/resolveTask",
            {
                "promptId": prompt["promptId"],
                "action": "retry",
                "guidance": "plain code",
                "by": "alice",
            },
        )
        assert answered["task"]["state"] in ("ready", "active")
        with pytest.raises(RpcError) as late:
            await bob.request(
                "bosun/resolveTask", {"promptId": prompt["promptId"], "action": "abandon"}
            )
        assert "alice" in late.value.message
        resolved = None
        while resolved is None:
            method, params = await asyncio.wait_for(bob.notifications.get(), RUN_TIMEOUT)
            if method == "bosun/promptResolved":
                resolved = params
        assert resolved["by"] == "alice" and resolved["action"] == "retry"
        final = await answer_prompts_until_done(alice, run["id"])
        assert final["state"] == "completed", final
        assert "bosun/transcriptDelta" in seen  # live transcript text reached the client
        tasks = (await alice.request("bosun/getRun", {"runId": run["id"]}))["tasks"]
        assert {t["state"] for t in tasks} == {"complete"}


async def test_pause_resume_and_cancel_over_the_protocol(daemon: Daemon) -> None:
    daemon.start()
    async with client(daemon) as c:
        run = (await c.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        paused = (await c.request("bosun/pauseRun", {"runId": run["id"]}))["run"]
        assert paused["state"] == "paused"
        with pytest.raises(RpcError):
            await c.request("bosun/pauseRun", {"runId": run["id"]})
        resumed = (await c.request("bosun/resumeRun", {"runId": run["id"]}))["run"]
        assert resumed["state"] in ("planning", "running")  # running once a worker started
        planner = await c.request("bosun/replan", {"runId": run["id"], "guidance": "also X"})
        assert planner["task"]["profile"] == "planner"
        cancelled = (await c.request("bosun/cancelRun", {"runId": run["id"]}))["run"]
        assert cancelled["state"] == "cancelled"
        tasks = (await c.request("bosun/getRun", {"runId": run["id"]}))["tasks"]
        # the director may have finished first; everything else was abandoned
        assert {t["state"] for t in tasks} <= {"abandoned", "complete"}
        replan = next(t for t in tasks if t["key"] == "replan-1")
        assert replan["state"] == "abandoned"
        for task in tasks:
            attempts = (await c.request("bosun/getTask", {"taskId": task["id"]}))["attempts"]
            assert all(a["outcome"] != "running" for a in attempts), (task, attempts)


class PlainLspClient(Client):
    """An editor with no bosun plugin: answers prompts through window/showMessageRequest."""

    progress: list[dict[str, Any]]
    asked: list[str]

    def _dispatch(self, msg: dict[str, Any]) -> None:
        method = msg.get("method")
        if method == "window/showMessageRequest" and "id" in msg:
            self.asked.append(msg["params"]["message"])
            titles = [a["title"] for a in msg["params"]["actions"]]
            self._send({"jsonrpc": "2.0", "id": msg["id"], "result": {"title": titles[0]}})
            return
        if method == "$/progress":
            self.progress.append(msg["params"]["value"])
        super()._dispatch(msg)


async def test_plain_lsp_client_sees_progress_and_answers_with_a_message_action(
    daemon: Daemon,
) -> None:
    daemon.start()
    c = cast(PlainLspClient, await PlainLspClient.connect(daemon.ws.socket_path, initialize=False))
    c.progress, c.asked = [], []
    try:
        await c.request(
            "initialize",
            {"processId": os.getpid(), "capabilities": {"window": {"workDoneProgress": True}}},
        )
        c.notify("initialized", {})
        run = (await c.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        while (await c.request("bosun/getRun", {"runId": run["id"]}))["run"]["state"] not in (
            "completed",
            "failed",
        ):
            await asyncio.wait_for(c.notifications.get(), RUN_TIMEOUT)
        final = (await c.request("bosun/getRun", {"runId": run["id"]}))["run"]
        assert final["state"] == "completed"
        assert any("README" in text for text in c.asked)  # the ask_human prompt, answered
        kinds = [v["kind"] for v in c.progress]
        assert kinds[0] == "begin" and "report" in kinds
    finally:
        await c.close()


async def test_tool_approval_keeps_the_task_active_until_a_client_approves(
    daemon: Daemon, repo: Path
) -> None:
    config = repo / ".bosun" / "config.toml"
    rule = '\n[[tools.policy]]\naction = "ask"\ntool = "run_command"\ncommand = "*unittest*"\n'
    config.write_text(config.read_text() + rule)
    daemon.start()
    async with client(daemon) as c:
        run = (await c.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        prompt = None
        while prompt is None:
            method, params = await asyncio.wait_for(c.notifications.get(), RUN_TIMEOUT)
            if method == "bosun/humanPrompt" and params["prompt"]["kind"] == "tool_approval":
                prompt = params["prompt"]
        assert prompt["approval"]["tool"] == "run_command"
        task = (await c.request("bosun/getTask", {"taskId": prompt["taskId"]}))["task"]
        assert task["state"] == "active" and "approval" in task["reason"]
        await c.request(
            "bosun/resolveTask",
            {"promptId": prompt["promptId"], "action": "approve", "always": True},
        )
        final = await answer_prompts_until_done(c, run["id"])
        assert final["state"] == "completed", final
        events = (await c.request("bosun/eventsSince", {"after": 0, "limit": 10000}))["events"]
        kinds = [e["data"].get("kind") for e in events if e["kind"] == "human.prompt"]
        assert kinds.count("tool_approval") == 1  # "always" covered the later calls
