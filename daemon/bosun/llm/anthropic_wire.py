"""Neutral messages in Anthropic's wire form: content blocks, same-role neighbours merged,
and the `cache_control` breakpoints that make its prompt cache pay off."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bosun.llm.messages import ChatMessage

_EPHEMERAL = {"type": "ephemeral"}
_BREAKPOINTS = 4  # the most `cache_control` marks the API accepts in one request


def _blocks(m: ChatMessage) -> list[dict[str, Any]]:
    if m.role == "tool":
        return [
            {
                "type": "tool_result",
                "tool_use_id": m.tool_call_id or "",
                "content": m.content,
                "is_error": m.is_error,
            }
        ]
    # An answer's reasoning goes back first and exactly as it came (signature included):
    # with thinking on, the API refuses a tool turn whose answer lost its thinking block.
    blocks: list[dict[str, Any]] = [
        {"type": "redacted_thinking", "data": t.data}
        if t.redacted
        else {"type": "thinking", "thinking": t.text, "signature": t.signature}
        for t in m.thinking
    ]
    if m.content:
        blocks.append({"type": "text", "text": m.content})
    for c in m.tool_calls:
        # A call whose arguments did not parse goes back as its raw text, so the model sees it.
        args = c.arguments if c.error is None else {"_unparsed": c.raw_arguments}
        blocks.append({"type": "tool_use", "id": c.id, "name": c.name, "input": args})
    return blocks


@dataclass
class AnthropicMessages:
    """The system text, the wire messages, and where each neutral message ended up."""

    system: str
    messages: list[dict[str, Any]]
    # Per neutral message: (wire message, block) of its last block, or of the block
    # before it when it has none (a system message, an empty answer); None before any.
    ends: list[tuple[int, int] | None] = field(default_factory=list)


def convert(messages: list[ChatMessage]) -> AnthropicMessages:
    """Neutral messages in Anthropic form; same-role neighbours are merged (the API wants
    user and assistant to alternate, and tool results are user content)."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    out: list[dict[str, Any]] = []
    ends: list[tuple[int, int] | None] = []
    for m in messages:
        blocks = [] if m.role == "system" else _blocks(m)
        if blocks:
            role = "assistant" if m.role == "assistant" else "user"
            if out and out[-1]["role"] == role:
                out[-1]["content"].extend(blocks)
            else:
                out.append({"role": role, "content": blocks})
        ends.append((len(out) - 1, len(out[-1]["content"]) - 1) if out else None)
    return AnthropicMessages(system, out, ends)


def to_anthropic(messages: list[ChatMessage]) -> tuple[str, list[dict[str, Any]]]:
    """(system text, messages) in Anthropic form."""
    wire = convert(messages)
    return wire.system, wire.messages


def mark_cache_breakpoints(
    wire: AnthropicMessages, marks: list[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """System blocks and messages with `cache_control` breakpoints: after the system prompt
    (which caches the tools too, as they come first), after each neutral message in
    `marks` (prefixes that stay the same for many calls: the brief, the compacted
    archive; the first message when none is given), and after the last message, so the
    next call, which repeats all of it before its new turn, reads it from the cache.
    The API takes four: the newest marks win.
    """
    blocks = [{"type": "text", "text": wire.system, "cache_control": _EPHEMERAL}]
    if not wire.system:
        blocks = []
    if not wire.messages:
        return blocks, wire.messages
    if not marks:
        marks = [next((i for i, e in enumerate(wire.ends) if e is not None), 0)]
    spots = {wire.ends[i] for i in marks if 0 <= i < len(wire.ends)}
    last = (len(wire.messages) - 1, len(wire.messages[-1]["content"]) - 1)
    spots.discard(None)
    spots.discard(last)
    room = _BREAKPOINTS - len(blocks) - 1
    chosen = sorted(s for s in spots if s is not None)[-room:] if room > 0 else []
    for m, b in [*chosen, last]:
        content = wire.messages[m]["content"]
        content[b] = {**content[b], "cache_control": _EPHEMERAL}
    return blocks, wire.messages
