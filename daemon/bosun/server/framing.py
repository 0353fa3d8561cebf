"""LSP base-protocol framing (`Content-Length` headers), bounded and strict.

pygls's own reader trusts the peer's Content-Length and drops unparseable bodies
silently; the daemon serves many clients and must answer malformed input with an
error or a clean disconnect, so it reads frames itself.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

MAX_HEADER_BYTES = 8 * 1024
_MAX_HEADERS = 16


class FramingError(Exception):
    """The byte stream is not valid framing; the connection cannot continue."""


class FrameTooLarge(FramingError):
    """A frame announced a body over the size limit."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"message of {size} bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit


async def read_frame(reader: asyncio.StreamReader, max_body: int) -> bytes | None:
    """The next message body, or None at a clean end of stream between frames."""
    length: int | None = None
    seen = 0
    for _ in range(_MAX_HEADERS + 1):
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial and seen == 0:
                return None
            raise FramingError("stream ended inside a header") from exc
        except asyncio.LimitOverrunError as exc:
            raise FramingError("header line too long") from exc
        seen += len(line)
        if seen > MAX_HEADER_BYTES:
            raise FramingError("headers too long")
        if line == b"\r\n":
            if length is None:
                raise FramingError("missing Content-Length header")
            break
        name, sep, value = line[:-2].partition(b":")
        if not sep:
            raise FramingError(f"malformed header line {line[:80]!r}")
        if name.strip().lower() == b"content-length":
            text = value.strip()
            if not text.isdigit() or len(text) > 12:
                raise FramingError(f"invalid Content-Length {text[:20]!r}")
            length = int(text)
            if length > max_body:
                raise FrameTooLarge(length, max_body)
    else:
        raise FramingError("too many header lines")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise FramingError(f"stream ended after {len(exc.partial)} of {length} body bytes") from exc


def encode_frame(message: dict[str, Any] | bytes) -> bytes:
    """A complete frame for a message (a dict, or an already-encoded JSON body)."""
    body = message if isinstance(message, bytes) else encode_body(message)
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode_body(message: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
