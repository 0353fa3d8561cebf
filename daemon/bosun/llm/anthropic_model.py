"""Adapter for Anthropic messages with tool use."""

from __future__ import annotations

from typing import Any

import anthropic

from bosun.llm.anthropic_wire import convert, mark_cache_breakpoints
from bosun.llm.assembly import StreamAssembler
from bosun.llm.messages import ModelRequest, StopReason
from bosun.llm.streaming import StreamingModel

_MIN_THINKING = 1024  # the smallest thinking budget the API accepts
_STOPS: dict[str, StopReason] = {
    "end_turn": "end",
    "tool_use": "tool_calls",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
}


def _thinking_budget(request: ModelRequest) -> int:
    """The thinking budget to send: the configured one, below max_tokens as the API
    requires (a budget cut short leaves room for the answer), or 0 when it cannot be."""
    if request.thinking_tokens <= 0:
        return 0
    budget = min(request.thinking_tokens, request.max_tokens - _MIN_THINKING)
    return budget if budget >= _MIN_THINKING else 0


class AnthropicModel(StreamingModel):
    """A model behind the `anthropic` SDK, streamed, with the SDK's own retries off."""

    def make_client(self, api_key: str, base_url: str | None, timeout: float) -> Any:
        """An `AsyncAnthropic` client without retries."""
        return anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout
        )

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        wire = convert(request.messages)
        system = wire.system
        params: dict[str, Any] = {
            "model": self.model_id,
            "messages": wire.messages,
            "max_tokens": request.max_tokens,
            "stream": True,
        }
        if self.prompt_cache:
            blocks, params["messages"] = mark_cache_breakpoints(wire, request.cache_marks)
            if blocks:
                params["system"] = blocks
        elif system:
            params["system"] = system
        if request.tools:
            params["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in request.tools
            ]
        thinking = _thinking_budget(request)
        if thinking:
            params["thinking"] = {"type": "enabled", "budget_tokens": thinking}
        elif request.temperature is not None:  # with thinking, the API takes no temperature
            params["temperature"] = request.temperature
        if request.stop:
            params["stop_sequences"] = request.stop
        return params

    async def open_stream(self, request: ModelRequest) -> Any:
        """Start the streamed request."""
        return await self.client.messages.create(**self._params(request))

    def absorb(self, asm: StreamAssembler, event: Any) -> bool:
        """Take one event in; whether it was the end of the message."""
        kind = event.type
        if kind == "message_start":
            usage = event.message.usage
            cached = getattr(usage, "cache_read_input_tokens", 0) or 0
            created = getattr(usage, "cache_creation_input_tokens", 0) or 0
            # Anthropic counts cache reads and writes apart from input_tokens; ours include them.
            asm.usage = asm.usage.model_copy(
                update={
                    "input_tokens": (usage.input_tokens or 0) + cached + created,
                    "cached_tokens": cached,
                    "cache_write_tokens": created,
                }
            )
        elif kind == "content_block_start":
            block = event.content_block
            if block.type == "text":
                asm.text(block.text or "")
            elif block.type == "tool_use":
                asm.tool_call(event.index, block.id, block.name, None)
            elif block.type == "thinking":
                asm.thinking(event.index, block.thinking or "", block.signature or "")
            elif block.type == "redacted_thinking":
                asm.thinking(event.index, data=block.data or "")
        elif kind == "content_block_delta":
            delta = event.delta
            if delta.type == "text_delta":
                asm.text(delta.text)
            elif delta.type == "input_json_delta":
                asm.tool_call(event.index, None, None, delta.partial_json)
            elif delta.type == "thinking_delta":
                asm.thinking(event.index, text=delta.thinking)
            elif delta.type == "signature_delta":
                asm.thinking(event.index, signature=delta.signature)
        elif kind == "message_delta":
            if event.delta.stop_reason:
                asm.stop_reason = _STOPS.get(event.delta.stop_reason, "other")
            if event.usage is not None and event.usage.output_tokens is not None:
                asm.usage = asm.usage.model_copy(
                    update={"output_tokens": event.usage.output_tokens}
                )
        elif kind == "message_stop":
            return True
        return False
