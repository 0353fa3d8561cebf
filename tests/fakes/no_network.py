"""A pytest plugin that fails any test trying to reach beyond this machine.

Tests talk to fake providers on 127.0.0.1; a connection or name lookup for anything
else (a real provider above all) raises at once and fails the test at teardown, even
if the code under test caught the error and retried. Provider keys and addresses in
the developer's environment are hidden from tests so a real key is never used.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

PROVIDER_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "OPENROUTER_API_KEY",
    "GLM_API_KEY",
    "OLLAMA_API_KEY",
    "OLLAMA_BASE_URL",
    "OPENAI_COMPATIBLE_API_KEY",
    "OPENAI_COMPATIBLE_BASE_URL",
)


class RealNetworkBlockedError(ConnectionRefusedError):
    """A test tried to reach a non-loopback address."""


def is_local(host: object) -> bool:
    """Whether `host` (name, address, or None for unix/passive) stays on this machine."""
    if host is None or host in ("", "localhost", "localhost.localdomain"):
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host.endswith(".localhost")


class NetworkGuard:
    """Patches `socket` so only loopback and unix sockets connect; records every refusal."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self._saved: dict[str, Any] = {}

    def refuse(self, what: str) -> RealNetworkBlockedError:
        """Record a refusal and build the error to raise."""
        self.violations.append(what)
        return RealNetworkBlockedError(f"tests must not reach the network: {what}")

    def _check_address(self, sock: socket.SocketType, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_local(address[0]):
            raise self.refuse(f"connect to {address[0]}:{address[1]}")

    def install(self) -> None:
        """Start refusing."""
        guard = self
        connect = socket.socket.connect
        connect_ex = socket.socket.connect_ex
        getaddrinfo = socket.getaddrinfo
        self._saved = {"connect": connect, "connect_ex": connect_ex, "getaddrinfo": getaddrinfo}

        # The patched methods are declared on the C base class (`socket.SocketType`), so the
        # replacements take that as `self` to keep the assignment type-correct.
        def guarded_connect(sock: socket.SocketType, address: Any) -> None:
            guard._check_address(sock, address)
            connect(sock, address)

        def guarded_connect_ex(sock: socket.SocketType, address: Any) -> int:
            guard._check_address(sock, address)
            return connect_ex(sock, address)

        def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if not is_local(host):
                raise guard.refuse(f"name lookup of {host}")
            return getaddrinfo(host, *args, **kwargs)

        socket.socket.connect = guarded_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = guarded_getaddrinfo

    def uninstall(self) -> None:
        """Stop refusing."""
        if self._saved:
            socket.socket.connect = self._saved["connect"]  # type: ignore[method-assign]
            socket.socket.connect_ex = self._saved["connect_ex"]  # type: ignore[method-assign]
            socket.getaddrinfo = self._saved["getaddrinfo"]
            self._saved = {}


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    """Active in every test; a test that checks the guard itself clears `violations`."""
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    guard = NetworkGuard()
    guard.install()
    try:
        yield guard
    finally:
        guard.uninstall()
    if guard.violations:
        pytest.fail("test tried to reach the network: " + "; ".join(guard.violations))
