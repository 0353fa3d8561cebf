"""Typed settings: defaults for everything, validated where they enter.

Sources, later ones winning: built-in defaults → `.bosun/config.toml` → values a client
sends at `initialize` (`initializationOptions.settings`) → per-run options. Each
package owns the model of its own section.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bosun.agents.qa_settings import QaSettings
from bosun.agents.settings import AgentSettings
from bosun.board.location import BoardSettings
from bosun.engine.settings import EngineSettings
from bosun.errors import BosunError
from bosun.executors.settings import ExecutorSettings
from bosun.git.settings import GitSettings, WorktreeSettings
from bosun.llm.settings import LlmSettings
from bosun.observe.settings import ObserveSettings
from bosun.server.settings import ServerSettings
from bosun.tools.mcp.settings import McpSettings
from bosun.tools.settings import ToolSettings


class ConfigError(BosunError):
    """The config file is unreadable or invalid; the message names the key."""


class Settings(BaseModel):
    """All of bosun's settings."""

    model_config = ConfigDict(extra="forbid")

    llm: LlmSettings = Field(default_factory=LlmSettings)
    agents: AgentSettings = Field(default_factory=AgentSettings)
    tools: ToolSettings = Field(default_factory=ToolSettings)
    git: GitSettings = Field(default_factory=GitSettings)
    worktree: WorktreeSettings = Field(default_factory=WorktreeSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    qa: QaSettings = Field(default_factory=QaSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    observe: ObserveSettings = Field(default_factory=ObserveSettings)
    board: BoardSettings = Field(default_factory=BoardSettings)
    executor: ExecutorSettings = Field(default_factory=ExecutorSettings)


def _describe(exc: ValidationError, source: str) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    return f"invalid settings in {source}: " + "; ".join(parts)


def parse_settings(data: dict[str, Any], source: str = "settings") -> Settings:
    """Validate a settings mapping, naming every bad key in the error."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from exc


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge mappings: tables merge, everything else is replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def read_config_file(path: Path) -> dict[str, Any]:
    """The raw table of a TOML config file; {} when it does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def load_settings(path: Path, overrides: dict[str, Any] | None = None) -> Settings:
    """Defaults, then the file at `path`, then `overrides`; a file git tracks is refused."""
    from bosun.config_trust import tracked_config_reason  # runs git: only when loading

    reason = tracked_config_reason(path)
    if reason is not None:
        raise ConfigError(reason)
    data = read_config_file(path)
    if overrides:
        data = merge(data, overrides)
    return parse_settings(data, str(path))
