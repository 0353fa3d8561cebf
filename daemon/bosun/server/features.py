"""Installs the registered `bosun/*` handlers and `bosun.*` commands on a connection."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bosun_protocol.methods import COMMANDS, METHODS
from lsprotocol import types
from pydantic import ValidationError
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from bosun.errors import BosunError
from bosun.server.client_settings import apply_client_options
from bosun.server.context import DaemonContext
from bosun.server.registry import HANDLERS, Handler
from bosun.server.wire import describe_validation_error, to_plain

if TYPE_CHECKING:
    from bosun.server.connection import Connection

log = logging.getLogger(__name__)


def _load_handlers() -> None:
    # Importing a handler module registers its handlers in HANDLERS.
    from bosun.server import handlers_core, handlers_engine  # noqa: F401

    try:
        from bosun.server import handlers_review  # noqa: F401
    except ImportError as exc:  # the git plane may be absent in a partial build
        log.debug("review handlers unavailable: %s", exc)


def to_rpc_error(exc: BosunError) -> JsonRpcException:
    """A BosunError as the JSON-RPC error pygls sends."""
    return JsonRpcException(exc.message, code=int(exc.code), data=exc.data or None)


# Answerable from the board alone, so they are served while services still start.
BOARD_ONLY = frozenset(
    {
        "bosun/status",
        "bosun/listRuns",
        "bosun/getRun",
        "bosun/getTask",
        "bosun/transcript",
        "bosun/eventsSince",
        "bosun/shutdown",
    }
)


async def call_handler(fn: Handler, ctx: DaemonContext, method: str, params: Any) -> Any:
    """Run one handler, turning bosun and validation errors into JSON-RPC errors."""
    spec = METHODS[method]
    if method not in BOARD_ONLY and not ctx.ready.is_set():
        await ctx.ready.wait()
    try:
        if params is None:
            params = spec.params.model_validate({})
        result = await fn(ctx, params)
    except BosunError as exc:
        storage = ctx.services.get("storage")
        if storage is not None:
            storage.failed(exc)  # a write the disk refused pauses the runs, as in the engine
        raise to_rpc_error(exc) from exc
    except ValidationError as exc:
        raise JsonRpcInvalidParams(f"{method}: {describe_validation_error(exc)}") from exc
    return result.model_dump(mode="json", by_alias=True)


def _bind(fn: Handler, ctx: DaemonContext, method: str) -> Any:
    async def run(params: Any) -> Any:
        return await call_handler(fn, ctx, method, params)

    return run


def _bind_command(name: str, ctx: DaemonContext, conn: Connection) -> Any:
    method = "bosun/" + name.removeprefix("bosun.")
    params_type = COMMANDS[name]

    # `*args`: pygls passes command arguments positionally; we validate them ourselves
    # so that a bad argument gets an error naming the field.
    async def run(*args: Any) -> Any:
        values = list(args)
        if not values:
            values = [{}]  # editors run commands without arguments; required fields say so
        if len(values) != 1:
            raise JsonRpcInvalidParams(f"{name} takes one argument, an object")
        try:
            params = params_type.model_validate(to_plain(values[0]))
        except ValidationError as exc:
            raise JsonRpcInvalidParams(f"{name}: {describe_validation_error(exc)}") from exc
        result = await call_handler(HANDLERS[method], ctx, method, params)
        notifier = ctx.services.get("notifier")
        if name == "bosun.humanQueue" and notifier is not None:
            # A plain editor's way back to a question it dismissed: ask them again.
            notifier.reask(conn)
        return result

    return run


def _on_initialized(ctx: DaemonContext, conn: Connection) -> Any:
    def initialized(_: Any) -> None:
        notifier = ctx.services.get("notifier")
        if notifier is not None:
            notifier.client_ready(conn)

    return initialized


def _on_configuration(ctx: DaemonContext, conn: Connection) -> Any:
    def changed(params: Any) -> None:
        settings = to_plain(getattr(params, "settings", None))
        if not isinstance(settings, dict):
            return
        inner = settings.get("settings", settings)  # `{settings: {...}}` or the table itself
        problem = apply_client_options(ctx, {"settings": inner})
        if problem is not None:
            conn.show_message(2, f"Bosun ignored your settings: {problem}")

    return changed


def install_features(server: LanguageServer, ctx: DaemonContext, conn: Connection) -> None:
    """Register every handler and command on this connection's server."""
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(_on_configuration(ctx, conn))
    server.feature(types.INITIALIZED)(_on_initialized(ctx, conn))
    # Always: a test or tool that imported one handler module leaves HANDLERS non-empty
    # but partial, and a connection must still get every method.
    _load_handlers()
    for method, fn in HANDLERS.items():
        server.feature(method)(_bind(fn, ctx, method))
    for name in COMMANDS:
        server.command(name)(_bind_command(name, ctx, conn))
