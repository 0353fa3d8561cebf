"""Adapter for OpenAI chat completions and every OpenAI-compatible endpoint."""

from __future__ import annotations

from typing import Any

import openai

from bosun.llm.assembly import StreamAssembler
from bosun.llm.messages import ChatMessage, ModelRequest, StopReason
from bosun.llm.streaming import StreamingModel

_STOPS: dict[str, StopReason] = {
    "stop": "end",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "length": "max_tokens",
}


def to_openai_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Neutral messages in chat-completions form."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content})
        elif m.role == "assistant" and m.tool_calls:
            calls = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.wire_arguments()},
                }
                for c in m.tool_calls
            ]
            out.append({"role": "assistant", "content": m.content or None, "tool_calls": calls})
        else:
            out.append({"role": m.role, "content": m.content})
    return out


class OpenAIModel(StreamingModel):
    """A model behind the `openai` SDK, streamed, with the SDK's own retries off."""

    def make_client(self, api_key: str, base_url: str | None, timeout: float) -> Any:
        """An `AsyncOpenAI` client without retries."""
        return openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout
        )

    @property
    def _max_tokens_field(self) -> str:
        # Official OpenAI wants max_completion_tokens; compatible servers know max_tokens.
        return "max_completion_tokens" if self.provider == "openai" else "max_tokens"

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model_id,
            "messages": to_openai_messages(request.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            self._max_tokens_field: request.max_tokens,
        }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in request.tools
            ]
        if request.reasoning_effort:  # configured for the role: a reasoning model
            params["reasoning_effort"] = request.reasoning_effort
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.stop:
            params["stop"] = request.stop
        return params

    async def open_stream(self, request: ModelRequest) -> Any:
        """Start the streamed request."""
        return await self.client.chat.completions.create(**self._params(request))

    def absorb(self, asm: StreamAssembler, chunk: Any) -> bool:
        """Take one chunk in; whether it carried the finish reason."""
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            details = getattr(usage, "prompt_tokens_details", None)
            done = getattr(usage, "completion_tokens_details", None)  # reasoning models
            asm.usage = asm.usage.model_copy(
                update={
                    "input_tokens": usage.prompt_tokens or 0,
                    "output_tokens": usage.completion_tokens or 0,
                    "cached_tokens": (getattr(details, "cached_tokens", 0) or 0),
                    "reasoning_tokens": (getattr(done, "reasoning_tokens", 0) or 0),
                }
            )
        finished = False
        for choice in chunk.choices or []:
            delta = choice.delta
            if delta is not None:
                asm.text(delta.content or "")
                for tc in delta.tool_calls or []:
                    fn = tc.function
                    asm.tool_call(
                        tc.index, tc.id, fn.name if fn else None, fn.arguments if fn else None
                    )
            if choice.finish_reason:
                asm.stop_reason = _STOPS.get(choice.finish_reason, "other")
                finished = True
        return finished
