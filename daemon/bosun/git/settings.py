"""Settings of the git plane (owned by bosun.git)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class GitSettings(BaseModel):
    """`[git]` in `.bosun/config.toml`."""

    model_config = ConfigDict(extra="forbid")

    warm_pool: int = Field(
        default=2,
        ge=0,
        le=32,
        description="Worktrees kept checked out ahead of need, so acquiring one is a cheap "
        "switch (0 disables).",
    )
    checkout_workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Parallel checkout workers for new worktrees (0 = one per core).",
    )
    retention_hours: float = Field(
        default=0.0,
        ge=0,
        description="How long finished tasks and runs keep their worktrees and branches.",
    )
    land_mode: Literal["ff", "merge", "never"] = Field(
        default="ff",
        description="ff: fast-forward only; merge: a merge commit when the base moved; "
        "never: always ask a human.",
    )
    command_timeout_s: float = Field(
        default=300.0,
        gt=0,
        description="Time limit of any single git command (a checkout of a very large tree "
        "on a busy disk can take minutes).",
    )
    merge_retries: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Recomputations of a merge after losing the compare-and-swap.",
    )
    task_commits: Literal["squash", "attempts"] = Field(
        default="squash",
        description="What a task puts on the run branch (and so on your branch when it "
        "lands): squash: one commit, the task's final tree, named after the task and its "
        "summary; attempts: a merge of the task branch with every attempt's commits. "
        "Attempts stay at refs/bosun/attempts/ either way.",
    )
    author_name: str = Field(default="Bosun", description="Author of daemon commits.")
    author_email: str = Field(default="bosun@localhost", description="Its email.")


class WorktreeSettings(BaseModel):
    """`[worktree]` in `.bosun/config.toml`: how a new worktree gets the project's environment."""

    model_config = ConfigDict(extra="forbid")

    setup: str | None = Field(
        default=None,
        max_length=20_000,
        description="Shell command run in each new worktree before its first attempt "
        '(e.g. "uv sync", "npm ci"). Unset: detected from the lock files '
        '(docs/projects.md); "" turns it off.',
    )
    setup_network: bool = Field(
        default=False,
        description="Let the set-up reach the network (package registries). Off: it "
        "works from the shared package caches only.",
    )
    setup_timeout_s: float = Field(
        default=900.0, gt=0, le=86_400, description="Time limit of one set-up run."
    )
