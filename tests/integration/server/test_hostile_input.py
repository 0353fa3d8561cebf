"""Hostile input costs the daemon little: bounded nesting, small pre-auth bodies, brief logs.

Issue 20 items 5 and 6: deeply nested JSON used to drop the connection with a
RecursionError; a huge unknown method name was logged whole and echoed in a -32603;
every client mistake logged an ERROR traceback; an unauthenticated TCP client could make
the daemon read and parse a 16 MiB body.
"""

from __future__ import annotations

import json

import pytest
from bosun.server.intake import MAX_DEPTH, PREAUTH_MAX_BYTES

from tests.integration.server.conftest import RunningDaemon
from tests.integration.server.rawclient import Raw


def _frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def _status_on(raw: Raw, msg_id: int) -> None:
    await raw.send({"jsonrpc": "2.0", "id": msg_id, "method": "bosun/status"})
    assert "result" in await raw.recv_response(msg_id)


async def test_deeply_nested_json_gets_parse_error_and_the_connection_stays(
    daemon: RunningDaemon,
) -> None:
    raw = await Raw.unix(daemon.workspace.socket_path)
    # Before initialize too: the decoder runs on every message.
    await raw.send_bytes(_frame(b"[" * 50_000 + b"]" * 50_000))
    reply = await raw.recv()
    assert reply is not None and reply["error"]["code"] == -32700 and reply["id"] is None
    assert "nested" in reply["error"]["message"]
    assert "result" in await raw.initialize()
    params = json.dumps(
        {"runId": 1, "x": json.loads("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5))}
    )
    body = b'{"jsonrpc":"2.0","id":7,"method":"bosun/getRun","params":%s}' % params.encode()
    await raw.send_bytes(_frame(body))
    reply = await raw.recv()
    assert reply is not None and reply["error"]["code"] == -32700
    await _status_on(raw, 8)


async def test_deep_nesting_before_tcp_authentication_keeps_the_connection(
    daemon: RunningDaemon,
) -> None:
    raw = await Raw.tcp(daemon.port("tcp"))
    await raw.send_bytes(_frame(b'{"a":' * 5000 + b"1" + b"}" * 5000))
    reply = await raw.recv()
    assert reply is not None and reply["error"]["code"] == -32700
    assert "result" in await raw.initialize(daemon.token)
    await _status_on(raw, 2)


async def test_unknown_method_gets_method_not_found_without_its_whole_name(
    daemon: RunningDaemon,
) -> None:
    raw = await Raw.unix(daemon.workspace.socket_path)
    await raw.initialize()
    await raw.send({"jsonrpc": "2.0", "id": 1, "method": "bosun/" + "x" * 1_000_000})
    reply = await raw.recv_response(1)
    assert reply["error"]["code"] == -32601
    assert len(reply["error"]["message"]) < 200
    await raw.send({"jsonrpc": "2.0", "method": "y" * 1_000_000})  # a notification: ignored
    await _status_on(raw, 2)


async def test_unauthenticated_tcp_client_cannot_send_a_large_body(daemon: RunningDaemon) -> None:
    raw = await Raw.tcp(daemon.port("tcp"))
    await raw.send_bytes(b"Content-Length: %d\r\n\r\n" % (PREAUTH_MAX_BYTES + 1))
    reply = await raw.recv()
    assert reply is not None and reply["error"]["code"] == -32059
    assert "before authentication" in reply["error"]["message"]
    assert await raw.closed()
    # Once the token is shown, the full limit applies.
    authed = await Raw.tcp(daemon.port("tcp"))
    assert "result" in await authed.initialize(daemon.token)
    padding = "p" * (2 * PREAUTH_MAX_BYTES)
    await authed.send(
        {"jsonrpc": "2.0", "id": 3, "method": "bosun/status", "params": {"pad": padding}}
    )
    reply = await authed.recv_response(3)
    assert reply["error"]["code"] == -32602  # validated, i.e. read and parsed
    await _status_on(authed, 4)


async def test_client_mistakes_log_one_short_info_line_each(daemon: RunningDaemon) -> None:
    raw = await Raw.unix(daemon.workspace.socket_path)
    await raw.initialize()
    mistakes: list[dict[str, object]] = [
        {"jsonrpc": "2.0", "id": 1, "method": "bosun/getRun", "params": {"runId": "z" * 100_000}},
        {"jsonrpc": "2.0", "id": 2, "method": "bosun/getRun", "params": {"runId": 99_999}},
        {"jsonrpc": "2.0", "id": 3, "method": "m" * 100_000},
        {"jsonrpc": "2.0", "id": 4, "method": "bosun/getTask", "params": {"taskId": [1] * 5000}},
    ]
    for message in mistakes:
        await raw.send(message)
        assert "error" in await raw.recv_response(message["id"])
    await _status_on(raw, 5)
    lines = (daemon.workspace.state_dir / "logs" / "daemon.log").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert all(len(line) < 5000 for line in lines), max(len(x) for x in lines)
    assert [r for r in records if r["level"] in ("error", "warning")] == []
    assert not any("exc" in r or "Traceback" in str(r["msg"]) for r in records)
    answered = [r for r in records if "rejected" in r["msg"] or "answered" in r["msg"]]
    assert len(answered) >= 3


async def test_unauthenticated_websocket_client_cannot_send_a_large_message(
    daemon: RunningDaemon,
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async with connect(f"ws://127.0.0.1:{daemon.port('ws')}", max_size=None) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "pad": "p" * PREAUTH_MAX_BYTES}))
        reply = json.loads(await ws.recv())
        assert reply["error"]["code"] == -32059
        assert "before authentication" in reply["error"]["message"]
        with pytest.raises(ConnectionClosed):
            await ws.recv()  # then the daemon closes the connection
