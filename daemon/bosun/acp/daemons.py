"""The workspace daemons an ACP agent relays to: one connection per workspace, started
when none runs (as `bosun lsp` does), with its notifications routed to the sessions.

Runs live in the daemon: when the editor (and this process) goes away they go on, and a
later `session/load` finds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bosun.client import Client, DaemonNotRunning
from bosun.workspace import Workspace, find_workspace

log = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]
GONE = "_daemonGone"  # what listeners hear when the daemon closes the connection


class DaemonLink:
    """One workspace's daemon connection and who listens to it."""

    def __init__(self, ws: Workspace, client: Client) -> None:
        self.ws = ws
        self.client = client
        self.listeners: set[Listener] = set()
        self._pump = asyncio.create_task(self._route(), name=f"acp-daemon-{ws.root.name}")
        self._watch = asyncio.create_task(self._watch_close(), name=f"acp-gone-{ws.root.name}")

    async def _watch_close(self) -> None:
        # A turn that follows a run waits on notifications: tell it the daemon is gone
        # rather than leave it waiting for ones that will never come.
        await self.client.wait_closed()
        await asyncio.sleep(0)  # let the router hand over what was read before the close
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):
                listener(GONE, {})

    async def _route(self) -> None:
        # The client queues every notification; this is its only reader, so the queue
        # never grows past what the listeners have not been handed yet.
        while True:
            method, params = await self.client.notifications.get()
            for listener in list(self.listeners):
                try:
                    listener(method, params)
                except Exception:
                    log.exception("an ACP session failed to take %s", method)

    @property
    def alive(self) -> bool:
        """False once the daemon closed the connection (it stopped or restarted)."""
        return self.client.connected

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """A request to the daemon (errors raise bosun.client.RpcError)."""
        return await self.client.request(method, params or {})

    async def close(self) -> None:
        """Stop routing and disconnect (the daemon and its runs go on)."""
        self._pump.cancel()
        self._watch.cancel()
        for task in (self._pump, self._watch):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.close()


class Daemons:
    """Daemon links by workspace root, connected on first use."""

    def __init__(self, *, start: bool = True) -> None:
        self.start = start
        self._links: dict[Path, DaemonLink] = {}
        self._lock = asyncio.Lock()

    async def for_cwd(self, cwd: str) -> DaemonLink:
        """The link to the daemon of the repository containing `cwd` (a BosunError,
        e.g. not a repository, says what is wrong)."""
        ws = await asyncio.to_thread(find_workspace, Path(cwd))
        async with self._lock:
            link = self._links.get(ws.root)
            if link is not None and not link.alive:  # the daemon went away: connect anew
                await link.close()
                link = None
            if link is None:
                link = DaemonLink(ws, await self._connect(ws))
                self._links[ws.root] = link
            return link

    async def _connect(self, ws: Workspace) -> Client:
        # A rich client: it draws prompts itself (as permission requests).
        options = {"richPrompts": True}
        try:
            return await Client.connect(ws.socket_path, options=options)
        except DaemonNotRunning:
            if not self.start:
                raise
        from bosun.server.launcher import spawn_daemon

        await asyncio.to_thread(spawn_daemon, ws)
        return await Client.connect(ws.socket_path, options=options)

    async def close(self) -> None:
        """Disconnect from every daemon."""
        for link in list(self._links.values()):
            await link.close()
        self._links.clear()
