"""Who is at the other end of the Unix socket, and whether it may speak to the daemon.

The socket is 0600 in a 0700 directory, so only the daemon's user (or root) can
connect; a sandbox hides it too. Where a sandbox cannot hide it (Landlock does not
restrict connecting to a named socket), the peer's credentials decide: a process the
daemon started — a command, anything it spawned, an orphan of it (the daemon is a
child subreaper, so orphans stay its descendants) — is refused before it can send a
byte. Clients are the user's own processes (editors, the CLI), never the daemon's.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import Any

_CRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
_MAX_DEPTH = 4096  # deeper than any real process tree; bounds a hostile loop of reads


def peer_credentials(sock: Any) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process that connected `sock` (SO_PEERCRED)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size)
    pid, uid, gid = _CRED.unpack(raw)
    return pid, uid, gid


def parent_of(pid: int) -> int | None:
    """The parent pid of `pid`, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields start after the last ')'.
    return int(raw[raw.rfind(b")") + 2 :].split()[1])


def descends_from(pid: int, ancestor: int) -> bool:
    """Whether `pid` is a (strict) descendant of `ancestor`."""
    current: int | None = pid
    for _ in range(_MAX_DEPTH):
        current = parent_of(current) if current is not None else None
        if current is None or current <= 1:
            return False
        if current == ancestor:
            return True
    return True  # a chain that long is not an honest process tree


def refusal(sock: Any) -> str | None:
    """Why this Unix peer must get nothing, or None when it is one of the user's clients."""
    try:
        pid, uid, _ = peer_credentials(sock)
    except OSError as exc:
        return f"its credentials cannot be read ({exc.strerror})"
    if uid not in (os.getuid(), 0):
        return f"uid {uid} is not the daemon's user"
    if pid <= 0:
        return "it has no process in this PID namespace"
    if descends_from(pid, os.getpid()):
        return f"pid {pid} was started by the daemon (a command or something it spawned)"
    return None
