"""The `/metrics` endpoint: a small HTTP/1.1 server on the daemon's own event loop.

prometheus-client's own server runs in a thread and reads gauges as they were last
set; this one reads the board's state on each scrape (an async read) and then renders
with the client's text format. Only `GET /metrics` (and `/`) are served; anything else
is a 404 or 405, a request head over 8 KiB or slower than 10 s is dropped. It listens
on `server.metrics_host` (127.0.0.1 unless told otherwise) and is off unless
`server.metrics_port` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST

from bosun.observe import hooks
from bosun.observe.metrics import Metrics, sandbox_mode_of
from bosun.server.context import DaemonContext

log = logging.getLogger(__name__)

_HEAD_LIMIT = 8192
_HEAD_TIMEOUT_S = 10.0

Stopper = Callable[[], Awaitable[None]]


async def _respond(writer: asyncio.StreamWriter, status: str, body: bytes, kind: str) -> None:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    with contextlib.suppress(ConnectionError):
        await writer.drain()


async def refresh(metrics: Metrics, ctx: DaemonContext) -> None:
    """Set the gauges from the board and the daemon as they are now."""
    runs, tasks = await ctx.store.state_counts()
    metrics.set_states(runs, tasks)
    metrics.set_daemon(ctx.client_count(), sandbox_mode_of(ctx.services), ctx.services)


async def start_metrics(ctx: DaemonContext, port: int, host: str) -> tuple[Stopper, int]:
    """Serve the metrics; (the stopper, the port bound)."""
    metrics = Metrics()
    remove_observer = hooks.add_observer(metrics)
    unsubscribe = ctx.store.subscribe(metrics.on_board_event)
    ctx.services["metrics"] = metrics

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_HEAD_TIMEOUT_S):
                head = await reader.readuntil(b"\r\n\r\n")
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError):  # fmt: skip
            writer.close()
            return
        try:
            method, _, rest = head.decode("latin-1").partition(" ")
            path = rest.partition(" ")[0].partition("?")[0]
            if path not in ("/metrics", "/"):
                await _respond(writer, "404 Not Found", b"not found: try /metrics\n", "text/plain")
            elif method not in ("GET", "HEAD"):
                await _respond(writer, "405 Method Not Allowed", b"GET only\n", "text/plain")
            else:
                await refresh(metrics, ctx)
                body = metrics.render()
                await _respond(writer, "200 OK", b"" if method == "HEAD" else body,
                               CONTENT_TYPE_LATEST)  # fmt: skip
        except Exception:
            log.exception("metrics scrape failed")
            await _respond(
                writer, "500 Internal Server Error", b"see the daemon log\n", "text/plain"
            )
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, port, limit=_HEAD_LIMIT)
    bound = int(server.sockets[0].getsockname()[1])
    ctx.listeners.append(f"metrics:http://{host}:{bound}/metrics")
    log.info("metrics on http://%s:%d/metrics", host, bound)

    async def stop() -> None:
        server.close()
        remove_observer()
        unsubscribe()
        with contextlib.suppress(Exception):
            await server.wait_closed()

    return stop, bound
