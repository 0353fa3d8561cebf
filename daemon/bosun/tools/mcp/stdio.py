"""A stdio MCP server started in a sandbox of the attempt's kind, as an SDK transport.

The SDK's own `stdio_client` starts the server with anyio and no way to confine it
first; Bosun needs the same confinement as its commands (bubblewrap's namespaces, or a
Landlock ruleset applied on the spawning thread, spawn.py). So the process is started
with Bosun's `spawn`, and its pipes are bridged to the memory streams the SDK's
`ClientSession` reads and writes; the messages are parsed and written by the SDK's
own types. The server gets the worktree as its working directory, a private temporary
directory as HOME and TMPDIR, the environment it was configured with (never the
daemon's), and the network only when configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import mcp_types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage

from bosun.tools import landlock
from bosun.tools.sandbox import Sandbox, bwrap_argv
from bosun.tools.settings import SandboxMode
from bosun.tools.spawn import ExitWatch, spawn

log = logging.getLogger(__name__)

_LINE_LIMIT = 32 << 20  # one JSON-RPC message; a larger one ends the connection
_STDERR_TAIL = 4000  # what a failure report quotes of the server's stderr
_EXIT_GRACE_S = 2.0  # after stdin closes, as the MCP lifecycle asks, before SIGTERM
_KILL_GRACE_S = 1.0


@dataclass
class Launch:
    """What to start and how to confine it."""

    argv: list[str]
    env: dict[str, str]
    worktree: Path
    sandbox: Sandbox
    hidden: Sequence[Path] = ()
    read_only: Sequence[Path] = ()
    writable: Sequence[Path] = ()
    network: bool = False


@dataclass
class ServerProcess:
    """The running server: its exit, and the tail of what it wrote to stderr."""

    pid: int
    exited: asyncio.Future[None]
    stderr: bytearray = field(default_factory=bytearray)
    exit_code: int | None = None

    def stderr_tail(self) -> str:
        """The last lines the server wrote to stderr."""
        return bytes(self.stderr[-_STDERR_TAIL:]).decode("utf-8", errors="replace").strip()


Confinement = tuple[list[str], Callable[[], None] | None, Callable[[], None] | None]


def _confinement(launch: Launch, tmp: Path) -> Confinement:
    """(argv, restrict, cleanup) for the sandbox mode in force."""
    mode = launch.sandbox.report.mode
    if mode is SandboxMode.BWRAP and launch.sandbox.bwrap is not None:
        argv = bwrap_argv(
            launch.sandbox.bwrap, launch.argv, worktree=launch.worktree, tmp=tmp,
            hidden=list(launch.hidden), read_only=launch.read_only, writable=launch.writable,
            network=launch.network,
        )  # fmt: skip
        return argv, None, None
    if mode is SandboxMode.LANDLOCK:
        ruleset = landlock.Ruleset(
            [launch.worktree, tmp, *launch.writable], launch.sandbox.dev_files, launch.hidden,
            allow_tcp=launch.network,
        )  # fmt: skip
        return launch.argv, ruleset.restrict_self, ruleset.close
    return launch.argv, landlock.set_no_new_privs, None


async def _start(launch: Launch, tmp: Path) -> tuple[subprocess.Popen[bytes], int, int, int]:
    """Spawn the server; (Popen, our stdin end, our stdout end, our stderr end)."""
    argv, restrict, cleanup = _confinement(launch, tmp)
    in_r, in_w = os.pipe2(os.O_CLOEXEC)
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    env = {**launch.env, "HOME": str(tmp), "TMPDIR": str(tmp)}
    try:
        proc = await spawn(
            argv, cwd=launch.worktree, env=env, out_fd=out_w, in_fd=in_r, err_fd=err_w,
            restrict=restrict,
        )  # fmt: skip
    except BaseException:
        for fd in (in_w, out_r, err_r):
            os.close(fd)
        raise
    finally:
        for fd in (in_r, out_w, err_w):
            os.close(fd)
        if cleanup is not None:
            cleanup()
    return proc, in_w, out_r, err_r


async def _pipe_reader(fd: int, limit: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limit)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader


async def _pipe_writer(fd: int) -> asyncio.StreamWriter:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(fd, "wb", buffering=0)
    )
    return asyncio.StreamWriter(transport, protocol, None, loop)


def _parse(line: bytes) -> SessionMessage | Exception:
    try:
        message = mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except ValueError as exc:  # shown to the session, which reports it
        return exc
    return SessionMessage(message)


Streams = tuple[
    MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]
]


@contextlib.asynccontextmanager
async def sandboxed_stdio(launch: Launch) -> AsyncIterator[tuple[Streams, ServerProcess]]:
    """Start the server confined; yield the SDK's streams; stop it and all it started."""
    tmp = Path(tempfile.mkdtemp(prefix="bosun-mcp-"))
    try:
        proc, in_w, out_r, err_r = await _start(launch, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    watch = ExitWatch(proc)
    server = ServerProcess(pid=proc.pid, exited=watch.exited)
    to_session, from_server = anyio.create_memory_object_stream[SessionMessage | Exception](16)
    to_server, from_session = anyio.create_memory_object_stream[SessionMessage](16)
    try:
        stdout = await _pipe_reader(out_r, _LINE_LIMIT)
        stderr = await _pipe_reader(err_r, 1 << 16)
        stdin = await _pipe_writer(in_w)
    except BaseException:
        await _stop(proc, watch, server)
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    async def read_stdout() -> None:
        async with to_session:
            while True:
                try:
                    line = await stdout.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    log.warning("MCP server %s sent a message over %d bytes", server.pid,
                                _LINE_LIMIT)  # fmt: skip
                    return
                if not line:
                    return  # end of file: the session sees the stream close
                if line.strip():
                    try:
                        await to_session.send(_parse(line))
                    except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                        return

    async def read_stderr() -> None:
        while chunk := await stderr.read(1 << 14):
            server.stderr += chunk
            del server.stderr[: max(len(server.stderr) - 4 * _STDERR_TAIL, 0)]

    async def write_stdin() -> None:
        with contextlib.suppress(OSError, anyio.ClosedResourceError, anyio.BrokenResourceError):
            async with from_session:
                async for item in from_session:
                    data = item.message.model_dump_json(by_alias=True, exclude_unset=True)
                    stdin.write(data.encode() + b"\n")
                    await stdin.drain()
        # The session is done, or the server stopped reading: end its input.
        with contextlib.suppress(OSError):
            stdin.close()

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read_stdout)
            tasks.start_soon(read_stderr)
            tasks.start_soon(write_stdin)
            try:
                yield (from_server, to_server), server
            finally:
                with anyio.CancelScope(shield=True):
                    await to_server.aclose()
                    with contextlib.suppress(OSError):
                        stdin.close()
                    await _stop(proc, watch, server)
                tasks.cancel_scope.cancel()
    finally:
        await asyncio.to_thread(shutil.rmtree, tmp, True)


async def _stop(proc: subprocess.Popen[bytes], watch: ExitWatch, server: ServerProcess) -> None:
    """Give the server its grace after stdin closed, then end its whole process group."""
    pid = proc.pid
    for sig, wait in ((None, _EXIT_GRACE_S), (signal.SIGTERM, _KILL_GRACE_S),
                      (signal.SIGKILL, _KILL_GRACE_S)):  # fmt: skip
        if sig is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)  # bwrap's pid namespace dies with its first process
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(watch.exited), wait)
        if watch.exited.done():
            break
    # Whatever else the server started in its session (Landlock or none) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    server.exit_code = watch.reap()
