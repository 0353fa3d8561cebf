"""The daemon's listeners: Unix socket (always), TCP and WebSocket (on request).

pygls's own `start_tcp`/`start_ws` serve one client and own the event loop; the daemon
accepts connections itself and gives each its own protocol instance.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hmac
import logging
import os
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bosun_protocol.errors import ErrorCode
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from bosun.server.connection import Connection
from bosun.server.context import DaemonContext
from bosun.server.framing import FrameTooLarge, FramingError, read_frame
from bosun.server.hub import Hub
from bosun.server.peer import refusal as peer_refusal

log = logging.getLogger(__name__)

# asyncio's StreamReader limit bounds one header line; bodies are bounded by framing.
_STREAM_LIMIT = 64 * 1024


async def serve_stream(
    ctx: DaemonContext,
    hub: Hub,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    transport: str,
    token: str | None,
) -> None:
    """Serve one framed byte-stream client until it leaves or misbehaves."""
    peer = str(writer.get_extra_info("peername") or transport)

    async def send(data: bytes) -> None:
        writer.write(data)
        await writer.drain()

    async def close_transport() -> None:
        writer.close()

    conn = Connection(
        ctx,
        transport=transport,
        peer=peer,
        send=send,
        framed=True,
        token=token,
        on_closed=hub.discard,
        close_transport=close_transport,
    )
    hub.add(conn)
    try:
        while not conn.closed.is_set():
            await conn.in_flight.room()  # a flood waits for its own answers (backpressure.py)
            # Read per frame: the limit is small until the client has shown its token.
            body = await read_frame(reader, conn.body_limit)
            if body is None:
                break
            conn.handle_body(body)
    except FrameTooLarge as exc:
        text = str(exc) if conn.authenticated else f"{exc} (before authentication)"
        log.info("%r: %s", conn, text)
        conn.send_error(None, ErrorCode.MESSAGE_TOO_LARGE, text)
    except FramingError as exc:
        log.info("%r: bad framing, disconnecting: %s", conn, exc)
        conn.send_error(None, ErrorCode.PARSE_ERROR, f"bad framing: {exc}")
    except (ConnectionError, OSError) as exc:
        log.info("%r: connection lost: %s", conn, exc)
    finally:
        conn.close()


async def start_unix(ctx: DaemonContext, hub: Hub, path: Path) -> asyncio.Server:
    """Listen on a Unix socket created 0600 (the directory is 0700); peers are checked."""

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        why = peer_refusal(writer.get_extra_info("socket"))
        if why is not None:
            # Nothing is read from it or sent to it: it cannot learn or drive anything.
            log.warning("unix peer refused: %s", why)
            writer.transport.abort()
            return
        await serve_stream(ctx, hub, reader, writer, transport="unix", token=None)

    old = os.umask(0o177)
    try:
        server = await asyncio.start_unix_server(on_client, path=str(path), limit=_STREAM_LIMIT)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    return server


async def start_tcp(
    ctx: DaemonContext, hub: Hub, host: str, port: int, token: str
) -> asyncio.Server:
    """Listen on TCP; every client must present the token at `initialize`."""

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await serve_stream(ctx, hub, reader, writer, transport="tcp", token=token)

    return await asyncio.start_server(on_client, host, port, limit=_STREAM_LIMIT)


def _origin_allowed(origin: str | None, patterns: list[str]) -> bool:
    # Browsers always send Origin; non-browser clients (CLI, editors) usually do not.
    if origin is None:
        return True
    return any(fnmatch.fnmatchcase(origin, p) for p in patterns)


def _handshake_token(request: Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth.removeprefix("Bearer ").strip()
    values = parse_qs(urlsplit(request.path).query).get("token")
    return values[0] if values else None


def _refuse(status: HTTPStatus, text: str) -> Response:
    body = (text + "\n").encode()
    headers = Headers([("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


async def start_ws(ctx: DaemonContext, hub: Hub, host: str, port: int, token: str) -> Server:
    """Listen for WebSocket clients: Origin checked, token at handshake or `initialize`."""
    settings = ctx.settings.server

    def check(_conn: ServerConnection, request: Request) -> Response | None:
        origin = request.headers.get("Origin")
        if not _origin_allowed(origin, settings.allowed_origins):
            log.warning("websocket refused: origin %s not allowed", origin)
            return _refuse(HTTPStatus.FORBIDDEN, "origin not allowed")
        offered = _handshake_token(request)
        if offered is not None and not hmac.compare_digest(offered, token):
            log.warning("websocket refused: wrong token")
            return _refuse(HTTPStatus.UNAUTHORIZED, "wrong token")
        return None

    async def on_client(ws: ServerConnection) -> None:
        authed = _handshake_token(ws.request) is not None if ws.request else False

        async def send(data: bytes) -> None:
            await ws.send(data.decode())

        async def close_transport() -> None:
            await ws.close()

        conn = Connection(
            ctx,
            transport="ws",
            peer=str(ws.remote_address),
            send=send,
            framed=False,
            token=None if authed else token,
            on_closed=hub.discard,
            close_transport=close_transport,
        )
        hub.add(conn)
        try:
            async for message in ws:
                await conn.in_flight.room()
                conn.handle_body(message.encode() if isinstance(message, str) else message)
                if conn.closed.is_set():
                    break
        except ConnectionClosed as exc:
            log.info("%r: websocket closed: %s", conn, exc)
        finally:
            conn.close()
            # websockets closes the socket when this handler returns: flush first.
            await conn.stopped.wait()

    return await serve(
        on_client,
        host,
        port,
        process_request=check,
        max_size=settings.max_message_bytes,
        max_queue=16,
    )
