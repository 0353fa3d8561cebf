"""Framing: well-formed frames parse; every malformed shape is refused, never trusted."""

from __future__ import annotations

import asyncio

import pytest
from bosun.server.framing import FrameTooLarge, FramingError, encode_frame, read_frame


def _reader(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=64 * 1024)
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_reads_consecutive_frames_then_clean_eof() -> None:
    data = encode_frame({"a": 1}) + encode_frame({"b": "é"})
    reader = _reader(data)
    assert await read_frame(reader, 1024) == b'{"a":1}'
    assert await read_frame(reader, 1024) == '{"b":"é"}'.encode()
    assert await read_frame(reader, 1024) is None


async def test_content_length_counts_bytes_not_characters() -> None:
    frame = encode_frame({"text": "ñandú 🚢"})
    header, body = frame.split(b"\r\n\r\n", 1)
    assert int(header.split(b":")[1]) == len(body)


async def test_extra_headers_are_accepted() -> None:
    raw = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 2\r\n\r\n{}"
    assert await read_frame(_reader(raw), 1024) == b"{}"


@pytest.mark.parametrize(
    "raw",
    [
        b"\r\n{}",  # no Content-Length
        b"Content-Length: abc\r\n\r\n{}",
        b"Content-Length: -5\r\n\r\n{}",
        b"Content-Length 2\r\n\r\n{}",  # no colon
        b"Content-Length: 10\r\n\r\n{}",  # truncated body
        b"Content-Length: 2\r\n",  # stream ends inside headers
        b"X: y\r\n" * 20 + b"\r\n",  # too many headers
    ],
)
async def test_malformed_framing_is_refused(raw: bytes) -> None:
    with pytest.raises(FramingError):
        await read_frame(_reader(raw), 1024)


async def test_oversized_frame_is_refused_before_reading_its_body() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"Content-Length: 999999999\r\n\r\n")  # body never sent
    with pytest.raises(FrameTooLarge) as info:
        await read_frame(reader, 1024)
    assert info.value.size == 999999999
