"""A running daemon keeps every file of its state directory 0600 and every directory 0700."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

from bosun.client import Client

from tests.integration.server.conftest import start_daemon


async def test_every_file_the_daemon_writes_in_its_state_dir_is_private(git_repo: Path) -> None:
    d = start_daemon(git_repo)
    try:
        async with await Client.connect(d.workspace.socket_path) as client:
            await client.request("bosun/status")
        state = d.workspace.state_dir
        seen: dict[str, int] = {}
        for dirpath, dirnames, filenames in os.walk(state):
            dirnames[:] = [n for n in dirnames if n != "worktrees"]  # the tasks' checkouts
            for name in [*dirnames, *filenames]:
                path = Path(dirpath) / name
                if path == d.workspace.config_path:
                    continue  # written by the test, as a user would
                seen[str(path.relative_to(state))] = stat.S_IMODE(os.lstat(path).st_mode)
    finally:
        d.kill(signal.SIGTERM)
    assert {"board.sqlite3", "board.sqlite3-wal", "logs/daemon.log", "token"} <= set(seen)
    loose = {
        name: oct(mode)
        for name, mode in seen.items()
        if mode != (0o700 if (state / name).is_dir() else 0o600)
        and not stat.S_ISSOCK(os.lstat(state / name).st_mode)
    }
    assert loose == {}
