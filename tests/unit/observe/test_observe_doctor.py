"""`bosun doctor` on metrics, tracing and webhooks: what is configured, reachable, owed."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from bosun.board.outbox import OutboxItem
from bosun.board.store import Store
from bosun.config import parse_settings
from bosun.observe.doctor import check_observability


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_doctor_reports_each_configured_part_and_what_is_wrong(tmp_path: Path) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    down = _closed_port()
    db = tmp_path / "board.sqlite3"
    store = await Store.open(db, boot_id="b")
    await store.outbox_enqueue([OutboxItem("ops", "run_completed", "ops:1", {}, 1)], 1, 0.0)
    await store.close()
    settings = parse_settings({
        "server": {"metrics_port": 9464, "metrics_host": "0.0.0.0"},
        "observe": {
            "tracing": {"endpoint": f"http://127.0.0.1:{port}/v1/traces"},
            "webhooks": {
                "ops": {"url": f"http://127.0.0.1:{port}/hook", "secret_env": "OPS_SECRET"},
                "gone": {"url": f"http://127.0.0.1:{down}/hook", "secret_env": "GONE_SECRET"},
            },
        },
    })  # fmt: skip
    try:
        checks = {
            c["check"]: c for c in await check_observability(settings, db, {"OPS_SECRET": "x" * 12})
        }
    finally:
        server.close()
        await server.wait_closed()
    assert checks["metrics"]["ok"] and "not loopback" in checks["metrics"]["detail"]
    assert checks["tracing"]["ok"], checks["tracing"]
    assert checks["webhook ops"]["ok"] and "1 pending" in checks["webhook ops"]["detail"]
    gone = checks["webhook gone"]
    assert not gone["ok"]
    assert "GONE_SECRET is not set" in gone["detail"] and "cannot connect" in gone["detail"]


async def test_doctor_says_nothing_of_parts_that_are_off(tmp_path: Path) -> None:
    assert await check_observability(parse_settings({}), tmp_path / "none.sqlite3", {}) == []
