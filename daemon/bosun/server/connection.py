"""One client connection: its own pygls protocol instance, its own bounded outbox.

Every message is checked here before pygls sees it, because pygls drops bad input
silently and the daemon must answer it: invalid JSON, a wrong envelope, requests before
`initialize`, a missing token on network transports, params that fail validation.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bosun_protocol.errors import ErrorCode
from bosun_protocol.version import PROTOCOL_VERSION
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from bosun import __version__
from bosun.server.backpressure import InFlight
from bosun.server.client_settings import apply_client_options
from bosun.server.context import DaemonContext
from bosun.server.features import install_features
from bosun.server.framing import encode_body, encode_frame
from bosun.server.intake import Refused, body_limit, check_preauth_size, clip, decode
from bosun.server.intake import method_not_found as _method_not_found
from bosun.server.outbox import Outbox, SendBytes
from bosun.server.wire import (
    BosunProtocol,
    bosun_converter,
    describe_validation_error,
    find_validation_error,
)

log = logging.getLogger(__name__)
_ids = itertools.count(1)


class _OutboxWriter:
    """The writer pygls sends through: frames go into the connection's outbox."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def write(self, data: bytes) -> None:
        self._conn.send_raw(data)

    def close(self) -> None:
        self._conn.close()


class _ConnectionServer(LanguageServer):
    def report_server_error(self, error: Exception, source: Any) -> None:
        # Errors were already answered to the client; only record them.
        log.debug("request failed: %s", error)


