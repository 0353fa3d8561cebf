"""Turning traces on for the daemon (`[observe.tracing] endpoint`), and off when it stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bosun.observe import spans, tracing
from bosun.secrets import provider_environ
from bosun.server.context import DaemonContext

log = logging.getLogger(__name__)


def start_tracing(ctx: DaemonContext) -> Callable[[], Awaitable[None]]:
    """Export spans over OTLP/HTTP; the stopper ends open spans and flushes them."""
    settings = ctx.settings.observe.tracing
    active = tracing.Tracing(settings, tracing.exporter_for(settings, provider_environ()))
    spans.activate(active)
    unsubscribe = ctx.store.subscribe(active.on_board_event)
    log.info("tracing to %s", settings.endpoint)

    async def stop() -> None:
        unsubscribe()
        spans.activate(None)
        await asyncio.to_thread(active.close)  # the last export waits on the network

    return stop
