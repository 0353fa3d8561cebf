"""A local webhook receiver: records each POST, checks nothing itself; can be down and come back."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    """One POST as received."""

    headers: dict[str, str]
    body: bytes

    @property
    def document(self) -> Any:
        """The JSON body."""
        return json.loads(self.body)


@dataclass
class Receiver:
    """Listens on a fixed port of 127.0.0.1 while `up()`; `wait_for(n)` blocks on arrivals."""

    port: int = 0
    fail_first: int = 0  # answer 500 to this many POSTs, then 204
    deliveries: list[Delivery] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None
    _seen: int = 0

    def __post_init__(self) -> None:
        if self.port == 0:  # reserve a port now, so "down" means connection refused on it
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]

    @property
    def url(self) -> str:
        """Where hooks send."""
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        """Start listening."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._cond:
                    receiver._seen += 1
                    failing = receiver._seen <= receiver.fail_first
                    if not failing:
                        headers = {k.lower(): v for k, v in self.headers.items()}
                        receiver.deliveries.append(Delivery(headers, body))
                    receiver._cond.notify_all()
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, count: int, timeout: float = 60) -> list[Delivery]:
        """Block until `count` deliveries arrived (AssertionError after `timeout`)."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.deliveries) >= count, timeout)
            assert ok, f"{len(self.deliveries)} of {count} deliveries arrived"
            return list(self.deliveries)
