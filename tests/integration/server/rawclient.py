"""A raw framed connection for sending deliberately bad bytes to the daemon."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bosun.server.framing import encode_frame, read_frame


class Raw:
    """Bytes in, frames out; nothing is checked on our side."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def unix(cls, path: Path) -> Raw:
        reader, writer = await asyncio.open_unix_connection(str(path), limit=1 << 20)
        return cls(reader, writer)

    @classmethod
    async def tcp(cls, port: int) -> Raw:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        return cls(reader, writer)

    async def send_bytes(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_bytes(encode_frame(message))

    async def recv(self, timeout: float = 20) -> dict[str, Any] | None:
        body = await asyncio.wait_for(read_frame(self.reader, 1 << 28), timeout)
        return None if body is None else json.loads(body)

    async def recv_response(self, msg_id: Any, timeout: float = 20) -> dict[str, Any]:
        """Skip notifications until the response to `msg_id`."""
        while True:
            msg = await self.recv(timeout)
            assert msg is not None, "connection closed before the response"
            if "method" not in msg and msg.get("id") == msg_id:
                return msg

    async def initialize(self, token: str | None = None, **options: Any) -> dict[str, Any]:
        opts: dict[str, Any] = {"protocolVersion": "0.1.0", **options}
        if token:
            opts["token"] = token
        await self.send(
            {
                "jsonrpc": "2.0",
                "id": "init",
                "method": "initialize",
                "params": {"capabilities": {}, "initializationOptions": opts},
            }
        )
        return await self.recv_response("init")

    async def closed(self, timeout: float = 20) -> bool:
        """True when the daemon closes the connection (after any pending frames)."""
        while True:
            try:
                msg = await self.recv(timeout)
            except (ConnectionError, asyncio.IncompleteReadError):
                return True
            if msg is None:
                return True

    def close(self) -> None:
        self.writer.close()
