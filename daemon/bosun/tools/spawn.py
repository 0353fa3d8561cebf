"""Starting a command (confined where asked) and learning when it exits, off the child watcher.

No `preexec_fn`: running Python between fork and exec is unsafe in a daemon with
threads (aiosqlite has some), and it forces a full fork. A Landlock restriction is
applied instead to a short-lived thread that only spawns the command: Landlock and
no_new_privs bind the calling thread and what it starts, so the child inherits them
and the daemon's other threads stay free. Exits are watched with a pidfd on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

# Pids this module started and whose exit status is still owed to their Popen: the
# adopted-orphan reaper must never take those (Popen would then report exit 0).
_spawned: set[int] = set()


def _popen(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    out_fd: int,
    pass_fds: tuple[int, ...] = (),
    in_fd: int | None = None,
    err_fd: int | None = None,
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL if in_fd is None else in_fd,
        stdout=out_fd,
        stderr=out_fd if err_fd is None else err_fd,
        start_new_session=True,
        close_fds=True,
        pass_fds=pass_fds,
    )
    _spawned.add(proc.pid)
    return proc


def _settle(
    fut: asyncio.Future[subprocess.Popen[bytes]],
    proc: subprocess.Popen[bytes] | None,
    exc: BaseException | None,
) -> None:
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    elif proc is not None:
        fut.set_result(proc)


async def spawn(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    out_fd: int,
    restrict: Callable[[], None] | None = None,
    pass_fds: tuple[int, ...] = (),
    in_fd: int | None = None,
    err_fd: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new session writing to `out_fd`; `restrict` confines it first.

    stdin is /dev/null and stderr goes to `out_fd` unless `in_fd` / `err_fd` say otherwise
    (an MCP server speaks over its stdin and stdout).
    """
    if restrict is None:
        return _popen(argv, cwd, env, out_fd, pass_fds, in_fd, err_fd)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[subprocess.Popen[bytes]] = loop.create_future()

    def confined() -> None:
        try:
            restrict()  # this thread only; it ends right after the spawn
            proc = _popen(argv, cwd, env, out_fd, pass_fds, in_fd, err_fd)
        except BaseException as exc:
            loop.call_soon_threadsafe(_settle, done, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, done, proc, None)

    threading.Thread(target=confined, name="bosun-confined-spawn", daemon=True).start()
    try:
        return await asyncio.shield(done)
    except asyncio.CancelledError:
        # The thread may still start the command: wait for it and stop it.
        with contextlib.suppress(Exception):
            proc = await done
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=1)
        raise


class ExitWatch:
    """A future that completes when the process exits (pidfd; a thread where unsupported)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.loop = asyncio.get_running_loop()
        self.exited: asyncio.Future[None] = self.loop.create_future()
        self.fd = -1
        self._thread_wait: asyncio.Future[int] | None = None
        try:
            self.fd = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            self._thread_wait = asyncio.ensure_future(asyncio.to_thread(proc.wait))
            self._thread_wait.add_done_callback(lambda _: self._done())
        else:
            self.loop.add_reader(self.fd, self._done)

    def _done(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def reap(self) -> int | None:
        """The exit status of the exited or killed process; None if it is somehow still alive.

        Never blocks: a process stuck in uninterruptible sleep must not stall the loop
        (subprocess reaps such a straggler later, when it finally dies).
        """
        self.close()
        code = self.proc.poll()
        if code is not None:
            _spawned.discard(self.proc.pid)
        return code

    def close(self) -> None:
        """Stop watching."""
        if self.fd >= 0:
            self.loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1


def _children_of_self() -> list[int]:
    pids: list[int] = []
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return pids
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/children", "rb") as fh:
                pids.extend(int(p) for p in fh.read().split())
        except (OSError, ValueError):
            continue
    return pids


def _adopted_zombie(pid: int) -> bool:
    """A dead child of a command: a zombie with no_new_privs, which every command has."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            status = fh.read()
    except OSError:
        return False
    return b"\nState:\tZ" in status and b"\nNoNewPrivs:\t1" in status


def reap_adopted() -> int:
    """Reap the commands' orphans that died after being re-parented to this subreaper.

    Only zombies with no_new_privs that this module did not start are taken: the
    daemon's own children (git, the launcher's) never set it, so their exit statuses
    stay with whoever waits for them.
    """
    reaped = 0
    for pid in _children_of_self():
        if pid in _spawned or not _adopted_zombie(pid):
            continue
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                reaped += 1
    return reaped
