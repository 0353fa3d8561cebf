"""One sandbox per attempt: built once, a supervisor inside starts each command.

The namespaces and mounts (bwrap) or the ruleset (Landlock) are made when the attempt
runs its first command; later commands cost a message to the supervisor and a fork
there instead of a whole new sandbox. Each command keeps what it had alone: its own
session and process group, the time limit, bounded output, a private TMPDIR removed
after the call, the allowlisted environment its caller gives, and nothing of it left
running afterwards (the supervisor is a subreaper and kills its whole subtree). The
session is closed with the attempt (finish, crash, interrupt); if the daemon dies, the
supervisor reads end of file and kills everything, and bwrap dies with its parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from bosun.own_files import make_scratch
from bosun.tools import landlock
from bosun.tools.process import OutputBuffer, PipeReader, ProcessOutcome, kill_tree, now_ticks
from bosun.tools.sandbox import Sandbox, bwrap_argv
from bosun.tools.settings import SandboxMode
from bosun.tools.spawn import ExitWatch, reap_adopted, spawn

log = logging.getLogger(__name__)

SUPERVISOR = Path(__file__).with_name("supervisor.py")
_REPLY_S = 10.0  # a supervisor that does not answer in this long is broken
_DRAIN_S = 0.3
_MAX_REPLY = 1 << 16


class SandboxBroken(OSError):
    """The attempt's sandbox ended or stopped answering; the next command starts a new one."""


