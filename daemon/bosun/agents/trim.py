"""How one message is made smaller: tool output to a stub, long text and long tool-call
arguments cut, each with a marker saying what was dropped.

The context window (context.py) decides *when*; this module only knows *how*. Every
function returns the message itself when there is nothing to cut, so callers can tell
a change by identity. Arguments are cut value by value (a 5 MB `content` becomes its
opening and a marker) so the call stays valid JSON with every key the model sent.
"""

from __future__ import annotations

import json
from typing import Any

from bosun.llm.messages import ChatMessage, ToolCall

STUB_HEAD = 300  # characters of an old tool output kept as its gist
_MARK_SLACK = 120  # a cut must save more than its marker costs


def size(message: ChatMessage) -> int:
    """Characters the message puts in a request (content, calls' names and arguments,
    reasoning blocks)."""
    calls = sum(len(c.name) + len(c.wire_arguments()) + 32 for c in message.tool_calls)
    return len(message.content) + calls + sum(t.size() for t in message.thinking)


def _cut_value(value: Any, limit: int) -> tuple[Any, bool]:
    """`value` with every string longer than `limit` cut to its opening and a marker."""
    if isinstance(value, str):
        if len(value) <= limit + _MARK_SLACK:
            return value, False
        head = value[:limit].rstrip()
        return f"{head}…[{len(value) - len(head)} more characters not kept in context]", True
    if isinstance(value, list):
        cut = [_cut_value(v, limit) for v in value]
        return [v for v, _ in cut], any(c for _, c in cut)
    if isinstance(value, dict):
        items = {k: _cut_value(v, limit) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(c for _, c in items.values())
    return value, False


def cut_call(call: ToolCall, limit: int) -> ToolCall:
    """The call with each argument value cut to `limit` characters (the call as sent to
    the model again; the tool already ran with the whole value)."""
    if call.error is not None:  # unparsed arguments: the raw text is all there is
        raw, cut = _cut_value(call.raw_arguments, limit)
        return call.model_copy(update={"raw_arguments": raw}) if cut else call
    arguments, cut = _cut_value(call.arguments, limit)
    if not cut:
        return call
    return call.model_copy(
        update={"arguments": arguments, "raw_arguments": json.dumps(arguments, sort_keys=True)}
    )


def cut_calls(message: ChatMessage, limit: int) -> ChatMessage:
    """The message with every tool call's arguments cut to `limit` characters a value."""
    calls = [cut_call(c, limit) for c in message.tool_calls]
    if all(new is old for new, old in zip(calls, message.tool_calls, strict=True)):
        return message
    return message.model_copy(update={"tool_calls": calls})


def cut_text(message: ChatMessage, head: int, tail: int = 0) -> ChatMessage:
    """The message's text cut to its opening (and closing `tail` characters)."""
    text = message.content
    if len(text) <= head + tail + _MARK_SLACK:
        return message
    dropped = len(text) - head - tail
    end = text[len(text) - tail :] if tail else ""
    cut = f"{text[:head].rstrip()}\n[…{dropped} characters not kept in context…]\n{end}"
    return message.model_copy(update={"content": cut.rstrip()})


def stub(message: ChatMessage, head: int = STUB_HEAD) -> ChatMessage:
    """An old tool result as its opening and a line naming what it was."""
    text = message.content
    if len(text) <= head + _MARK_SLACK:
        return message
    status = "failed" if message.is_error else "succeeded"
    summary = (
        f"{text[:head].rstrip()}\n[older output of {message.name or 'a tool'} ({status}) "
        f"trimmed to keep the context bounded: {len(text)} characters in all; call the "
        "tool again if you need it]"
    )
    return message.model_copy(update={"content": summary})


def bound(message: ChatMessage, *, text_chars: int, argument_chars: int) -> ChatMessage:
    """The message within hard limits whatever its age: text (head and tail kept) and
    each tool-call argument value. What a refused 5 MB write is kept as."""
    smaller = cut_calls(message, argument_chars)
    half = text_chars // 2
    return cut_text(smaller, half, text_chars - half)


def shrink(message: ChatMessage, head: int = STUB_HEAD) -> ChatMessage:
    """As small as a message gets while still saying what it was: tool output stubbed,
    text cut to `head` characters, arguments cut to `head` characters a value, reasoning
    dropped (a signed block cannot be cut, and only the newest answer's is required)."""
    if message.role == "tool":
        return stub(message, head)
    if message.thinking:
        message = message.model_copy(update={"thinking": []})
    return cut_text(cut_calls(message, head), head)
