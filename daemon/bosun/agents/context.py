"""A bounded conversation that providers can cache: a stable prefix, compacted in rare,
large steps.

What the model is sent is `[system, brief, *exchange]`. The system prompt and the brief
(the task and its criteria) are never changed, and the exchange only grows between
compactions, so each request repeats the previous one byte for byte before its new
messages: a provider's prefix cache (explicit for Anthropic, automatic for OpenAI and
most compatible servers) serves all of it. A sliding trim that rewrites the oldest
messages every turn would miss the cache every turn.

Bounds, in order:

1. on arrival, every message is held to hard limits whatever its age: text to
   `message_chars` (opening and end kept), every tool-call argument value to
   `argument_chars` (a refused 5 MB `write_file` is never sent again);
2. when the exchange passes `compact_at` characters, one compaction step: messages
   older than the newest `keep_recent` are shrunk to stubs (tool output to its opening
   and a line naming it, text and arguments to their openings) and join the *archive*,
   the compacted start of the exchange. The archive only grows at its end, so a step
   changes nothing before the stubs it adds: the system prompt, brief and archive stay
   a cached prefix (with its own breakpoint, `cache_marks`), and a step costs the
   provider's cache only the new stubs and the recent messages after them;
3. when the archive itself passes `compact_to` characters, it is folded into one note
   listing its calls (whole turns, so every remaining call keeps its result). Only
   this rewrites the exchange from the brief on, and it is rare: stubs are a few
   hundred characters a turn;
4. after the provider says the context is too long, `compact()` does the same towards a
   quarter of that, the recent messages included but the newest two, and reports
   whether the request actually got smaller.

Growth is therefore a saw-tooth below `compact_at`, whatever the attempt's length; a
step is a small cache miss and a fold, every few dozen turns, a large one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bosun.agents import trim
from bosun.llm.messages import ChatMessage

_FOLD_LIST = 40  # calls named one by one in the fold note; the rest are counted
_HARD_TEXT = 4_000  # after a context-too-long error, even recent text is cut to this
_HARD_ARGUMENT = 500  # … and recent arguments to this


@dataclass
class ConversationWindow:
    """The messages of one attempt; see the module docstring for the bounds."""

    system: ChatMessage
    brief: ChatMessage
    budget_chars: int = 120_000  # never more than this in the exchange, whatever happens
    compact_at: int = 58_000  # the exchange size that starts a compaction step
    compact_to: int = 10_000  # the archive's size that makes it fold into one note
    keep_recent: int = 6  # the newest messages a step leaves whole
    message_chars: int = 30_000  # the most text one message keeps
    argument_chars: int = 4_000  # the most one tool-call argument value keeps
    exchange: list[ChatMessage] = field(default_factory=list)
    trimmed: int = 0  # messages shortened so far
    compactions: int = 0  # compaction steps taken (each adds stubs to the archive)
    folds: int = 0  # archive folds (each rewrites the exchange from the brief on)
    dropped_turns: int = 0  # turns folded into the note
    dropped: Counter[str] = field(default_factory=Counter)  # their tool calls, by name
    _folded: list[str] = field(default_factory=list)  # one line per folded call
    _noted: bool = False  # exchange[0] is the fold note
    _archived: int = 0  # exchange[:_archived] is the archive: compacted, append-only
    _next_at: int = 0  # the size that starts the next compaction step (0: compact_at)
    _sizes: list[int] = field(default_factory=list)  # trim.size of each exchange message

    def add(self, message: ChatMessage) -> None:
        """Append a message (within the hard limits); compact when past `compact_at`."""
        bounded = trim.bound(
            message, text_chars=self.message_chars, argument_chars=self.argument_chars
        )
        if bounded is not message:
            self.trimmed += 1
        self.exchange.append(bounded)
        self._sizes.append(trim.size(bounded))
        if self.size() > min(self._next_at or self.compact_at, self.budget_chars):
            self._step(self._recent(self.compact_to // 2))
            if self._archive_size() > self.compact_to:
                self._fold(self._turn_start(self._archived))
            # Hysteresis: when the newest messages alone are large (a 30,000-character
            # output), the step cannot reach its aim; the next one waits until the
            # exchange grew by half a step again, instead of rewriting it every turn.
            grow = (self.compact_at - self.compact_to) // 2
            self._next_at = max(self.compact_at, self.size() + grow)
        if self.size() > self.budget_chars:  # a few huge recent messages
            self._step(2)
            if self.size() > self.budget_chars:
                self._fold(self._turn_start(self._archived))

    def messages(self) -> list[ChatMessage]:
        """What the model is sent: the pinned messages, then the exchange."""
        return [self.system, self.brief, *self.exchange]

    def cache_marks(self) -> list[int]:
        """Indices in `messages()` after which the prefix stays as it is for many calls:
        the brief (rewritten never) and the archive's end (until the next fold)."""
        return [1, 1 + self._archived] if self._archived else [1]

    def size(self) -> int:
        """Characters in the exchange (the pinned messages are not counted)."""
        return sum(self._sizes)

    def pinned_size(self) -> int:
        """Characters of the system prompt and the brief, which are never cut."""
        return trim.size(self.system) + trim.size(self.brief)

    def compact(self) -> bool:
        """Shrink hard after the provider said the context is too long; whether it shrank.

        Aims at a quarter of what was sent, keeping only the newest two messages whole
        (and even those within tight limits). False means nothing was left to cut.
        """
        before = self.size()
        self._step(2)
        if self.size() > min(before, self.budget_chars) // 4:
            self._fold(self._turn_start(self._archived))
        for i in range(max(0, len(self.exchange) - 2), len(self.exchange)):
            self._replace(
                i,
                trim.bound(self.exchange[i], text_chars=_HARD_TEXT, argument_chars=_HARD_ARGUMENT),
            )
        return self.size() < before

    # --- compaction ----------------------------------------------------------------------

    def _replace(self, i: int, smaller: ChatMessage) -> None:
        if smaller is not self.exchange[i]:
            self.exchange[i] = smaller
            self._sizes[i] = trim.size(smaller)
            self.trimmed += 1

    def _recent(self, allowance: int) -> int:
        """How many of the newest messages a step keeps whole: at most `keep_recent`, as
        many as fit in `allowance` characters, and the newest turn whatever its size."""
        kept, chars = 0, 0
        for size in reversed(self._sizes):
            chars += size
            if kept >= self.keep_recent or (kept >= 2 and chars > allowance):
                break
            kept += 1
        return kept

    def _archive_size(self) -> int:
        return sum(self._sizes[: self._archived])

    def _step(self, keep: int) -> None:
        """One compaction: everything older than the newest `keep` is stubbed and joins
        the archive (whose earlier part, already stubs, is left byte for byte alone)."""
        self.compactions += 1
        # The newest turn stays whole: its answer's reasoning must go back with its results.
        older = max(self._archived, self._turn_start(len(self.exchange) - keep))
        for i in range(self._archived, older):
            self._replace(i, trim.shrink(self.exchange[i]))
        self._archived = older

    def _turn_start(self, index: int) -> int:
        """The start of the turn holding `index` (tool results belong to the answer before)."""
        while 0 < index < len(self.exchange) and self.exchange[index].role == "tool":
            index -= 1
        return index

    def _fold(self, end: int) -> None:
        """Replace exchange[:end] (whole turns) by one note naming their calls."""
        if end <= 0:
            return
        # The previous note (always first) is folded into the new one.
        folded_notes = 1 if self._noted else 0
        results = {m.tool_call_id: m for m in self.exchange[:end] if m.role == "tool"}
        for message in self.exchange[folded_notes:end]:
            if message.role == "assistant":
                self.dropped_turns += 1
            for call in message.tool_calls:
                self.dropped[call.name] += 1
                result = results.get(call.id)
                status = "failed" if result is not None and result.is_error else "ok"
                self._folded.append(f"{call.name} {_gist(call.arguments)} ({status})")
        self.folds += 1
        del self.exchange[:end], self._sizes[:end]
        note = ChatMessage.user(self._fold_note())
        self.exchange.insert(0, note)
        self._sizes.insert(0, trim.size(note))
        self._noted = True
        self._archived = max(1, self._archived - end + 1)  # the note, then what stayed

    def _fold_note(self) -> str:
        listed = self._folded[-_FOLD_LIST:]
        more = len(self._folded) - len(listed)
        lines = [
            f"[Earlier in this attempt: {self.dropped_turns} turn(s) were folded into this "
            "note to keep the context bounded. Their tool calls, oldest first:"
        ]
        if more:
            counts = ", ".join(f"{name} ×{n}" for name, n in sorted(self.dropped.items()))
            lines.append(f"- … {more} more before these (all calls: {counts})")
        lines += [f"- {line}" for line in listed]
        lines.append(
            "Their output is gone from here: check the worktree (git_status, git_diff) or "
            "call a tool again for what you need.]"
        )
        return "\n".join(lines)


def _gist(arguments: dict[str, object]) -> str:
    """The argument that says what a call was about (a path, a command), shortly."""
    for key in ("path", "command", "pattern", "query", "summary", "question"):
        value = arguments.get(key)
        if isinstance(value, str) and value:
            return value if len(value) <= 80 else value[:77] + "…"
    return ""
