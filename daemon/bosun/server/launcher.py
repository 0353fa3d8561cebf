"""Starting a daemon in the background and waiting until it listens.

The child reports readiness on a pipe (no polling): when the line arrives the socket
is accepting; if the child dies first, its own error message is shown.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bosun.errors import BosunError
from bosun.private_files import append_private
from bosun.server.secret_handoff import (
    SECRETS_FD_FLAG,
    configured_key_names,
    hand_over,
    split_environment,
)
from bosun.workspace import Workspace

START_TIMEOUT_S = 20.0


class DaemonStartError(BosunError):
    """The background daemon did not come up; the message carries its words."""


def daemon_command(ws: Workspace, extra: list[str]) -> list[str]:
    """The argv that serves this workspace in the foreground."""
    return [sys.executable, "-m", "bosun", "--workspace", str(ws.root), "daemon", "serve", *extra]


def start_daemon_process(
    ws: Workspace, extra: list[str] | None = None, *, detach: bool = True
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Start `bosun daemon serve`; return the process and what it announced when ready."""
    ws.ensure_state_dir()
    # The daemon's environment carries no key: keys go over a pipe (secret_handoff.py).
    env, secrets = split_environment(os.environ, configured_key_names(ws.config_path))
    read_fd, write_fd = os.pipe()
    out_path = ws.log_dir / "daemon.out"
    args = [*daemon_command(ws, extra or []), "--ready-fd", str(write_fd), "--background"]
    passed = [write_fd]
    if secrets:
        passed.append(hand_over(secrets))
        args += [SECRETS_FD_FLAG, str(passed[-1])]
    _rotate(out_path)
    try:
        with append_private(out_path) as out, open(os.devnull, "rb") as devnull:
            proc = subprocess.Popen(
                args,
                stdin=devnull,
                stdout=out,
                stderr=out,
                env=env,
                pass_fds=passed,
                start_new_session=detach,  # survives the terminal or editor that started it
                close_fds=True,
                cwd=ws.root,
            )
    finally:
        for fd in passed:
            os.close(fd)
    try:
        line = _read_line(read_fd, proc, START_TIMEOUT_S)
    finally:
        os.close(read_fd)
    if line is None:
        code = proc.poll()
        tail = _tail(out_path)
        if code is None:
            proc.kill()
            proc.wait()
            raise DaemonStartError(f"the daemon did not become ready in {START_TIMEOUT_S:.0f}s")
        raise DaemonStartError(f"the daemon exited with status {code}: {tail}")
    info: dict[str, Any] = json.loads(line)
    return proc, info


def spawn_daemon(ws: Workspace, extra: list[str] | None = None) -> dict[str, Any]:
    """Start a detached background daemon; return what it announced."""
    _, info = start_daemon_process(ws, extra, detach=True)
    return info


def _rotate(path: Path, limit: int = 1 << 20) -> None:
    # daemon.out only catches what escapes logging (a crash before logging starts);
    # keep one previous copy so it never grows without bound.
    try:
        if path.stat().st_size > limit:
            os.replace(path, path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass


def _read_line(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 4096)
        if not chunk:  # the child closed the pipe: it exited before announcing
            proc.wait(timeout=5)
            return None
        buf += chunk
    return buf.split(b"\n", 1)[0].decode()


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no output)"
    return "\n".join(text[-lines:]) or "(no output)"
