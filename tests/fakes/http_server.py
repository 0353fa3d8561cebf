"""A minimal HTTP/1.1 server on 127.0.0.1 for the fake model providers.

Real sockets, so the real SDKs (and their HTTP client) talk to it exactly as they would
to a provider. Keep-alive and chunked transfer are supported because the SDKs use both;
`ResponseWriter.abort()` drops the connection mid-body to imitate a stream that dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    404: "Not Found",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    529: "Overloaded",
}


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body or b"{}")


@dataclass
class ResponseWriter:
    """Writes one response: whole JSON, or a chunked stream that may be cut."""

    writer: asyncio.StreamWriter
    finished: bool = False
    aborted: bool = False
    _streaming: bool = field(default=False, repr=False)

    def _head(self, status: int, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Send a complete JSON response."""
        data = json.dumps(body).encode()
        head = {"content-type": "application/json", "content-length": str(len(data))}
        head.update(headers or {})
        self.writer.write(self._head(status, head) + data)
        await self.writer.drain()
        self.finished = True

    async def start_stream(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        """Send the head of a chunked `text/event-stream` response."""
        head = {"content-type": "text/event-stream", "transfer-encoding": "chunked"}
        head.update(headers or {})
        self.writer.write(self._head(status, head))
        await self.writer.drain()
        self._streaming = True

    async def chunk(self, data: bytes) -> None:
        """Send one chunk of the streamed body."""
        self.writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await self.writer.drain()

    async def end(self) -> None:
        """Finish the streamed body properly."""
        self.writer.write(b"0\r\n\r\n")
        await self.writer.drain()
        self.finished = True

    def abort(self) -> None:
        """Drop the connection without finishing the body (a stream that dies)."""
        self.aborted = True
        self.writer.transport.abort()


Handler = Callable[[Request, ResponseWriter], Awaitable[None]]


class FakeHttpServer:
    """Serves `handler` on 127.0.0.1 at an ephemeral port until stopped."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        """The server's base address."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on an ephemeral loopback port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every open connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._conns):
            task.cancel()
        for task in list(self._conns):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                out = ResponseWriter(writer)
                await self._handler(request, out)
                if out.aborted or not out.finished:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._conns.discard(task)
            with contextlib.suppress(Exception):
                writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Request(method, path, headers, body)
