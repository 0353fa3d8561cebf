"""A board that cannot be written (disk full) pauses every run and resumes it, losing
nothing (issue 20 item 3).

Before: the attempt's engine task died with BoardStorageError, the task stayed `active`
with its lease (or in `awaiting_qa` with no prompt) and the run showed `running` long
after space was freed, until the daemon was restarted. The disk fills by the injected
DISK_FULL fault (bosun.failpoints.flagged): every board write fails as SQLite fails on
a full disk, for as long as the flag file exists.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from bosun.cli.demo_command import OBJECTIVE, make_sample_repo
from bosun.client import Client, RpcError
from bosun.engine.recovery import STORAGE_PAUSED
from bosun_protocol.entities import RunState, TaskState

from tests.integration.engine.crash_support import (
    crash_answer,
    read_board,
    tolerate_attempt_shifts,
)
from tests.integration.engine.daemon_process import (
    Daemon,
    client,
    next_notification,
    run_to_end,
)

pytestmark = pytest.mark.timeout(300)


def _probe_every(repo: Path, seconds: float) -> None:
    config = repo / ".bosun" / "config.toml"
    config.write_text(
        config.read_text().replace("[engine]\n", f"[engine]\nstorage_probe_s = {seconds}\n")
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "sample"
    path.mkdir()
    make_sample_repo(path)
    tolerate_attempt_shifts(path)  # an interrupted attempt spends a number
    return path


async def _fill_disk_once_a_worker_runs(c: Client, flag: Path) -> dict[str, Any]:
    """Create the run; once a worker (not a planner) is active, the disk is full."""
    await c.request("bosun/createRun", {"objective": OBJECTIVE})

    def worker_active(method: str, params: dict[str, Any]) -> bool:
        task = params.get("task") or {}
        return (
            method == "bosun/taskChanged"
            and task.get("state") == TaskState.ACTIVE.value
            and task.get("profile") not in ("director", "planner")
        )

    await next_notification(c, worker_active)
    await asyncio.to_thread(flag.touch)
    return await next_notification(
        c, lambda m, p: m == "bosun/storageChanged" and p["state"] == "paused"
    )


async def test_a_full_disk_pauses_the_run_and_freeing_space_resumes_it_with_nothing_lost(
    daemon: Daemon, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = tmp_path / "disk-full"
    monkeypatch.setenv("BOSUN_FAULT_DISK_FULL", str(flag))
    _probe_every(repo, 0.2)
    daemon.start()
    async with client(daemon) as c, client(daemon) as other:
        paused = await _fill_disk_once_a_worker_runs(c, flag)
        assert "disk is full" in paused["reason"]
        # Every client is told, and status says so while it lasts.
        status = (await other.request("bosun/status"))["storage"]
        assert status["state"] == "paused" and "disk is full" in status["reason"]
        with pytest.raises(RpcError) as refused:
            await other.request("bosun/createRun", {"objective": "more"})
        assert refused.value.code == -32063
        await asyncio.to_thread(flag.unlink)  # space is freed
        await next_notification(c, lambda m, p: m == "bosun/storageChanged" and p["state"] == "ok")
        assert (await other.request("bosun/status"))["storage"]["state"] == "ok"
        final = await run_to_end(c, 1, crash_answer)
    assert final["state"] == RunState.COMPLETED.value, final
    await asyncio.to_thread(daemon.stop)
    board = await read_board(daemon.ws)
    assert {t["state"] for t in board.tasks.values()} == {TaskState.COMPLETE.value}
    for tid, task in board.tasks.items():
        outcomes = board.attempts_of(tid)
        assert sorted(outcomes) == list(range(1, task["attempt"] + 1)), task["key"]
        assert "running" not in outcomes.values() and "crashed" not in outcomes.values()


async def test_bosun_resume_retries_the_board_at_once_and_says_why_it_cannot(
    daemon: Daemon, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = tmp_path / "disk-full"
    monkeypatch.setenv("BOSUN_FAULT_DISK_FULL", str(flag))
    _probe_every(repo, 3600)  # only `bosun resume` can resume here
    daemon.start()
    async with client(daemon) as c:
        await _fill_disk_once_a_worker_runs(c, flag)
        with pytest.raises(RpcError) as still:
            await c.request("bosun/resumeRun", {"runId": 1})
        assert still.value.code == -32063 and "disk is full" in still.value.message
        await asyncio.to_thread(flag.unlink)
        run = (await c.request("bosun/resumeRun", {"runId": 1}))["run"]
        assert run["state"] in (RunState.PLANNING.value, RunState.RUNNING.value)
        assert (await c.request("bosun/status"))["storage"]["state"] == "ok"
        final = await run_to_end(c, 1, crash_answer)
    assert final["state"] == RunState.COMPLETED.value, final
    await asyncio.to_thread(daemon.stop)
    board = await read_board(daemon.ws)
    interrupted = [
        (tid, n)
        for tid in board.tasks
        for n, outcome in board.attempts_of(tid).items()
        if outcome == "interrupted"
    ]
    assert interrupted, "the attempt the full disk stopped is closed as interrupted"
    assert STORAGE_PAUSED  # the reason recorded on it (not counted as a failure)
