"""Settings of the agents: `[agents]` in `.bosun/config.toml` (see docs/cost.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AgentSettings(BaseModel):
    """`[agents]`: what one attempt's conversation may hold, and what a call may answer."""

    model_config = ConfigDict(extra="forbid")

    # The exchange (after the system prompt and brief) never holds more than this.
    context_chars: int = Field(default=120_000, ge=2_000, le=10_000_000)
    # Past this many characters the exchange is compacted in one step: older messages
    # become stubs at the end of the archive (the compacted start, a cached prefix).
    compact_at_chars: int = Field(default=58_000, ge=1_000, le=10_000_000)
    # When the archive passes this, it is folded into one note (the rare full rewrite).
    compact_to_chars: int = Field(default=10_000, ge=500, le=10_000_000)
    # The newest messages a compaction step leaves whole.
    keep_recent: int = Field(default=6, ge=2, le=100)
    # The most text one message keeps in the context (its opening and end).
    message_chars: int = Field(default=30_000, ge=1_000, le=1_000_000)
    # The most one tool-call argument value keeps in the context (the tool got it whole).
    argument_chars: int = Field(default=4_000, ge=200, le=1_000_000)
    # The most one stored transcript message keeps (text, and each argument value).
    transcript_chars: int = Field(default=100_000, ge=1_000, le=10_000_000)
    # Output tokens one model call may produce.
    max_tokens: int = Field(default=4096, ge=1, le=1_000_000)
    # Watchdog: the same call (tool and arguments) this often within `watch_window` calls
    # gets one warning, the next repeat stops the attempt as stalled (0: off).
    repeat_limit: int = Field(default=3, ge=0, le=100)
    # Watchdog: the same error from this many failed calls in a row (0: off).
    error_limit: int = Field(default=4, ge=0, le=100)
    # Watchdog: how many of the most recent calls the repeat count looks at.
    watch_window: int = Field(default=12, ge=2, le=1000)
    # Watchdog: turns in a row without any change to the worktree, for profiles that
    # write files (0: off).
    idle_turns: int = Field(default=15, ge=0, le=1000)
    # Watchdog: files changed far outside the paths the task names (0: off).
    scope_files: int = Field(default=8, ge=0, le=100_000)
    # Watchdog: an attempt's recent calls at this many times the run's median call (0: off).
    spend_factor: float = Field(default=5.0, ge=0, le=1000)
    # Watchdog: calls the run must have made before its median counts.
    spend_min_calls: int = Field(default=20, ge=1, le=100_000)
    # Reviewer: turns between two reviews of the trajectory, when a model is named for
    # the `reviewer` role (run options or [llm.roles]; otherwise no review) (0: off).
    review_every: int = Field(default=10, ge=0, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> AgentSettings:
        if not self.compact_to_chars < self.compact_at_chars <= self.context_chars:
            raise ValueError(
                "need compact_to_chars < compact_at_chars <= context_chars (got "
                f"{self.compact_to_chars}, {self.compact_at_chars}, {self.context_chars})"
            )
        return self
