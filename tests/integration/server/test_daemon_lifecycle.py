"""One daemon per workspace, surviving kill -9, and many clients seeing every change."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bosun.client import Client
from bosun.server.launcher import DaemonStartError, start_daemon_process
from bosun.workspace import Workspace

from tests.integration.server.conftest import RunningDaemon, init_repo, session, start_daemon


def bosun(repo: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bosun", "--workspace", str(repo), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


async def test_two_clients_see_each_change_in_the_same_order(daemon: RunningDaemon) -> None:
    a = await Client.connect(daemon.workspace.socket_path)
    b = await Client.connect(daemon.workspace.socket_path)
    try:
        for i in range(10):
            client = a if i % 2 else b
            await client.request("bosun/createRun", {"objective": f"change {i}"})
        last = (await a.request("bosun/status"))["lastSeq"]

        async def seqs(c: Client) -> list[int]:
            out: list[int] = []
            while not out or out[-1] < last:
                method, params = await asyncio.wait_for(c.notifications.get(), 20)
                if method == "bosun/event":
                    out.append(params["event"]["seq"])
            return out

        # The engine keeps working on those runs, so compare up to `last`: both clients
        # saw the same events, in seq order, with no gap.
        sa = [x for x in await seqs(a) if x <= last]
        sb = [x for x in await seqs(b) if x <= last]
        assert sa == sb
        assert sa == list(range(sa[0], last + 1))
    finally:
        await a.close()
        await b.close()


async def test_kill_9_then_restart_keeps_runs_and_continues_the_sequence(git_repo: Path) -> None:
    d = start_daemon(git_repo)
    async with await Client.connect(d.workspace.socket_path) as c:
        ids = [
            (await c.request("bosun/createRun", {"objective": f"o{i}"}))["run"]["id"]
            for i in range(5)
        ]
        before = await c.request("bosun/eventsSince", {"after": 0})
    d.kill()  # SIGKILL: no cleanup at all; the socket file and pid file stay behind
    assert d.workspace.socket_path.exists()
    d2 = start_daemon(git_repo)
    try:
        async with await Client.connect(d2.workspace.socket_path) as c:
            runs = (await c.request("bosun/listRuns", {}))["runs"]
            assert sorted(r["id"] for r in runs) == sorted(ids)
            after = await c.request("bosun/eventsSince", {"after": 0, "limit": 10000})
            # Every event is still there; recovery may have appended more since.
            assert after["events"][: len(before["events"])] == before["events"]
            new = (await c.request("bosun/createRun", {"objective": "after restart"}))["run"]
            page = await c.request("bosun/eventsSince", {"after": before["lastSeq"]})
            seqs = [e["seq"] for e in page["events"]]
            assert seqs == list(range(before["lastSeq"] + 1, before["lastSeq"] + 1 + len(seqs)))
            assert any(
                e["kind"] == "run.created" and e["runId"] == new["id"] for e in page["events"]
            )
    finally:
        d2.kill()


def test_second_daemon_for_the_same_workspace_refuses_clearly(daemon: RunningDaemon) -> None:
    with pytest.raises(DaemonStartError) as info:
        start_daemon_process(daemon.workspace, detach=True)
    assert "already running" in str(info.value)
    assert str(daemon.info["pid"]) in str(info.value)


def test_socket_and_state_dir_are_private(daemon: RunningDaemon) -> None:
    ws = daemon.workspace
    assert (os.stat(ws.socket_path).st_mode & 0o777) == 0o600
    assert (os.stat(ws.state_dir).st_mode & 0o777) == 0o700
    assert (os.stat(ws.token_path).st_mode & 0o777) == 0o600
    assert (ws.state_dir / ".gitignore").read_text().strip() == "*"
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ws.root, capture_output=True, text=True, check=True
    )
    assert ".bosun" not in status.stdout


def test_long_workspace_path_gets_a_short_socket(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    init_repo(deep)
    ws = Workspace(deep)
    assert len(os.fsencode(ws.socket_path)) < 108
    d = start_daemon(deep)
    try:
        st = bosun(deep, "daemon", "status", "--json")
        assert json.loads(st.stdout)["running"] is True
    finally:
        d.kill()


def test_cli_start_status_stop(git_repo: Path) -> None:
    started = bosun(git_repo, "daemon", "start", "--json", check=True)
    info = json.loads(started.stdout)
    try:
        again = bosun(git_repo, "daemon", "start", check=True)
        assert "already running" in again.stdout
        st = json.loads(bosun(git_repo, "daemon", "status", "--json", check=True).stdout)
        assert st["running"] and st["pid"] == info["pid"]
        assert st["version"] and st["uptimeS"] >= 0
    finally:
        stopped = bosun(git_repo, "daemon", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    gone = bosun(git_repo, "daemon", "status", "--json")
    assert gone.returncode == 3 and json.loads(gone.stdout)["running"] is False
    assert not Workspace(git_repo).socket_path.exists()


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("plain_dir", "not inside a git repository"),
        ("no_commits", "no commits yet"),
        ("bare", "bare repository"),
    ],
)
def test_unusable_workspaces_get_a_message_naming_the_fix(
    tmp_path: Path, setup: str, expected: str
) -> None:
    target = tmp_path / "w"
    target.mkdir()
    if setup == "no_commits":
        _git(target, "init", "-q")
    elif setup == "bare":
        _git(target, "init", "-q", "--bare")
    res = bosun(target, "daemon", "start")
    assert res.returncode == 1
    assert expected in res.stderr
    assert "Traceback" not in res.stderr


def test_state_dir_that_is_a_file_is_reported(git_repo: Path) -> None:
    (git_repo / ".bosun").write_text("not a directory\n")
    res = bosun(git_repo, "daemon", "start")
    assert res.returncode == 1
    assert "is not a directory" in res.stderr
    assert "Traceback" not in res.stderr
    assert (git_repo / ".bosun").read_text() == "not a directory\n"


def test_unwritable_state_dir_is_reported(git_repo: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    state = git_repo / ".bosun"
    state.mkdir()
    state.chmod(0o500)
    res = bosun(git_repo, "daemon", "start")
    assert res.returncode == 1 and "state directory" in res.stderr


async def test_clients_that_shut_down_politely_leave_no_error_in_the_log(git_repo: Path) -> None:
    d = start_daemon(git_repo)
    try:
        for transport in ("unix", "lsp", "tcp"):
            async with session(d, transport) as client:
                await client.protocol.send_request_async("bosun/status", {})
    finally:
        d.kill(signal.SIGTERM)
    entries = [json.loads(line) for line in d.workspace.log_dir.joinpath("daemon.log").open()]
    errors = [e for e in entries if e["level"] in ("error", "critical")]
    assert errors == []
    assert any("client" in e["msg"] for e in entries)  # the sessions were logged at all
