"""A small asyncio client for the daemon's Unix socket (used by the CLI and tests).

async with await Client.connect(workspace) as c:
    status = await c.request("bosun/status")
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from bosun_protocol.base import WireModel
from bosun_protocol.errors import ErrorCode
from bosun_protocol.version import PROTOCOL_VERSION

from bosun.errors import BosunError
from bosun.server.framing import FramingError, encode_frame, read_frame

Notification = Callable[[str, dict[str, Any]], None]


class DaemonNotRunning(BosunError):
    """No daemon answers on the workspace's socket."""


class RpcError(BosunError):
    """The daemon answered a request with a JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message, data=data if isinstance(data, dict) else {"data": data})
        self.rpc_code = code
        with contextlib.suppress(ValueError):
            self.code = ErrorCode(code)


class Client:
    """One connection to the daemon; requests may run concurrently."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._listeners: list[Notification] = []
        self.notifications: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.initialize_result: dict[str, Any] = {}
        self._reader_task = asyncio.create_task(self._read_loop(), name="client-reader")

    @classmethod
    async def connect(
        cls,
        socket_path: Path,
        *,
        initialize: bool = True,
        options: dict[str, Any] | None = None,
        timeout: float = 10.0,
    ) -> Client:
        """Connect and (by default) perform the `initialize` handshake."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(socket_path), limit=1 << 20), timeout
            )
        except (OSError, TimeoutError) as exc:
            raise DaemonNotRunning(
                f"no bosun daemon answers at {socket_path}; start one with `bosun daemon start`"
            ) from exc
        client = cls(reader, writer)
        if initialize:
            # A rich client: it asks for the `bosun/*` notifications plain editors are spared.
            init_opts = {
                "protocolVersion": PROTOCOL_VERSION,
                "bosunNotifications": True,
                **(options or {}),
            }
            client.initialize_result = await client.request(
                "initialize",
                {"processId": os.getpid(), "capabilities": {}, "initializationOptions": init_opts},
                timeout=timeout,
            )
            client.notify("initialized", {})
        return client

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        """Whether the connection has ended (the daemon closed it, or `close` was called)."""
        return self._reader_task.done()

    @property
    def connected(self) -> bool:
        """Whether the connection is still read (False once the daemon closed it)."""
        return not self._reader_task.done()

    async def wait_closed(self) -> None:
        """Until the daemon closes the connection (or `close` is called)."""
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(self._reader_task)

    def on_notification(self, listener: Notification) -> None:
        """Call `listener(method, params)` for each notification (besides the queue)."""
        self._listeners.append(listener)

    def _send(self, message: dict[str, Any]) -> None:
        self._writer.write(encode_frame(message))

    def notify(self, method: str, params: dict[str, Any] | WireModel | None = None) -> None:
        """Send a notification."""
        self._send({"jsonrpc": "2.0", "method": method, "params": _plain(params)})

    async def request(
        self,
        method: str,
        params: dict[str, Any] | WireModel | None = None,
        *,
        timeout: float | None = 30.0,
    ) -> Any:
        """Send a request and wait for its result; errors raise RpcError."""
        msg_id = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = fut
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = _plain(params)
        self._send(message)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._pending.pop(msg_id, None)

    async def _read_loop(self) -> None:
        error: BaseException = DaemonNotRunning("the daemon closed the connection")
        try:
            while True:
                body = await read_frame(self._reader, 256 << 20)
                if body is None:
                    break
                self._dispatch(json.loads(body))
        except (FramingError, ConnectionError, OSError, ValueError) as exc:
            error = DaemonNotRunning(f"connection to the daemon failed: {exc}")
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(error)

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "method" in msg and "id" not in msg:
            params = msg.get("params") or {}
            self.notifications.put_nowait((msg["method"], params))
            for listener in self._listeners:
                listener(msg["method"], params)
            return
        if "method" in msg:  # a request from the daemon: this client supports none
            self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            return
        fut = self._pending.get(msg.get("id"))  # type: ignore[arg-type]
        if fut is None or fut.done():
            return
        if "error" in msg:
            err = msg["error"]
            fut.set_exception(RpcError(err.get("code", 0), err.get("message", ""), err.get("data")))
        else:
            fut.set_result(msg.get("result"))

    async def close(self) -> None:
        """Say goodbye politely and close."""
        with contextlib.suppress(Exception):
            self.notify("exit")
            await self._writer.drain()
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()
        self._reader_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader_task


def _plain(params: dict[str, Any] | WireModel | None) -> Any:
    if isinstance(params, WireModel):
        return params.model_dump(mode="json", by_alias=True, exclude_none=True)
    return params
