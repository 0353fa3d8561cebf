"""A fake Anthropic messages server (JSON and streaming events, tool use).

async with FakeAnthropic() as fake:
    fake.push(tool_call("read_file", {"path": "a"}), fault("overloaded"))
    client = AsyncAnthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tests.fakes.http_server import Request, ResponseWriter
from tests.fakes.replies import FakeProvider, FakeReply, chunks

_FAULTS: dict[str, tuple[int, str, str]] = {
    # kind: (status, error type, message)
    "rate_limit": (429, "rate_limit_error", "Number of request tokens has exceeded your limit."),
    "server": (500, "api_error", "Internal server error"),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "auth": (401, "authentication_error", "invalid x-api-key"),
    "quota": (
        400,
        "invalid_request_error",
        "Your credit balance is too low to access the Anthropic API. "
        "Please go to Plans & Billing to upgrade or purchase credits.",
    ),
    "context": (400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum"),
    "bad_request": (400, "invalid_request_error", "messages: Field required"),
    "thinking_lost": (
        400,
        "invalid_request_error",
        "messages.N.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
        "another block. When `thinking` is enabled, a final `assistant` message must start "
        "with a thinking block.",
    ),
    "bad_signature": (400, "invalid_request_error", "Invalid `signature` in `thinking` block"),
}


def signature_of(thinking: str) -> str:
    """The fake's signature of a thinking block (the real API's is opaque too)."""
    return "sig-" + hashlib.sha256(thinking.encode()).hexdigest()[:32]


def thinking_fault(body: dict[str, Any]) -> str | None:
    """What the API says of a request with thinking on: the answer that asked for the
    tool results at the end must come back with its thinking block first, unchanged."""
    if (body.get("thinking") or {}).get("type") != "enabled":
        return None
    messages = body.get("messages") or []
    answers = [m for m in messages if m["role"] == "assistant" and isinstance(m["content"], list)]
    if not answers:
        return None
    for message in answers:  # every thinking block sent back must be the one given
        for block in message["content"]:
            signed = signature_of(block.get("thinking", ""))
            if block.get("type") == "thinking" and block.get("signature") != signed:
                return "bad_signature"
    last = answers[-1]
    ends_with_results = messages[-1]["role"] == "user" and any(
        isinstance(b, dict) and b.get("type") == "tool_result"
        for b in messages[-1]["content"]
        if isinstance(messages[-1]["content"], list)
    )
    first = last["content"][0] if last["content"] else {}
    if ends_with_results and first.get("type") not in ("thinking", "redacted_thinking"):
        return "thinking_lost"
    return None


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()


class FakeAnthropic(FakeProvider):
    """Serves `/v1/messages` the way Anthropic does."""

    @property
    def base_url(self) -> str:
        """What to give the SDK as `base_url`."""
        return self.url

    def choose(self, request: Request) -> FakeReply:
        """The next reply, unless the request breaks the API's thinking rules (then the
        API's error, and the reply stays queued)."""
        refused = thinking_fault(request.json())
        if refused is not None:
            return FakeReply(text="", fault=refused)
        return super().choose(request)

    async def send_fault(self, reply: FakeReply, out: ResponseWriter) -> None:
        """Answer with Anthropic's error body for the fault."""
        status, etype, message = _FAULTS[reply.fault or "server"]
        headers = {}
        if reply.retry_after is not None:
            headers["retry-after"] = str(reply.retry_after)
        body = {"type": "error", "error": {"type": etype, "message": message}}
        await out.json(reply.status or status, body, headers)

    def error_event(self, kind: str) -> bytes:
        """Anthropic's in-stream error event (how overload often arrives)."""
        _status, etype, message = _FAULTS[kind]
        return _event("error", {"error": {"type": etype, "message": message}})

    def _content(self, reply: FakeReply) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if reply.text:
            blocks.append({"type": "text", "text": reply.text})
        for i, tc in enumerate(reply.tool_calls):
            # A non-streamed tool_use carries parsed input; malformed JSON becomes a string.
            try:
                args = json.loads(tc.arguments)
            except ValueError:
                args = {"_raw": tc.arguments}
            blocks.append(
                {"type": "tool_use", "id": tc.id or f"toolu_{i}", "name": tc.name, "input": args}
            )
        return blocks

    def _usage(self, reply: FakeReply, output: int) -> dict[str, Any]:
        if reply.omit_usage:  # the wire format requires usage: a server that counts nothing
            return {"input_tokens": 0, "output_tokens": 0}
        return {
            # Anthropic counts cache reads apart from input_tokens.
            "input_tokens": reply.input_tokens - reply.cached_tokens - reply.cache_write_tokens,
            "output_tokens": output,
            "cache_read_input_tokens": reply.cached_tokens,
            "cache_creation_input_tokens": reply.cache_write_tokens,
        }

    def whole(self, reply: FakeReply, body: dict[str, Any]) -> dict[str, Any]:
        """The non-streamed message."""
        return {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "fake"),
            "content": self._content(reply),
            "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
            "stop_sequence": None,
            "usage": self._usage(reply, reply.output_tokens),
        }

    def events(self, reply: FakeReply, body: dict[str, Any]) -> list[bytes]:
        """The message as message_start … content blocks … message_stop."""
        message: dict[str, Any] = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "fake"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": self._usage(reply, 1),
        }
        out = [_event("message_start", {"message": message}), _event("ping", {})]
        index = 0
        block: dict[str, Any]
        if reply.thinking and (body.get("thinking") or {}).get("type") == "enabled":
            block = {"type": "thinking", "thinking": "", "signature": ""}
            out.append(_event("content_block_start", {"index": index, "content_block": block}))
            for piece in chunks(reply.thinking, reply.chunk_size * 8):
                delta = {"type": "thinking_delta", "thinking": piece}
                out.append(_event("content_block_delta", {"index": index, "delta": delta}))
            delta = {"type": "signature_delta", "signature": signature_of(reply.thinking)}
            out.append(_event("content_block_delta", {"index": index, "delta": delta}))
            out.append(_event("content_block_stop", {"index": index}))
            index += 1
        if reply.text:
            block = {"type": "text", "text": ""}
            out.append(_event("content_block_start", {"index": index, "content_block": block}))
            for piece in chunks(reply.text, reply.chunk_size):
                delta = {"type": "text_delta", "text": piece}
                out.append(_event("content_block_delta", {"index": index, "delta": delta}))
            out.append(_event("content_block_stop", {"index": index}))
            index += 1
        for i, tc in enumerate(reply.tool_calls):
            block = {"type": "tool_use", "id": tc.id or f"toolu_{i}", "name": tc.name, "input": {}}
            out.append(_event("content_block_start", {"index": index, "content_block": block}))
            for piece in chunks(tc.arguments, reply.arguments_chunk):
                delta = {"type": "input_json_delta", "partial_json": piece}
                out.append(_event("content_block_delta", {"index": index, "delta": delta}))
            out.append(_event("content_block_stop", {"index": index}))
            index += 1
        stop = "tool_use" if reply.tool_calls else "end_turn"
        out.append(
            _event(
                "message_delta",
                {
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 0 if reply.omit_usage else reply.output_tokens},
                },
            )
        )
        out.append(_event("message_stop", {}))
        return out
