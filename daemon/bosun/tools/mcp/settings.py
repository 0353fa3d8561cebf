"""`[mcp]` in `.bosun/config.toml`: the MCP servers whose tools agents may call."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from bosun_protocol.entities import Profile
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bosun.tools.settings import PolicyAction

# A server's name starts every tool name the model sees (`name__tool`): providers accept
# [A-Za-z0-9_-] in tool names, and `__` is the separator, so neither may appear in it.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class McpServerSettings(BaseModel):
    """`[mcp.servers.<name>]`: one MCP server, started over stdio or reached over HTTP."""

    model_config = ConfigDict(extra="forbid")

    command: str | None = Field(default=None, description="stdio: the program to start")
    args: list[str] = Field(default_factory=list, description="stdio: its arguments")
    env: dict[str, str] = Field(
        default_factory=dict, description="stdio: variables set for it (plain values)"
    )
    secret_env: dict[str, str] = Field(
        default_factory=dict,
        description="stdio: variable → name of the daemon's secret variable holding its value "
        "(redacted everywhere)",
    )
    network: bool = Field(
        default=False, description="stdio: keep the network inside the server's sandbox"
    )
    url: str | None = Field(default=None, description="streamable HTTP: the endpoint")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP: headers sent")
    secret_headers: dict[str, str] = Field(
        default_factory=dict,
        description="HTTP: header → name of the secret variable holding its whole value",
    )
    profiles: list[Profile] = Field(
        default_factory=list, description="worker profiles that get its tools (empty: all)"
    )
    policy: PolicyAction | None = Field(
        default=None,
        description="for all its tools; unset: allow tools annotated read-only, ask for others",
    )
    tools: dict[str, PolicyAction] = Field(
        default_factory=dict, description="per tool (its own name, without the prefix)"
    )
    enabled: bool = True
    start_timeout_s: float = Field(default=30.0, gt=0, le=600)
    call_timeout_s: float = Field(default=60.0, gt=0, le=3600)

    @field_validator("env", "secret_env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not _ENV_NAME.match(k)]
        if bad:
            raise ValueError(f"not environment variable names: {bad}")
        return value

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSettings:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of `command` (stdio) or `url` (streamable HTTP)")
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"url must be an http:// or https:// address, not {self.url!r}")
            if self.args or self.env or self.secret_env or self.network:
                raise ValueError("args, env, secret_env and network are for stdio servers")
        elif self.headers or self.secret_headers:
            raise ValueError("headers and secret_headers are for HTTP servers")
        return self

    @property
    def transport(self) -> Literal["stdio", "http"]:
        """How the server is reached."""
        return "stdio" if self.command is not None else "http"

    def applies_to(self, profile: Profile) -> bool:
        """Whether a worker of `profile` gets this server's tools."""
        return self.enabled and (not self.profiles or profile in self.profiles)


class McpSettings(BaseModel):
    """`[mcp]`: MCP servers whose tools agents may call (docs/mcp.md)."""

    model_config = ConfigDict(extra="forbid")

    servers: dict[str, McpServerSettings] = Field(default_factory=dict)

    @field_validator("servers")
    @classmethod
    def _names(cls, value: dict[str, McpServerSettings]) -> dict[str, McpServerSettings]:
        bad = [n for n in value if not _NAME.match(n)]
        if bad:
            raise ValueError(
                f"MCP server names must be letters, digits and '-' (at most 32): {bad}"
            )
        return value

    def secret_names(self) -> set[str]:
        """Names of the secret variables the servers read (the launcher hands them over)."""
        out: set[str] = set()
        for server in self.servers.values():
            out.update(server.secret_env.values())
            out.update(server.secret_headers.values())
        return out
