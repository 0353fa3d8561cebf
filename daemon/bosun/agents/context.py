"""A bounded conversation: the task and its criteria always whole, older tool output cut.

The window keeps two pinned messages (the system prompt and the task brief) and the
exchange after them. When the exchange grows past its character budget, in order:

1. tool results outside the most recent messages become a short stub naming what they
   were (oldest first): tools can be called again;
2. old assistant and user text is cut to its opening;
3. the oldest turns are dropped whole (an answer together with all its tool results,
   so every remaining call keeps its result) and named in one line under the brief.
"""

from __future__ import annotations

from collections import Counter
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
    dropped: Counter[str] = field(default_factory=Counter)  # tool calls of dropped turns
    dropped_turns: int = 0
    _total: int = 0
    # Per role, the index below which every message is already as short as it gets.
    _floor: dict[str, int] = field(default_factory=dict)

    def add(self, message: ChatMessage) -> None:
        """Append a message and trim older ones if the budget is exceeded."""
        self.exchange.append(message)
        self._total += _size(message)
        self._bound(self.budget_chars)

    def messages(self) -> list[ChatMessage]:
        """What the model is sent: the pinned messages, then the exchange."""
        brief = self.brief
        if self.dropped_turns:
            calls = ", ".join(f"{name} ×{n}" for name, n in sorted(self.dropped.items()))
            note = (
                f"\n\n[{self.dropped_turns} earlier turn(s) of this attempt were dropped to "
                f"keep the context bounded; their tool calls: {calls or 'none'}. Check the "
                "worktree (git_status, git_diff) for what they changed.]"
            )
            brief = brief.model_copy(update={"content": brief.content + note})
        return [self.system, brief, *self.exchange]

    def size(self) -> int:
        """Characters in the exchange (the pinned messages are not counted)."""
        return self._total

    def compact(self) -> None:
        """Shrink hard after the model said the context is too long: a quarter of the budget."""
        self._bound(self.budget_chars // 4, keep_recent=2)

    def _bound(self, budget: int, keep_recent: int = _KEEP_RECENT) -> None:
        if self._total <= budget:
            return
        older = max(0, len(self.exchange) - keep_recent)
        for shrink, role in ((_stub, "tool"), (_cut_text, "assistant"), (_cut_text, "user")):
            # Messages below the floor were shrunk before: shrinking again changes nothing.
            for i in range(self._floor.get(role, 0), older):
                message = self.exchange[i]
                if message.role != role:
                    continue
                smaller = shrink(message)
                if smaller is not message:
                    self.exchange[i] = smaller
                    self.trimmed += 1
                    self._total += _size(smaller) - _size(message)
                    if self._total <= budget:
                        self._floor[role] = i + 1
                        return
            self._floor[role] = older
        self._drop_oldest(budget, older)

    def _drop_oldest(self, budget: int, older: int) -> None:
        """Drop whole turns from the start until the budget holds (the recent ones stay)."""
        cut = 0
        while self._total > budget and cut < older:
            end = cut + 1
            while end < len(self.exchange) and self.exchange[end].role == "tool":
                end += 1  # a turn is an answer and every tool result that follows it
            if end > older:
                break
            for message in self.exchange[cut:end]:
                self._total -= _size(message)
                self.dropped.update(c.name for c in message.tool_calls)
            self.dropped_turns += 1
            cut = end
        if cut:
            del self.exchange[:cut]
            self._floor = {role: max(0, i - cut) for role, i in self._floor.items()}
