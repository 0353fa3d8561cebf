"""Settings of the tool layer (owned by bosun.tools)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Names that must never be passed through to commands, whatever the config says.
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.I)


class SandboxMode(StrEnum):
    """How `run_command` confines a command (docs/security.md)."""

    AUTO = "auto"
    BWRAP = "bwrap"
    LANDLOCK = "landlock"
    NONE = "none"


PolicyAction = Literal["allow", "ask", "deny"]


class PolicyRule(BaseModel):
    """One policy rule: which calls it matches and what it decides."""

    model_config = ConfigDict(extra="forbid")

    action: PolicyAction
    tool: str = Field(default="*", description="glob on the tool name")
    command: str | None = Field(default=None, description="glob on run_command's command")
    regex: str | None = Field(default=None, description="regex searched in run_command's command")
    reason: str = ""

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regex {value!r}: {exc}") from exc
        return value


class WebSearchSettings(BaseModel):
    """`[tools.web_search]`: the tool exists only when `api_key` is set."""

    model_config = ConfigDict(extra="forbid")

    api_key: str | None = None
    base_url: str = "https://api.tavily.com"
    max_results: int = Field(default=5, ge=1, le=20)
    timeout_s: float = Field(default=20.0, gt=0, le=120)


class ToolSettings(BaseModel):
    """`[tools]` in `.bosun/config.toml`."""

    model_config = ConfigDict(extra="forbid")

    sandbox: SandboxMode = SandboxMode.AUTO
    allow_weak_sandbox: bool = Field(
        default=False,
        description="accept `none` or Landlock as root, where commands can read the daemon's "
        "secrets (refused otherwise, and never chosen by `auto`; docs/security.md)",
    )
    command_timeout_s: float = Field(default=120.0, gt=0, le=3600)
    command_max_timeout_s: float = Field(default=900.0, gt=0, le=86400)
    kill_grace_s: float = Field(default=1.0, ge=0.05, le=10)
    tool_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    output_limit_chars: int = Field(default=30_000, ge=1_000, le=1_000_000)
    read_max_bytes: int = Field(default=1_000_000, ge=1_000, le=100_000_000)
    write_max_bytes: int = Field(default=5_000_000, ge=1_000, le=100_000_000)
    list_max_entries: int = Field(default=500, ge=10, le=100_000)
    list_max_depth: int = Field(default=4, ge=1, le=50)
    search_max_results: int = Field(default=200, ge=1, le=10_000)
    search_timeout_s: float = Field(default=20.0, gt=0, le=600)
    search_max_file_bytes: int = Field(default=2_000_000, ge=1_000, le=100_000_000)
    command_path: str = "/usr/local/bin:/usr/bin:/bin"
    env_passthrough: list[str] = Field(default_factory=list)
    sandbox_hide: list[str] = Field(
        default_factory=lambda: ["~/.ssh", "~/.aws", "~/.gnupg", "~/.netrc", "~/.config/gh"]
    )
    policy: list[PolicyRule] = Field(default_factory=list)
    default_policy: bool = True
    web_search: WebSearchSettings = Field(default_factory=WebSearchSettings)

    @field_validator("env_passthrough")
    @classmethod
    def _no_secret_names(cls, names: list[str]) -> list[str]:
        bad = [n for n in names if _SECRET_NAME.search(n)]
        if bad:
            raise ValueError(f"refusing to pass secret-looking variables to commands: {bad}")
        return names

    @model_validator(mode="after")
    def _default_within_max(self) -> ToolSettings:
        if self.command_timeout_s > self.command_max_timeout_s:
            raise ValueError("command_timeout_s must not exceed command_max_timeout_s")
        return self
