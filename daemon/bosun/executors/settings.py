"""`[executor]` in `.bosun/config.toml`: where attempts run (owned by bosun.executors)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Placement(BaseModel):
    """What one attempt's actor asks of the cluster (Ray's own resource names)."""

    model_config = ConfigDict(extra="forbid")

    num_cpus: float = Field(default=1.0, ge=0, description="CPUs reserved per attempt")
    memory_mb: int | None = Field(
        default=None, ge=1, description="memory reserved per attempt (MiB); none: no reservation"
    )
    resources: dict[str, float] = Field(
        default_factory=dict,
        description="custom resources, e.g. {gpu = 1} or a label a toolchain's nodes carry",
    )


class ExecutorSettings(BaseModel):
    """Where attempts' worktrees, tools, commands and QA test runs execute."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["local", "ray"] = Field(
        default="local", description="`local`: this machine; `ray`: a Ray cluster"
    )
    address: str = Field(
        default="auto",
        description="the Ray cluster to join (`auto`, `HOST:PORT` of its head, or `ray://…`)",
    )
    namespace: str = Field(default="bosun", description="the Ray namespace of the actors")
    connect_timeout_s: float = Field(
        default=30.0, gt=0, description="how long joining the cluster may take"
    )
    placement: Placement = Field(
        default_factory=Placement, description="each attempt's resources unless its profile says"
    )
    profiles: dict[str, Placement] = Field(
        default_factory=dict,
        description="per worker profile (`coder`, `tester`, …), replacing `placement`",
    )
    bundle_limit_mb: int = Field(
        default=256, ge=1, description="the largest bundle of work an attempt may return"
    )
    probe_s: float = Field(
        default=5.0, gt=0, description="how often an unreachable cluster is tried again"
    )

    def placement_for(self, profile: str) -> Placement:
        """The resources an attempt of `profile` asks for."""
        return self.profiles.get(profile, self.placement)
