"""A client that floods the daemon with requests is read only as fast as it is answered
(issue 20 item 10: 4 x 5,000 unread requests made another client's `bosun/status` wait
up to 4 s: every request was taken at once, and their board reads queued ahead).

The requests here wait for the daemon's services (`ctx.ready` is never set), so what the
daemon took from the flooding socket stays in flight and can be counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bosun.board.store import Store
from bosun.config import Settings
from bosun.server.context import DaemonContext
from bosun.server.hub import Hub
from bosun.server.listeners import start_unix
from bosun.server.outbox import Outbox
from bosun.workspace import Workspace

from tests.integration.server.rawclient import Raw

CAP = 8


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Hub, Path]]:
    store = await Store.open(tmp_path / "board.sqlite3", boot_id="bp")
    settings = Settings()
    settings.server.max_requests_in_flight = CAP
    ctx = DaemonContext(
        workspace=Workspace(tmp_path), settings=settings, store=store, boot_id="bp",
        started_at=datetime.now(UTC),
    )  # fmt: skip
    hub = Hub()
    ctx.client_count = hub.count
    sock = tmp_path / "d.sock"
    server = await start_unix(ctx, hub, sock)
    try:
        yield hub, sock
    finally:
        server.close()
        await hub.close_all()
        await store.close()


async def _in_flight(hub: Hub, conn_id: int, want: int) -> None:
    while True:
        conn = next(c for c in hub.connections if c.id == conn_id)
        if len(conn.protocol._request_futures) >= want:
            return
        await asyncio.sleep(0)  # yield to the daemon's side (same loop), no wall-clock wait


async def test_a_flooding_client_has_at_most_the_cap_in_flight_and_others_are_answered(
    served: tuple[Hub, Path],
) -> None:
    hub, sock = served
    flood = await Raw.unix(sock)
    await flood.initialize()
    [flooder] = [c.id for c in hub.connections]
    for i in range(200):  # each waits for services that never come
        await flood.send({"jsonrpc": "2.0", "id": i, "method": "bosun/humanQueue", "params": {}})
    await asyncio.wait_for(_in_flight(hub, flooder, CAP), 20)
    honest = await Raw.unix(sock)
    await honest.initialize()
    await honest.send({"jsonrpc": "2.0", "id": "s", "method": "bosun/status"})
    assert "result" in await honest.recv_response("s")
    conn = next(c for c in hub.connections if c.id == flooder)
    # The other 192 are still in the socket, unread: nothing of theirs is queued here.
    assert len(conn.protocol._request_futures) == CAP
    flood.close()
    honest.close()


async def test_a_client_whose_output_never_moves_is_cut_off() -> None:
    stuck = asyncio.Event()
    cut: list[bool] = []

    async def send(_data: bytes) -> None:
        await stuck.wait()  # the peer reads nothing: the first write never completes

    outbox = Outbox(send, 1 << 20, lambda: cut.append(True), stall_s=-1.0)  # any wait stalls
    outbox.start()
    outbox.put(b"first")
    await asyncio.sleep(0)  # the drain takes the first frame and blocks on it
    outbox.put(b"second")
    outbox.put(b"third")  # queued output has not moved since the second: stalled
    assert cut == [True]
    await outbox.close(flush=False)
