"""The MCP server's one connection to the workspace daemon: made on first use, remade if it drops."""

from __future__ import annotations

import asyncio
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError

from bosun.client import Client, DaemonNotRunning
from bosun.errors import BosunError
from bosun.workspace import Workspace


class DaemonLink:
    """Requests to the daemon over its socket, starting it when none runs (as `bosun lsp`)."""

    def __init__(self, workspace: Workspace, *, start: bool = True) -> None:
        self.workspace = workspace
        self.start = start
        self._client: Client | None = None
        self._lock = asyncio.Lock()
        self._drain: asyncio.Task[None] | None = None

    async def _connected(self) -> Client:
        async with self._lock:
            if self._client is not None and not self._client.closed:
                return self._client
            try:
                self._client = await Client.connect(self.workspace.socket_path)
            except DaemonNotRunning:
                if not self.start:
                    raise
                from bosun.server.launcher import spawn_daemon

                await asyncio.to_thread(spawn_daemon, self.workspace)
                self._client = await Client.connect(self.workspace.socket_path)
            # Nobody reads this connection's notifications: drop them as they come.
            self._drain = asyncio.create_task(_discard(self._client), name="mcp-drain")
            return self._client

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """One request; a connection the daemon closed is remade once.

        The daemon's refusals (an unknown task, a prompt already answered, a daemon that
        cannot be reached) become `ToolError`s: the calling agent reads the message.
        """
        try:
            client = await self._connected()
            try:
                return await client.request(method, params or {})
            except (ConnectionError, DaemonNotRunning):
                await client.close()
                client = await self._connected()
                return await client.request(method, params or {})
        except BosunError as exc:
            raise ToolError(exc.message) from exc
        except TimeoutError as exc:
            raise ToolError(f"the daemon did not answer {method} in time") from exc

    async def close(self) -> None:
        """Drop the connection (the daemon and its runs go on)."""
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._drain is not None:
            self._drain.cancel()


async def _discard(client: Client) -> None:
    while True:
        await client.notifications.get()