class Connection:
    """A client of the daemon over any transport."""

    def __init__(
        self,
        ctx: DaemonContext,
        *,
        transport: str,
        peer: str,
        send: SendBytes,
        framed: bool,
        token: str | None,
        on_closed: Callable[[Connection], None],
        close_transport: Callable[[], Awaitable[None]],
    ) -> None:
        self.id = next(_ids)
        self.ctx = ctx
        self.transport = transport
        self.peer = peer
        self.framed = framed
        self.initialized = False
        self.client_options: dict[str, Any] = {}  # initializationOptions, once initialized
        self.closed = asyncio.Event()
        self.stopped = asyncio.Event()  # set once queued output is flushed and transport closed
        self._token = token
        self._on_closed = on_closed
        self._close_transport = close_transport
        server_settings = ctx.settings.server
        self._outbox = Outbox(
            send, server_settings.client_queue_bytes, self.close, server_settings.client_stall_s
        )
        self.in_flight = InFlight(server_settings.max_requests_in_flight)
        self.server = _ConnectionServer(
            "bosun", __version__, protocol_cls=BosunProtocol, converter_factory=bosun_converter
        )
        proto = self.server.protocol
        assert isinstance(proto, BosunProtocol)
        self.protocol: BosunProtocol = proto
        self.protocol.on_exit = self.close
        self.protocol.initialize_extras = {
            "protocolVersion": PROTOCOL_VERSION,
            "bootId": ctx.boot_id,
            "workspace": str(ctx.workspace.root),
        }
        self.protocol.set_writer(_OutboxWriter(self), include_headers=framed)
        install_features(self.server, ctx, self)
        self._outbox.start()

    def __repr__(self) -> str:
        return f"<client {self.id} {self.transport} {self.peer}>"

    @property
    def takes_requests(self) -> bool:
        """Whether the daemon may send this client a request (a prompt, a progress token).

        Not before `initialize`, not once closed, and not after the client's `shutdown`:
        it is leaving and could only answer into a socket it is about to close.
        """
        return self.initialized and not self.closed.is_set() and not self.protocol._shutdown

    @property
    def authenticated(self) -> bool:
        """Whether this client may send full-size messages (no token needed, or shown)."""
        return self._token is None or self.initialized

    @property
    def body_limit(self) -> int:
        """The largest message body this client may send now."""
        return body_limit(self.ctx.settings.server.max_message_bytes, self.authenticated)

    # --- sending ---------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        """Queue already-framed bytes (or a bare body on unframed transports)."""
        self._outbox.put(data)

    def send_body(self, body: bytes) -> None:
        """Queue an encoded JSON body, framing it when the transport needs it."""
        self._outbox.put(encode_frame(body) if self.framed else body)

    def show_message(self, kind: int, message: str) -> None:
        """`window/showMessage` to this client (1 error, 2 warning, 3 info)."""
        note = {
            "jsonrpc": "2.0",
            "method": "window/showMessage",
            "params": {"type": kind, "message": message},
        }
        self.send_body(encode_body(note))

    def send_error(self, msg_id: Any, code: int, message: str, data: Any = None) -> None:
        """Answer with a JSON-RPC error."""
        error: dict[str, Any] = {"code": int(code), "message": message}
        if data is not None:
            error["data"] = data
        self.send_body(encode_body({"jsonrpc": "2.0", "id": msg_id, "error": error}))

    # --- receiving -------------------------------------------------------------

    def handle_body(self, body: bytes) -> None:
        """Check one message and hand it to pygls; answer anything malformed."""
        try:
            check_preauth_size(len(body), self.authenticated)
        except Refused as exc:
            log.info("%r refused: %s", self, exc.message)
            self.send_error(None, exc.code, exc.message)
            self.close()
            return
        try:
            data = decode(body)
        except Refused as exc:
            log.info("%r sent unusable JSON: %s", self, exc.message)
            self.send_error(None, exc.code, exc.message)
            return
        if isinstance(data, list):
            self.send_error(None, ErrorCode.INVALID_REQUEST, "JSON-RPC batches are not supported")
            return
        if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":
            self.send_error(None, ErrorCode.INVALID_REQUEST, "not a JSON-RPC 2.0 message")
            return
        msg_id = data.get("id")
        if msg_id is not None and (isinstance(msg_id, bool) or not isinstance(msg_id, int | str)):
            self.send_error(None, ErrorCode.INVALID_REQUEST, "id must be a number or a string")
            return
        method = data.get("method")
        if "method" in data and not isinstance(method, str):
            self.send_error(msg_id, ErrorCode.INVALID_REQUEST, "method must be a string")
            return
        is_request = isinstance(method, str) and "id" in data
        if isinstance(method, str) and not self._admit(method, msg_id, data, is_request):
            return
        if isinstance(method, str) and not self._known(method):
            # Answered here: pygls would log the whole name with a traceback and echo
            # it back whole in a -32603.
            if is_request:
                log.info("%r: unknown method %s", self, clip(method))
                self.send_error(
                    msg_id, ErrorCode.METHOD_NOT_FOUND, _method_not_found(method).message
                )
            return
        if self.protocol._shutdown and is_request and method != "exit":
            self.send_error(msg_id, ErrorCode.INVALID_REQUEST, "shutdown was requested")
            return
        try:
            message = self.protocol.structure_message(data)
        except Exception as exc:
            self._answer_structure_error(msg_id if is_request else None, method, exc)
            return
        try:
            self.protocol.handle_message(message)
            if is_request:
                future = self.protocol._request_futures.get(msg_id) if msg_id is not None else None
                if future is not None:
                    self.in_flight.started(future)
        except Exception:
            log.exception("%r: handling %s failed", self, clip(method))
            if is_request:
                self.send_error(msg_id, ErrorCode.INTERNAL_ERROR, "internal error (logged)")

    def _known(self, method: str) -> bool:
        fm = self.protocol.fm
        return method in fm.builtin_features or method in fm.features

    def _admit(self, method: str, msg_id: Any, data: dict[str, Any], is_request: bool) -> bool:
        if self.initialized or method == "exit":
            return True
        if method != "initialize":
            if is_request:
                self.send_error(
                    msg_id,
                    ErrorCode.SERVER_NOT_INITIALIZED,
                    "send `initialize` first (see PROTOCOL.md, Handshake)",
                )
            return False
        params = data.get("params")
        options = params.get("initializationOptions") if isinstance(params, dict) else None
        options = options if isinstance(options, dict) else {}
        if self._token is not None:
            offered = options.get("token")
            if not isinstance(offered, str) or not hmac.compare_digest(offered, self._token):
                log.warning("%r refused: missing or wrong token", self)
                self.send_error(msg_id, ErrorCode.UNAUTHORIZED, "missing or wrong token")
                self.close()
                return False
        client_version = options.get("protocolVersion")
        if isinstance(client_version, str) and (
            client_version.split(".")[0] != PROTOCOL_VERSION.split(".")[0]
        ):
            self.send_error(
                msg_id,
                ErrorCode.PROTOCOL_MISMATCH,
                f"client speaks protocol {client_version}, daemon {PROTOCOL_VERSION}",
            )
            return False
        problem = apply_client_options(self.ctx, options)
        if problem is not None:
            # The session goes on with the daemon's settings; the user is told why.
            self.show_message(2, f"Bosun ignored your settings: {problem}")
        self.initialized = True
        self.client_options = options
        return True

    def _answer_structure_error(self, msg_id: Any, method: Any, exc: Exception) -> None:
        verr = find_validation_error(exc)
        if verr is not None:
            text = describe_validation_error(verr)
            code = ErrorCode.INVALID_PARAMS
        elif isinstance(exc, JsonRpcException):
            text, code = exc.message or "invalid message", ErrorCode(exc.code)
        else:
            text, code = "invalid message", ErrorCode.INVALID_REQUEST
        text = clip(text, 2000)
        log.info("%r: %s rejected: %s", self, clip(method), text)
        if msg_id is not None:
            self.send_error(msg_id, code, f"{clip(method)}: {text}")

    # --- closing ---------------------------------------------------------------

    def close(self) -> None:
        """Disconnect (idempotent); pending requests are cancelled."""
        if self.closed.is_set():
            return
        self.closed.set()
        for fut in list(self.protocol._request_futures.values()):
            fut.cancel()
        self._on_closed(self)

    async def drain_and_stop(self, timeout: float = 2.0) -> None:
        """Flush what is queued (bounded), stop the writer, close the transport."""
        try:
            await asyncio.wait_for(self._outbox.close(flush=True), timeout)
        except TimeoutError:
            await self._outbox.close(flush=False)
        try:
            await self._close_transport()
        except (ConnectionError, OSError) as exc:
            log.debug("%r: closing transport: %s", self, exc)
        finally:
            self.stopped.set()
