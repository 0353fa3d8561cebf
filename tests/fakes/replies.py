"""What a fake provider answers next: text, tool calls, or an injected fault.

Both fake providers (OpenAI-compatible and Anthropic) take the same `FakeReply` values
and render them in their own wire format, so one test can run through either SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from tests.fakes.http_server import FakeHttpServer, Request, ResponseWriter


@dataclass
class FakeToolCall:
    """A tool call; `arguments` is sent verbatim, so it may be malformed JSON."""

    name: str
    arguments: str = "{}"
    id: str = ""

    @classmethod
    def of(cls, name: str, args: dict[str, Any], id: str = "") -> FakeToolCall:
        """A well-formed call with JSON-encoded `args`."""
        return cls(name, json.dumps(args), id)


@dataclass
class FakeReply:
    """One answer; `fault` names an injected failure instead of (or during) it."""

    text: str = "ok"
    tool_calls: list[FakeToolCall] = field(default_factory=list)
    fault: str | None = None  # rate_limit, server, overloaded, auth, quota, context, bad_request
    retry_after: float | None = None
    status: int | None = None  # overrides the fault's usual HTTP status
    first_token_delay: float = 0.0  # seconds before the first streamed event
    cut_after: int | None = None  # drop the connection after this many streamed events
    stream_fault: str | None = None  # at cut_after, send this fault as an error event instead
    garbage: bool = False  # at cut_after, send an event whose data is not JSON, then go on
    input_tokens: int = 10
    output_tokens: int = 5
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    omit_usage: bool = False  # report no usage (OpenAI: none at all; Anthropic: zeros)
    thinking: str = ""  # Anthropic: a signed thinking block before the answer
    reasoning_tokens: int = 0  # OpenAI: completion_tokens_details.reasoning_tokens
    chunk_size: int = 4  # characters of text per streamed delta
    arguments_chunk: int = 8  # characters of tool-call arguments per streamed delta


def text(value: str, **kw: Any) -> FakeReply:
    """A plain text answer."""
    return FakeReply(text=value, **kw)


def tool_call(name: str, args: dict[str, Any], **kw: Any) -> FakeReply:
    """An answer that calls one tool with well-formed arguments."""
    return FakeReply(text="", tool_calls=[FakeToolCall.of(name, args)], **kw)


def fault(kind: str, **kw: Any) -> FakeReply:
    """An injected failure of the given kind."""
    return FakeReply(text="", fault=kind, **kw)


def chunks(value: str, size: int) -> list[str]:
    """`value` split into pieces of `size` characters (at least one piece)."""
    if not value:
        return []
    return [value[i : i + size] for i in range(0, len(value), size)]


class FakeProvider:
    """Base of the fake providers: a queue of replies and a log of requests."""

    def __init__(self) -> None:
        self.replies: deque[FakeReply] = deque()
        self.default = FakeReply()
        self.requests: list[Request] = []
        self.server = FakeHttpServer(self._handle)
        self.release = asyncio.Event()  # set to end every pending first-token delay early
        self.received = asyncio.Event()  # set on every request (tests wait on it)
        # A context limit: a request body longer than this gets the provider's
        # context-too-long error, as a real model's window would refuse it.
        self.max_body: int | None = None
        # Answers computed from each request (a model that behaves), after the queue.
        self.behaviour: Callable[[Any], FakeReply] | None = None
        # Prompt caching (tests/fakes/prompt_cache.py): usage is then computed from the
        # request, with the cache's reads and writes.
        self.cache: Any = None

    @property
    def url(self) -> str:
        """The server's base address."""
        return self.server.url

    def push(self, *replies: FakeReply) -> None:
        """Answer the next requests with these replies, in order."""
        self.replies.extend(replies)

    def bodies(self) -> list[Any]:
        """Every request body received so far, decoded."""
        return [r.json() for r in self.requests]

    async def __aenter__(self) -> Self:
        await self.server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        await self.server.stop()

    async def _handle(self, request: Request, out: ResponseWriter) -> None:
        self.requests.append(request)
        self.received.set()
        if self.max_body is not None and len(request.body) > self.max_body:
            reply = FakeReply(text="", fault="context")  # refused before the model sees it
        else:
            reply = self.choose(request)
        if reply.fault is not None:
            await self.send_fault(reply, out)
            return
        body = request.json()
        if self.cache is not None and not reply.omit_usage:
            used = self.cache.usage(body)
            reply = dataclasses.replace(
                reply,
                input_tokens=used.input_tokens,
                cached_tokens=used.cached_tokens,
                cache_write_tokens=used.cache_write_tokens,
            )
        if not body.get("stream"):
            await out.json(200, self.whole(reply, body))
            return
        await out.start_stream()
        if reply.first_token_delay:
            # Not synchronisation: the fake is being slow on purpose, and a test may end it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), reply.first_token_delay)
        for n, event in enumerate(self.events(reply, body)):
            if n == reply.cut_after:
                if reply.garbage:
                    await out.chunk(b"event: content_block_delta\ndata: {not json\n\n")
                elif reply.stream_fault is not None:
                    await out.chunk(self.error_event(reply.stream_fault))
                    break
                else:
                    out.abort()
                    return
            await out.chunk(event)
        await out.end()

    def choose(self, request: Request) -> FakeReply:
        """The answer to `request`: the next queued reply, else the default.

        A subclass may answer from the request itself (tests/fakes/scenario_provider.py).
        """
        if self.replies:
            return self.replies.popleft()
        if self.behaviour is not None:
            return self.behaviour(request.json())
        return self.default

    async def send_fault(self, reply: FakeReply, out: ResponseWriter) -> None:
        """Answer with the provider's error for `reply.fault`."""
        raise NotImplementedError

    def error_event(self, kind: str) -> bytes:
        """The fault as an error event inside a stream that began well."""
        raise NotImplementedError

    def whole(self, reply: FakeReply, body: dict[str, Any]) -> dict[str, Any]:
        """The non-streamed JSON answer."""
        raise NotImplementedError

    def events(self, reply: FakeReply, body: dict[str, Any]) -> list[bytes]:
        """The streamed answer as server-sent events."""
        raise NotImplementedError
