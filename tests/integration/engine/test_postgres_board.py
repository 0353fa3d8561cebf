"""A daemon whose board is in PostgreSQL (issue 19): SIGKILLed at a board failpoint and
at an engine failpoint it loses nothing; the server restarted mid-run pauses the run
with the reason shown to every client, and the run resumes when the server is back.

Each test has a PostgreSQL server of its own (one is stopped on purpose), started by
tests/servers/postgres.py, and a real daemon on the demo's sample repository.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bosun.board.location import PostgresBoard
from bosun.client import Client
from bosun.engine import points
from bosun_protocol.entities import RunState, TaskState

from tests.integration.engine.crash_support import crash_answer, read_board
from tests.integration.engine.daemon_process import Daemon, client, next_notification, run_to_end
from tests.integration.engine.test_crash_recovery import (
    _create_and_answer,
    _left_behind,
    _until_killed,
)
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A server this test may stop and start (the session's one is shared)."""
    server = PostgresServer()
    try:
        server.start()
        server.create_database("bosun")
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_board(
    repo: Path, own_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> PostgresBoard:
    """The sample repository's board moved to the server; the password in the environment."""
    config = repo / ".bosun" / "config.toml"
    text = config.read_text().replace("[engine]\n", "[engine]\nstorage_probe_s = 0.2\n")
    config.write_text(text + f'\n[board]\nurl = "{own_server.url()}"\nschema_name = "sample"\n')
    monkeypatch.setenv("BOSUN_BOARD_PASSWORD", own_server.password)
    return PostgresBoard(url=own_server.url(), schema="sample", password=own_server.password)


@pytest.mark.parametrize(
    "failpoint", ["board.after_write_before_commit@attempt.started", points.MERGE_DONE]
)
async def test_sigkill_at_a_failpoint_with_the_board_in_postgres_loses_nothing(
    daemon: Daemon,
    pg_board: PostgresBoard,
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failpoint: str,
) -> None:
    hit = tmp_path / "hit"
    monkeypatch.setenv("BOSUN_FAILPOINTS", failpoint)
    monkeypatch.setenv("BOSUN_FAILPOINTS_HIT", str(hit))
    daemon.start()
    assert await _until_killed(daemon, _create_and_answer) == -signal.SIGKILL
    assert hit.read_text().split() == [failpoint.split("@")[0]]
    before = await read_board(daemon.ws)
    [run_id] = before.runs
    monkeypatch.delenv("BOSUN_FAILPOINTS")
    daemon.start()  # the killed daemon's session (and advisory lock) died with it
    async with client(daemon) as c:
        final = await run_to_end(c, run_id, crash_answer)
    assert final["state"] == RunState.COMPLETED.value, final
    await _left_behind(daemon, repo, before, run_id)


async def _worker_active(c: Client) -> None:
    def worker(method: str, params: dict[str, Any]) -> bool:
        task = params.get("task") or {}
        return (
            method == "bosun/taskChanged"
            and task.get("state") == TaskState.ACTIVE.value
            and task.get("profile") not in ("director", "planner")
        )

    await next_notification(c, worker)


async def test_a_server_restart_mid_run_pauses_it_for_every_client_and_it_resumes_losing_nothing(
    daemon: Daemon, pg_board: PostgresBoard, own_server: PostgresServer
) -> None:
    daemon.start()
    async with client(daemon) as c, client(daemon) as other:
        await c.request("bosun/createRun", {"objective": "Add a greeting to the README"})
        await _worker_active(c)
        acked = (await other.request("bosun/eventsSince", {"after": 0, "limit": 10000}))["events"]
        await asyncio.to_thread(own_server.stop)  # ends every session, as a restart does
        paused = await next_notification(
            c, lambda m, p: m == "bosun/storageChanged" and p["state"] == "paused"
        )
        assert "PostgreSQL server" in paused["reason"], paused
        assert own_server.password not in paused["reason"]
        status = (await other.request("bosun/status"))["storage"]
        assert status["state"] == "paused" and "PostgreSQL" in status["reason"]
        await asyncio.to_thread(own_server.start)
        await next_notification(c, lambda m, p: m == "bosun/storageChanged" and p["state"] == "ok")
        final = await run_to_end(c, 1, crash_answer)
        events = (await c.request("bosun/eventsSince", {"after": 0, "limit": 10000}))["events"]
    assert final["state"] == RunState.COMPLETED.value, final
    # Nothing acknowledged before the restart was lost, and the seqs stayed gapless.
    assert events[: len(acked)] == acked
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    await asyncio.to_thread(daemon.stop)
    board = await read_board(daemon.ws)
    assert {t["state"] for t in board.tasks.values()} == {TaskState.COMPLETE.value}
    for tid, task in board.tasks.items():
        outcomes = board.attempts_of(tid)
        assert sorted(outcomes) == list(range(1, task["attempt"] + 1)), task["key"]
        assert "running" not in outcomes.values(), task["key"]
