"""A plain LSP editor (no bosun plugin) against a real daemon: caught up when it connects
late, told when a question it shows was answered elsewhere, its dismissed question asked
again on `bosun.humanQueue`, spared `bosun/*` notifications it never asked for, and
given errors a person can act on (issue 15, plain-LSP items 2, 3 and 8)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from bosun.client import Client, RpcError

from .conftest import RunningDaemon

WAIT = 60.0
CAPABILITIES = {"window": {"workDoneProgress": True, "showMessage": {}}}


class PlainEditor(Client):
    """Records what a plain editor is sent; answers menus as `answer_with` says."""

    requests: asyncio.Queue[dict[str, Any]]
    notes: list[dict[str, Any]]
    seen: asyncio.Queue[dict[str, Any]]
    answer_with: str | None  # a title, "" to dismiss, None to leave the menu open
    skipped_requests: list[dict[str, Any]]
    skipped_notes: list[dict[str, Any]]

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "method" in msg and "id" in msg:
            self.requests.put_nowait(msg)
            if msg["method"] != "window/showMessageRequest":
                self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            elif self.answer_with is not None:
                result = {"title": self.answer_with} if self.answer_with else None
                self._send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            return
        if "method" in msg:
            self.notes.append(msg)
            self.seen.put_nowait(msg)
        super()._dispatch(msg)

    async def next_request(self, method: str) -> dict[str, Any]:
        """The oldest request of `method` not taken yet (in whatever order they came)."""
        return await self._next(self.requests, self.skipped_requests, method)

    async def next_note(self, method: str) -> dict[str, Any]:
        """The oldest notification of `method` not taken yet."""
        return await self._next(self.seen, self.skipped_notes, method)

    @staticmethod
    async def _next(
        queue: asyncio.Queue[dict[str, Any]], skipped: list[dict[str, Any]], method: str
    ) -> dict[str, Any]:
        for i, msg in enumerate(skipped):
            if msg["method"] == method:
                return skipped.pop(i)
        while True:
            msg = await asyncio.wait_for(queue.get(), WAIT)
            if msg["method"] == method:
                return msg
            skipped.append(msg)


async def plain_editor(
    d: RunningDaemon, answer_with: str | None = None, **options: Any
) -> PlainEditor:
    c = await PlainEditor.connect(d.workspace.socket_path, initialize=False)
    assert isinstance(c, PlainEditor)
    c.requests, c.seen, c.notes, c.answer_with = asyncio.Queue(), asyncio.Queue(), [], answer_with
    c.skipped_requests, c.skipped_notes = [], []
    await c.request(
        "initialize",
        {"processId": os.getpid(), "capabilities": CAPABILITIES, "initializationOptions": options},
    )
    c.notify("initialized", {})
    return c


async def open_question(d: RunningDaemon) -> tuple[Client, dict[str, Any], dict[str, Any]]:
    """A rich client that started a run whose director now waits for a human."""
    rich = await Client.connect(d.workspace.socket_path, options={"richPrompts": True})
    run = (await rich.request("bosun/createRun", {"objective": "tidy the README"}))["run"]
    while True:
        method, params = await asyncio.wait_for(rich.notifications.get(), WAIT)
        if method == "bosun/humanPrompt":
            return rich, run, params["prompt"]


async def test_a_late_plain_editor_is_asked_the_open_question_and_sees_the_runs_progress(
    daemon: RunningDaemon,
) -> None:
    rich, run, prompt = await open_question(daemon)
    late = await plain_editor(daemon)
    try:
        asked = await late.next_request("window/showMessageRequest")
        message = asked["params"]["message"]
        assert "Abandon me" in message and "abandon = give the task up" in message
        assert "(suggested answers:" not in message  # the menu lists them, once
        assert "bosun.resolveTask" in message  # how to answer in one's own words
        await late.next_request("window/workDoneProgress/create")
        begin = (await late.next_note("$/progress"))["params"]["value"]
        assert begin["kind"] == "begin"
        assert begin["title"] == f"Bosun run {run['id']}: tidy the README"
        assert "waiting for you" in begin["message"]
        # Something moves (another run): the rich client hears of it, the plain one
        # gets progress only, never the bosun/* notifications it did not ask for.
        await rich.request("bosun/createRun", {"objective": "a second run"})
        await late.next_request("window/workDoneProgress/create")
        assert not [n for n in late.notes if n["method"].startswith("bosun/")]
        assert prompt["promptId"]
    finally:
        await late.close()
        await rich.close()


async def test_a_question_answered_elsewhere_cancels_the_plain_menu_and_says_who(
    daemon: RunningDaemon,
) -> None:
    rich, _, prompt = await open_question(daemon)
    editor = await plain_editor(daemon, answer_with=None)  # the menu stays open
    try:
        asked = await editor.next_request("window/showMessageRequest")
        await rich.request(
            "bosun/resolveTask",
            {"promptId": prompt["promptId"], "action": "abandon", "by": "alice"},
        )
        cancel = await editor.next_note("$/cancelRequest")
        assert cancel["params"]["id"] == asked["id"]
        shown = await editor.next_note("window/showMessage")
        assert "already answered by alice (abandon)" in shown["params"]["message"]
    finally:
        await editor.close()
        await rich.close()


async def test_a_dismissed_question_is_asked_again_by_the_human_queue_command(
    daemon: RunningDaemon,
) -> None:
    rich, _, prompt = await open_question(daemon)
    editor = await plain_editor(daemon, answer_with="")  # Esc
    try:
        await editor.next_request("window/showMessageRequest")
        editor.answer_with = "abandon"
        queue = await editor.request(
            "workspace/executeCommand", {"command": "bosun.humanQueue", "arguments": []}
        )
        assert [p["promptId"] for p in queue["prompts"]] == [prompt["promptId"]]
        again = await editor.next_request("window/showMessageRequest")
        assert "Abandon me" in again["params"]["message"]
        while (await rich.request("bosun/humanQueue", {}))["prompts"]:
            await asyncio.wait_for(rich.notifications.get(), WAIT)  # answered: it closes
    finally:
        await editor.close()
        await rich.close()


async def test_a_dismissed_question_comes_back_by_itself_after_reask_after_s(
    daemon: RunningDaemon,
) -> None:
    rich, _, prompt = await open_question(daemon)
    editor = await plain_editor(daemon, answer_with="", reaskAfterS=0.2)  # Esc, every time
    try:
        first = await editor.next_request("window/showMessageRequest")
        again = await editor.next_request("window/showMessageRequest")  # nobody asked for it
        assert again["id"] != first["id"]
        assert again["params"]["message"] == first["params"]["message"]
        assert prompt["promptId"] in again["params"]["message"]
    finally:
        await editor.close()
        await rich.close()


async def test_an_unknown_command_is_method_not_found_and_lists_the_commands(
    daemon: RunningDaemon,
) -> None:
    editor = await plain_editor(daemon)
    try:
        with pytest.raises(RpcError) as unknown:
            await editor.request("workspace/executeCommand", {"command": "bosun.nope"})
        assert unknown.value.code == -32601
        assert "bosun.createRun" in unknown.value.message
        assert "bosun.status" in unknown.value.message
        with pytest.raises(RpcError) as wrong:
            await editor.request(
                "workspace/executeCommand", {"command": "bosun.createRun", "arguments": ["x"]}
            )
        assert "expected an object" in wrong.value.message
        assert "CreateRunParams" not in wrong.value.message
        status = await editor.request("workspace/executeCommand", {"command": "bosun.status"})
        assert status["workspace"] == str(daemon.workspace.root)
    finally:
        await editor.close()