class SandboxSession:
    """The attempt's sandbox: started lazily, one command at a time, closed with the attempt."""

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        worktree: Path,
        hidden: Sequence[Path],
        read_only: Sequence[Path] = (),
        writable: Sequence[Path] = (),
    ) -> None:
        self.sandbox = sandbox
        self.worktree = worktree
        self.hidden = list(hidden)
        self.read_only = list(read_only)  # the caller's binds (a project's environment)
        self.writable = list(writable)
        self.tmp_root: Path | None = None
        self._lock = asyncio.Lock()
        self._sock: socket.socket | None = None
        self._proc: Any = None
        self._watch: ExitWatch | None = None
        self._replies: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._next_id = 0
        self.markers: list[bytes] = []  # for the fallback sweep if the supervisor dies
        self.started_at = 0

    @property
    def alive(self) -> bool:
        """Whether the supervisor is up."""
        return self._sock is not None and self._watch is not None and not self._watch.exited.done()

    async def _start(self) -> None:
        self.tmp_root = make_scratch()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        passed = [child.fileno()]
        scope = (
            landlock.scope_ruleset() if self.sandbox.report.mode is SandboxMode.LANDLOCK else None
        )
        if scope is not None:
            passed.append(scope)
        argv = [sys.executable, "-I", "-S", "-B", str(SUPERVISOR), *map(str, passed)]
        restrict = None
        cleanup = None
        mode = self.sandbox.report.mode
        if mode is SandboxMode.BWRAP and self.sandbox.bwrap is not None:
            argv = bwrap_argv(
                self.sandbox.bwrap, argv, worktree=self.worktree, tmp=self.tmp_root,
                hidden=self.hidden, read_only=[*self.read_only, SUPERVISOR],
                writable=self.writable,
            )  # fmt: skip
        elif mode is SandboxMode.LANDLOCK:
            ruleset = landlock.Ruleset(
                [self.worktree, self.tmp_root, *self.writable], self.sandbox.dev_files,
                self.hidden,
            )  # fmt: skip
            restrict, cleanup = ruleset.restrict_self, ruleset.close
        else:
            restrict = landlock.set_no_new_privs
        self.started_at = now_ticks()
        devnull = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
        try:
            self._sock = parent  # from here _terminate releases it, whatever fails
            self._proc = await spawn(
                argv, cwd=self.worktree, env={"PATH": "/usr/bin:/bin"}, out_fd=devnull,
                restrict=restrict, pass_fds=tuple(passed),
            )  # fmt: skip
        finally:
            os.close(devnull)
            child.close()
            if scope is not None:
                os.close(scope)
            if cleanup is not None:
                cleanup()
        parent.setblocking(False)
        self._replies = asyncio.Queue()
        asyncio.get_running_loop().add_reader(parent.fileno(), self._readable)
        self._watch = ExitWatch(self._proc)
        await self._answer(("ready",), None, _REPLY_S)

    def _readable(self) -> None:
        assert self._sock is not None
        try:
            data = self._sock.recv(_MAX_REPLY)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._replies.put_nowait(None)
            return
        try:
            msg = json.loads(data)
        except ValueError:
            msg = None  # a broken supervisor: treated as gone
        self._replies.put_nowait(msg if isinstance(msg, dict) else None)

    async def _reply(
        self, ops: tuple[str, ...], ident: int | None, timeout: float = _REPLY_S
    ) -> dict[str, Any]:
        """The next message that is one of `ops` for `ident` (TimeoutError after `timeout`).

        Others are skipped: after a kill, the command's exit arrives before "killed".
        """
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            msg = await asyncio.wait_for(self._replies.get(), max(left, 0))
            if msg is None:
                raise SandboxBroken("the sandbox's supervisor ended")
            if msg.get("op") in ops and msg.get("id") == ident:
                return msg

    async def _answer(
        self, ops: tuple[str, ...], ident: int | None, timeout: float
    ) -> dict[str, Any]:
        try:
            return await self._reply(ops, ident, timeout)
        except TimeoutError:
            raise SandboxBroken(f"the sandbox's supervisor did not answer ({ops[0]})") from None

    def _send(self, msg: dict[str, Any], fds: Sequence[int] = ()) -> None:
        if self._sock is None:
            raise SandboxBroken("the sandbox is not running")
        try:
            socket.send_fds(self._sock, [json.dumps(msg).encode()], list(fds))
        except OSError as exc:
            raise SandboxBroken(f"cannot reach the sandbox's supervisor: {exc}") from None

    async def ensure_started(self) -> None:
        """Build the sandbox unless it is up (a broken one is cleared first)."""
        async with self._lock:
            await self._ensure()

    async def _ensure(self) -> None:
        if self.alive:
            return
        await self._terminate()
        try:
            await self._start()
        except BaseException:
            await self._terminate()  # half-built: socket, process, temp root all go
            raise

    async def run(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        limit_s: float,
        grace: float,
        output_limit: int,
        marker: bytes,
    ) -> ProcessOutcome:
        """Run `argv` inside the attempt's sandbox to exit or `limit_s`; nothing survives."""
        async with self._lock:
            await self._ensure()
            self.markers.append(marker)
            try:
                return await self._run(argv, cwd, env, limit_s, grace, output_limit)
            except SandboxBroken:
                await self._terminate()  # the next command gets a new sandbox
                raise

    async def _run(
        self, argv: list[str], cwd: Path, env: dict[str, str], limit_s: float, grace: float,
        output_limit: int,
    ) -> ProcessOutcome:  # fmt: skip
        started = time.monotonic()
        self._next_id += 1
        ident = self._next_id
        buffer = OutputBuffer(output_limit)
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        try:
            self._send(
                {"op": "run", "id": ident, "argv": argv, "cwd": str(cwd), "env": env}, [write_fd]
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        reader = PipeReader(read_fd, buffer)
        timed_out = False
        try:
            try:
                done = await self._reply(("exited", "failed"), ident, limit_s)
            except TimeoutError:
                timed_out, done = True, {}
            if done.get("op") == "failed":
                raise OSError(str(done.get("error", "the command could not start")))
            killed = 0
            if timed_out or done.get("left") != 0:
                killed = await self._reply_after_kill(ident, grace)
        except asyncio.CancelledError:
            # Interrupted: no grace, but still nothing survives.
            await asyncio.shield(self._stop_quietly(ident))
            await reader.finish(0)
            raise
        except BaseException:
            await reader.finish(0)
            raise
        await reader.finish(_DRAIN_S)
        code = done.get("code")
        return ProcessOutcome(
            exit_code=None if timed_out else (code if isinstance(code, int) else None),
            timed_out=timed_out,
            output=buffer.render(),
            total_bytes=buffer.total,
            duration_s=time.monotonic() - started,
            # The count includes the command itself when it was still running.
            leftovers_killed=max(killed - (1 if timed_out else 0), 0),
        )

    async def _reply_after_kill(self, ident: int, grace: float) -> int:
        self._send({"op": "kill", "id": ident, "grace": grace})
        msg = await self._answer(("killed",), ident, grace + _REPLY_S)
        count = msg.get("count")
        return count if isinstance(count, int) else 0

    async def _stop_quietly(self, ident: int) -> None:
        try:
            await self._reply_after_kill(ident, 0)
        except SandboxBroken:
            await self._terminate()

    async def _terminate(self) -> None:
        """Stop the supervisor and everything under it; sweep by marker if it died first."""
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(sock.fileno())
            sock.close()  # end of file: the supervisor kills all and exits
        if self._watch is not None and self._proc is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._watch.exited), 3)
            if not self._watch.exited.done():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, signal.SIGKILL)  # bwrap's namespace dies with it
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._watch.exited), 3)
            self._watch.reap()
            self._watch = None
        for marker in self.markers:  # a supervisor killed from inside leaves orphans here
            await kill_tree(None, marker, 0, self.started_at)
        self.markers.clear()
        reap_adopted()
        if self.tmp_root is not None:
            await asyncio.to_thread(shutil.rmtree, self.tmp_root, True)
            self.tmp_root = None

    async def close(self) -> None:
        """End the attempt's sandbox; nothing of it is left running."""
        async with self._lock:
            await self._terminate()


@contextlib.asynccontextmanager
async def attempt_sandbox(ctx: Any) -> AsyncIterator[SandboxSession]:
    """The attempt's sandbox for a ToolContext (set as `ctx.session`), closed on every exit."""
    from bosun.tools.commands import hidden_paths, sandbox_of

    session = SandboxSession(
        sandbox_of(ctx), worktree=ctx.worktree_path, hidden=hidden_paths(ctx),
        read_only=ctx.mounts.read_only, writable=ctx.mounts.writable,
    )  # fmt: skip
    ctx.session = session
    try:
        yield session
    finally:
        ctx.session = None
        await asyncio.shield(session.close())
