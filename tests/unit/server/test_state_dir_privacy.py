"""The state and socket directories are ours alone; every file kept there is 0600."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from pathlib import Path

import pytest
from bosun.errors import WorkspaceError
from bosun.private_files import PrivateRotatingFileHandler
from bosun.workspace import Workspace


def _repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    return path


@pytest.fixture
def long_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace whose socket path is too long, so it moves under $XDG_RUNTIME_DIR."""
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    ws = Workspace(_repo(tmp_path / ("d" * 60) / ("e" * 60)))
    assert ws.socket_dir == run / f"bosun-{os.getuid()}"
    return ws


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_socket_dir_made_by_another_user_is_refused_and_left_alone(long_ws: Workspace) -> None:
    if os.getuid() != 0:
        pytest.skip("making a directory owned by another user needs root")
    sock_dir = long_ws.socket_dir
    sock_dir.mkdir(mode=0o777)
    os.chmod(sock_dir, 0o777)
    os.chown(sock_dir, 65534, 65534)
    with pytest.raises(WorkspaceError, match="belongs to uid 65534, not to you"):
        long_ws.ensure_state_dir()
    assert _mode(sock_dir) == 0o777  # not chmodded into our service
    assert os.stat(sock_dir).st_uid == 65534


def test_socket_dir_that_is_a_symlink_is_refused_not_followed(
    long_ws: Workspace, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o755)
    long_ws.socket_dir.symlink_to(target)
    with pytest.raises(WorkspaceError, match="symbolic link"):
        long_ws.ensure_state_dir()
    assert _mode(target) == 0o755


def test_our_own_socket_dir_is_created_0700_and_an_open_one_closed(long_ws: Workspace) -> None:
    long_ws.ensure_state_dir()
    assert _mode(long_ws.socket_dir) == 0o700
    os.chmod(long_ws.socket_dir, 0o755)
    long_ws.ensure_state_dir()
    assert _mode(long_ws.socket_dir) == 0o700


def test_state_dir_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    (tmp_path / "target").mkdir()
    (repo / ".bosun").symlink_to(tmp_path / "target")
    with pytest.raises(WorkspaceError, match="symbolic link"):
        Workspace(repo).ensure_state_dir()
    assert list((tmp_path / "target").iterdir()) == []


def test_board_lock_and_ignore_files_are_created_0600(tmp_path: Path) -> None:
    ws = Workspace(_repo(tmp_path / "repo"))
    ws.ensure_state_dir()
    for path in (ws.db_path, ws.lock_path, ws.state_dir / ".gitignore"):
        assert _mode(path) == 0o600, path


def test_files_an_older_version_left_0644_are_made_0600(tmp_path: Path) -> None:
    ws = Workspace(_repo(tmp_path / "repo"))
    ws.state_dir.mkdir(mode=0o755)
    ws.log_dir.mkdir(mode=0o755)
    old = [ws.db_path, ws.state_dir / "board.sqlite3-wal", ws.log_dir / "daemon.log.1"]
    for path in old:
        path.write_text("x")
        os.chmod(path, 0o644)
    ws.ensure_state_dir()
    assert [_mode(p) for p in old] == [0o600] * 3
    assert _mode(ws.state_dir) == _mode(ws.log_dir) == 0o700


def test_rotated_logs_are_0600_too(tmp_path: Path) -> None:
    handler = PrivateRotatingFileHandler(tmp_path / "d.log", maxBytes=10, backupCount=2)
    try:
        for _ in range(4):
            handler.emit(logging.makeLogRecord({"msg": "0123456789abc"}))
            handler.doRollover()
    finally:
        handler.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["d.log", "d.log.1", "d.log.2"]
    assert {_mode(tmp_path / n) for n in names} == {0o600}
