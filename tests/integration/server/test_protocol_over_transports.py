"""The same protocol suite over `bosun lsp` (stdio), the Unix socket, TCP and WebSocket."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.integration.server.conftest import TRANSPORTS, RunningDaemon, plain, session

pytestmark = pytest.mark.parametrize("transport", TRANSPORTS)


async def req(client: Any, method: str, params: dict[str, Any] | None = None) -> Any:
    result = await asyncio.wait_for(
        client.protocol.send_request_async(method, params if params is not None else {}), 20
    )
    return plain(result)


async def test_status_names_the_workspace_and_protocol(
    daemon: RunningDaemon, transport: str
) -> None:
    async with session(daemon, transport) as client:
        st = await req(client, "bosun/status")
        assert st["workspace"] == str(daemon.workspace.root)
        assert st["protocolVersion"] == "0.1.0"
        assert st["pid"] == daemon.info["pid"]
        assert st["clients"] >= 1


async def test_initialize_reports_bosun_identity(daemon: RunningDaemon, transport: str) -> None:
    async with session(daemon, transport) as client:
        experimental = plain(client.initialize_result.capabilities.experimental)
        bosun = experimental["bosun"]
        assert bosun["bootId"] == daemon.info["boot_id"]
        assert bosun["protocolVersion"] == "0.1.0"
        assert bosun["workspace"] == str(daemon.workspace.root)


async def test_create_run_is_notified_and_listed(daemon: RunningDaemon, transport: str) -> None:
    async with session(daemon, transport) as client:
        waiter = asyncio.ensure_future(client.wait_for_notification("bosun/runChanged"))
        res = await req(client, "bosun/createRun", {"objective": "add a CLI", "options": {}})
        run = res["run"]
        note = plain(await asyncio.wait_for(waiter, 20))
        assert note["run"]["id"] == run["id"]
        assert note["seq"] >= 1
        listed = await req(client, "bosun/listRuns", {})
        assert [r["id"] for r in listed["runs"]] == [run["id"]]
        got = await req(client, "bosun/getRun", {"runId": run["id"]})
        assert got["run"]["objective"] == "add a CLI"
        assert [t["key"] for t in got["tasks"]] == ["director"]


async def test_invalid_params_error_names_the_field(daemon: RunningDaemon, transport: str) -> None:
    async with session(daemon, transport) as client:
        with pytest.raises(JsonRpcException) as info:
            await req(client, "bosun/getTask", {"taskId": "seven"})
        assert info.value.code == -32602
        assert "taskId" in info.value.message
        with pytest.raises(JsonRpcException) as info:
            await req(client, "bosun/createRun", {"objective": ""})
        assert info.value.code == -32602
        assert "objective" in info.value.message


async def test_unknown_method_and_missing_task_get_their_codes(
    daemon: RunningDaemon, transport: str
) -> None:
    async with session(daemon, transport) as client:
        with pytest.raises(JsonRpcException) as info:
            await req(client, "bosun/noSuchThing", {})
        assert info.value.code == -32601
        with pytest.raises(JsonRpcException) as info:
            await req(client, "bosun/getTask", {"taskId": 424242})
        assert info.value.code == -32050


async def test_execute_command_creates_a_run(daemon: RunningDaemon, transport: str) -> None:
    async with session(daemon, transport) as client:
        res = plain(
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="bosun.createRun", arguments=[{"objective": "from a plain editor"}]
                )
            )
        )
        assert res["run"]["objective"] == "from a plain editor"


async def test_events_since_pages_in_order(daemon: RunningDaemon, transport: str) -> None:
    async with session(daemon, transport) as client:
        for i in range(5):
            await req(client, "bosun/createRun", {"objective": f"objective {i}"})
        first = await req(client, "bosun/eventsSince", {"after": 0, "limit": 3})
        assert first["more"] is True
        rest = await req(client, "bosun/eventsSince", {"after": first["events"][-1]["seq"]})
        seqs = [e["seq"] for e in first["events"] + rest["events"]]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)
        # The engine may append events between the two reads, never fewer than returned.
        assert seqs[-1] <= rest["lastSeq"]
