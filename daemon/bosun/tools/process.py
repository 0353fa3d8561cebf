"""Running one command to completion or to its limit, and leaving nothing behind.

The child starts a new session (so its process group and session id are its pid),
reads /dev/null, and writes into a pipe we own. Every process it starts carries a
marker in its environment. When the command ends, times out or is cancelled, every
process in its session or group, or carrying its marker (which catches one that called
setsid to escape), is sent SIGTERM, then SIGKILL after a grace, until none is left. We
stop reading the pipe shortly after, even if an escaped process still holds it open.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bosun.tools.spawn import ExitWatch, reap_adopted, spawn

_READ_CHUNK = 65536
_DRAIN_S = 0.3  # how long output may keep arriving after the processes are gone
_KILL_ROUNDS_S = 2.0
_POLL_S = 0.02


@dataclass
class ProcessOutcome:
    """How a command ended and what it printed (bounded: head and tail kept)."""

    exit_code: int | None
    timed_out: bool
    output: bytes
    total_bytes: int
    duration_s: float
    leftovers_killed: int = 0


class OutputBuffer:
    """Keeps the first and last bytes of a stream of any size."""

    def __init__(self, limit: int) -> None:
        self.head_limit = limit * 3 // 5
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        """Account for a chunk, keeping only what the limits allow."""
        self.total += len(data)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self.tail_limit:
                del self.tail[: len(self.tail) - self.tail_limit]

    def render(self) -> bytes:
        """Head and tail, with a line saying how much was left out."""
        dropped = self.total - len(self.head) - len(self.tail)
        if dropped <= 0:
            return bytes(self.head + self.tail)
        note = f"\n[... {dropped} bytes omitted of {self.total} ...]\n".encode()
        return bytes(self.head) + note + bytes(self.tail)


def _proc_ids(pid: str | int) -> tuple[int, int, str, int] | None:
    """(pgid, sid, state, start time in ticks) of a process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()
    return int(fields[2]), int(fields[3]), fields[0].decode(), int(fields[19])


def now_ticks() -> int:
    """Clock ticks since boot, a little early (the unit of a process's start time)."""
    try:
        with open("/proc/uptime", "rb") as fh:
            uptime = float(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return max(int(uptime * os.sysconf("SC_CLK_TCK")) - 2, 0)


def _has_marker(pid: str, marker: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return marker in fh.read().split(b"\0")
    except OSError:
        return False


def live_members(sid: int | None, marker: bytes, since: int = 0) -> list[int]:
    """Live processes in session/group `sid` (None: no session), or started since `since`
    carrying `marker`."""
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        ids = _proc_ids(name)
        if ids is None or ids[2] in ("Z", "X"):
            continue
        # Only a process born after the command can descend from it: skip reading the
        # environment of everything older (most of the machine).
        in_session = sid is not None and sid in (ids[0], ids[1])
        if in_session or (ids[3] >= since and _has_marker(name, marker)):
            found.append(int(name))
    return found


def _signal_all(sid: int | None, pids: list[int], sig: int) -> None:
    if sid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(sid, sig)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


async def kill_tree(sid: int | None, marker: bytes, grace: float, since: int = 0) -> int:
    """SIGTERM everything of the command, SIGKILL what is left after `grace`; the count found."""
    pids = live_members(sid, marker, since)
    seen = set(pids)
    if grace > 0 and pids:
        _signal_all(sid, pids, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            await asyncio.sleep(_POLL_S)
            pids = live_members(sid, marker, since)
            seen.update(pids)
    deadline = time.monotonic() + _KILL_ROUNDS_S
    while pids and time.monotonic() < deadline:
        # Repeat: a fork loop may have spawned between the scan and the signal.
        _signal_all(sid, pids, signal.SIGKILL)
        await asyncio.sleep(_POLL_S)
        pids = live_members(sid, marker, since)
        seen.update(pids)
    return len(seen)


class PipeReader:
    """Reads our end of the output pipe on the event loop, into an OutputBuffer."""

    def __init__(self, fd: int, buffer: OutputBuffer) -> None:
        self.fd = fd
        self.buffer = buffer
        self.loop = asyncio.get_running_loop()
        self.eof = self.loop.create_future()
        os.set_blocking(fd, False)
        self.loop.add_reader(fd, self._ready)

    def _ready(self) -> None:
        try:
            data = os.read(self.fd, _READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.buffer.feed(data)
        elif not self.eof.done():
            self.loop.remove_reader(self.fd)
            self.eof.set_result(None)

    async def finish(self, wait: float) -> None:
        """Wait up to `wait` for end of output, then stop reading and close."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.eof), wait)
        self.loop.remove_reader(self.fd)
        os.close(self.fd)


async def run_process(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    limit_s: float,
    grace: float,
    output_limit: int,
    marker: bytes,
    restrict: Callable[[], None] | None = None,
) -> ProcessOutcome:
    """Run `argv` to exit or `limit_s`; no process of it survives this call."""
    started = time.monotonic()
    buffer = OutputBuffer(output_limit)
    since = now_ticks()
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    try:
        proc = await spawn(argv, cwd=cwd, env=env, out_fd=write_fd, restrict=restrict)
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    reader = PipeReader(read_fd, buffer)
    watch = ExitWatch(proc)
    timed_out = False
    killed = 0
    try:
        try:
            await asyncio.wait_for(asyncio.shield(watch.exited), limit_s)
        except TimeoutError:
            timed_out = True
        killed = await kill_tree(proc.pid, marker, grace, since)
    except BaseException:
        # Cancelled (the task was interrupted): no grace, but still nothing survives.
        await asyncio.shield(kill_tree(proc.pid, marker, 0, since))
        watch.reap()
        reap_adopted()
        await reader.finish(0)
        raise
    code = watch.reap()
    reap_adopted()  # orphans it left were re-parented to the (subreaper) daemon and killed
    await reader.finish(_DRAIN_S)
    return ProcessOutcome(
        exit_code=None if timed_out else code,
        timed_out=timed_out,
        output=buffer.render(),
        total_bytes=buffer.total,
        duration_s=time.monotonic() - started,
        leftovers_killed=killed,
    )
