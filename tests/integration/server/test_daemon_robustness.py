"""Malformed, hostile and unlucky clients: each is answered or cut off, others go on."""

from __future__ import annotations

import json

import pytest

from tests.integration.server.conftest import RunningDaemon
from tests.integration.server.rawclient import Raw


async def _status_still_answers(d: RunningDaemon) -> None:
    raw = await Raw.unix(d.workspace.socket_path)
    assert "result" in await raw.initialize()
    await raw.send({"jsonrpc": "2.0", "id": 99, "method": "bosun/status"})
    assert (await raw.recv_response(99))["result"]["pid"] == d.info["pid"]
    raw.close()


async def test_invalid_json_gets_parse_error_and_connection_survives(daemon: RunningDaemon) -> None:
    raw = await Raw.unix(daemon.workspace.socket_path)
    await raw.initialize()
    await raw.send_bytes(b"Content-Length: 9\r\n\r\n{not json")
    err = await raw.recv()
    assert err is not None and err["error"]["code"] == -32700 and err["id"] is None
    await raw.send({"jsonrpc": "2.0", "id": 1, "method": "bosun/status"})
    assert "result" in await raw.recv_response(1)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ([1, 2], -32600),
        ({"jsonrpc": "1.0", "id": 1, "method": "bosun/status"}, -32600),
        ({"jsonrpc": "2.0", "id": {"x": 1}, "method": "bosun/status"}, -32600),
        ({"jsonrpc": "2.0", "id": 1, "method": 42}, -32600),
        ({"jsonrpc": "2.0", "id": 1, "method": "bosun/getRun", "params": {"runId": [1]}}, -32602),
        ({"jsonrpc": "2.0", "id": 1, "method": "bosun/getRun", "params": "x"}, -32602),
        ({"jsonrpc": "2.0", "id": 1, "method": "bosun/getRun"}, -32602),
        ({"jsonrpc": "2.0", "id": 1, "method": "bosun/listRuns", "params": {"bogus": 1}}, -32602),
    ],
)
async def test_wrong_shapes_get_json_rpc_errors(
    daemon: RunningDaemon, message: object, code: int
) -> None:
    raw = await Raw.unix(daemon.workspace.socket_path)
    await raw.initialize()
    await raw.send_bytes(
        b"Content-Length: %d\r\n\r\n%s" % (len(json.dumps(message)), json.dumps(message).encode())
    )
    reply = await raw.recv()
    assert reply is not None and reply["error"]["code"] == code, reply
    await _status_still_answers(daemon)


async def test_request_before_initialize_is_refused(daemon: RunningDaemon) -> None:
    raw = await Raw.unix(daemon.workspace.socket_path)
    await raw.send({"jsonrpc": "2.0", "id": 1, "method": "bosun/status"})
    assert (await raw.recv_response(1))["error"]["code"] == -32002


async def test_garbage_framing_disconnects_only_that_client(daemon: RunningDaemon) -> None:
    raw = await Raw.unix(daemon.workspace.socket_path)
    await raw.send_bytes(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert await raw.closed()
    await _status_still_answers(daemon)


async def test_oversized_message_is_refused_without_reading_it(daemon: RunningDaemon) -> None:
    raw = await Raw.unix(daemon.workspace.socket_path)
    await raw.initialize()
    await raw.send_bytes(b"Content-Length: %d\r\n\r\n" % (64 * 1024 * 1024))
    reply = await raw.recv()
    assert reply is not None and reply["error"]["code"] == -32059
    assert await raw.closed()
    await _status_still_answers(daemon)


async def test_client_vanishing_mid_request_harms_no_one(daemon: RunningDaemon) -> None:
    for _ in range(5):
        raw = await Raw.unix(daemon.workspace.socket_path)
        await raw.initialize()
        await raw.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "bosun/createRun",
                "params": {"objective": "abandoned"},
            }
        )
        raw.writer.transport.abort()
    half = await Raw.unix(daemon.workspace.socket_path)
    await half.send_bytes(b'Content-Length: 100\r\n\r\n{"jsonrpc":')
    half.writer.transport.abort()
    await _status_still_answers(daemon)


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_tcp_without_the_right_token_is_refused(
    daemon: RunningDaemon, token: str | None
) -> None:
    raw = await Raw.tcp(daemon.port("tcp"))
    reply = await raw.initialize(token)
    assert reply["error"]["code"] == -32058
    assert await raw.closed()
    log = (daemon.workspace.log_dir / "daemon.log").read_text()
    assert "missing or wrong token" in log


async def test_tcp_with_token_is_served(daemon: RunningDaemon) -> None:
    raw = await Raw.tcp(daemon.port("tcp"))
    assert "result" in await raw.initialize(daemon.token)


async def test_slow_client_is_cut_off_and_others_keep_getting_notifications(
    git_repo: object,
) -> None:
    from tests.integration.server.conftest import start_daemon

    # A tiny per-client queue makes "slow" reachable quickly.
    d = start_daemon(git_repo, config="[server]\nclient_queue_bytes = 65536\n")  # type: ignore[arg-type]
    try:
        slow = await Raw.unix(d.workspace.socket_path)
        await slow.initialize(bosunNotifications=True)  # board notifications fill its queue
        slow.writer.transport.pause_reading()  # type: ignore[attr-defined]
        slow.reader._transport.pause_reading()  # type: ignore[attr-defined]
        fast = await Raw.unix(d.workspace.socket_path)
        await fast.initialize()
        for i in range(300):
            await fast.send(
                {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "bosun/createRun",
                    "params": {"objective": "x" * 2000},
                }
            )
            assert "result" in await fast.recv_response(i)
        await fast.send({"jsonrpc": "2.0", "id": "s", "method": "bosun/status"})
        st = (await fast.recv_response("s"))["result"]
        assert st["clients"] == 1  # the slow one was disconnected
    finally:
        d.kill()
