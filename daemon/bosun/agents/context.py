"""A bounded conversation: the task and its criteria always whole, older tool output cut.

The window keeps two pinned messages (the system prompt and the task brief) and the
exchange after them. When the exchange grows past its character budget, tool results
outside the most recent ones are replaced by a short stub naming what they were, oldest
first; then old assistant text is cut. Messages are never dropped, so every tool call
keeps its result and the conversation stays valid for every provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bosun.llm.messages import ChatMessage

_STUB_HEAD = 300  # characters of a trimmed tool output kept as its gist
_KEEP_RECENT = 6  # the newest messages are never trimmed


def _size(message: ChatMessage) -> int:
    return len(message.content) + sum(len(c.raw_arguments) + 64 for c in message.tool_calls)


def _stub(message: ChatMessage) -> ChatMessage:
    text = message.content
    if len(text) <= _STUB_HEAD + 80:
        return message
    head = text[:_STUB_HEAD].rstrip()
    status = "failed" if message.is_error else "succeeded"
    summary = (
        f"{head}\n[older output of {message.name or 'a tool'} ({status}) trimmed to keep "
        f"the context bounded: {len(text)} characters in all; call the tool again if you "
        "need it]"
    )
    return message.model_copy(update={"content": summary})


def _cut_text(message: ChatMessage) -> ChatMessage:
    if len(message.content) <= _STUB_HEAD + 80:
        return message
    return message.model_copy(
        update={"content": message.content[:_STUB_HEAD].rstrip() + " […trimmed]"}
    )


@dataclass
class ConversationWindow:
    """The messages of one attempt, kept within `budget_chars` outside the pinned two."""

    system: ChatMessage
    brief: ChatMessage
    budget_chars: int = 120_000
    exchange: list[ChatMessage] = field(default_factory=list)
    trimmed: int = 0  # how many messages were shortened so far

    def add(self, message: ChatMessage) -> None:
        """Append a message and trim older ones if the budget is exceeded."""
        self.exchange.append(message)
        self._bound(self.budget_chars)

    def messages(self) -> list[ChatMessage]:
        """What the model is sent: the pinned messages, then the exchange."""
        return [self.system, self.brief, *self.exchange]

    def size(self) -> int:
        """Characters in the exchange (the pinned messages are not counted)."""
        return sum(_size(m) for m in self.exchange)

    def compact(self) -> None:
        """Shrink hard after the model said the context is too long: a quarter of the budget."""
        self._bound(self.budget_chars // 4, keep_recent=2)

    def _bound(self, budget: int, keep_recent: int = _KEEP_RECENT) -> None:
        if self.size() <= budget:
            return
        older = max(0, len(self.exchange) - keep_recent)
        # Tool output first (re-readable), then old assistant prose.
        for shrink, role in ((_stub, "tool"), (_cut_text, "assistant"), (_cut_text, "user")):
            for i in range(older):
                message = self.exchange[i]
                if message.role != role:
                    continue
                smaller = shrink(message)
                if smaller is not message:
                    self.exchange[i] = smaller
                    self.trimmed += 1
                    if self.size() <= budget:
                        return
