"""A client that has sent LSP `shutdown` is leaving: the daemon sends it no more requests
(prompts as `window/showMessageRequest`, work-done progress tokens), since its answer
would go into a socket it is about to close. Other clients are asked as before."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from bosun.client import Client, RpcError
from bosun_protocol.errors import ErrorCode

from .conftest import RunningDaemon

CAPABILITIES = {"window": {"workDoneProgress": True}}


class PlainEditor(Client):
    """An LSP editor without a bosun plugin: it records every request the daemon sends."""

    requests: asyncio.Queue[str]

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "method" in msg and "id" in msg:
            self.requests.put_nowait(msg["method"])
            self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            return
        super()._dispatch(msg)


async def plain_editor(socket_path: Path) -> PlainEditor:
    c = await PlainEditor.connect(socket_path, initialize=False)
    assert isinstance(c, PlainEditor)
    c.requests = asyncio.Queue()
    await c.request("initialize", {"processId": os.getpid(), "capabilities": CAPABILITIES})
    c.notify("initialized", {})
    return c


async def test_a_client_that_sent_shutdown_is_sent_no_prompt_or_progress_request(
    daemon: RunningDaemon,
) -> None:
    leaving = await plain_editor(daemon.workspace.socket_path)
    staying = await plain_editor(daemon.workspace.socket_path)
    try:
        assert await leaving.request("shutdown") is None
        await staying.request("bosun/createRun", {"objective": "ask at once"})
        # The idle scenario's director asks a human at once; the run's progress starts.
        seen = {await asyncio.wait_for(staying.requests.get(), 60) for _ in range(2)}
        assert seen == {"window/showMessageRequest", "window/workDoneProgress/create"}
        # Both were sent to every client in one pass, so anything meant for the leaving
        # client is queued ahead of the answer to this request.
        with pytest.raises(RpcError) as refused:
            await leaving.request("bosun/status")
        assert refused.value.code == ErrorCode.INVALID_REQUEST
        assert leaving.requests.empty()
    finally:
        await leaving.close()
        await staying.close()
