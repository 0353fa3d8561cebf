"""The table of `bosun/*` request handlers.

A handler is `async def h(ctx: DaemonContext, params: P) -> R` where P and R are the
params and result models the protocol's method table names for that method; the
server validates params into P before calling and serialises R after. Handlers stay
thin: validate → call a service → return.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bosun_protocol.base import WireModel
from bosun_protocol.methods import METHODS, Direction

from bosun.server.context import DaemonContext

P = TypeVar("P", bound=WireModel)
R = TypeVar("R", bound=WireModel)

Handler = Callable[[DaemonContext, Any], Awaitable[WireModel]]

HANDLERS: dict[str, Handler] = {}


def handler(method: str) -> Callable[[Callable[[DaemonContext, P], Awaitable[R]]], Handler]:
    """Register the handler of a request listed in the protocol's method table."""
    spec = METHODS.get(method)
    if spec is None or spec.direction is not Direction.CLIENT_TO_SERVER:
        raise ValueError(f"{method} is not a client→server request in the method table")

    def decorate(fn: Callable[[DaemonContext, P], Awaitable[R]]) -> Handler:
        if method in HANDLERS:
            raise ValueError(f"{method} already has a handler")
        HANDLERS[method] = fn
        return fn

    return decorate
