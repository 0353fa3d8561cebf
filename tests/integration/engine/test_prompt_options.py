"""An agent's suggested answers (ask_human options) as prompt choices: shown to rich
clients in bosun/humanPrompt and to plain LSP clients as message actions; picking one
gives that text to the agent as the human's answer, and the task goes on with it."""

from __future__ import annotations

import os
from typing import Any, cast

import pytest
from bosun.cli.demo_command import OBJECTIVE
from bosun.client import Client, RpcError

from .daemon_process import Daemon, client, demo_answer, next_notification, run_to_end

# The demo's writer asks how to write the README's examples, suggesting these answers.
CHOICES = ["plain code blocks", "doctests"]
GUIDANCE_HEADING = "## Guidance from a human (follow it)"


async def brief_of(c: Client, task_id: int, attempt: int) -> str:
    """What the agent was told in that attempt (its user messages: the brief)."""
    page = await c.request("bosun/transcript", {"taskId": task_id, "attempt": attempt})
    return "\n".join(m["content"] for m in page["messages"] if m["role"] == "user")


async def answered_events(c: Client) -> list[dict[str, Any]]:
    events = (await c.request("bosun/eventsSince", {"after": 0, "limit": 10000}))["events"]
    return [e["data"] for e in events if e["kind"] == "human.answered"]


class PlainLspClient(Client):
    """An editor without a bosun plugin: it picks the message action titled `pick`."""

    pick: str
    shown: list[dict[str, Any]]

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if msg.get("method") == "window/showMessageRequest" and "id" in msg:
            self.shown.append(msg["params"])
            titles = [a["title"] for a in msg["params"]["actions"]]
            title = self.pick if self.pick in titles else None
            self._send({"jsonrpc": "2.0", "id": msg["id"], "result": {"title": title}})
            return
        super()._dispatch(msg)


async def test_plain_lsp_client_sees_the_suggested_answers_and_its_pick_reaches_the_agent(
    daemon: Daemon,
) -> None:
    daemon.start()
    c = cast(PlainLspClient, await PlainLspClient.connect(daemon.ws.socket_path, initialize=False))
    c.pick, c.shown = "doctests", []
    try:
        options = {"bosunNotifications": True}  # to follow the run; prompts stay plain
        await c.request(
            "initialize",
            {"processId": os.getpid(), "capabilities": {}, "initializationOptions": options},
        )
        c.notify("initialized", {})
        run = (await c.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        final = await run_to_end(c, run["id"], answer=None)  # it answers itself
        assert final["state"] == "completed", final
        [asked] = c.shown
        titles = [a["title"] for a in asked["actions"]]
        assert titles == [*CHOICES, "retry", "abandon", "spawn"]
        assert "README" in asked["message"]
        tasks = (await c.request("bosun/getRun", {"runId": run["id"]}))["tasks"]
        readme = next(t for t in tasks if t["key"] == "readme")
        assert f"{GUIDANCE_HEADING}\ndoctests" in await brief_of(c, readme["id"], 2)
        [answer] = await answered_events(c)
        assert answer["kind"] == "ask_human"
        assert (answer["action"], answer["choice"]) == ("retry", "doctests")
    finally:
        await c.close()


async def test_rich_client_answers_with_one_of_the_prompts_choices(daemon: Daemon) -> None:
    daemon.start()
    async with client(daemon) as c:
        run = (await c.request("bosun/createRun", {"objective": OBJECTIVE}))["run"]
        note = await next_notification(c, lambda m, p: m == "bosun/humanPrompt")
        prompt = note["prompt"]
        assert prompt["kind"] == "ask_human" and prompt["choices"] == CHOICES
        [queued] = (await c.request("bosun/humanQueue", {"runId": run["id"]}))["prompts"]
        assert queued["choices"] == CHOICES
        with pytest.raises(RpcError) as wrong:
            await c.request(
                "bosun/resolveTask",
                {"promptId": prompt["promptId"], "action": "retry", "choice": "markdown tables"},
            )
        assert "plain code blocks | doctests" in wrong.value.message
        with pytest.raises(RpcError):  # a choice is an answer to go on with, not to abandon
            await c.request(
                "bosun/resolveTask",
                {"promptId": prompt["promptId"], "action": "abandon", "choice": "doctests"},
            )
        answered = await c.request(
            "bosun/resolveTask",
            {
                "promptId": prompt["promptId"],
                "action": "retry",
                "choice": "plain code blocks",
                "guidance": "Keep them short.",
                "by": "alice",
            },
        )
        assert answered["task"]["state"] in ("ready", "active")
        final = await run_to_end(c, run["id"], answer=demo_answer)
        assert final["state"] == "completed", final
        brief = await brief_of(c, prompt["taskId"], 2)
        assert f"{GUIDANCE_HEADING}\nplain code blocks\n\nKeep them short." in brief
        [answer] = await answered_events(c)
        assert answer["choice"] == "plain code blocks" and answer["by"] == "alice"


def test_message_actions_keep_suggested_answers_apart_from_the_standard_options() -> None:
    from datetime import UTC, datetime

    from bosun.server.plain_text import message_actions
    from bosun_protocol.engine import HumanPrompt, PromptKind
    from bosun_protocol.engine import ResolveAction as A

    prompt = HumanPrompt(
        prompt_id="p",
        run_id=1,
        task_id=2,
        kind=PromptKind.ASK_HUMAN,
        reason="which?",
        options=[A.RETRY, A.ABANDON, A.SPAWN],
        choices=["abandon", "x" * 300],
        created_at=datetime.now(UTC),
    )
    actions = message_actions(prompt)
    titles = list(actions)
    assert titles[0] == "answer: abandon"  # reads like an option: marked as an answer
    assert actions["answer: abandon"] == (A.RETRY, "abandon")
    assert len(titles[1]) == 100 and actions[titles[1]] == (A.RETRY, "x" * 300)
    assert titles[2:] == ["retry", "abandon", "spawn"]
    assert actions["abandon"] == (A.ABANDON, None)
