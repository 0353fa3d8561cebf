"""Neutral messages: what every model adapter speaks, whatever the provider.

A request is a list of `ChatMessage` (system, user, assistant with tool calls, tool
results) plus the tools' JSON schemas; a response is text, tool calls, usage and a stop
reason. Provider types never appear here.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]
StopReason = Literal["end", "tool_calls", "max_tokens", "stop_sequence", "other"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolCall(_Model):
    """A call the model asked for; `error` says why `arguments` could not be parsed."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str = ""
    error: str | None = None

    @classmethod
    def parse(cls, id: str, name: str, raw: str) -> ToolCall:
        """A call from its raw JSON arguments; malformed JSON is kept and named, not raised."""
        text = raw.strip() or "{}"
        try:
            value = json.loads(text)
        except ValueError as exc:
            return cls(id=id, name=name, raw_arguments=raw, error=f"arguments are not JSON: {exc}")
        if not isinstance(value, dict):
            return cls(id=id, name=name, raw_arguments=raw, error="arguments are not a JSON object")
        return cls(id=id, name=name, arguments=value, raw_arguments=raw)

    def wire_arguments(self) -> str:
        """The arguments as sent back to a provider: the raw text when it did not parse."""
        if self.error is not None:
            return self.raw_arguments
        return json.dumps(self.arguments, sort_keys=True)


class Thinking(_Model):
    """A reasoning block of an answer (Anthropic extended thinking), kept exactly as
    received: the provider checks `signature` when it comes back on the next turn.
    `redacted` blocks carry only the provider's encrypted `data`."""

    text: str = ""
    signature: str = ""
    redacted: bool = False
    data: str = ""

    def size(self) -> int:
        """Characters the block puts in a request."""
        return len(self.text) + len(self.signature) + len(self.data)


class ChatMessage(_Model):
    """One message of a conversation; an answer's `thinking` goes back with it."""

    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None  # on role="tool": the call this answers
    name: str | None = None  # on role="tool": the tool's name
    is_error: bool = False  # on role="tool": the tool failed
    thinking: list[Thinking] = Field(default_factory=list)  # on role="assistant"

    @classmethod
    def system(cls, content: str) -> ChatMessage:
        """A system message."""
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str) -> ChatMessage:
        """A user message."""
        return cls(role="user", content=content)

    @classmethod
    def assistant(
        cls,
        content: str,
        tool_calls: list[ToolCall] | None = None,
        thinking: list[Thinking] | None = None,
    ) -> ChatMessage:
        """An assistant message, possibly with tool calls and its reasoning blocks."""
        return cls(
            role="assistant", content=content, tool_calls=tool_calls or [], thinking=thinking or []
        )

    @classmethod
    def tool(cls, call: ToolCall, content: str, *, is_error: bool = False) -> ChatMessage:
        """The result of `call`."""
        return cls(
            role="tool", content=content, tool_call_id=call.id, name=call.name, is_error=is_error
        )


class ToolSpec(_Model):
    """A tool the model may call: its name, purpose and JSON schema of arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class ModelRequest(_Model):
    """Everything a model call needs."""

    messages: list[ChatMessage]
    tools: list[ToolSpec] = Field(default_factory=list)
    max_tokens: int = Field(default=4096, ge=1)
    temperature: float | None = None
    stop: list[str] = Field(default_factory=list)
    # Indices of messages after which the prefix stays unchanged for many calls (the
    # brief, a compacted archive): where an explicit prompt cache puts its breakpoints.
    cache_marks: list[int] = Field(default_factory=list)
    # Reasoning, set by the gateway from `[llm.reasoning]` for the caller's role:
    # Anthropic extended thinking's budget (0: off) and OpenAI's reasoning_effort.
    thinking_tokens: int = Field(default=0, ge=0)
    reasoning_effort: str | None = None


class Usage(_Model):
    """Tokens one call used; `cached_tokens` is the part of input read from the provider's
    cache, `cache_write_tokens` the part written to it (both are included in input).

    `estimated`: the provider reported no (or partial) usage and the missing counts were
    estimated from characters (bosun.llm.estimate).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0  # the part of output spent reasoning (billed as output)
    estimated: bool = False

    @property
    def total(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            estimated=self.estimated or other.estimated,
        )


class ModelResponse(_Model):
    """A model's answer; `partials` holds text of earlier tries whose stream died."""

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    stop_reason: StopReason = "end"
    model: str = ""
    partials: list[str] = Field(default_factory=list)
    thinking: list[Thinking] = Field(default_factory=list)

    def message(self) -> ChatMessage:
        """The answer as an assistant message for the next request (reasoning included:
        Anthropic requires it back, signed, on the turn that answers its tool calls)."""
        return ChatMessage.assistant(self.text, self.tool_calls, self.thinking)


class Delta(_Model):
    """A piece of a streamed answer, for live transcripts.

    kind "text": `text` is more of the answer. kind "tool_call": a call at `index` began
    (`name`, `call_id`) or grew (`arguments`). kind "retry": the try failed and another
    starts; listeners drop what they showed of it.
    """

    kind: Literal["text", "tool_call", "retry"]
    text: str = ""
    index: int = 0
    call_id: str = ""
    name: str = ""
    arguments: str = ""
