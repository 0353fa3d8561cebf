"""The daemon's life: one per workspace, lock, listeners, board, clean stop.

`.bosun/daemon.lock` is held with flock for the daemon's whole life, so a second daemon
refuses at once, and a daemon killed with SIGKILL leaves nothing that blocks the next
(the kernel drops the lock; the stale socket is then removed by the newcomer).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import json
import logging
import os
import secrets
import signal
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bosun import __version__
from bosun.board.errors import BoardStorageError
from bosun.board.location import board_location
from bosun.board.store import Store
from bosun.config import Settings
from bosun.errors import WorkspaceError
from bosun.secrets import provider_environ
from bosun.server import listeners
from bosun.server.context import DaemonContext
from bosun.server.hub import Hub
from bosun.server.services import Stopper, check_sandbox, start_services, stop_services
from bosun.workspace import Workspace

log = logging.getLogger(__name__)


class AlreadyRunning(WorkspaceError):
    """Another daemon holds this workspace."""


def read_daemon_info(ws: Workspace) -> dict[str, Any] | None:
    """What the running daemon wrote about itself, or None."""
    try:
        data = json.loads(ws.pid_path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_atomic(path: Path, text: str, mode: int = 0o600) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_or_create_token(ws: Workspace) -> str:
    """The TCP/WebSocket token, created 0600 on first use."""
    try:
        token = ws.token_path.read_text().strip()
        if token:
            os.chmod(ws.token_path, 0o600)
            return token
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    _write_atomic(ws.token_path, token + "\n")
    return token


def acquire_lock(ws: Workspace) -> IO[str]:
    """Hold the workspace lock or raise AlreadyRunning naming the holder."""
    fh = open(ws.lock_path, "a+")  # noqa: SIM115 - held for the daemon's lifetime
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        info = read_daemon_info(ws) or {}
        raise AlreadyRunning(
            f"a bosun daemon is already running for {ws.root} "
            f"(pid {info.get('pid', '?')}, socket {info.get('socket', ws.socket_path)}). "
            "Use `bosun daemon status`, or `bosun daemon stop` first."
        ) from None
    return fh


@dataclass
class Daemon:
    """A running daemon: its context, hub and listeners."""

    workspace: Workspace
    settings: Settings
    tcp_port: int | None = None
    ws_port: int | None = None
    host: str = "127.0.0.1"
    ready_fd: int | None = None
    boot_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    hub: Hub = field(default_factory=Hub)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _servers: list[Any] = field(default_factory=list)
    stop_reason: str = ""

    def request_stop(self, reason: str) -> None:
        """Ask the daemon to stop soon (after current answers are queued)."""
        if not self._stop.is_set():
            log.info("stopping: %s", reason)
            self.stop_reason = reason
            asyncio.get_running_loop().call_soon(self._stop.set)

    async def run(self) -> None:
        """Serve until asked to stop; always releases what it took."""
        ws = self.workspace
        ws.ensure_state_dir()
        lock = acquire_lock(ws)
        try:
            await self._run_locked()
        finally:
            with contextlib.suppress(FileNotFoundError):
                ws.pid_path.unlink()
            lock.close()

    async def _run_locked(self) -> None:
        ws = self.workspace
        sock = ws.socket_path
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()  # we hold the lock, so any socket here is stale
        # The password (board.password_env) is a secret handed over like provider keys.
        environ = dict(provider_environ())
        where = board_location(self.settings.board, ws.root, ws.db_path, env=environ)
        store = await Store.open(where, boot_id=self.boot_id)
        try:
            # Found now rather than at a run's first write: a read-only board, a full disk.
            await store.check_writable()
        except BoardStorageError as exc:
            await store.close()
            raise WorkspaceError(f"the board cannot be written: {exc.message}") from None
        ctx = DaemonContext(
            workspace=ws,
            settings=self.settings,
            store=store,
            boot_id=self.boot_id,
            started_at=datetime.now(UTC),
            client_count=self.hub.count,
            request_shutdown=self.request_stop,
        )
        ctx.services["hub"] = self.hub  # the engine sends prompts and progress through it
        unsubscribe = store.subscribe(self.hub.on_board_event)
        stoppers: list[Stopper] = []
        try:
            await check_sandbox(ctx)  # a configured sandbox that cannot run fails start
            await self._listen(ctx)
            self._announce(ctx)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop, f"signal {sig.name}")
            # Clients are answered from the board from here on; the git plane, the
            # watcher and the engine (with its crash recovery) start behind them.
            try:
                await start_services(ctx, stoppers)
            except Exception:
                log.exception("a service failed to start; stopping")
                raise
            ctx.ready.set()
            # What exists now (modules, classes, models, the engine's graph) lives as
            # long as the daemon. Freezing it takes it out of the collector's reach: a
            # full collection walked ~75k objects for 50-110 ms here, which surfaced as
            # the p99 of status round trips and board transitions.
            gc.freeze()
            log.info("services ready")
            await self._stop.wait()
        finally:
            for srv in self._servers:
                srv.close()
            await self.hub.close_all()
            await stop_services(stoppers)
            unsubscribe()
            await store.close()
            with contextlib.suppress(FileNotFoundError):
                sock.unlink()
            log.info("daemon stopped (%s)", self.stop_reason or "exit")

    async def _listen(self, ctx: DaemonContext) -> None:
        ws = self.workspace
        self._servers.append(await listeners.start_unix(ctx, self.hub, ws.socket_path))
        ctx.listeners.append(f"unix:{ws.socket_path}")
        if self.tcp_port is not None or self.ws_port is not None:
            token = load_or_create_token(ws)
        if self.tcp_port is not None:
            srv = await listeners.start_tcp(ctx, self.hub, self.host, self.tcp_port, token)
            port = srv.sockets[0].getsockname()[1]
            self._servers.append(srv)
            ctx.listeners.append(f"tcp:{self.host}:{port}")
        if self.ws_port is not None:
            wsrv = await listeners.start_ws(ctx, self.hub, self.host, self.ws_port, token)
            port = next(iter(wsrv.sockets)).getsockname()[1]
            self._servers.append(wsrv)
            ctx.listeners.append(f"ws:{self.host}:{port}")

    def _announce(self, ctx: DaemonContext) -> None:
        info = {
            "pid": os.getpid(),
            "version": __version__,
            "boot_id": self.boot_id,
            "socket": str(self.workspace.socket_path),
            "listeners": ctx.listeners,
            "started_at": ctx.started_at.isoformat(),
            "workspace": str(self.workspace.root),
        }
        _write_atomic(self.workspace.pid_path, json.dumps(info))
        log.info("daemon %s listening on %s", self.boot_id, ", ".join(ctx.listeners))
        if self.ready_fd is not None:
            with contextlib.suppress(OSError):
                os.write(self.ready_fd, (json.dumps(info) + "\n").encode())
                os.close(self.ready_fd)
            self.ready_fd = None
