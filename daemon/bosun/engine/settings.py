"""Settings of the engine (owned by bosun.engine)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EngineSettings(BaseModel):
    """`[engine]` in `.bosun/config.toml`."""

    model_config = ConfigDict(extra="forbid")

    # Attempts running at once in the whole daemon (a run's `workers` option caps that run).
    workers: int = Field(default=5, ge=1, le=256)
    # Failed attempts retried (Phoenix) before the task waits for a human.
    max_retries: int = Field(default=4, ge=0, le=100)
    # Tasks that pass QA wait for a reviewer before they are merged.
    review_gate: bool = False
    # Wall-clock limit of one attempt (time spent waiting for a human's approval excluded).
    task_time_limit_s: float = Field(default=1800.0, gt=0)
    # An attempt with no sign of life (tool call, transcript, cost) for this long is stalled.
    stall_timeout_s: float = Field(default=300.0, gt=0)
    # After asking an attempt to stop, how long to wait before cancelling its coroutine.
    cancel_grace_s: float = Field(default=10.0, gt=0)
    # Between attempts: "keep" the worktree (the next attempt continues from it) or
    # "reset" it to the run branch's current head.
    worktree_between_attempts: Literal["keep", "reset"] = "keep"
    # Attempts in a row the watchdog stopped for the same reason before a human is asked
    # instead of another retry (0: retry until max_retries).
    stall_repeats: int = Field(default=2, ge=0, le=100)
    # Limit of the Phoenix history handed to the next attempt, in characters.
    history_chars: int = Field(default=6000, ge=500, le=100_000)
    # Times QA itself may fail (model error…) on one attempt before a human is asked.
    qa_retries: int = Field(default=2, ge=0, le=20)
    # Turns one attempt may take (passed to the worker loop).
    max_turns: int = Field(default=40, ge=1, le=1000)
    # The project's test command for QA; None lets QA detect it.
    test_command: str | None = None
    # While the board cannot be written (disk full…), how often a write is tried again;
    # the first that succeeds resumes the paused runs.
    storage_probe_s: float = Field(default=2.0, gt=0, le=3600)
    # Land the run branch on the base branch when the run's work is done.
    land_on_completion: bool = True
