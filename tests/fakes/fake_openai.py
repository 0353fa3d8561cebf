"""A fake OpenAI-compatible chat-completions server (JSON and SSE streaming, tool calls).

async with FakeOpenAI() as fake:
    fake.push(text("hello"), fault("rate_limit", retry_after=0.01))
    client = AsyncOpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0)
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.http_server import ResponseWriter
from tests.fakes.replies import FakeProvider, FakeReply, chunks

_FAULTS: dict[str, tuple[int, str, str | None, str]] = {
    # kind: (status, error type, error code, message)
    "rate_limit": (429, "requests", "rate_limit_exceeded", "Rate limit reached for requests"),
    "server": (500, "server_error", None, "The server had an error processing your request."),
    "overloaded": (503, "server_error", None, "The engine is currently overloaded."),
    "auth": (401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    "quota": (
        429,
        "insufficient_quota",
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details.",
    ),
    "context": (
        400,
        "invalid_request_error",
        "context_length_exceeded",
        "This model's maximum context length is 128000 tokens. However, your messages "
        "resulted in 250000 tokens. Please reduce the length of the messages.",
    ),
    "bad_request": (400, "invalid_request_error", None, "Invalid value for 'messages'."),
}


def _sse(data: dict[str, Any] | str) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data)
    return f"data: {payload}\n\n".encode()


class FakeOpenAI(FakeProvider):
    """Serves `/v1/chat/completions` the way OpenAI does."""

    @property
    def base_url(self) -> str:
        """What to give the SDK as `base_url`."""
        return self.url + "/v1"

    async def send_fault(self, reply: FakeReply, out: ResponseWriter) -> None:
        """Answer with OpenAI's error body for the fault."""
        status, etype, code, message = _FAULTS[reply.fault or "server"]
        headers = {}
        if reply.retry_after is not None:
            headers["retry-after"] = str(reply.retry_after)
        body = {"error": {"message": message, "type": etype, "param": None, "code": code}}
        await out.json(reply.status or status, body, headers)

    def error_event(self, kind: str) -> bytes:
        """OpenAI's in-stream error: a data line holding `error`."""
        _status, etype, code, message = _FAULTS[kind]
        return _sse({"error": {"message": message, "type": etype, "param": None, "code": code}})

    def _usage(self, reply: FakeReply) -> dict[str, Any] | None:
        if reply.omit_usage:
            return None
        return {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
            "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
        }

    def whole(self, reply: FakeReply, body: dict[str, Any]) -> dict[str, Any]:
        """The non-streamed completion."""
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": tc.id or f"call_{i}",
                    "type": "function",
                    "function": {"name": tc.name, "arguments": tc.arguments},
                }
                for i, tc in enumerate(reply.tool_calls)
            ]
        finish = "tool_calls" if reply.tool_calls else "stop"
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": self._usage(reply),
        }

    def events(self, reply: FakeReply, body: dict[str, Any]) -> list[bytes]:
        """The completion as `chat.completion.chunk` events, then usage and [DONE]."""
        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": body.get("model", "fake"),
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return _sse({**base, "choices": [choice]})

        out = [chunk({"role": "assistant", "content": ""})]
        out += [chunk({"content": piece}) for piece in chunks(reply.text, reply.chunk_size)]
        for i, tc in enumerate(reply.tool_calls):
            head = {
                "index": i,
                "id": tc.id or f"call_{i}",
                "type": "function",
                "function": {"name": tc.name, "arguments": ""},
            }
            out.append(chunk({"tool_calls": [head]}))
            for piece in chunks(tc.arguments, reply.arguments_chunk):
                out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}))
        out.append(chunk({}, "tool_calls" if reply.tool_calls else "stop"))
        usage = self._usage(reply)
        if usage is not None:  # a server that counts nothing sends no usage chunk
            out.append(_sse({**base, "choices": [], "usage": usage}))
        out.append(_sse("[DONE]"))
        return out
