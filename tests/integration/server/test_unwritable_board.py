"""A board that cannot be written is found at start and by `bosun doctor`, not at a
run's first write (issue 20 item 4: the daemon used to start and report healthy)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bosun.board.health import board_unwritable
from bosun.server.launcher import DaemonStartError

from tests.integration.server.conftest import init_repo, start_daemon


def _doctor(repo: Path, env: dict[str, str]) -> tuple[int, dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-m", "bosun", "-C", str(repo), "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in env.items() if not k.endswith("_API_KEY")},
        stdin=subprocess.DEVNULL,
    )
    checks = {c["check"]: c for c in json.loads(out.stdout)["checks"]}
    return out.returncode, checks["workspace"]


def test_a_daemon_on_a_full_disk_refuses_to_start_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = init_repo(tmp_path / "repo")
    flag = tmp_path / "disk-full"
    flag.touch()
    monkeypatch.setenv("BOSUN_FAULT_DISK_FULL", str(flag))
    with pytest.raises(DaemonStartError) as refused:
        start_daemon(repo)
    assert "the board cannot be written" in refused.value.message
    assert "disk is full" in refused.value.message


def test_doctor_reports_a_board_that_cannot_be_written(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    d = start_daemon(repo)  # creates the board; doctor then runs beside the daemon
    try:
        code, healthy = _doctor(repo, dict(os.environ))
        assert healthy["ok"], healthy
        flag = tmp_path / "disk-full"
        flag.touch()
        code, full = _doctor(repo, {**os.environ, "BOSUN_FAULT_DISK_FULL": str(flag)})
        assert code == 1 and not full["ok"]
        assert "the board cannot be written" in str(full["detail"])
    finally:
        d.kill()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files regardless")
def test_a_read_only_board_file_is_reported(tmp_path: Path) -> None:
    board = tmp_path / "board.sqlite3"
    board.write_bytes(b"")
    board.chmod(0o400)
    why = board_unwritable(board)
    assert why is not None and "read-only" in why


def test_a_writable_board_is_reported_as_such(tmp_path: Path) -> None:
    board = tmp_path / "board.sqlite3"
    import sqlite3

    sqlite3.connect(board).close()
    assert board_unwritable(board) is None
