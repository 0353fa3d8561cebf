"""The supervisor inside an attempt's sandbox: starts each command, reaps everything.

Run by the daemon as `python -I -S -B supervisor.py CONTROL_FD [SCOPE_FD]` inside the
sandbox (bwrap, Landlock or none), read-only there like the rest of the package; it
imports the standard library only. CONTROL_FD is a SOCK_SEQPACKET socket to the
daemon carrying one JSON object per message:

    daemon → {"op": "run", "id": n, "argv": [...], "cwd": str, "env": {...}} + the output fd
             {"op": "kill", "id": n, "grace": s}   stop every process but this one
    ← supervisor {"op": "ready"}
             | {"op": "failed", "id": n, "error": str}
             | {"op": "exited", "id": n, "code": c, "left": processes still alive}
             | {"op": "killed", "id": n, "count": k}

Every descriptor it holds is close-on-exec, so a command inherits only its stdio.
It is a child subreaper and not dumpable: every process a command starts, however it
forks or calls setsid, stays its descendant, so "kill everything but me" leaves nothing
(no marker needed, no env -i escape). With SCOPE_FD (Landlock ABI ≥ 6) each command
enters a nested domain that cannot signal the supervisor. End of file on the control
socket (the daemon closed the attempt, or died) kills everything and exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import signal
import socket
import sys
import time
from typing import Any

_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38
_SYS_LANDLOCK_RESTRICT_SELF = 446
_MAX_MESSAGE = 1 << 20
_POLL_S = 0.02
_KILL_ROUNDS_S = 2.0

_libc = ctypes.CDLL(None, use_errno=True)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                out.extend(int(p) for p in fh.read().split())
        except (OSError, ValueError):
            continue
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return False
    return raw[raw.rfind(b")") + 2 :][:1] not in (b"Z", b"X")


def descendants() -> list[int]:
    """Every live process below this one (a subreaper: that is everything commands made)."""
    found: list[int] = []
    todo = _children(os.getpid())
    seen: set[int] = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        if _alive(pid):
            found.append(pid)
        todo.extend(_children(pid))
    return found


class Supervisor:
    """The loop: commands one at a time, exits reported, everything reaped."""

    def __init__(self, ctl: socket.socket, scope_fd: int) -> None:
        self.ctl = ctl
        self.scope_fd = scope_fd
        self.current: tuple[int, int] | None = None  # (id, pid) of the running command
        self.wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    def send(self, **msg: Any) -> None:
        self.ctl.send(json.dumps(msg).encode())

    def reap(self) -> None:
        """Collect every exited child; report the command's own exit."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.current is not None and pid == self.current[1]:
                # With nothing else alive nothing new can appear (only the living fork):
                # the daemon then skips the kill round trip.
                code = os.waitstatus_to_exitcode(status)
                self.send(op="exited", id=self.current[0], code=code, left=len(descendants()))
                self.current = None

    def kill_all(self, grace: float) -> int:
        """SIGTERM every descendant, SIGKILL what is left after `grace`; how many were found."""
        pids = descendants()
        seen = set(pids)
        for sig, limit in ((signal.SIGTERM, grace), (signal.SIGKILL, _KILL_ROUNDS_S)):
            deadline = time.monotonic() + limit
            while pids:
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, sig)
                time.sleep(_POLL_S)
                self.reap()
                pids = descendants()
                seen.update(pids)
                if time.monotonic() >= deadline:
                    break
        self.reap()
        return len(seen)

    def start(self, msg: dict[str, Any], fds: list[int]) -> None:
        """Fork and exec one command in its own session, writing to the given output fd."""
        ident = int(msg["id"])
        if not fds:
            self.send(op="failed", id=ident, error="no output descriptor")
            return
        out = fds[0]
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:  # the child: single-threaded, so Python here is safe
            try:
                os.close(err_r)
                # Python ignores these at start and an ignored signal stays ignored
                # across exec: `yes | head` must end by SIGPIPE, as in a plain shell.
                for sig in (signal.SIGPIPE, signal.SIGXFSZ):
                    signal.signal(sig, signal.SIG_DFL)
                os.setsid()
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(out, 1)
                os.dup2(out, 2)
                os.chdir(msg["cwd"])
                if self.scope_fd >= 0 and _libc.syscall(
                    _SYS_LANDLOCK_RESTRICT_SELF, self.scope_fd, 0
                ):
                    raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
                os.execvpe(msg["argv"][0], msg["argv"], msg["env"])
            except BaseException as exc:
                os.write(err_w, f"{type(exc).__name__}: {exc}".encode()[:4000])
            os._exit(127)
        os.close(err_w)
        os.close(out)
        with os.fdopen(err_r, "rb") as fh:
            error = fh.read()  # empty once exec succeeded (the pipe closed on exec)
        if error:
            os.waitpid(pid, 0)
            self.send(op="failed", id=ident, error=error.decode(errors="replace"))
            return
        self.current = (ident, pid)
        self.reap()  # it may have exited already

    def serve(self) -> None:
        """Until the daemon closes the control socket."""
        self.send(op="ready")
        while True:
            ctl = self.ctl.fileno()
            ready, _, _ = select.select([ctl, self.wake_r], [], [])
            if self.wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wake_r, 4096)
                self.reap()
            if ctl not in ready:
                continue
            data, fds, _, _ = socket.recv_fds(self.ctl, _MAX_MESSAGE, 4)
            for fd in fds:  # never inherited by a command except as its stdout/stderr
                os.set_inheritable(fd, False)
            if not data:
                self.kill_all(0)
                return
            msg = json.loads(data)
            if msg.get("op") == "run":
                self.start(msg, fds)
            elif msg.get("op") == "kill":
                count = self.kill_all(float(msg.get("grace", 0)))
                self.send(op="killed", id=msg.get("id"), count=count)
            for fd in fds[1:]:
                os.close(fd)


def main(argv: list[str]) -> int:
    """Entry point inside the sandbox."""
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # also in `none`: no setuid gain
    ctl = socket.socket(fileno=int(argv[1]))
    ctl.set_inheritable(False)
    scope_fd = int(argv[2]) if len(argv) > 2 else -1
    if scope_fd >= 0:
        os.set_inheritable(scope_fd, False)  # used before exec, then closed by it
    try:
        Supervisor(ctl, scope_fd).serve()
    except (BrokenPipeError, ConnectionResetError):  # the daemon is gone
        for pid in descendants():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
