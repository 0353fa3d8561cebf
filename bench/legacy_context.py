"""The conversation window as it was before issue 14 (commit 39ee0c7), the baseline of
bench.context_growth's "today's" figures: no bound on tool-call arguments, a sliding trim
only near the 120,000-character budget that rewrites the oldest messages every turn, and
dropped turns named in the brief (which changes the brief itself).

Kept here, outside the daemon, only so the benchmark can measure what the new window
saves on the same session; nothing in bosun uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bosun.agents import trim
from bosun.agents.context import ConversationWindow
from bosun.llm.messages import ChatMessage

_STUB_HEAD = 300
_KEEP_RECENT = 6


def _size(message: ChatMessage) -> int:
    return len(message.content) + sum(len(c.raw_arguments) + 64 for c in message.tool_calls)


def _cut_text(message: ChatMessage) -> ChatMessage:
    if len(message.content) <= _STUB_HEAD + 80:
        return message
    return message.model_copy(
        update={"content": message.content[:_STUB_HEAD].rstrip() + " […trimmed]"}
    )


@dataclass
class LegacyWindow(ConversationWindow):
    """The pre-issue-14 window behind the current window's interface."""

    _total: int = 0
    _floor: dict[str, int] = field(default_factory=dict)

    def add(self, message: ChatMessage) -> None:
        """Append whole (arguments included) and trim the oldest past the budget."""
        self.exchange.append(message)
        self._total += _size(message)
        self._bound(self.budget_chars)

    def messages(self) -> list[ChatMessage]:
        """The pinned messages (dropped turns named in the brief), then the exchange."""
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
        """Characters in the exchange."""
        return self._total

    def compact(self) -> bool:
        """A quarter of the budget, as it was."""
        before = self._total
        self._bound(self.budget_chars // 4, keep_recent=2)
        return self._total < before

    def cache_marks(self) -> list[int]:
        """Nothing was marked then."""
        return []

    def _bound(self, budget: int, keep_recent: int = _KEEP_RECENT) -> None:
        if self._total <= budget:
            return
        older = max(0, len(self.exchange) - keep_recent)
        # The stub was the same then (trim.stub), within 40 characters of when it applies.
        steps = ((trim.stub, "tool"), (_cut_text, "assistant"), (_cut_text, "user"))
        for shrink, role in steps:
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
        cut = 0
        while self._total > budget and cut < older:
            end = cut + 1
            while end < len(self.exchange) and self.exchange[end].role == "tool":
                end += 1
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
