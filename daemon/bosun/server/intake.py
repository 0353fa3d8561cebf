"""What the daemon accepts from a client before pygls sees it: bounded in size and shape.

A client's mistake is answered with the documented JSON-RPC error and costs the daemon
little: nesting is bounded (the JSON decoder and the validators recurse, and Python's
stack is the limit otherwise), a connection that has not shown its token may only send
small messages, and nothing a client sent is echoed or logged at full length.
"""

from __future__ import annotations

import json
from typing import Any

from bosun_protocol.errors import ErrorCode

# Bosun's params and LSP's capabilities nest well under 20 levels; 64 leaves room.
MAX_DEPTH = 64
# Before the token is checked (TCP, WebSocket) a message is an `initialize`: a few KiB.
PREAUTH_MAX_BYTES = 64 * 1024
# How much of a client's value (a method name, an id) goes into an answer or a log line.
ECHO_CHARS = 80


class Refused(Exception):
    """A message the daemon will not hand on; `code` and `message` are the answer."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def clip(value: object, limit: int = ECHO_CHARS) -> str:
    """`value` as text of at most about `limit` characters, saying how much was cut."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} chars)"


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` nests containers deeper than `limit` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def decode(body: bytes) -> Any:
    """The JSON value of `body`, or `Refused` with -32700 (invalid or too deeply nested)."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise Refused(ErrorCode.PARSE_ERROR, f"JSON nested deeper than {MAX_DEPTH}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(ErrorCode.PARSE_ERROR, f"invalid JSON: {clip(str(exc), 200)}") from None
    if isinstance(data, dict | list) and too_deep(data):
        raise Refused(ErrorCode.PARSE_ERROR, f"JSON nested deeper than {MAX_DEPTH}")
    return data


def body_limit(configured: int, authenticated: bool) -> int:
    """The largest body this connection may send now."""
    return configured if authenticated else min(configured, PREAUTH_MAX_BYTES)


def check_preauth_size(size: int, authenticated: bool) -> None:
    """`Refused` (-32059) for a message over the limit before authentication."""
    if not authenticated and size > PREAUTH_MAX_BYTES:
        raise Refused(
            ErrorCode.MESSAGE_TOO_LARGE,
            f"message of {size} bytes before authentication; the limit is "
            f"{PREAUTH_MAX_BYTES} bytes until `initialize` with the token",
        )


def method_not_found(method: str) -> Refused:
    """The -32601 answer for an unknown method, naming it briefly."""
    return Refused(ErrorCode.METHOD_NOT_FOUND, f"method not found: {clip(method)}")
