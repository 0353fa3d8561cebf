"""Settings of the git plane (owned by bosun.git)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class GitSettings(BaseModel):
    """`[git]` in `.bosun/config.toml`."""

    model_config = ConfigDict(extra="forbid")

    # Worktrees checked out ahead of need, so acquiring one is a cheap switch.
    warm_pool: int = Field(default=2, ge=0, le=32)
    # Parallel checkout workers for `git worktree add` (0 = one per core).
    checkout_workers: int = Field(default=0, ge=0, le=64)
    # Hours a finished task's worktree and branch are kept before cleanup removes them.
    retention_hours: float = Field(default=0.0, ge=0)
    # Landing: "ff" fast-forwards only; "merge" makes a merge commit when the base moved;
    # "never" always asks a human.
    land_mode: Literal["ff", "merge", "never"] = "ff"
    # Seconds any single git command may take before it is killed.
    command_timeout_s: float = Field(default=120.0, gt=0)
    # How many times a merge recomputes after losing the compare-and-swap to another merge.
    merge_retries: int = Field(default=5, ge=1, le=100)
    # Used for daemon commits when the repository has no identity configured.
    author_name: str = "Bosun"
    author_email: str = "bosun@localhost"
