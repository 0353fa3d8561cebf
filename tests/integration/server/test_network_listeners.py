"""TCP and WebSocket listeners: loopback by default, token required, Origin checked."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.integration.server.conftest import RunningDaemon


def _init(token: str | None) -> str:
    opts = {"token": token} if token else {}
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"capabilities": {}, "initializationOptions": opts},
        }
    )


def test_listeners_bind_loopback_only(daemon: RunningDaemon) -> None:
    for item in daemon.info["listeners"]:
        if item.startswith(("tcp:", "ws:")):
            assert item.split(":")[1] == "127.0.0.1"


async def test_websocket_from_a_foreign_origin_is_refused(daemon: RunningDaemon) -> None:
    url = f"ws://127.0.0.1:{daemon.port('ws')}"
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    assert info.value.response.status_code == 403


async def test_websocket_with_a_wrong_token_in_the_url_is_refused(daemon: RunningDaemon) -> None:
    url = f"ws://127.0.0.1:{daemon.port('ws')}/?token=nope"
    with pytest.raises(InvalidStatus) as info:
        async with connect(url):
            pass
    assert info.value.response.status_code == 401


async def test_websocket_without_token_cannot_initialize(daemon: RunningDaemon) -> None:
    async with connect(f"ws://127.0.0.1:{daemon.port('ws')}") as ws:
        await ws.send(_init(None))
        reply = json.loads(await ws.recv())
        assert reply["error"]["code"] == -32058


async def test_websocket_with_bearer_token_is_served(daemon: RunningDaemon) -> None:
    headers = {"Authorization": f"Bearer {daemon.token}"}
    async with connect(f"ws://127.0.0.1:{daemon.port('ws')}", additional_headers=headers) as ws:
        await ws.send(_init(None))
        assert "result" in json.loads(await ws.recv())
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "bosun/status"}))
        assert json.loads(await ws.recv())["result"]["pid"] == daemon.info["pid"]
